package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/outbox"
	"github.com/healthjob/healthjob/internal/store"
)

// id is a uuid that reads as its number n.
func id(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func mustQueue(t *testing.T, db *store.DB, kind, app string, maxItems int, maxBytes int64) *store.Queue {
	t.Helper()
	q, err := db.Queue(context.Background(), kind, app, maxItems, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// queued lists the uuids of a queue's items in order.
func queued(t *testing.T, q *store.Queue) []string {
	t.Helper()
	items, err := q.Peek(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.UUID)
	}
	return out
}

// items walks a queue with Next.
func items(t *testing.T, q *store.Queue) []outbox.Item {
	t.Helper()
	var out []outbox.Item
	var after int64
	for {
		it, ok, err := q.Next(context.Background(), after)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, it)
		after = it.ID
	}
}

// TestQueue: a FIFO that survives a reopen, bounded in items and bytes by
// dropping the oldest, never the new item nor one handed out, and telling
// of every drop.
func TestQueue(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		q := mustQueue(t, db, store.KindSync, "billing", 0, 0)
		other := mustQueue(t, db, store.KindSync, "payroll", 0, 0)
		woken := 0
		q.OnEnqueue = func() { woken++ }
		for i := range 5 {
			if err := q.Enqueue(ctx, id(i), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := other.Enqueue(ctx, id(100), []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if woken != 5 || q.Len() != 5 || other.Len() != 1 {
			t.Errorf("woken %d, Len %d and %d, want 5, 5, 1", woken, q.Len(), other.Len())
		}
		all := items(t, q)
		if len(all) != 5 || all[0].UUID != id(0) || string(all[2].Payload) != `{"n":2}` ||
			all[0].ID >= all[1].ID || time.Since(all[0].Enqueued) > time.Minute {
			t.Fatalf("items = %+v", all)
		}
		if err := q.Remove(ctx, all[:2]); err != nil {
			t.Fatal(err)
		}
		if got := queued(t, q); !slices.Equal(got, []string{id(2), id(3), id(4)}) || q.Len() != 3 {
			t.Errorf("after Remove: %v, Len %d", got, q.Len())
		}

		// Reopened with bounds: 3 items, then 24 bytes.
		bounded := mustQueue(t, db, store.KindSync, "billing", 3, 24)
		if bounded.Len() != 3 {
			t.Errorf("reopened Len = %d, want 3", bounded.Len())
		}
		var dropped []string
		bounded.OnDrop = func(items []outbox.Item) {
			for _, it := range items {
				dropped = append(dropped, it.UUID)
			}
		}
		if err := bounded.Enqueue(ctx, id(5), []byte(`{"n":5}`)); err != nil { // 4 items of 7 bytes: the oldest goes
			t.Fatal(err)
		}
		if got := queued(t, bounded); !slices.Equal(got, []string{id(3), id(4), id(5)}) || !slices.Equal(dropped, []string{id(2)}) {
			t.Errorf("items bound: %v, dropped %v", got, dropped)
		}
		if err := bounded.Enqueue(ctx, id(6), []byte(`{"n":6, "pad": 10}`)); err != nil { // 18 bytes: the others must go
			t.Fatal(err)
		}
		if got := queued(t, bounded); !slices.Equal(got, []string{id(6)}) || !slices.Equal(dropped, []string{id(2), id(3), id(4), id(5)}) {
			t.Errorf("bytes bound: %v, dropped %v", got, dropped)
		}
		if err := bounded.Enqueue(ctx, id(7), []byte(strings.Repeat("x", 30))); err != nil { // larger than the bound: kept alone
			t.Fatal(err)
		}
		if got := queued(t, bounded); !slices.Equal(got, []string{id(7)}) || bounded.Len() != 1 {
			t.Errorf("oversized item: %v, Len %d", got, bounded.Len())
		}
		// The head, handed out to a relay, is being delivered: the next
		// oldest goes instead.
		search := mustQueue(t, db, store.KindSync, "search", 3, 0)
		search.OnDrop = bounded.OnDrop
		enqueue := func(from, to int) {
			t.Helper()
			for i := from; i < to; i++ {
				if err := search.Enqueue(ctx, id(i), []byte(`{}`)); err != nil {
					t.Fatal(err)
				}
			}
		}
		enqueue(10, 13)
		if head, ok, err := search.Next(ctx, 0); err != nil || !ok || head.UUID != id(10) {
			t.Fatalf("Next = %+v, %v, %v", head, ok, err)
		}
		enqueue(13, 15)
		if got := queued(t, search); !slices.Equal(got, []string{id(10), id(13), id(14)}) || !slices.Equal(dropped[5:], []string{id(11), id(12)}) {
			t.Errorf("with the head handed out: %v, dropped %v", got, dropped)
		}
		if got := queued(t, other); !slices.Equal(got, []string{id(100)}) {
			t.Errorf("another app's queue: %v", got)
		}
	})
}

func run(uuid string, at time.Time, checks ...healthjob.Result) *healthjob.Run {
	return &healthjob.Run{UUID: uuid, Timestamp: healthjob.Timestamp{Time: at}, Checks: checks}
}

func working(name string) healthjob.Result {
	return healthjob.Result{Name: name, Status: 1, Message: "working", Level: healthjob.LevelOK, Critical: true, Duration: 2 * time.Millisecond}
}

// recordRuns lists the run uuids of the records in the order written.
func recordRuns(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT run_uuid FROM ` + store.Table + ` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// TestOutboxSaveRun: a run's records and its payload are written in one
// transaction; when the payload cannot be queued, no record is kept.
func TestOutboxSaveRun(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		o := &store.Outbox{Records: db, Sync: mustQueue(t, db, store.KindSync, "billing", 0, 0), AppID: "billing"}
		at := time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)
		if err := o.SaveRun(ctx, run(id(1), at, working("DatabaseBackend"), working("DiskUsage"))); err != nil {
			t.Fatal(err)
		}
		items := items(t, o.Sync)
		want := `{"uuid":"` + id(1) + `","timestamp":"2023-11-20T12:00:00.000000","checks":[{"name":"DatabaseBackend","status":1,"message":"working"},{"name":"DiskUsage","status":1,"message":"working"}],"sync_app_id":"billing"}`
		if len(items) != 1 || string(items[0].Payload) != want {
			t.Errorf("queued %+v, want one payload %s", items, want)
		}
		if got := recordRuns(t, db); !slices.Equal(got, []string{id(1), id(1)}) {
			t.Errorf("records of runs %v", got)
		}
		if _, err := db.SQL().Exec(`DROP TABLE ` + store.OutboxTable); err != nil {
			t.Fatal(err)
		}
		if err := o.SaveRun(ctx, run(id(2), at.Add(time.Second), working("DatabaseBackend"))); err == nil {
			t.Fatal("SaveRun without an outbox table: no error")
		}
		if got := recordRuns(t, db); !slices.Equal(got, []string{id(1), id(1)}) {
			t.Errorf("a failed enqueue kept records: %v", got)
		}
	})
}

// TestOutboxPending: while the records database fails, runs wait in a
// local queue, and later runs queue behind them; the relay's Write brings
// them to the database in order, each once, with their payloads.
func TestOutboxPending(t *testing.T) {
	for _, engine := range []string{"postgres", "mysql"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			db := migrated(t, freshDatabase(t, engine))
			local := migrated(t, "sqlite:"+filepath.Join(t.TempDir(), "outbox.db"))
			var pended []string
			o := &store.Outbox{
				Records: db,
				Sync:    mustQueue(t, db, store.KindSync, "billing", 0, 0),
				Pending: mustQueue(t, local, store.KindPersist, "billing", 0, 0),
				AppID:   "billing",
				OnPending: func(run *healthjob.Run, err error) {
					pended = append(pended, fmt.Sprintf("%s: %v", run.UUID, err != nil))
				},
			}
			at := time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)
			save := func(uuid string) {
				t.Helper()
				at = at.Add(time.Second)
				if err := o.SaveRun(ctx, run(uuid, at, working("DatabaseBackend"))); err != nil {
					t.Fatal(err)
				}
			}
			save(id(1))
			rename := func(from, to string) {
				t.Helper()
				if _, err := db.SQL().Exec(`ALTER TABLE ` + from + ` RENAME TO ` + to); err != nil {
					t.Fatal(err)
				}
			}
			rename(store.Table, "records_away") // the database fails
			save(id(2))
			save(id(3))
			rename("records_away", store.Table) // and is back
			save(id(4))                         // behind runs 2 and 3
			if want := []string{id(2) + ": true", id(3) + ": false", id(4) + ": false"}; !slices.Equal(pended, want) {
				t.Errorf("OnPending %v, want %v", pended, want)
			}
			pending := items(t, o.Pending)
			for _, it := range append(pending, pending[0]) { // run 2 written twice: a crash before its removal
				if err := o.Write(ctx, it); err != nil {
					t.Fatal(err)
				}
			}
			if err := o.Pending.Remove(ctx, pending); err != nil {
				t.Fatal(err)
			}
			want := []string{id(1), id(2), id(3), id(4)}
			if got := recordRuns(t, db); !slices.Equal(got, want) {
				t.Errorf("records %v, want %v", got, want)
			}
			if got := queued(t, o.Sync); !slices.Equal(got, want) {
				t.Errorf("payloads %v, want %v", got, want)
			}
			var critical bool
			var duration float64
			if err := db.SQL().QueryRow(`SELECT critical, duration_ms FROM `+store.Table+` WHERE run_uuid = '`+id(3)+`'`).Scan(&critical, &duration); err != nil || !critical || duration != 2 {
				t.Errorf("run 3's record: critical %v, duration %g ms (%v), want true, 2", critical, duration, err)
			}
			if err := o.Write(ctx, outbox.Item{UUID: "bad", Payload: []byte("{")}); !outbox.IsPermanent(err) {
				t.Errorf("Write(unreadable) = %v, want a permanent error", err)
			}
			save(id(5)) // Pending is empty: straight to the database
			if o.Pending.Len() != 0 || len(pended) != 3 {
				t.Errorf("u5 pended: Len %d, %v", o.Pending.Len(), pended)
			}
		})
	}
}

// TestOutboxSend: syncing without persisting queues the payload alone.
func TestOutboxSend(t *testing.T) {
	local := migrated(t, "sqlite:"+filepath.Join(t.TempDir(), "outbox.db"))
	o := &store.Outbox{Sync: mustQueue(t, local, store.KindSync, "billing", 0, 0), AppID: "billing"}
	r := run(id(1), time.Date(2023, 11, 20, 12, 0, 0, 5000, time.UTC), working("DiskUsage"))
	if err := o.Send(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	items := items(t, o.Sync)
	if len(items) != 1 {
		t.Fatalf("%v", items)
	}
	var got healthjob.Run
	if err := json.Unmarshal(items[0].Payload, &got); err != nil || got.SyncAppID != "billing" || !got.Timestamp.Equal(r.Timestamp.Time) || r.SyncAppID != "" {
		t.Errorf("payload %s (%v); the run's own app id %q", items[0].Payload, err, r.SyncAppID)
	}
	if err := o.Sync.Remove(context.Background(), items); err != nil || o.Sync.Len() != 0 {
		t.Errorf("Remove: %v, Len %d", err, o.Sync.Len())
	}
	if err := o.Sync.Remove(context.Background(), items); err != nil || o.Sync.Len() != 0 {
		t.Errorf("Remove again: %v, Len %d", err, o.Sync.Len())
	}
}
