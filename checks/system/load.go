package system

import (
	"context"
	"fmt"
	"strings"

	"github.com/healthjob/healthjob"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/load"
)

// LoadConfig configures a Load check. At least one threshold must be set.
type LoadConfig struct {
	// Name overrides the default, LoadAverage.
	Name string
	// Max1, Max5 and Max15 are the 1, 5 and 15 minute load averages above
	// which the check warns; 0 leaves that average unchecked.
	Max1, Max5, Max15 float64
	// PerCPU divides the load averages by the number of logical CPUs before
	// they are compared and shown.
	PerCPU bool
}

func (c *LoadConfig) defaults() {
	if c.Name == "" {
		c.Name = "LoadAverage"
	}
}

// Load warns when the system's load average is high.
type Load struct {
	cfg LoadConfig
	// averages reads the 1, 5 and 15 minute load averages and the number of logical CPUs.
	averages func(ctx context.Context) (avg [3]float64, cpus int, err error)
}

var _ healthjob.Check = (*Load)(nil)

// NewLoad returns a Load check. The thresholds must not be negative, and at
// least one must be set.
func NewLoad(cfg LoadConfig) (*Load, error) {
	cfg.defaults()
	for i, max := range []float64{cfg.Max1, cfg.Max5, cfg.Max15} {
		if max < 0 {
			return nil, fmt.Errorf("%s: must be 0 or more, got %s", loadNames[i], threshold(max))
		}
	}
	if cfg.Max1 == 0 && cfg.Max5 == 0 && cfg.Max15 == 0 {
		return nil, fmt.Errorf("set at least one of max1, max5 and max15")
	}
	return &Load{cfg: cfg, averages: loadAverages}, nil
}

var loadNames = [3]string{"max1", "max5", "max15"}

func loadAverages(ctx context.Context) (avg [3]float64, cpus int, err error) {
	a, err := load.AvgWithContext(ctx)
	if err != nil {
		return avg, 0, err
	}
	cpus, err = cpu.CountsWithContext(ctx, true)
	if err != nil {
		return avg, 0, err
	}
	return [3]float64{a.Load1, a.Load5, a.Load15}, cpus, nil
}

// Name returns the check's name.
func (l *Load) Name() string { return l.cfg.Name }

// Check reads the load averages and warns when one is above its threshold.
func (l *Load) Check(ctx context.Context) error {
	if err := done(ctx); err != nil {
		return err
	}
	avg, cpus, err := l.averages(ctx)
	if err != nil {
		return healthjob.UnexpectedResult("read load average: %v", err)
	}
	what := "load average"
	if l.cfg.PerCPU && cpus > 0 {
		what += " per CPU"
		for i := range avg {
			avg[i] /= float64(cpus)
		}
	}
	var exceeded []string
	for i, max := range []float64{l.cfg.Max1, l.cfg.Max5, l.cfg.Max15} {
		if max > 0 && avg[i] > max {
			exceeded = append(exceeded, loadNames[i]+" "+threshold(max))
		}
	}
	if len(exceeded) > 0 {
		return healthjob.Warning("%s %s %.2f %.2f %.2f exceeds %s", hostname(), what, avg[0], avg[1], avg[2], strings.Join(exceeded, ", "))
	}
	return nil
}
