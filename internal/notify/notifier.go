// Package notify tells people when a check changes state, once. Each
// check's results go through a threshold state machine (ok, warning,
// failing: FailureThreshold results in a row that are not ok before it
// counts as bad, SuccessThreshold that are before it is resolved); the
// state is kept in the store, so it survives restarts and is shared by the
// monitors of one application under HA.
//
// A change of state is told to every route of NOTIFICATIONS whose checks
// match and whose severity hears it (a failure route sees a warning as ok),
// then again as a reminder while it lasts, if the route asks for one. A
// notification is committed to the route's durable queue (the outbox) in
// the same transaction as the state that caused it, and a relay per route
// delivers the queue in order, retrying with backoff: a receiver that is
// down gets it when it is back. During a maintenance window nothing is
// told of its checks; the changes are marked silenced in the history, and
// what a route missed is told once the window ends.
//
// The providers: a JSON webhook (http, https) with an optional HMAC
// signature, Slack-compatible incoming webhooks, e-mail over SMTP, and
// every service of shoutrrr (Discord, Teams, Telegram, ntfy, PagerDuty, …).
package notify

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/notify/routing"
	"github.com/healthjob/healthjob/internal/outbox"
	"github.com/healthjob/healthjob/internal/store"
)

// QueueKind is the outbox kind of the notifications; a route's key is the
// queue's application.
const QueueKind = "notify"

// MaxQueued bounds the notifications waiting for one route; beyond, the
// oldest are dropped, logged.
const MaxQueued = 10000

// Config is what a Notifier needs.
type Config struct {
	Store   *store.DB
	Routes  []routing.Route
	Windows routing.Windows
	// Thresholds applies to checks not in CheckThresholds.
	Thresholds      Thresholds
	CheckThresholds map[string]Thresholds
	Timeout         time.Duration // one delivery attempt; 0: DefaultTimeout
	Logger          *slog.Logger

	// The relays' backoff and poll; 0: the outbox's defaults.
	MinBackoff, MaxBackoff, Poll time.Duration
}

// Notifier keeps the alert states and tells the routes.
type Notifier struct {
	cfg    Config
	log    *slog.Logger
	routes []*route

	mu     sync.Mutex
	relays []*outbox.Relay     // running, one per route, while started
	states map[[2]string]State // app and check: the state after the latest result, for the metrics
	seen   time.Time           // CheckSilence's latest look at the runs
}

type route struct {
	routing.Route
	key      string
	provider Provider
	queue    *store.Queue

	mu   sync.Mutex
	wake func() // the running relay's Wake; nil while stopped
}

// New opens a provider and a queue for each route. It sends nothing until
// Start.
func New(ctx context.Context, cfg Config) (*Notifier, error) {
	n := &Notifier{cfg: cfg, log: cfg.Logger, states: map[[2]string]State{}}
	if n.log == nil {
		n.log = slog.Default()
	}
	states, err := cfg.Store.AlertStates(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range states {
		n.states[[2]string{st.App, st.Check}] = State(st.State)
	}
	for i, r := range cfg.Routes {
		p, err := Open(r.URL, r.Secret, cfg.Timeout)
		if err != nil {
			return nil, fmt.Errorf("NOTIFICATIONS: item %d: %w", i+1, err)
		}
		rt := &route{Route: r, key: RouteKey(r), provider: p}
		if rt.queue, err = cfg.Store.Queue(ctx, QueueKind, rt.key, MaxQueued, 0); err != nil {
			return nil, err
		}
		rt.queue.OnEnqueue = rt.poke
		rt.queue.OnDrop = func(dropped []outbox.Item) {
			n.log.Error("notify: queue full, oldest notifications dropped", "notifier", Redact(r.URL), "dropped", len(dropped))
		}
		n.routes = append(n.routes, rt)
	}
	if orphans, err := Orphans(ctx, cfg.Store, cfg.Routes); err != nil {
		return nil, err
	} else if orphans > 0 {
		// Kept: another monitor on this database may still have them.
		n.log.Warn("notify: notifications wait for notifiers that are not in NOTIFICATIONS; they are kept and go if one comes back", "queued", orphans)
	}
	return n, nil
}

// Orphans counts the notifications queued in db for notifiers other than
// routes: removed from NOTIFICATIONS, or changed (a route's URL, checks or
// severity make its key).
func Orphans(ctx context.Context, db *store.DB, routes []routing.Route) (int, error) {
	depths, err := db.QueueDepths(ctx, QueueKind)
	if err != nil {
		return 0, err
	}
	for _, r := range routes {
		delete(depths, RouteKey(r))
	}
	n := 0
	for _, d := range depths {
		n += d
	}
	return n, nil
}

// RouteKey names a route in the store: its queue and what it was told. It
// changes with the URL, the checks or the severity, and a changed route
// hears of the checks that are bad as news.
func RouteKey(r routing.Route) string {
	sum := sha256.Sum256([]byte(r.URL + "\x00" + r.Checks.String() + "\x00" + r.Severity))
	return hex.EncodeToString(sum[:8])
}

func (r *route) poke() {
	r.mu.Lock()
	wake := r.wake
	r.mu.Unlock()
	if wake != nil {
		wake()
	}
}

// Start delivers the queued notifications, in the background, until Stop.
// Under HA only the active monitor delivers: two relays on one queue would
// deliver twice.
func (n *Notifier) Start() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.relays != nil {
		return
	}
	for _, rt := range n.routes {
		relay := &outbox.Relay{
			Queue:      rt.queue,
			Sender:     outbox.SenderFunc(rt.deliver),
			Name:       "notify " + Redact(rt.URL),
			MinBackoff: n.cfg.MinBackoff,
			MaxBackoff: n.cfg.MaxBackoff,
			Poll:       n.cfg.Poll,
			Logger:     n.log,
		}
		relay.Start()
		rt.mu.Lock()
		rt.wake = relay.Wake
		rt.mu.Unlock()
		n.relays = append(n.relays, relay)
	}
}

// Stop lets the relays deliver what is queued until ctx ends, then stops
// them; what is left stays queued for the next Start.
func (n *Notifier) Stop(ctx context.Context) {
	n.mu.Lock()
	relays := n.relays
	n.relays = nil
	n.mu.Unlock()
	for _, rt := range n.routes {
		rt.mu.Lock()
		rt.wake = nil
		rt.mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, r := range relays {
		wg.Go(func() { r.Stop(ctx) })
	}
	wg.Wait()
}

// deliver is a route's relay's Sender.
func (r *route) deliver(ctx context.Context, item outbox.Item) error {
	var m Message
	if err := json.Unmarshal(item.Payload, &m); err != nil {
		return outbox.Permanent(fmt.Errorf("notification %s: unreadable: %w", item.UUID, err))
	}
	return r.provider.Send(ctx, m, item.Payload)
}

// Observe applies a run's results to the alert states of app's checks and
// queues the notifications that follow, in one transaction. Call it once
// per run, in order.
func (n *Notifier) Observe(ctx context.Context, app string, run *healthjob.Run) error {
	return n.observe(ctx, app, run, nil)
}

// observe is Observe with thresholds for every check of the run, or nil
// for the configured ones.
func (n *Notifier) observe(ctx context.Context, app string, run *healthjob.Run, th *Thresholds) error {
	now := run.Timestamp.Time
	after := map[string]State{}
	// A run changes the states of its own checks only: those are all the
	// store reads and locks, however many checks it knows.
	checks := make([]string, len(run.Checks))
	for i, res := range run.Checks {
		checks[i] = res.Name
	}
	err := n.cfg.Store.UpdateAlerts(ctx, app, checks, func(in store.Alerts) (store.AlertChange, error) {
		clear(after)
		states := map[string]store.AlertState{}
		for _, st := range in.States {
			states[st.Check] = st
		}
		marks := map[[2]string]store.AlertMark{}
		for _, m := range in.Marks {
			marks[[2]string{m.Check, m.Route}] = m
		}
		var out store.AlertChange
		for _, res := range run.Checks {
			old := states[res.Name]
			before := Status{State: State(old.State), Fails: old.Fails, Passes: old.Passes, Since: old.Since}
			t := n.thresholds(res.Name)
			if th != nil {
				t = *th
			}
			st := before.Step(res.Level, t, now)
			after[res.Name] = st.State
			out.States = append(out.States, store.AlertState{App: app, Check: res.Name, State: string(st.State),
				Fails: st.Fails, Passes: st.Passes, Since: st.Since, Message: res.Message, RunUUID: run.UUID, CheckedAt: now})
			_, silenced := n.cfg.Windows.Active(res.Name, now)
			if prev := cmp.Or(before.State, OK); st.State != prev {
				out.Events = append(out.Events, store.AlertEvent{App: app, Check: res.Name, State: string(st.State),
					Previous: string(prev), Message: res.Message, RunUUID: run.UUID, At: now, Silenced: silenced})
			}
			if silenced {
				continue // nothing is told, nor marked: once the window ends, what a route missed is news
			}
			for _, rt := range n.routes {
				if !rt.Checks.Match(res.Name) {
					continue
				}
				mark, ok := marks[[2]string{res.Name, rt.key}]
				told := State(mark.State)
				if !ok {
					told = OK
				}
				hears := State(rt.Hears(string(st.State)))
				event := ""
				switch {
				case hears != told && hears == OK:
					event = Resolved
				case hears != told:
					event = Triggered
				case hears != OK && rt.Reminder > 0 && now.Sub(mark.At) >= rt.Reminder:
					event = Reminder
				default:
					continue
				}
				m := Message{ID: healthjob.NewUUID(), Event: event, App: app, Check: res.Name, State: st.State,
					Previous: told, Message: res.Message, Since: st.Since, RunUUID: run.UUID}
				body, err := json.Marshal(m)
				if err != nil {
					return out, err
				}
				out.Deliveries = append(out.Deliveries, store.AlertDelivery{Queue: rt.queue, UUID: m.ID, Payload: body})
				out.Marks = append(out.Marks, store.AlertMark{App: app, Check: res.Name, Route: rt.key, State: string(hears), At: now})
			}
		}
		return out, nil
	})
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	n.mu.Lock()
	for check, st := range after {
		n.states[[2]string{app, check}] = st
	}
	n.mu.Unlock()
	return nil
}

func (n *Notifier) thresholds(check string) Thresholds {
	if t, ok := n.cfg.CheckThresholds[check]; ok {
		return t
	}
	return n.cfg.Thresholds
}

// SendTest sends a test notification through p directly, without a
// queue, and returns what the receiver answered.
func SendTest(ctx context.Context, p Provider, app string) error {
	m := Message{ID: healthjob.NewUUID(), Event: Test, App: app, Check: "healthjob", State: OK, Previous: OK,
		Message: "a test notification from healthjob: this notifier works", Since: time.Now().UTC()}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return p.Send(ctx, m, body)
}
