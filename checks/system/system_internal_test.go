package system

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/healthjob/healthjob/healthjobtest"
)

// These tests inject readings to pin the exact texts; system_test.go reads
// the real machine.

func TestDiskTexts(t *testing.T) {
	host := hostname()
	for _, tc := range []struct {
		name string
		used float64
		err  error
		max  float64
		want string
	}{
		{name: "below", used: 89.94, want: "working"},
		{name: "rounds up to max", used: 89.96, want: "warning: " + host + " 90.0% disk usage exceeds 90%"},
		{name: "above", used: 93.44, want: "warning: " + host + " 93.4% disk usage exceeds 90%"},
		{name: "fractional max", used: 80, max: 75.5, want: "warning: " + host + " 80.0% disk usage exceeds 75.5%"},
		{name: "full", used: 100, max: 100, want: "warning: " + host + " 100.0% disk usage exceeds 100%"},
		{name: "unreadable", err: syscall.EACCES, want: "unexpected result: ValueError: /srv: permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDisk(DiskConfig{Path: "/srv", Max: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			d.usedPercent = func(context.Context, string) (float64, error) { return tc.used, tc.err }
			healthjobtest.AssertStatus(t, d, time.Second, tc.want)
		})
	}
}

func TestMemoryTexts(t *testing.T) {
	host := hostname()
	const mb = 1024 * 1024
	for _, tc := range []struct {
		name  string
		avail uint64
		err   error
		min   float64
		want  string
	}{
		{name: "at min", avail: 100 * mb, want: "working"},
		{name: "a byte below", avail: 100*mb - 1, want: "warning: " + host + " 99 MB available RAM below 100 MB"},
		{name: "below", avail: 87*mb + mb/2, want: "warning: " + host + " 87 MB available RAM below 100 MB"},
		{name: "large min", avail: 1500 * mb, min: 2048, want: "warning: " + host + " 1500 MB available RAM below 2048 MB"},
		{name: "fractional min", avail: 0, min: 0.5, want: "warning: " + host + " 0 MB available RAM below 0.5 MB"},
		{name: "off", avail: 0, min: -1, want: "working"},
		{name: "unreadable", err: errors.New("open /proc/meminfo: permission denied"), want: "unexpected result: read memory statistics: open /proc/meminfo: permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMemory(MemoryConfig{Min: tc.min})
			if err != nil {
				t.Fatal(err)
			}
			m.available = func(context.Context) (uint64, error) { return tc.avail, tc.err }
			healthjobtest.AssertStatus(t, m, time.Second, tc.want)
		})
	}
}

func TestCPUTexts(t *testing.T) {
	host := hostname()
	for _, tc := range []struct {
		name string
		busy float64
		err  error
		max  float64
		want string
	}{
		{name: "rounds down to max", busy: 90.04, want: "working"},
		{name: "above", busy: 97.46, want: "warning: " + host + " 97.5% CPU usage exceeds 90%"},
		{name: "tiny max", busy: 0.1, max: 0.0001, want: "warning: " + host + " 0.1% CPU usage exceeds 0.0001%"},
		{name: "unreadable", err: errors.New("open /proc/stat: permission denied"), want: "unexpected result: read CPU statistics: open /proc/stat: permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCPU(CPUConfig{Max: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			c.busyPercent = func(context.Context, time.Duration) (float64, error) { return tc.busy, tc.err }
			healthjobtest.AssertStatus(t, c, time.Second, tc.want)
		})
	}
}

func TestCPUIntervalFitsDeadline(t *testing.T) {
	c, err := NewCPU(CPUConfig{Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var got time.Duration
	c.busyPercent = func(_ context.Context, interval time.Duration) (float64, error) {
		got = interval
		return 1, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if got <= 0 || got > time.Second {
		t.Errorf("sampled for %s, want at most half of the 2s deadline", got)
	}
}

func TestLoadTexts(t *testing.T) {
	host := hostname()
	for _, tc := range []struct {
		name string
		cfg  LoadConfig
		avg  [3]float64
		err  error
		want string
	}{
		{name: "below", cfg: LoadConfig{Max1: 4, Max5: 3, Max15: 2}, avg: [3]float64{4, 3, 2}, want: "working"},
		{name: "one", cfg: LoadConfig{Max1: 4}, avg: [3]float64{5.1, 3.2, 1}, want: "warning: " + host + " load average 5.10 3.20 1.00 exceeds max1 4"},
		{name: "unchecked average", cfg: LoadConfig{Max5: 4}, avg: [3]float64{9, 3, 1}, want: "working"},
		{name: "several", cfg: LoadConfig{Max1: 4, Max5: 3, Max15: 2.5}, avg: [3]float64{5, 3.5, 1}, want: "warning: " + host + " load average 5.00 3.50 1.00 exceeds max1 4, max5 3"},
		{name: "per CPU", cfg: LoadConfig{Max15: 0.5, PerCPU: true}, avg: [3]float64{1, 2, 3}, want: "warning: " + host + " load average per CPU 0.25 0.50 0.75 exceeds max15 0.5"},
		{name: "per CPU below", cfg: LoadConfig{Max1: 1, PerCPU: true}, avg: [3]float64{3.9, 3, 3}, want: "working"},
		{name: "unreadable", cfg: LoadConfig{Max1: 1}, err: errors.New("open /proc/loadavg: permission denied"), want: "unexpected result: read load average: open /proc/loadavg: permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLoad(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			l.averages = func(context.Context) ([3]float64, int, error) { return tc.avg, 4, tc.err }
			healthjobtest.AssertStatus(t, l, time.Second, tc.want)
		})
	}
}
