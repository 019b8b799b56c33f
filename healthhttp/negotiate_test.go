package healthhttp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/healthhttp"
)

// TestAccept negotiates the format by the Accept header, through a real
// server: the answer's Content-Type tells the format chosen.
func TestAccept(t *testing.T) {
	const (
		html = "text/html; charset=utf-8"
		json = "application/json"
		text = "text/plain; charset=utf-8"
		atom = "application/atom+xml; charset=utf-8"
		rss  = "application/rss+xml; charset=utf-8"
		om   = "application/openmetrics-text; version=1.0.0; charset=utf-8"
		none = "406"
	)
	long := strings.Repeat("x/y;q=0.1, ", 10_000) + "application/json"
	for _, tc := range []struct {
		name   string
		accept []string // nil: no header
		want   string
	}{
		{"absent", nil, html},
		{"empty", []string{""}, html},
		{"any", []string{"*/*"}, html},
		{"text wildcard", []string{"text/*"}, html},
		{"application wildcard", []string{"application/*"}, json},
		{"json", []string{"application/json"}, json},
		{"plain text", []string{"text/plain"}, text},
		{"atom", []string{"application/atom+xml"}, atom},
		{"rss", []string{"application/rss+xml"}, rss},
		{"openmetrics", []string{"application/openmetrics-text"}, om},
		{"xhtml", []string{"application/xhtml+xml"}, html},
		{"case-insensitive", []string{"Application/JSON"}, json},
		{"browser", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, html},
		{"prometheus", []string{"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}, om},
		{"curl", []string{"*/*"}, html},
		{"higher weight wins", []string{"text/plain;q=0.5, application/json;q=0.8"}, json},
		{"equal weights: header order", []string{"text/plain, application/json"}, text},
		{"equal weights: header order reversed", []string{"application/json, text/plain"}, json},
		{"equal weights by one wildcard: server order", []string{"application/*"}, json},
		{"specific beats wildcard", []string{"*/*;q=0.9, text/plain"}, text},
		{"more specific range decides", []string{"text/*;q=0.1, text/html;q=0.2, application/json;q=0.15"}, html},
		{"q=0 refuses", []string{"text/html;q=0, */*"}, json},
		{"q=0 refuses two", []string{"text/html;q=0, application/json;q=0, */*"}, text},
		{"q=0 on the wildcard", []string{"*/*;q=0"}, none},
		{"q=0 and nothing else", []string{"application/json;q=0"}, none},
		{"q=0.000", []string{"application/json;q=0.000"}, none},
		{"smallest weight", []string{"text/plain;q=0.001"}, text},
		{"q=1.000", []string{"text/plain;q=1.000"}, text},
		{"spaces", []string{" text/plain ; q=0.9 , application/json ; q=0.8 "}, text},
		{"Q in capitals", []string{"text/plain;Q=0.1, application/json;q=0.2"}, json},
		{"other parameters", []string{"application/json;charset=utf-8;q=0.9;ext=1"}, json},
		{"quoted comma", []string{`application/json;x="a,b";q=0.9`}, json},
		{"empty elements", []string{",,application/json,,"}, json},
		{"nothing offered", []string{"image/png"}, none},
		{"nothing offered, several", []string{"image/png, application/pdf;q=0.5"}, none},
		{"two headers", []string{"image/png", "application/json"}, json},
		{"invalid: q above 1", []string{"application/json;q=2"}, html},
		{"invalid: q not a number", []string{"application/json;q=abc"}, html},
		{"invalid: q with four decimals", []string{"application/json;q=0.1234"}, html},
		{"invalid: q 1.5", []string{"application/json;q=1.5"}, html},
		{"invalid: no subtype", []string{"application"}, html},
		{"invalid: wildcard type", []string{"*/json"}, html},
		{"invalid: garbage element", []string{"application/json, ???"}, html},
		{"invalid: parameter without value", []string{"application/json;q"}, html},
		{"invalid: unterminated quote", []string{`application/json;x="a`}, html},
		{"invalid: non-ASCII", []string{"ä/ö"}, html},
		{"very long", []string{long}, json},
		{"very long and invalid", []string{strings.Repeat("(", 100_000)}, html},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := serve(t, healthhttp.Config{}, healthyRun())
			start := time.Now()
			resp, body := f.get(t, http.MethodGet, "/ht/", tc.accept...)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
			got := resp.Header.Get("Content-Type")
			if resp.StatusCode == http.StatusNotAcceptable {
				got = none
				const list = "Not Acceptable: Supported content types: text/html, application/json, text/plain, application/atom+xml, application/rss+xml, application/openmetrics-text\n"
				if body != list {
					t.Errorf("406 body = %q, want %q", body, list)
				}
			} else if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200 or 406; body:\n%s", resp.StatusCode, body)
			}
			if got != tc.want {
				t.Errorf("Accept %q: got %s, want %s", tc.accept, got, tc.want)
			}
		})
	}
}

// TestFormatParameter picks the format by ?format= whatever Accept says.
func TestFormatParameter(t *testing.T) {
	f := serve(t, healthhttp.Config{}, healthyRun())
	for format, want := range map[string]string{
		"html":        "text/html; charset=utf-8",
		"json":        "application/json",
		"text":        "text/plain; charset=utf-8",
		"atom":        "application/atom+xml; charset=utf-8",
		"rss":         "application/rss+xml; charset=utf-8",
		"openmetrics": "application/openmetrics-text; version=1.0.0; charset=utf-8",
	} {
		resp, _ := f.get(t, http.MethodGet, "/ht/?format="+format, "image/png")
		if got := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || got != want {
			t.Errorf("?format=%s: %d %s, want 200 %s", format, resp.StatusCode, got, want)
		}
	}
}
