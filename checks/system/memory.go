package system

import (
	"context"

	"github.com/healthjob/healthjob"
	"github.com/shirou/gopsutil/v4/mem"
)

// MemoryConfig configures a Memory check.
type MemoryConfig struct {
	// Name overrides the default, MemoryUsage.
	Name string
	// Min is the available memory in MB below which the check warns; 0 means
	// 100, the default of MEMORY_MIN, and a negative value never warns.
	Min float64
}

func (c *MemoryConfig) defaults() {
	if c.Name == "" {
		c.Name = "MemoryUsage"
	}
	if c.Min == 0 {
		c.Min = 100
	}
}

// Memory warns when little memory is available.
type Memory struct {
	cfg MemoryConfig
	// available reads the bytes of memory available to new processes.
	available func(ctx context.Context) (uint64, error)
}

var _ healthjob.Check = (*Memory)(nil)

// NewMemory returns a Memory check.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	cfg.defaults()
	return &Memory{cfg: cfg, available: memAvailable}, nil
}

func memAvailable(ctx context.Context) (uint64, error) {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return 0, err
	}
	return vm.Available, nil
}

// Name returns the check's name.
func (m *Memory) Name() string { return m.cfg.Name }

// Check reads the available memory and warns below the minimum.
func (m *Memory) Check(ctx context.Context) error {
	if err := done(ctx); err != nil {
		return err
	}
	avail, err := m.available(ctx)
	if err != nil {
		return healthjob.UnexpectedResult("read memory statistics: %v", err)
	}
	const mb = 1024 * 1024
	if m.cfg.Min > 0 && float64(avail) < m.cfg.Min*mb {
		return healthjob.Warning("%s %d MB available RAM below %s MB", hostname(), avail/mb, threshold(m.cfg.Min))
	}
	return nil
}
