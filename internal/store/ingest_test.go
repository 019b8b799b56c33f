package store_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"
)

func received(uuid, app string, at time.Time, checks ...healthjob.Result) *healthjob.Run {
	r := run(uuid, at, checks...)
	r.SyncAppID = app
	return r
}

func check(name string, status int, message string) healthjob.Result {
	return healthjob.Result{Name: name, Status: status, Message: message}
}

func mustIngest(t *testing.T, db *store.DB, r *healthjob.Run, wantNew bool) {
	t.Helper()
	stored, err := db.Ingest(context.Background(), r)
	if err != nil || stored != wantNew {
		t.Fatalf("Ingest(%s) = %v, %v; want %v", r.UUID, stored, err, wantNew)
	}
}

func count(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIngest: a payload is stored once with its records and moves the
// current state of its checks; a late payload is stored but does not move
// the state back; the status API's reads.
func TestIngest(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		t0 := time.Date(2023, 11, 20, 12, 0, 0, 123456000, time.UTC)
		long := strings.Repeat("é", 32<<10) // 64 KiB
		mustIngest(t, db, received(id(1), "billing", t0,
			check("DatabaseBackend", 1, "working"),
			check("Cache backend: default", 0, "unavailable: Cache key warning 🔥"),
			check("DiskUsage", 1, "warning: disk 91% full"),
			check("DiskUsage", 1, long), // a name twice: the last counts
		), true)
		mustIngest(t, db, received(id(1), "billing", t0, check("DatabaseBackend", 0, "replayed")), false)
		mustIngest(t, db, received(id(2), "payroll", t0, check("DatabaseBackend", 1, "working")), true)
		if n := count(t, db, store.Table); n != 5 {
			t.Errorf("%d records, want 5", n)
		}
		if n := count(t, db, store.RunTable); n != 2 {
			t.Errorf("%d runs, want 2", n)
		}
		page, err := db.List(ctx, store.Query{Filter: store.Filter{App: "billing", Name: "Cache backend: default"}})
		if err != nil || len(page.Records) != 1 {
			t.Fatalf("List = %+v, %v", page, err)
		}
		if r := page.Records[0]; r.Status != 0 || r.Message != "unavailable: Cache key warning 🔥" || r.RunUUID != id(1) ||
			r.AppID != "billing" || r.Level != "failure" || !r.CreatedAt.Equal(t0) || r.Duration != 0 {
			t.Errorf("record = %+v", r)
		}

		t1, t2 := t0.Add(5*time.Second), t0.Add(10*time.Second)
		mustIngest(t, db, received(id(4), "billing", t2, check("DatabaseBackend", 0, "unavailable: down")), true)
		mustIngest(t, db, received(id(3), "billing", t1, check("DatabaseBackend", 1, "working late")), true) // arrives late
		states, err := db.CheckStates(ctx, "billing")
		if err != nil {
			t.Fatal(err)
		}
		want := []store.CheckState{
			{Name: "Cache backend: default", Status: 0, Message: "unavailable: Cache key warning 🔥", Level: "failure", RunUUID: id(1), CheckedAt: t0, ChangedAt: t0},
			{Name: "DatabaseBackend", Status: 0, Message: "unavailable: down", Level: "failure", RunUUID: id(4), CheckedAt: t2, ChangedAt: t2},
			{Name: "DiskUsage", Status: 1, Message: long, Level: "ok", RunUUID: id(1), CheckedAt: t0, ChangedAt: t0},
		}
		if len(states) != len(want) {
			t.Fatalf("states = %+v", states)
		}
		for i := range want {
			s, w := states[i], want[i]
			if s.Name != w.Name || s.Status != w.Status || s.Message != w.Message || s.Level != w.Level || s.RunUUID != w.RunUUID ||
				!s.CheckedAt.Equal(w.CheckedAt) || !s.ChangedAt.Equal(w.ChangedAt) {
				t.Errorf("state %d = %+v\nwant %+v", i, s, w)
			}
		}
		mustIngest(t, db, received(id(5), "billing", t2.Add(time.Second), check("DatabaseBackend", 0, "unavailable: still down")), true)
		states, _ = db.CheckStates(ctx, "billing")
		if s := states[1]; s.Message != "unavailable: still down" || !s.ChangedAt.Equal(t2) {
			t.Errorf("same status again: %+v, want changed_at %v", s, t2)
		}
		if s, _ := db.CheckStates(ctx, "nobody"); len(s) != 0 {
			t.Errorf("states of an unknown app: %+v", s)
		}

		apps, err := db.Apps(ctx, "")
		if err != nil || len(apps) != 2 {
			t.Fatalf("Apps = %+v, %v", apps, err)
		}
		if a := apps[0]; a.App != "billing" || a.Checks != 3 || a.Failing != 2 || !a.CheckedAt.Equal(t2.Add(time.Second)) {
			t.Errorf("apps[0] = %+v", a)
		}
		if a := apps[1]; a.App != "payroll" || a.Checks != 1 || a.Failing != 0 || !a.CheckedAt.Equal(t0) {
			t.Errorf("apps[1] = %+v", a)
		}
		if one, err := db.Apps(ctx, "payroll"); err != nil || len(one) != 1 || one[0].App != "payroll" {
			t.Errorf("Apps(payroll) = %+v, %v", one, err)
		}

		if n, err := db.PruneRuns(ctx, t1); err != nil || n != 2 {
			t.Errorf("PruneRuns = %d, %v; want 2", n, err)
		}
		mustIngest(t, db, received(id(2), "payroll", t0, check("DatabaseBackend", 1, "working")), true) // forgotten: stored again
	})
}

// TestIngestBatch: payloads stored together in one transaction: each new
// one once, in order, the ones stored before or twice in the batch not
// again; the state holds each check's latest run, whatever the order.
func TestIngestBatch(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		t0 := time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)
		mustIngest(t, db, received(id(1), "billing", t0, check("A", 1, "working")), true)
		batch := []*healthjob.Run{
			received(id(3), "billing", t0.Add(2*time.Second), check("A", 0, "down")),
			received(id(1), "billing", t0, check("A", 1, "working")),                 // stored before
			received(id(2), "billing", t0.Add(time.Second), check("A", 1, "late")),   // earlier than id(3)
			received(id(3), "billing", t0.Add(2*time.Second), check("A", 0, "down")), // twice in the batch
			received(id(4), "payroll", t0, check("A", 1, "working"), check("B", 1, "working")),
		}
		stored, err := db.IngestBatch(ctx, batch)
		if want := []bool{true, false, true, false, true}; err != nil || !slices.Equal(stored, want) {
			t.Fatalf("IngestBatch = %v, %v; want %v", stored, err, want)
		}
		if got := recordRuns(t, db); !slices.Equal(got, []string{id(1), id(3), id(2), id(4), id(4)}) {
			t.Errorf("records of runs %v", got)
		}
		states, _ := db.CheckStates(ctx, "billing")
		if len(states) != 1 || states[0].RunUUID != id(3) || states[0].Message != "down" || !states[0].ChangedAt.Equal(t0.Add(2*time.Second)) {
			t.Errorf("state = %+v", states)
		}
		if apps, _ := db.Apps(ctx, ""); len(apps) != 2 || apps[1].Checks != 2 {
			t.Errorf("apps = %+v", apps)
		}
		var big []*healthjob.Run // more than one statement's worth
		for i := range 1201 {
			big = append(big, received(id(1000+i), "search", t0, check("A", 1, "working")))
		}
		stored, err = db.IngestBatch(ctx, append(big, big[600]))
		if err != nil || len(stored) != 1202 || slices.Contains(stored[:1201], false) || stored[1201] {
			t.Errorf("a batch of 1202: %v", err)
		}
		if n := count(t, db, store.RunTable); n != 1205 {
			t.Errorf("%d runs, want 1205", n)
		}
	})
}

// TestIngestConcurrently: the same payload delivered to many replicas at
// once is stored once.
func TestIngestConcurrently(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		at := time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored := 0
		for i := range 8 {
			wg.Go(func() {
				// Different names in different orders: the state's rows are locked in one order.
				r := received(id(1), "billing", at, check("A", i%2, "x"), check("B", 1, "y"), check("C", 1, "z"))
				if i%2 == 0 {
					r.Checks[0], r.Checks[2] = r.Checks[2], r.Checks[0]
				}
				ok, err := db.Ingest(context.Background(), r)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				if ok {
					stored++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if stored != 1 || count(t, db, store.Table) != 3 || count(t, db, store.RunTable) != 1 {
			t.Errorf("stored %d times, %d records, %d runs; want 1, 3, 1", stored, count(t, db, store.Table), count(t, db, store.RunTable))
		}
	})
}

// BenchmarkIngest stores payloads of 10 checks of 100 apps, one at a time.
func BenchmarkIngest(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := migrated(b, freshDatabase(b, engine))
			at := time.Now()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				r := received(healthjob.NewUUID(), "app-"+strconv.Itoa(i%100), at.Add(time.Duration(i)*time.Millisecond))
				for c := range 10 {
					r.Checks = append(r.Checks, check("Check"+strconv.Itoa(c), 1, "working"))
				}
				if _, err := db.Ingest(context.Background(), r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
		})
	}
}
