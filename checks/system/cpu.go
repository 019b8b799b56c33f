package system

import (
	"context"
	"fmt"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/shirou/gopsutil/v4/cpu"
)

// CPUConfig configures a CPU check.
type CPUConfig struct {
	// Name overrides the default, CPUUsage.
	Name string
	// Max is the busy percentage above which the check warns; 0 means DefaultCPUMax.
	Max float64
	// Interval is how long the CPUs are sampled; 0 means DefaultCPUInterval.
	// The sample is cut to half the time left before the check's deadline.
	Interval time.Duration
}

func (c *CPUConfig) defaults() {
	if c.Name == "" {
		c.Name = "CPUUsage"
	}
	if c.Max == 0 {
		c.Max = DefaultCPUMax
	}
	if c.Interval == 0 {
		c.Interval = DefaultCPUInterval
	}
}

// The defaults of CPUConfig.
const (
	DefaultCPUMax      = 90 // percent
	DefaultCPUInterval = time.Second
)

// CPU warns when the CPUs are busy.
type CPU struct {
	cfg CPUConfig
	// busyPercent samples the busy share of all CPUs over interval.
	busyPercent func(ctx context.Context, interval time.Duration) (float64, error)
}

var _ healthjob.Check = (*CPU)(nil)

// NewCPU returns a CPU check. Max must be a percentage above 0, at most 100,
// and Interval must not be negative.
func NewCPU(cfg CPUConfig) (*CPU, error) {
	cfg.defaults()
	switch {
	case cfg.Max < 0 || cfg.Max > 100:
		return nil, fmt.Errorf("max: must be a percentage above 0 and at most 100, got %s", threshold(cfg.Max))
	case cfg.Interval < 0:
		return nil, fmt.Errorf("interval: must be more than 0, got %s", cfg.Interval)
	}
	return &CPU{cfg: cfg, busyPercent: cpuBusyPercent}, nil
}

func cpuBusyPercent(ctx context.Context, interval time.Duration) (float64, error) {
	p, err := cpu.PercentWithContext(ctx, interval, false)
	if err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, fmt.Errorf("no CPU statistics")
	}
	return p[0], nil
}

// Name returns the check's name.
func (c *CPU) Name() string { return c.cfg.Name }

// Check samples the CPUs and warns above the maximum.
func (c *CPU) Check(ctx context.Context) error {
	if err := done(ctx); err != nil {
		return err
	}
	interval := c.cfg.Interval
	if deadline, ok := ctx.Deadline(); ok {
		interval = min(interval, time.Until(deadline)/2)
	}
	busy, err := c.busyPercent(ctx, interval)
	if err != nil {
		if err := done(ctx); err != nil {
			return err
		}
		return healthjob.UnexpectedResult("read CPU statistics: %v", err)
	}
	busy = round1(busy)
	if busy > c.cfg.Max {
		return healthjob.Warning("%s %s%% CPU usage exceeds %s%%", hostname(), percent(busy), threshold(c.cfg.Max))
	}
	return nil
}
