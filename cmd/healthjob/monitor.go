package main

import (
	"context"

	"github.com/healthjob/healthjob/job"
)

func runMonitor(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "monitor", "[--config FILE] [--subset NAME] [--color auto|always|never]")
	subset := f.String("subset", "", "run only the checks of the subset `NAME`")
	color := colorFlag("auto")
	f.Var(&color, "color", "colour the status texts: `auto` (on a terminal, unless NO_COLOR is set), always or never")
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, e, cfg, *subset)
	if err != nil {
		return err
	}
	defer a.close()
	a.log.Info("monitor started", "checks", len(a.runner.Registry.Entries()), "interval", cfg.HealthCheckInterval,
		"persist", cfg.PersistHealthCheckData, "sync", cfg.SyncHealthCheckData)
	stats := &job.Stats{}
	err = job.Monitor(ctx, job.Config{
		Runner:    a.runner,
		Subset:    *subset,
		Interval:  cfg.HealthCheckInterval.D(),
		Processor: a.processor,
		Console:   e.stdout,
		Color:     color.enabled(e),
		Logger:    a.log,
		Stats:     stats,
	})
	a.log.Info("monitor stopped", "cycles", stats.Cycles.Load(), "late_cycles", stats.LateCycles.Load(),
		"failed_checks", stats.FailedChecks.Load(), "persist_errors", stats.PersistErrors.Load(), "sync_errors", stats.SyncErrors.Load())
	return err
}
