package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/store"
)

// retentionInterval is how often monitor and serve roll up and prune:
// hourly, so that each pass deletes about an hour of records.
const retentionInterval = time.Hour

// startRetention applies HEALTH_CHECK_RETENTION and
// HEALTH_CHECK_ROLLUP_RETENTION to db (nil: none) at once and then every
// retentionInterval, in a goroutine that ends when ctx does or when the
// returned stop is called; stop waits for it.
func startRetention(ctx context.Context, cfg *config.Config, db *store.DB, log *slog.Logger) (stop func()) {
	p := policy(cfg)
	if db == nil || !p.active() {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(retentionInterval)
		defer tick.Stop()
		for {
			r, err := p.apply(ctx, db, time.Now())
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				log.Error("retention", "error", err)
			case r.hours > 0 || r.records > 0 || r.runs > 0 || r.rollup > 0:
				log.Info("retention", r.attrs()...)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// retention is what to keep: records for raw, roll-ups for rollups; 0
// keeps records forever, or computes no roll-ups.
type retention struct{ raw, rollups time.Duration }

func policy(cfg *config.Config) retention {
	return retention{raw: cfg.HealthCheckRetention.D(), rollups: cfg.HealthCheckRollupRetention.D()}
}

func (p retention) active() bool { return p.raw > 0 || p.rollups > 0 }

// retained is what one pass did.
type retained struct {
	hours                 int   // hours rolled up
	records, runs, rollup int64 // records, serve's runs and roll-ups deleted
	before                time.Time
}

func (r retained) attrs() []any {
	return []any{"rolled_up_hours", r.hours, "pruned_records", r.records, "pruned_runs", r.runs, "pruned_rollups", r.rollup,
		slog.Time("records_before", r.before)}
}

// apply rolls up the complete hours first, so that pruning never deletes
// a record the roll-ups have not counted, then prunes.
func (p retention) apply(ctx context.Context, db *store.DB, now time.Time) (retained, error) {
	var r retained
	var err error
	if p.rollups > 0 {
		if r.hours, err = db.Rollup(ctx, now); err != nil {
			return r, err
		}
	}
	if p.raw > 0 {
		r.before = now.Add(-p.raw).UTC()
		if p.rollups > 0 {
			done, err := db.RolledUp(ctx)
			if err != nil {
				return r, err
			}
			if keep := done.Add(-store.RollupLateness); r.before.After(keep) {
				r.before = keep // the hours the roll-ups may still recompute
			}
		}
		if r.records, err = db.Prune(ctx, r.before); err != nil {
			return r, err
		}
		// The uuids serve keeps go with their records: a payload that old
		// delivered again would be pruned at the next pass anyway.
		if r.runs, err = db.PruneRuns(ctx, r.before); err != nil {
			return r, err
		}
	}
	if p.rollups > 0 {
		if r.rollup, err = db.PruneRollups(ctx, now.Add(-p.rollups)); err != nil {
			return r, err
		}
	}
	return r, nil
}
