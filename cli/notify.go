package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/notify"
	"github.com/healthjob/healthjob/internal/notify/routing"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/job"
)

// observeTimeout bounds the alert states' transaction after a cycle.
const observeTimeout = 10 * time.Second

// alerts are a monitor's alert states and notifications.
type alerts struct {
	n     *notify.Notifier // nil: neither persisting nor notifying, so no states are kept
	db    *store.DB        // opened for the alerts when not persisting
	close func()
}

// openAlerts keeps the alert states of jc's checks and queues their
// notifications, after every cycle, when the monitor persists its records
// or NOTIFICATIONS names a notifier; the states and the queues live in
// DATABASE_URL. It delivers nothing until start.
func openAlerts(ctx context.Context, a *app, jc *job.Config) (*alerts, error) {
	al := &alerts{close: func() {}}
	cfg := a.cfg
	if !cfg.PersistHealthCheckData && len(cfg.Notifications) == 0 {
		return al, nil
	}
	db := a.store
	if db == nil {
		var err error
		if db, err = openStore(ctx, cfg); err != nil {
			return nil, err
		}
		al.db = db
	}
	ncfg, err := notifyConfig(cfg, db)
	if err != nil {
		al.closeDB()
		return nil, usageErr(err)
	}
	ncfg.Logger = a.log
	if al.n, err = notify.New(ctx, ncfg); err != nil {
		al.closeDB()
		return nil, usageErr(err)
	}
	base := context.WithoutCancel(ctx)
	next := jc.OnRun
	jc.OnRun = func(run *healthjob.Run) {
		if next != nil {
			next(run)
		}
		observe, cancel := context.WithTimeout(base, observeTimeout)
		defer cancel()
		if err := al.n.Observe(observe, cfg.SyncAppID, run); err != nil {
			a.log.Error("alert states not updated", "run", run.UUID, "error", err)
		}
	}
	al.close = func() {
		// Deliver what is queued for a moment; the rest waits for the next start.
		stop, cancel := context.WithTimeout(base, 5*time.Second)
		defer cancel()
		al.n.Stop(stop)
		al.closeDB()
	}
	return al, nil
}

func (al *alerts) closeDB() {
	if al.db != nil {
		al.db.Close()
	}
}

// start delivers the queued notifications; under HA only while active.
func (al *alerts) start() {
	if al.n != nil {
		al.n.Start()
	}
}

// stop stops delivering, leaving the rest queued.
func (al *alerts) stop(ctx context.Context) {
	if al.n != nil {
		al.n.Stop(ctx)
	}
}

// notifyConfig reads the settings of the alert states and notifications.
func notifyConfig(cfg *config.Config, db *store.DB) (notify.Config, error) {
	nc := notify.Config{
		Store:           db,
		Thresholds:      notify.Thresholds{Failure: cfg.HealthCheckFailureThreshold, Success: cfg.HealthCheckSuccessThreshold},
		CheckThresholds: map[string]notify.Thresholds{},
	}
	var err error
	if nc.Routes, err = notifyRoutes(cfg); err != nil {
		return nc, err
	}
	if nc.Windows, err = maintenanceWindows(cfg); err != nil {
		return nc, err
	}
	types := checkTypes()
	for _, spec := range cfg.CheckList() {
		if spec.FailureThreshold == nil && spec.SuccessThreshold == nil {
			continue
		}
		name := spec.Name
		if name == "" { // the type's default name: build the check to learn it
			c, err := types[spec.Type](spec, cfg)
			if err != nil {
				return nc, err
			}
			name = c.Name()
		}
		th := nc.Thresholds
		if spec.FailureThreshold != nil {
			th.Failure = *spec.FailureThreshold
		}
		if spec.SuccessThreshold != nil {
			th.Success = *spec.SuccessThreshold
		}
		nc.CheckThresholds[name] = th
	}
	return nc, nil
}

// notifyRoutes reads NOTIFICATIONS.
func notifyRoutes(cfg *config.Config) ([]routing.Route, error) {
	var out []routing.Route
	for i, item := range cfg.Notifications {
		r, err := routing.ParseRoute(item)
		if err != nil {
			return nil, fmt.Errorf("NOTIFICATIONS: item %d: %v", i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// maintenanceWindows reads MAINTENANCE, in the local time zone.
func maintenanceWindows(cfg *config.Config) (routing.Windows, error) {
	var out routing.Windows
	for i, item := range cfg.Maintenance {
		w, err := routing.ParseWindow(item, time.Local)
		if err != nil {
			return nil, fmt.Errorf("MAINTENANCE: item %d: %v", i+1, err)
		}
		out = append(out, w)
	}
	return out, nil
}

func runNotify(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "test" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(e.stderr, "Usage: healthjob notify test [--config FILE] URL|N")
			return flag.ErrHelp
		}
		return usageErr(errors.New("want `healthjob notify test URL|N`: send a test notification to a notifier's URL, or to the Nth of NOTIFICATIONS"))
	}
	f := newFlags(e, "notify test", "[--config FILE] URL|N")
	if err := f.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage}
	}
	if f.NArg() != 1 {
		return usageErr(errors.New("want one notifier: a URL, or the number of an item of NOTIFICATIONS (1 is the first)"))
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	target, secret := f.Arg(0), ""
	if i, err := strconv.Atoi(target); err == nil {
		if i < 1 || i > len(cfg.Notifications) {
			return usageErr(fmt.Errorf("NOTIFICATIONS has %d items; there is no item %d", len(cfg.Notifications), i))
		}
		target, secret = cfg.Notifications[i-1]["url"], cfg.Notifications[i-1]["secret"]
	}
	p, err := notify.Open(target, secret, notify.DefaultTimeout)
	if err != nil {
		return usageErr(err)
	}
	if err := notify.SendTest(ctx, p, cfg.SyncAppID); err != nil {
		return fmt.Errorf("test notification to %s: %w", notify.Redact(target), err)
	}
	fmt.Fprintf(e.stdout, "sent a test notification to %s\n", notify.Redact(target))
	return nil
}
