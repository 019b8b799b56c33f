package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/healthjob/healthjob"
)

// Config is what Monitor needs.
type Config struct {
	Runner    *healthjob.Runner
	Subset    string        // "" runs every check
	Interval  time.Duration // HEALTH_CHECK_INTERVAL; 0 means 5 s
	Processor *Processor    // persistence and sync; nil does neither

	Console io.Writer    // where the check lines go; nil prints none
	Color   bool         // colour the status texts green and red
	Logger  *slog.Logger // nil means slog.Default()

	// OnRun, when set, sees every run after it was processed (metrics,
	// the health endpoint). It must not keep the monitor waiting.
	OnRun func(*healthjob.Run)
	// Stats, when set, is updated as the monitor goes.
	Stats *Stats
	// Active, when set, is asked before each cycle: false ends Monitor,
	// which returns nil. A monitor that may run only while it holds a
	// lease says so here.
	Active func() bool
}

// Stats counts what a monitor did; safe to read while it runs.
type Stats struct {
	Cycles        atomic.Int64 // cycles completed
	LateCycles    atomic.Int64 // cycles that started after their scheduled time
	FailedChecks  atomic.Int64 // check results that failed
	PersistErrors atomic.Int64 // runs that could not be saved
	SyncErrors    atomic.Int64 // runs that could not be synced
}

// DefaultInterval is the spec's HEALTH_CHECK_INTERVAL.
const DefaultInterval = 5 * time.Second

// Monitor runs a cycle every Interval, on a schedule fixed from its start so
// that it does not drift: a cycle that runs long makes the next one start
// late (logged), never two at once. Each cycle runs the checks, prints their
// lines, then persists and syncs per the Processor; a failing check, a failed
// save or a failed sync is logged and counted, never fatal. When ctx is
// cancelled Monitor finishes the cycle in flight and returns nil.
func Monitor(ctx context.Context, cfg Config) error {
	if cfg.Runner == nil {
		return errors.New("monitor: no runner")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Stats == nil {
		cfg.Stats = &Stats{}
	}
	log := cfg.logger()
	// The cycle in flight must finish after a signal: it runs detached from
	// ctx, bounded by the checks' own deadlines.
	cycleCtx := context.WithoutCancel(ctx)
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n := int64(0); ; {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		if cfg.Active != nil && !cfg.Active() {
			return nil
		}
		scheduled := start.Add(time.Duration(n) * cfg.Interval)
		if late := time.Since(scheduled); late > cfg.Interval/10 && late > 100*time.Millisecond {
			cfg.Stats.LateCycles.Add(1)
			log.Warn("cycle starts late: the previous one ran past the interval", "late", late.Round(time.Millisecond), "interval", cfg.Interval)
		}
		if _, err := Cycle(cycleCtx, cfg); err != nil {
			return err
		}
		// The next slot on the fixed grid that is still ahead; a slot missed
		// while the cycle ran is skipped, and the next cycle starts at once.
		n = max(n+1, int64(time.Since(start)/cfg.Interval))
		timer.Reset(time.Until(start.Add(time.Duration(n) * cfg.Interval)))
	}
}

func (cfg Config) logger() *slog.Logger {
	if cfg.Logger != nil {
		return cfg.Logger
	}
	return slog.Default()
}

// Cycle runs the checks once and handles the run as Monitor does: prints,
// counts, persists and syncs it, and hands it to OnRun. It returns an error
// only when the checks cannot run at all (an unknown subset).
func Cycle(ctx context.Context, cfg Config) (*healthjob.Run, error) {
	run, err := cfg.Runner.Run(ctx, cfg.Subset)
	if err != nil {
		return nil, err
	}
	stats := cfg.Stats
	if stats == nil {
		stats = &Stats{}
	}
	if cfg.Console != nil {
		PrintRun(cfg.Console, run, cfg.Color)
	}
	failed := 0
	for _, c := range run.Checks {
		if !c.Passed() {
			failed++
		}
	}
	stats.Cycles.Add(1)
	stats.FailedChecks.Add(int64(failed))
	if cfg.Processor != nil {
		if err := cfg.Processor.Process(ctx, run); err != nil {
			if errors.Is(err, ErrPersist) {
				stats.PersistErrors.Add(1)
			}
			if errors.Is(err, ErrSync) {
				stats.SyncErrors.Add(1)
			}
			cfg.logger().Error("run not fully processed", "run", run.UUID, "error", err)
		}
	}
	if cfg.OnRun != nil {
		cfg.OnRun(run)
	}
	return run, nil
}

// PrintRun writes one line per check as the spec's monitor does: the name
// left-aligned in 24 columns, " ... ", the status text, green when it passed
// and red when it failed if color is set.
func PrintRun(w io.Writer, run *healthjob.Run, color bool) {
	for _, c := range run.Checks {
		text := c.Message
		if color {
			code := "32;1" // Django's style.SUCCESS
			if !c.Passed() {
				code = "31;1" // style.ERROR
			}
			text = "\x1b[" + code + "m" + text + "\x1b[0m"
		}
		fmt.Fprintf(w, "%-24s ... %s\n", c.Name, text)
	}
}
