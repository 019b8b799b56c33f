package cli

import (
	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/system"
	"github.com/healthjob/healthjob/internal/config"
)

// systemCheckTypes are the check types of this group; see checkTypes.
var systemCheckTypes = map[string]checkType{
	"disk":   diskCheck,
	"memory": memoryCheck,
	"cpu":    cpuCheck,
	"load":   loadCheck,
}

// diskCheck builds a disk check. Its options: path (default /) and max, the
// used percentage at which it warns (default DISK_USAGE_MAX).
func diskCheck(spec config.Check, cfg *config.Config) (healthjob.Check, error) {
	opts := struct {
		Path string  `yaml:"path"`
		Max  float64 `yaml:"max"`
	}{Max: cfg.DiskUsageMax}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	if opts.Max == 0 { // the package would read 0 as "the default"
		return nil, spec.Errorf("max: must be a percentage above 0 and at most 100, got 0")
	}
	c, err := system.NewDisk(system.DiskConfig{Name: spec.Name, Path: opts.Path, Max: opts.Max})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// memoryCheck builds a memory check. Its option: min, the available MB below
// which it warns (default MEMORY_MIN; 0 never warns, as in django-health-check).
func memoryCheck(spec config.Check, cfg *config.Config) (healthjob.Check, error) {
	opts := struct {
		Min float64 `yaml:"min"`
	}{Min: cfg.MemoryMin}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	switch {
	case opts.Min < 0:
		return nil, spec.Errorf("min: must be 0 MB or more, got %g", opts.Min)
	case opts.Min == 0:
		opts.Min = -1 // the package's "never warns"
	}
	c, err := system.NewMemory(system.MemoryConfig{Name: spec.Name, Min: opts.Min})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// cpuCheck builds a cpu check. Its options: max, the busy percentage above
// which it warns (default 90), and interval, how long it samples (default 1s).
func cpuCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	opts := struct {
		Max      float64         `yaml:"max"`
		Interval config.Duration `yaml:"interval"`
	}{Max: system.DefaultCPUMax, Interval: config.Duration(system.DefaultCPUInterval)}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	switch {
	case opts.Max == 0:
		return nil, spec.Errorf("max: must be a percentage above 0 and at most 100, got 0")
	case opts.Interval == 0:
		return nil, spec.Errorf("interval: must be more than 0, got 0")
	}
	c, err := system.NewCPU(system.CPUConfig{Name: spec.Name, Max: opts.Max, Interval: opts.Interval.D()})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// loadCheck builds a load check. Its options: max1, max5 and max15, the load
// averages above which it warns (at least one), and per_cpu, which divides
// the averages by the number of CPUs.
func loadCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	var opts struct {
		Max1   float64 `yaml:"max1"`
		Max5   float64 `yaml:"max5"`
		Max15  float64 `yaml:"max15"`
		PerCPU bool    `yaml:"per_cpu"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	c, err := system.NewLoad(system.LoadConfig{Name: spec.Name, Max1: opts.Max1, Max5: opts.Max5, Max15: opts.Max15, PerCPU: opts.PerCPU})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}
