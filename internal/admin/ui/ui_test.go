package ui_test

import (
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/admin/ui"
)

func TestPercent(t *testing.T) {
	for share, want := range map[float64]string{
		1: "100%", 0: "0%", 0.5: "50%", 0.421: "42.1%", 0.8666: "86.7%",
		0.9996: "99.96%", 0.99996: "99.996%", 0.999999: "99.999%", // a failure never shows as 100%
	} {
		if got := ui.Percent(share); got != want {
			t.Errorf("Percent(%v) = %q, want %q", share, got, want)
		}
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0 s", 45 * time.Second: "45 s", 3*time.Minute + 59*time.Second: "3 min",
		2 * time.Hour: "2 h", 2*time.Hour + 5*time.Minute: "2 h 5 min",
		72 * time.Hour: "3 d", 76*time.Hour + 30*time.Minute: "3 d 4 h",
	} {
		if got := ui.Span(d); got != want {
			t.Errorf("Span(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAssets(t *testing.T) {
	for _, name := range []string{"admin.css", "admin.js", "favicon.svg"} {
		if url := ui.Asset(name); len(url) != len(ui.StaticPrefix)+12+1+len(name) {
			t.Errorf("Asset(%s) = %q, want %s<12 hex digits>/%s", name, url, ui.StaticPrefix, name)
		}
	}
}
