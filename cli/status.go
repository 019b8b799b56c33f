package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/lease"
	"github.com/healthjob/healthjob/internal/notify"
	"github.com/healthjob/healthjob/internal/notify/routing"
	"github.com/healthjob/healthjob/internal/store"
)

// statusTimeout bounds each question status asks.
const statusTimeout = 5 * time.Second

func runStatus(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "status", "[--config FILE]")
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	now := time.Now()
	w := e.stdout
	ws, err := maintenanceWindows(cfg)
	if err != nil {
		return usageErr(err)
	}
	rs, err := notifyRoutes(cfg)
	if err != nil {
		return usageErr(err)
	}
	errs := []error{statusLease(ctx, w, cfg, now)}
	statusMaintenance(w, ws, now)
	err = existingStore(cfg)
	var db *store.DB
	if err == nil {
		db, err = store.Open(ctx, cfg.DatabaseURL)
	}
	if err == nil {
		defer db.Close()
		err = db.CheckSchema(ctx)
	}
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("DATABASE_URL: %w", err))...)
	}
	errs = append(errs, statusAlerts(ctx, w, db, ws, now), statusQueues(ctx, w, db, rs))
	return errors.Join(errs...)
}

// statusLease prints who holds the HA lease.
func statusLease(ctx context.Context, w io.Writer, cfg *config.Config, now time.Time) error {
	if cfg.HALockURL == "" {
		fmt.Fprintln(w, "lease:       none (HA_LOCK_URL is not set): every monitor runs its cycles")
		return nil
	}
	name := leaseName(cfg)
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	l, err := lease.Open(ctx, cfg.HALockURL, name, lease.HolderID())
	if err != nil {
		return fmt.Errorf("HA_LOCK_URL: %w", err)
	}
	defer l.Close()
	info, err := l.Holder(ctx)
	if err != nil {
		return fmt.Errorf("HA_LOCK_URL: %w", err)
	}
	fmt.Fprintf(w, "lease:       %q in %s\n", name, config.Redact(cfg.HALockURL))
	if info.Holder == "" {
		fmt.Fprintln(w, "holder:      none: no monitor is active")
		return nil
	}
	fmt.Fprintf(w, "holder:      %s since %s (%s), expires in %s unless renewed\n", info.Holder,
		info.Since.UTC().Format(time.DateTime+" UTC"), ago(now.Sub(info.Since)), info.Expires.Sub(now).Round(time.Millisecond))
	return nil
}

// statusMaintenance prints the maintenance windows in force and the next
// ones.
func statusMaintenance(w io.Writer, ws routing.Windows, now time.Time) {
	if len(ws) == 0 {
		fmt.Fprintln(w, "maintenance: none configured")
	}
	for _, win := range ws {
		if start, end, ok := win.Span(now); ok {
			fmt.Fprintf(w, "maintenance: in force from %s until %s: %s\n", start.Format(time.DateTime), end.Format(time.DateTime), win)
		} else if start, _, ok := win.Next(now); ok {
			fmt.Fprintf(w, "maintenance: next from %s: %s\n", start.Format(time.DateTime), win)
		} else {
			fmt.Fprintf(w, "maintenance: over: %s\n", win)
		}
	}
}

// statusAlerts prints the alert state of every check.
func statusAlerts(ctx context.Context, w io.Writer, db *store.DB, ws routing.Windows, now time.Time) error {
	states, err := db.AlertStates(ctx)
	if err != nil {
		return err
	}
	if len(states) == 0 {
		fmt.Fprintln(w, "checks:      no alert states yet")
		return nil
	}
	for i, st := range states {
		if i == 0 || st.App != states[i-1].App {
			fmt.Fprintf(w, "checks of app %q:\n", st.App)
		}
		line := fmt.Sprintf("  %-24s %-8s since %s", st.Check, st.State, st.Since.UTC().Format(time.DateTime+" UTC"))
		if st.State != string(notify.OK) {
			line += fmt.Sprintf(" (%d in a row): %s", st.Fails, st.Message)
		}
		if _, silenced := ws.Active(st.Check, now); silenced {
			line += " [maintenance]"
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// statusQueues prints the notifications waiting for each notifier, and
// for notifiers that are no longer configured.
func statusQueues(ctx context.Context, w io.Writer, db *store.DB, rs []routing.Route) error {
	orphans, err := notify.Orphans(ctx, db, rs)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		fmt.Fprintln(w, "notifiers:   none configured")
	} else {
		fmt.Fprintln(w, "notifiers:")
	}
	for _, r := range rs {
		q, err := db.Queue(ctx, notify.QueueKind, notify.RouteKey(r), 0, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-40s checks %s, from %s on: %d queued\n", notify.Redact(r.URL), r.Checks, r.Severity, q.Len())
	}
	if orphans > 0 {
		fmt.Fprintf(w, "  %-40s %d queued\n", "notifiers no longer in NOTIFICATIONS:", orphans)
	}
	return nil
}

// ago renders a duration in whole seconds.
func ago(d time.Duration) string { return d.Round(time.Second).String() + " ago" }
