package notify_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/notify"
	"github.com/healthjob/healthjob/internal/notify/routing"
	"github.com/healthjob/healthjob/internal/store"

	_ "modernc.org/sqlite"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// newStore opens and migrates a SQLite store in the test's directory.
func newStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "healthjob.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func route(t *testing.T, item map[string]string) routing.Route {
	t.Helper()
	r, err := routing.ParseRoute(item)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newNotifier(t *testing.T, cfg notify.Config) *notify.Notifier {
	t.Helper()
	if cfg.Thresholds == (notify.Thresholds{}) {
		cfg.Thresholds = notify.Thresholds{Failure: 3, Success: 2}
	}
	cfg.MinBackoff, cfg.MaxBackoff, cfg.Poll = 10*time.Millisecond, 50*time.Millisecond, 20*time.Millisecond
	n, err := notify.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	return n
}

// observe feeds the notifier one run per letter (o ok, w warning, f
// failure) of check, a second apart from at.
func observe(t *testing.T, n *notify.Notifier, app, check, results string, at time.Time) time.Time {
	t.Helper()
	levels := map[rune]healthjob.Level{'o': healthjob.LevelOK, 'w': healthjob.LevelWarning, 'f': healthjob.LevelFailure}
	texts := map[rune]string{'o': "working", 'w': "warning: 91% used", 'f': "unavailable: Connection refused"}
	for _, r := range results {
		run := &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: at},
			Checks: []healthjob.Result{{Name: check, Level: levels[r], Message: texts[r]}}}
		if err := n.Observe(context.Background(), app, run); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Second)
	}
	return at
}

// told is a notification as a receiver got it, without what changes
// from run to run.
type told struct {
	Path            string
	Event, Check    string
	State, Previous notify.State
	Message         string
	Since           time.Time
}

func (tt told) String() string {
	return tt.Path + " " + tt.Event + " " + tt.Check + " " + string(tt.Previous) + "->" + string(tt.State) + " since " + tt.Since.Format(time.TimeOnly) + ": " + tt.Message
}

// deliveries starts the notifier's relays, waits for n notifications,
// stops the relays, so that nothing more can come, and returns what the
// receiver got, in order.
func deliveries(t *testing.T, n *notify.Notifier, h *hook, count int) []string {
	t.Helper()
	n.Start()
	for range count {
		h.wait(t)
	}
	n.Stop(context.Background())
	var out []string
	for _, r := range h.all() {
		var m notify.Message
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, told{r.Path, m.Event, m.Check, m.State, m.Previous, m.Message, m.Since}.String())
	}
	return out
}

func TestNotifierThresholds(t *testing.T) {
	db, h := newStore(t), newHook(t)
	n := newNotifier(t, notify.Config{Store: db, Routes: []routing.Route{route(t, map[string]string{"url": h.URL + "/hook"})}})
	observe(t, n, "shop", "RedisHealthCheck", "ofofffffoffoo", t0)
	got := deliveries(t, n, h, 2)
	want := []string{
		"/hook triggered RedisHealthCheck ok->failing since 12:00:05: unavailable: Connection refused",
		"/hook resolved RedisHealthCheck failing->ok since 12:00:12: working",
	}
	if !slices.Equal(got, want) {
		t.Errorf("told\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	states, err := db.AlertStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].State != "ok" || states[0].Passes != 2 || !states[0].Since.Equal(t0.Add(12*time.Second)) {
		t.Errorf("states = %+v", states)
	}
	events, err := db.AlertEvents(context.Background(), "shop", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, e := range events {
		changes = append(changes, e.Previous+"->"+e.State+" at "+e.At.Format(time.TimeOnly))
	}
	if want := []string{"failing->ok at 12:00:12", "ok->failing at 12:00:05"}; !slices.Equal(changes, want) {
		t.Errorf("history = %v, want %v", changes, want)
	}
}

// TestNotifierRestart: the state is in the store, so a new notifier goes
// on counting where the last one stopped.
func TestNotifierRestart(t *testing.T) {
	db, h := newStore(t), newHook(t)
	cfg := notify.Config{Store: db, Routes: []routing.Route{route(t, map[string]string{"url": h.URL + "/hook"})}}
	at := observe(t, newNotifier(t, cfg), "", "DatabaseBackend", "ff", t0)
	n := newNotifier(t, cfg)
	observe(t, n, "", "DatabaseBackend", "f", at)
	got := deliveries(t, n, h, 1)
	if want := []string{"/hook triggered DatabaseBackend ok->failing since 12:00:02: unavailable: Connection refused"}; !slices.Equal(got, want) {
		t.Errorf("told %v, want %v", got, want)
	}
}

func TestNotifierSeverityAndChecks(t *testing.T) {
	db, h := newStore(t), newHook(t)
	n := newNotifier(t, notify.Config{Store: db, Routes: []routing.Route{
		route(t, map[string]string{"url": h.URL + "/pager", "checks": "Disk*"}),
		route(t, map[string]string{"url": h.URL + "/chat", "checks": "Disk*,Memory*", "severity": "warning"}),
	}})
	at := observe(t, n, "", "DiskUsage", "wwwfwoo", t0)
	observe(t, n, "", "RedisHealthCheck", "fff", at) // neither route hears of Redis
	got := deliveries(t, n, h, 6)
	byPath := map[string][]string{}
	for _, g := range got {
		path, _, _ := strings.Cut(g, " ")
		byPath[path] = append(byPath[path], g)
	}
	want := map[string][]string{
		"/pager": {
			"/pager triggered DiskUsage ok->failing since 12:00:03: unavailable: Connection refused",
			"/pager resolved DiskUsage failing->warning since 12:00:04: warning: 91% used",
		},
		"/chat": {
			"/chat triggered DiskUsage ok->warning since 12:00:02: warning: 91% used",
			"/chat triggered DiskUsage warning->failing since 12:00:03: unavailable: Connection refused",
			"/chat triggered DiskUsage failing->warning since 12:00:04: warning: 91% used",
			"/chat resolved DiskUsage warning->ok since 12:00:06: working",
		},
	}
	for path, w := range want {
		if !slices.Equal(byPath[path], w) {
			t.Errorf("%s told\n%s\nwant\n%s", path, strings.Join(byPath[path], "\n"), strings.Join(w, "\n"))
		}
	}
}

func TestNotifierReminder(t *testing.T) {
	db, h := newStore(t), newHook(t)
	n := newNotifier(t, notify.Config{Store: db, Thresholds: notify.Thresholds{Failure: 1, Success: 1},
		Routes: []routing.Route{route(t, map[string]string{"url": h.URL + "/hook", "reminder": "1m"})}})
	for _, s := range []int{0, 30, 59, 60, 90, 119, 125} {
		observe(t, n, "", "DiskUsage", "f", t0.Add(time.Duration(s)*time.Second))
	}
	observe(t, n, "", "DiskUsage", "o", t0.Add(200*time.Second))
	got := deliveries(t, n, h, 4)
	want := []string{
		"/hook triggered DiskUsage ok->failing since 12:00:00: unavailable: Connection refused",
		"/hook reminder DiskUsage failing->failing since 12:00:00: unavailable: Connection refused",
		"/hook reminder DiskUsage failing->failing since 12:00:00: unavailable: Connection refused",
		"/hook resolved DiskUsage failing->ok since 12:03:20: working",
	}
	if !slices.Equal(got, want) {
		t.Errorf("told\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNotifierMaintenance: a window holds the notifications of its checks
// back and marks their changes silenced; once it ends, what the route
// missed is told.
func TestNotifierMaintenance(t *testing.T) {
	db, h := newStore(t), newHook(t)
	window, err := routing.ParseWindow(map[string]string{"start": "2026-11-26T12:01:00Z", "end": "2026-11-26T12:02:00Z", "checks": "Redis*"}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	n := newNotifier(t, notify.Config{Store: db, Windows: routing.Windows{window}, Thresholds: notify.Thresholds{Failure: 1, Success: 1},
		Routes: []routing.Route{route(t, map[string]string{"url": h.URL + "/hook"})}})
	observe(t, n, "", "RedisHealthCheck", "f", t0)                       // told: before the window
	observe(t, n, "", "RedisHealthCheck", "ofo", t0.Add(60*time.Second)) // silenced
	observe(t, n, "", "DiskUsage", "f", t0.Add(61*time.Second))          // not in the window: told
	observe(t, n, "", "RedisCluster", "f", t0.Add(90*time.Second))       // silenced...
	observe(t, n, "", "RedisHealthCheck", "f", t0.Add(120*time.Second))  // the window ended: still failing, no news
	observe(t, n, "", "RedisCluster", "f", t0.Add(125*time.Second))      // ...and told once the window ended
	observe(t, n, "", "RedisHealthCheck", "o", t0.Add(130*time.Second))  // told
	got := deliveries(t, n, h, 4)
	want := []string{
		"/hook triggered RedisHealthCheck ok->failing since 12:00:00: unavailable: Connection refused",
		"/hook triggered DiskUsage ok->failing since 12:01:01: unavailable: Connection refused",
		"/hook triggered RedisCluster ok->failing since 12:01:30: unavailable: Connection refused",
		"/hook resolved RedisHealthCheck failing->ok since 12:02:10: working",
	}
	if !slices.Equal(got, want) {
		t.Errorf("told\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	events, err := db.AlertEvents(context.Background(), "", "RedisHealthCheck", 20)
	if err != nil {
		t.Fatal(err)
	}
	var history []string
	for _, e := range slices.Backward(events) {
		s := e.Previous + "->" + e.State + " " + e.At.Format(time.TimeOnly)
		if e.Silenced {
			s += " silenced"
		}
		history = append(history, s)
	}
	wantHistory := []string{
		"ok->failing 12:00:00",
		"failing->ok 12:01:00 silenced", "ok->failing 12:01:01 silenced", "failing->ok 12:01:02 silenced",
		"ok->failing 12:02:00",
		"failing->ok 12:02:10",
	}
	if !slices.Equal(history, wantHistory) {
		t.Errorf("history\n%s\nwant\n%s", strings.Join(history, "\n"), strings.Join(wantHistory, "\n"))
	}
}

// TestNotifierReceiverDownThenBack: a notification for a receiver that is
// down waits in the queue, is retried, and is delivered once when the
// receiver is back.
func TestNotifierReceiverDownThenBack(t *testing.T) {
	db := newStore(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused
	failures := make(chan struct{}, 100)
	log := slog.New(handlerFunc(func(r slog.Record) {
		if r.Message == "outbox: delivery failed, will retry" {
			failures <- struct{}{}
		}
	}))
	r := route(t, map[string]string{"url": "http://" + addr + "/hook"})
	n := newNotifier(t, notify.Config{Store: db, Logger: log, Thresholds: notify.Thresholds{Failure: 1, Success: 1}, Routes: []routing.Route{r}})
	observe(t, n, "", "DiskUsage", "f", t0)
	n.Start()
	for range 3 {
		select {
		case <-failures:
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery attempt within 10s")
		}
	}
	var received atomic.Int32
	back := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { received.Add(1) }))
	if back.Listener, err = net.Listen("tcp", addr); err != nil {
		t.Fatal(err)
	}
	back.Start()
	defer back.Close()
	queued := func() int {
		q, err := db.Queue(context.Background(), notify.QueueKind, notify.RouteKey(r), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return q.Len()
	}
	for deadline := time.Now().Add(10 * time.Second); queued() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the notification was not delivered within 10s of the receiver's return")
		}
	}
	n.Stop(context.Background())
	if got := received.Load(); got != 1 {
		t.Errorf("the receiver got %d notifications, want 1", got)
	}
}

// handlerFunc is a slog handler that calls a function per record.
type handlerFunc func(slog.Record)

func (f handlerFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (f handlerFunc) Handle(_ context.Context, r slog.Record) error { f(r); return nil }
func (f handlerFunc) WithAttrs([]slog.Attr) slog.Handler            { return f }
func (f handlerFunc) WithGroup(string) slog.Handler                 { return f }
