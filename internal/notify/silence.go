package notify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/healthjob/healthjob"
)

// HeartbeatCheck is the check under which serve keeps an application's
// "app silent" state.
const HeartbeatCheck = "heartbeat"

// SilentAfter is how many of its intervals an application may send nothing
// before it counts as silent.
const SilentAfter = 3

// silenceLookback is how far back serve first looks for applications.
const silenceLookback = 24 * time.Hour

// latestRuns is how many runs of an application tell its interval.
const latestRuns = 5

// CheckSilence sets the heartbeat state of each application that sends
// its runs to serve: failing, and so notified like a failing check, once
// no payload arrived for SilentAfter of its intervals; ok as soon as one
// does. A run with no checks counts. An application's interval is the
// median gap between its latest runs, or fallback (serve's
// HEALTH_CHECK_INTERVAL) until it has sent two. serve calls it
// periodically; see WatchSilence.
func (n *Notifier) CheckSilence(ctx context.Context, now time.Time, fallback time.Duration) error {
	n.mu.Lock()
	since := n.seen
	n.mu.Unlock()
	if since.IsZero() {
		since = now.Add(-silenceLookback)
	}
	states, err := n.cfg.Store.AlertStatesOf(ctx, HeartbeatCheck)
	if err != nil {
		return err
	}
	heartbeats := map[string]State{}
	for _, st := range states {
		heartbeats[st.App] = State(st.State)
	}
	// A run stored since the last look, however late it came, has a
	// created_at of its own: look a little further back.
	runs, err := n.cfg.Store.RecentRuns(ctx, slices.Collect(maps.Keys(heartbeats)), since.Add(-time.Minute), latestRuns)
	if err != nil {
		return err
	}
	var errs []error
	once := Thresholds{Failure: 1, Success: 1} // silence is debounced by SilentAfter already
	for _, app := range slices.Sorted(maps.Keys(runs)) {
		level, msg := heartbeat(runs[app], now, fallback)
		if st, ok := heartbeats[app]; ok && st == OK && level == healthjob.LevelOK {
			continue // nothing changes: no write
		}
		run := &healthjob.Run{Timestamp: healthjob.Timestamp{Time: now.UTC()},
			Checks: []healthjob.Result{{Name: HeartbeatCheck, Level: level, Message: msg}}}
		if err := n.observe(ctx, app, run, &once); err != nil {
			errs = append(errs, err)
		}
	}
	n.mu.Lock()
	n.seen = now
	n.mu.Unlock()
	return errors.Join(errs...)
}

// heartbeat tells whether an application whose latest runs are at times
// (newest first) is silent at now.
func heartbeat(times []time.Time, now time.Time, fallback time.Duration) (healthjob.Level, string) {
	if len(times) == 0 {
		return healthjob.LevelFailure, "unavailable: no payload is stored"
	}
	interval := fallback
	if len(times) > 1 {
		gaps := make([]time.Duration, len(times)-1)
		for i := range gaps {
			gaps[i] = times[i].Sub(times[i+1])
		}
		slices.Sort(gaps)
		interval = gaps[(len(gaps)-1)/2]
	}
	interval = max(interval, time.Second)
	quiet := now.Sub(times[0])
	if quiet > SilentAfter*interval {
		return healthjob.LevelFailure, fmt.Sprintf("unavailable: no payload for %s; it reports every %s", quiet.Round(time.Second), interval.Round(time.Millisecond))
	}
	return healthjob.LevelOK, "working"
}

// WatchSilence calls CheckSilence every interval until ctx ends; it logs
// what fails.
func (n *Notifier) WatchSilence(ctx context.Context, every, fallback time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := n.CheckSilence(ctx, time.Now(), fallback); err != nil && ctx.Err() == nil {
			n.log.Error("notify: cannot tell which applications are silent", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
