package notify_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/notify"
	"github.com/healthjob/healthjob/internal/notify/routing"
	"github.com/healthjob/healthjob/internal/store"
)

// ingest stores a run of app at t as serve does; a heartbeat is a run
// with no checks.
func ingest(t *testing.T, db *store.DB, app string, at time.Time, checks ...healthjob.Result) {
	t.Helper()
	run := &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: at}, SyncAppID: app, Checks: checks}
	if run.Checks == nil {
		run.Checks = []healthjob.Result{}
	}
	if _, err := db.Ingest(context.Background(), run); err != nil {
		t.Fatal(err)
	}
}

// TestCheckSilence: an application that sends nothing for three of its
// intervals is silent, and notified like a failing check.
func TestCheckSilence(t *testing.T) {
	db, h := newStore(t), newHook(t)
	n := newNotifier(t, notify.Config{Store: db, Routes: []routing.Route{route(t, map[string]string{"url": h.URL + "/hook"})}})
	silence := func(at time.Time) {
		t.Helper()
		if err := n.CheckSilence(context.Background(), at, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []int{0, 10, 20} { // every 10 s; heartbeats count
		ingest(t, db, "shop", t0.Add(time.Duration(s)*time.Second))
	}
	ingest(t, db, "blog", t0, healthjob.Result{Name: "DatabaseBackend", Status: 1, Message: "working"})
	silence(t0.Add(30 * time.Second)) // shop: 10 s quiet; blog: one run, so serve's interval of 5 s: 30 s quiet
	silence(t0.Add(50 * time.Second)) // shop: exactly 3 intervals: not yet
	silence(t0.Add(51 * time.Second)) // shop: silent
	silence(t0.Add(52 * time.Second)) // nothing new
	ingest(t, db, "shop", t0.Add(55*time.Second))
	silence(t0.Add(56 * time.Second)) // shop: back
	got := deliveries(t, n, h, 3)
	want := []string{
		"/hook triggered heartbeat ok->failing since 12:00:30: unavailable: no payload for 30s; it reports every 5s",
		"/hook triggered heartbeat ok->failing since 12:00:51: unavailable: no payload for 31s; it reports every 10s",
		"/hook resolved heartbeat failing->ok since 12:00:56: working",
	}
	if !slices.Equal(got, want) {
		t.Errorf("told\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var apps []string
	for _, r := range h.all() {
		apps = append(apps, r.Body[strings.Index(r.Body, `"app"`):strings.Index(r.Body, `,"check"`)])
	}
	if want := []string{`"app":"blog"`, `"app":"shop"`, `"app":"shop"`}; !slices.Equal(apps, want) {
		t.Errorf("apps told of = %v, want %v", apps, want)
	}
}
