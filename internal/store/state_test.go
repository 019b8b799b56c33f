package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"
)

var alertTime = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestUpdateAlerts(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		q, err := db.Queue(ctx, "notify", "route1", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		failing := store.AlertState{App: "shop", Check: "RedisHealthCheck", State: "failing", Fails: 3, Since: alertTime,
			Message: "unavailable: Connection refused", RunUUID: "5c7e2a9b-1d3f-4e6a-8b0c-2d4f6a8b0c1e", CheckedAt: alertTime.Add(time.Second)}
		mark := store.AlertMark{App: "shop", Check: "RedisHealthCheck", Route: "route1", State: "failing", At: alertTime}
		err = db.UpdateAlerts(ctx, "shop", func(in store.Alerts) (store.AlertChange, error) {
			if len(in.States) != 0 || len(in.Marks) != 0 {
				t.Errorf("a new store has alerts: %+v", in)
			}
			return store.AlertChange{
				States: []store.AlertState{failing},
				Marks:  []store.AlertMark{mark},
				Events: []store.AlertEvent{{App: "shop", Check: "RedisHealthCheck", State: "failing", Previous: "ok",
					Message: failing.Message, RunUUID: failing.RunUUID, At: alertTime}},
				Deliveries: []store.AlertDelivery{{Queue: q, UUID: "0b9f3c1e-8a4d-4a57-9d1e-3f3c2b1a0e9d", Payload: []byte(`{"event":"triggered"}`)}},
			}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if q.Len() != 1 {
			t.Errorf("queue length %d, want 1", q.Len())
		}
		// The next update reads what the first wrote, and updates it.
		resolved := failing
		resolved.State, resolved.Fails, resolved.Passes, resolved.Since = "ok", 0, 2, alertTime.Add(time.Minute)
		err = db.UpdateAlerts(ctx, "shop", func(in store.Alerts) (store.AlertChange, error) {
			if !slices.Equal(in.States, []store.AlertState{failing}) || !slices.Equal(in.Marks, []store.AlertMark{mark}) {
				t.Errorf("read %+v, want %+v and %+v", in, failing, mark)
			}
			mark.State = "ok"
			return store.AlertChange{States: []store.AlertState{resolved}, Marks: []store.AlertMark{mark}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A decision that fails writes nothing.
		boom := errors.New("boom")
		err = db.UpdateAlerts(ctx, "shop", func(store.Alerts) (store.AlertChange, error) {
			return store.AlertChange{Deliveries: []store.AlertDelivery{{Queue: q, UUID: "x", Payload: []byte("{}")}}}, boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("UpdateAlerts = %v, want boom", err)
		}
		states, err := db.AlertStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(states, []store.AlertState{resolved}) {
			t.Errorf("states = %+v, want %+v", states, resolved)
		}
		items, err := q.Peek(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].UUID != "0b9f3c1e-8a4d-4a57-9d1e-3f3c2b1a0e9d" || string(items[0].Payload) != `{"event":"triggered"}` {
			t.Errorf("queued %+v", items)
		}
		events, err := db.AlertEvents(ctx, "shop", "RedisHealthCheck", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].State != "failing" || events[0].Previous != "ok" || !events[0].At.Equal(alertTime) || events[0].Silenced {
			t.Errorf("events = %+v", events)
		}
	})
}

// TestUpdateAlertsConcurrent: two writers that both add the same check's
// state (two serve replicas) conflict, and only one's notification is
// queued.
func TestUpdateAlertsConcurrent(t *testing.T) {
	for _, engine := range []string{"postgres", "mysql"} { // SQLite has one writer at a time
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			db := migrated(t, freshDatabase(t, engine))
			q, err := db.Queue(ctx, "notify", "route1", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var read sync.WaitGroup
			read.Add(2)
			errs := make(chan error, 2)
			for i := range 2 {
				go func() {
					errs <- db.UpdateAlerts(ctx, "shop", func(in store.Alerts) (store.AlertChange, error) {
						read.Done()
						read.Wait() // both have read that there is no state yet
						return store.AlertChange{
							States:     []store.AlertState{{App: "shop", Check: "heartbeat", State: "failing", Since: alertTime, CheckedAt: alertTime}},
							Deliveries: []store.AlertDelivery{{Queue: q, UUID: healthjob.NewUUID(), Payload: []byte{'0' + byte(i)}}},
						}, nil
					})
				}()
			}
			var failed int
			for range 2 {
				if err := <-errs; err != nil {
					failed++
				}
			}
			items, err := q.Peek(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if failed != 1 || len(items) != 1 {
				t.Errorf("%d updates failed and %d notifications are queued, want 1 and 1", failed, len(items))
			}
		})
	}
}

func TestCycles(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		want := []store.Cycle{
			{RunUUID: "a", Lease: "shop", Holder: "host-a:1", Started: alertTime, Finished: alertTime.Add(15 * time.Millisecond), Checks: 3},
			{RunUUID: "b", Lease: "shop", Holder: "host-b:2", Started: alertTime.Add(5 * time.Second), Finished: alertTime.Add(5*time.Second + time.Millisecond), Checks: 0},
		}
		for _, c := range append(want, store.Cycle{RunUUID: "c", Lease: "blog", Holder: "host-a:1", Started: alertTime, Finished: alertTime}) {
			if err := db.SaveCycle(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.Cycles(ctx, "shop", alertTime)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("cycles = %+v, want %+v", got, want)
		}
		if n, err := db.PruneCycles(ctx, alertTime.Add(time.Second)); err != nil || n != 2 {
			t.Errorf("PruneCycles = %d, %v; want 2", n, err)
		}
	})
}
