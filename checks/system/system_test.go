package system_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/system"
	"github.com/healthjob/healthjob/healthjobtest"
)

// The readings of the real machine change from one moment to the next, so
// the warnings are matched by pattern here; system_internal_test.go pins the
// exact texts with injected readings.

func host(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return regexp.QuoteMeta(h)
}

func assertMatch(t *testing.T, c healthjob.Check, timeout time.Duration, pattern string) {
	t.Helper()
	got, elapsed := healthjobtest.Result(c, timeout)
	if !regexp.MustCompile(pattern).MatchString(got) {
		t.Errorf("%s: status = %q, want a match of %s", c.Name(), got, pattern)
	}
	if elapsed > timeout+250*time.Millisecond {
		t.Errorf("%s: took %s, past its deadline of %s", c.Name(), elapsed, timeout)
	}
}

func TestDisk(t *testing.T) {
	healthy, err := system.NewDisk(system.DiskConfig{Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, healthy, 2*time.Second, "working")
	healthjobtest.Conformance(t, healthy)

	full, err := system.NewDisk(system.DiskConfig{Path: t.TempDir(), Max: 0.0001})
	if err != nil {
		t.Fatal(err)
	}
	assertMatch(t, full, 2*time.Second, `^warning: `+host(t)+` \d{1,3}\.\d% disk usage exceeds 0\.0001%$`)

	missing, err := system.NewDisk(system.DiskConfig{Path: "/does/not/exist"})
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, missing, 2*time.Second, "unexpected result: ValueError: /does/not/exist: no such file or directory")
}

func TestDiskNames(t *testing.T) {
	long := "/srv/" + strings.Repeat("x", 60) + "/data"
	for _, tc := range []struct {
		cfg  system.DiskConfig
		want string
	}{
		{system.DiskConfig{}, "DiskUsage"},
		{system.DiskConfig{Path: "/"}, "DiskUsage"},
		{system.DiskConfig{Path: "/data"}, "DiskUsage[/data]"},
		{system.DiskConfig{Path: long}, "DiskUsage[…" + long[len(long)-38:] + "]"},
		{system.DiskConfig{Path: "/data", Name: "Data volume"}, "Data volume"},
	} {
		d, err := system.NewDisk(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if d.Name() != tc.want {
			t.Errorf("NewDisk(%+v).Name() = %q, want %q", tc.cfg, d.Name(), tc.want)
		}
		if n := len([]rune(d.Name())); n > healthjob.MaxNameLength {
			t.Errorf("NewDisk(%+v).Name() is %d characters", tc.cfg, n)
		}
	}
}

func TestMemory(t *testing.T) {
	healthy, err := system.NewMemory(system.MemoryConfig{Min: 1})
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, healthy, 2*time.Second, "working")
	healthjobtest.Conformance(t, healthy)

	low, err := system.NewMemory(system.MemoryConfig{Min: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	assertMatch(t, low, 2*time.Second, `^warning: `+host(t)+` \d+ MB available RAM below 1099511627776 MB$`)
}

func TestCPU(t *testing.T) {
	healthy, err := system.NewCPU(system.CPUConfig{Max: 100, Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, healthy, 2*time.Second, "working")
	healthjobtest.Conformance(t, healthy)

	// Keep one CPU busy so that the sample cannot be 0.0%.
	stop := make(chan struct{})
	spinning := make(chan struct{})
	go func() {
		defer close(spinning)
		for {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	busy, err := system.NewCPU(system.CPUConfig{Max: 0.0001, Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	assertMatch(t, busy, 2*time.Second, `^warning: `+host(t)+` \d{1,3}\.\d% CPU usage exceeds 0\.0001%$`)
	close(stop)
	<-spinning
}

func TestCPUSampleEndsBeforeDeadline(t *testing.T) {
	c, err := system.NewCPU(system.CPUConfig{Max: 100, Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, c, 500*time.Millisecond, "working")
}

func TestLoad(t *testing.T) {
	healthy, err := system.NewLoad(system.LoadConfig{Max1: 1e6, Max5: 1e6, Max15: 1e6, PerCPU: true})
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, healthy, 2*time.Second, "working")
	healthjobtest.Conformance(t, healthy)

	loaded, err := system.NewLoad(system.LoadConfig{Max1: 0.001, Max5: 0.001, Max15: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := healthjobtest.Result(loaded, 2*time.Second)
	if got == "working" {
		t.Skip("the load averages are all 0.00: nothing to exceed")
	}
	assertMatch(t, loaded, 2*time.Second, `^warning: `+host(t)+` load average \d+\.\d\d \d+\.\d\d \d+\.\d\d exceeds max(1|5|15) 0\.001(, max(5|15) 0\.001)*$`)
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func() error
		want string
	}{
		{"disk max", func() error { _, err := system.NewDisk(system.DiskConfig{Max: 120}); return err }, "max: must be a percentage above 0 and at most 100, got 120"},
		{"disk negative max", func() error { _, err := system.NewDisk(system.DiskConfig{Max: -1}); return err }, "max: must be a percentage above 0 and at most 100, got -1"},
		{"cpu max", func() error { _, err := system.NewCPU(system.CPUConfig{Max: 100.5}); return err }, "max: must be a percentage above 0 and at most 100, got 100.5"},
		{"cpu interval", func() error { _, err := system.NewCPU(system.CPUConfig{Interval: -time.Second}); return err }, "interval: must be more than 0, got -1s"},
		{"load none", func() error { _, err := system.NewLoad(system.LoadConfig{PerCPU: true}); return err }, "set at least one of max1, max5 and max15"},
		{"load negative", func() error { _, err := system.NewLoad(system.LoadConfig{Max1: 1, Max5: -2}); return err }, "max5: must be 0 or more, got -2"},
	} {
		err := tc.new()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCancelled(t *testing.T) {
	d, err := system.NewDisk(system.DiskConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Check(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Check(cancelled ctx) = %v, want %v", err, context.Canceled)
	}
}
