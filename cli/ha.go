package cli

import (
	"cmp"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/lease"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/job"
)

// runCycles runs the monitor's cycles until ctx ends: job.Monitor, or,
// with HA_LOCK_URL, only while this process holds the application's lease.
func runCycles(ctx context.Context, a *app, jc job.Config, al *alerts) error {
	if a.cfg.HALockURL == "" {
		al.start()
		return job.Monitor(ctx, jc)
	}
	name, holder := leaseName(a.cfg), lease.HolderID()
	locker, err := lease.Open(ctx, a.cfg.HALockURL, name, holder)
	if err != nil {
		return fmt.Errorf("HA_LOCK_URL: %w", err)
	}
	defer locker.Close()
	l := &lease.Lease{Locker: locker, TTL: jc.Interval, Name: name, Logger: a.log}
	// The lease outlives the cycle in flight: released before it ended, a
	// standby could start its first cycle beside it.
	leaseCtx, stopLease := context.WithCancel(context.WithoutCancel(ctx))
	leased := make(chan struct{})
	go func() {
		defer close(leased)
		l.Run(leaseCtx)
	}()
	defer func() {
		stopLease()
		<-leased
	}()
	a.log.Info("HA: standing by until this monitor holds the lease", "lease", name, "holder", holder,
		"lock", config.Redact(a.cfg.HALockURL))
	h := &haMonitor{a: a, jc: jc, al: al, lease: l, name: name, holder: holder}
	a.metrics.ExportHA(h.running.Load)
	return h.run(ctx)
}

// leaseName is HA_LOCK_NAME, else SYNC_APP_ID.
func leaseName(cfg *config.Config) string { return cmp.Or(cfg.HALockName, cfg.SyncAppID) }

// haMonitor runs cycles while its lease is held.
type haMonitor struct {
	a            *app
	jc           job.Config
	al           *alerts
	lease        *lease.Lease
	name, holder string
	pruned       time.Time
	running      atomic.Bool // runs the cycles: healthjob_ha_active
}

// run stands by until the lease is held, runs cycles while it is, and
// stands by again once it is lost.
func (h *haMonitor) run(ctx context.Context) error {
	for {
		for !h.valid() {
			select {
			case <-ctx.Done():
				return nil
			case <-h.lease.Changed():
			case <-time.After(h.lease.TTL / 4):
			}
		}
		h.a.log.Info("HA: active: running the cycles", "lease", h.name, "holder", h.holder)
		h.al.start()
		h.running.Store(true)
		err := h.active(ctx)
		h.running.Store(false)
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.lease.TTL/4)
		h.al.stop(stop) // the next active monitor delivers what is left
		cancel()
		if err != nil || ctx.Err() != nil {
			return err
		}
		h.a.log.Warn("HA: the lease is lost: standing by", "lease", h.name, "holder", h.holder)
	}
}

// valid tells whether a cycle may start: the lease is held for half a TTL
// more at least, time for the cycle to end before another monitor can take
// the lease even if this one can no longer renew it.
func (h *haMonitor) valid() bool { return h.lease.Valid(h.lease.TTL / 2) }

// active runs the cycles with job.Monitor until ctx ends or the lease is
// no longer valid, and records the holder of each.
func (h *haMonitor) active(ctx context.Context) error {
	jc := h.jc
	jc.Active = h.valid
	onRun := jc.OnRun
	jc.OnRun = func(run *healthjob.Run) {
		if onRun != nil {
			onRun(run)
		}
		h.saveCycle(run)
	}
	return job.Monitor(ctx, jc)
}

// saveCycle records which holder ran the cycle of run, and when.
func (h *haMonitor) saveCycle(run *healthjob.Run) {
	db := h.a.store
	if db == nil {
		return
	}
	// The cycle in flight finishes after a signal: so does its record.
	ctx := context.Background()
	c := store.Cycle{RunUUID: run.UUID, Lease: h.name, Holder: h.holder, Started: run.Timestamp.Time,
		Finished: time.Now(), Checks: len(run.Checks)}
	if err := db.SaveCycle(ctx, c); err != nil {
		h.a.log.Error("HA: cannot record the cycle's holder", "run", run.UUID, "error", err)
	}
	h.prune(ctx, db)
}

// prune keeps the cycles' holders as long as the records, checked hourly.
func (h *haMonitor) prune(ctx context.Context, db *store.DB) {
	keep := h.a.cfg.HealthCheckRetention.D()
	if keep == 0 || time.Since(h.pruned) < time.Hour {
		return
	}
	h.pruned = time.Now()
	if _, err := db.PruneCycles(ctx, time.Now().Add(-keep)); err != nil {
		h.a.log.Error("HA: cannot prune the cycles' holders", "error", err)
	}
}
