package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/healthjob/healthjob/internal/notify"
	"github.com/healthjob/healthjob/job"
)

func runMonitor(ctx context.Context, e *env, args []string) (err error) {
	f := newFlags(e, "monitor", "[--config FILE] [--subset NAME] [--color auto|always|never] [--http ADDR]")
	subset := f.String("subset", "", "run only the checks of the subset `NAME`")
	color := colorFlag("auto")
	f.Var(&color, "color", "colour the status texts: `auto` (on a terminal, unless NO_COLOR is set), always or never")
	httpAddr := f.String("http", "", "serve the health endpoint, /livez, /readyz and /metrics on `ADDR` (host:port); overrides HEALTH_CHECK_HTTP")
	if err := f.parse(args); err != nil {
		return err
	}
	if *httpAddr != "" {
		if err := checkListenAddr(*httpAddr); err != nil {
			return usageErr(fmt.Errorf("--http: %v", err))
		}
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	if *httpAddr != "" {
		cfg.HealthCheckHTTP = *httpAddr
	}
	a, err := newApp(ctx, e, cfg, *subset)
	if err != nil {
		return err
	}
	defer a.close()
	defer startRetention(ctx, a.cfg, a.store, a.log)()
	stats := &job.Stats{}
	jc := job.Config{
		Runner:    a.runner,
		Subset:    *subset,
		Interval:  cfg.HealthCheckInterval.D(),
		Processor: a.processor,
		Console:   e.stdout,
		Color:     color.enabled(e),
		Logger:    a.log,
		Stats:     stats,
	}
	if cfg.HealthCheckHTTP != "" {
		srv, httpErr := startHTTP(ctx, a, &jc)
		if httpErr != nil {
			return httpErr
		}
		// After the cycle in flight has finished, the server drains.
		defer func() { err = errors.Join(err, srv.shutdown()) }()
		ctx = srv.ctx
	}
	al, err := openAlerts(ctx, a, &jc)
	if err != nil {
		return err
	}
	defer al.close()
	if al.n != nil {
		a.metrics.ExportAlertStates(notify.StateNames, al.n.EachState)
	}
	a.log.Info("monitor started", "checks", len(a.runner.Registry.Entries()), "interval", cfg.HealthCheckInterval,
		"persist", cfg.PersistHealthCheckData, "sync", cfg.SyncHealthCheckData)
	err = runCycles(ctx, a, jc, al)
	a.log.Info("monitor stopped", "cycles", stats.Cycles.Load(), "late_cycles", stats.LateCycles.Load(),
		"failed_checks", stats.FailedChecks.Load(), "persist_errors", stats.PersistErrors.Load(), "sync_errors", stats.SyncErrors.Load())
	return err
}
