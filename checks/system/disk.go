package system

import (
	"context"
	"fmt"

	"github.com/healthjob/healthjob"
	"github.com/shirou/gopsutil/v4/disk"
)

// DiskConfig configures a Disk check.
type DiskConfig struct {
	// Name overrides the default: DiskUsage for "/", DiskUsage[<path>] otherwise.
	Name string
	// Path is a path on the file system to check; "" means "/".
	Path string
	// Max is the used percentage at or above which the check warns; 0 means
	// 90, the default of DISK_USAGE_MAX.
	Max float64
}

func (c *DiskConfig) defaults() {
	if c.Path == "" {
		c.Path = "/"
	}
	if c.Max == 0 {
		c.Max = 90
	}
	if c.Name == "" {
		c.Name = "DiskUsage"
		if c.Path != "/" {
			c.Name = bracketed("DiskUsage", c.Path)
		}
	}
}

// Disk warns when a file system is nearly full.
type Disk struct {
	cfg DiskConfig
	// usedPercent reads the used percentage of the file system at path.
	usedPercent func(ctx context.Context, path string) (float64, error)
}

var _ healthjob.Check = (*Disk)(nil)

// NewDisk returns a Disk check. Max must be a percentage above 0, at most 100.
func NewDisk(cfg DiskConfig) (*Disk, error) {
	cfg.defaults()
	if cfg.Max < 0 || cfg.Max > 100 {
		return nil, fmt.Errorf("max: must be a percentage above 0 and at most 100, got %s", threshold(cfg.Max))
	}
	return &Disk{cfg: cfg, usedPercent: diskUsedPercent}, nil
}

func diskUsedPercent(ctx context.Context, path string) (float64, error) {
	// statfs cannot be interrupted (a hung network mount blocks it), so it
	// runs aside and the check returns when ctx ends; the goroutine finishes
	// when the system call does.
	type result struct {
		u   *disk.UsageStat
		err error
	}
	ch := make(chan result, 1)
	go func() {
		u, err := disk.UsageWithContext(ctx, path)
		ch <- result{u, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return 0, r.err
		}
		return r.u.UsedPercent, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Name returns the check's name.
func (d *Disk) Name() string { return d.cfg.Name }

// Check reads the file system's usage and warns at or above the maximum.
func (d *Disk) Check(ctx context.Context) error {
	if err := done(ctx); err != nil {
		return err
	}
	used, err := d.usedPercent(ctx, d.cfg.Path)
	if err != nil {
		if err := done(ctx); err != nil {
			return err
		}
		// django-health-check reports psutil's ValueError this way; the
		// reason after it is ours.
		return healthjob.UnexpectedResult("ValueError: %s: %v", d.cfg.Path, err)
	}
	used = round1(used)
	if used >= d.cfg.Max {
		return healthjob.Warning("%s %s%% disk usage exceeds %s%%", hostname(), percent(used), threshold(d.cfg.Max))
	}
	return nil
}

// bracketed returns "prefix[detail]", shortened from the left of detail to fit
// healthjob.MaxNameLength.
func bracketed(prefix, detail string) string {
	room := healthjob.MaxNameLength - len([]rune(prefix)) - 2
	if r := []rune(detail); len(r) > room {
		detail = "…" + string(r[len(r)-room+1:])
	}
	return prefix + "[" + detail + "]"
}
