package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"
)

func TestRecordsAndDelete(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := mustOpen(t, url)
		mustMigrate(t, db)
		if err := db.SaveRun(ctx, sampleRun(1201)); err != nil {
			t.Fatal(err)
		}
		page, err := db.List(ctx, store.Query{Sort: "id", Limit: 1201})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range page.Records {
			ids = append(ids, r.ID)
		}
		r, err := db.Record(ctx, ids[7])
		if err != nil || r.Name != "Check0007" || r.Status != 1 {
			t.Errorf("Record = %+v, %v", r, err)
		}
		recs, err := db.Records(ctx, append([]int64{ids[3], ids[1], 999999}, ids[600:1201]...))
		if err != nil || len(recs) != 603 || recs[0].ID != ids[1] || recs[1].ID != ids[3] || recs[602].ID != ids[1200] {
			t.Errorf("Records: %d records, %v", len(recs), err)
		}
		n, err := db.DeleteRecords(ctx, append(ids[1:1200], 999999))
		if err != nil || n != 1199 {
			t.Errorf("DeleteRecords = %d, %v; want 1199", n, err)
		}
		if _, err := db.Record(ctx, ids[7]); !errors.Is(err, store.ErrNoRecord) {
			t.Errorf("deleted record: %v, want ErrNoRecord", err)
		}
		if c, err := db.Count(ctx, store.Filter{Name: "Check0000"}); err != nil || c.N != 1 {
			t.Errorf("the first record: %v %v", c, err)
		}
	})
}

func TestSince(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := mustOpen(t, url)
		mustMigrate(t, db)
		day := time.Date(2024, 5, 15, 0, 0, 0, 0, time.UTC)
		at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
		// The shop's Redis every ten minutes from 07:00 to 11:50: down from
		// 08:00 to 08:20, a warning at 11:30 and 11:40. Billing's Redis is
		// down from 11:00 on.
		var hour8 []int64
		for tm := at(7, 0); tm.Before(at(12, 0)); tm = tm.Add(10 * time.Minute) {
			local := healthjob.Result{Name: "Redis", Status: 1, Message: "working", Level: healthjob.LevelOK}
			switch {
			case !tm.Before(at(8, 0)) && tm.Before(at(8, 30)):
				local.Status, local.Level, local.Message = 0, healthjob.LevelFailure, "unavailable: down"
			case tm.Equal(at(11, 30)) || tm.Equal(at(11, 40)):
				local.Level, local.Message = healthjob.LevelWarning, "warning: slow"
			}
			for _, app := range []string{"shop", "billing"} {
				r := local
				if app == "billing" && !tm.Before(at(11, 0)) {
					r.Status, r.Level = 0, healthjob.LevelFailure
				}
				if err := db.SaveRun(ctx, &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: tm}, Checks: []healthjob.Result{r}, SyncAppID: app}); err != nil {
					t.Fatal(err)
				}
			}
		}
		since := func(app string, status int, level string) time.Time {
			t.Helper()
			s, err := db.Since(ctx, "Redis", app, status, level)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		check := func(what string, got, want time.Time) {
			t.Helper()
			if !got.Equal(want) {
				t.Errorf("%s: since %v, want %v", what, got, want)
			}
		}

		// Before any roll-up: the records alone.
		check("no roll-up: billing down", since("billing", 0, "failure"), at(11, 0))
		if _, err := db.Rollup(ctx, at(11, 55)); err != nil {
			t.Fatal(err)
		}
		// Rolled up to 11:00: the warning is in the records after it.
		check("ok after the warning", since("shop", 1, "ok"), at(11, 50))
		check("every application's", since("", 0, "failure"), at(11, 50)) // billing's failure is the newest record
		check("billing down", since("billing", 0, "failure"), at(11, 0))
		if _, err := db.Rollup(ctx, at(12, 0)); err != nil {
			t.Fatal(err)
		}
		// Rolled up to 12:00: the roll-ups find 08:00's failures, then the
		// records of that hour the last one; the warning is rolled up.
		check("ok after the failure", since("shop", 1, "ok"), at(8, 30))
		check("billing down, rolled up", since("billing", 0, "failure"), at(11, 0))

		// With the records of 08:00 pruned, the hour's end is the bound.
		page, err := db.List(ctx, store.Query{Filter: store.Filter{Name: "Redis", App: "shop", CreatedFrom: at(8, 0), CreatedTo: at(9, 0)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			hour8 = append(hour8, r.ID)
		}
		if _, err := db.DeleteRecords(ctx, hour8); err != nil {
			t.Fatal(err)
		}
		check("pruned hour", since("shop", 1, "ok"), at(9, 0))

		if s, err := db.Since(ctx, "Nothing", "", 1, "ok"); err != nil || !s.IsZero() {
			t.Errorf("a check without records: %v, %v", s, err)
		}
	})
}

// History finds the changes Changes finds, reading the hours the roll-ups
// say may hold one.
func TestHistoryIsChanges(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := mustOpen(t, url)
		mustMigrate(t, db)
		start := time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC)
		// Two days of a check every 10 minutes, for two applications: long
		// calm stretches, an outage across an hour's end, flapping, a gap.
		random := rand.New(rand.NewPCG(7, 11))
		var runs []*healthjob.Run
		for i := range 2 * 24 * 6 {
			at := start.Add(time.Duration(i) * 10 * time.Minute)
			if i >= 150 && i < 165 { // two and a half hours without runs
				continue
			}
			for _, app := range []string{"shop", "billing"} {
				status := 1
				switch {
				case i >= 50 && i < 70: // 08:20 to 11:40
					status = 0
				case i >= 200 && i < 220: // flapping
					status = random.IntN(2)
				case app == "billing" && i%47 == 0:
					status = 0
				}
				runs = append(runs, &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: at}, SyncAppID: app,
					Checks: []healthjob.Result{{Name: "Redis", Status: status, Message: "m", Level: healthjob.LevelOK}}})
			}
		}
		for _, run := range runs {
			if err := db.SaveRun(ctx, run); err != nil {
				t.Fatal(err)
			}
		}
		ranges := [][2]time.Time{
			{start, time.Time{}}, {start.Add(7*time.Hour + 17*time.Minute), time.Time{}},
			{start.Add(9 * time.Hour), start.Add(30 * time.Hour)}, {start.Add(26 * time.Hour), start.Add(26*time.Hour + 10*time.Minute)},
		}
		compare := func(when string) {
			t.Helper()
			for _, app := range []string{"", "shop", "billing"} {
				for _, r := range ranges {
					want, err := db.Changes(ctx, "Redis", app, r[0], r[1], 1000)
					if err != nil {
						t.Fatal(err)
					}
					got, err := db.History(ctx, "Redis", app, r[0], r[1], 1000)
					if err != nil {
						t.Fatal(err)
					}
					if !sameIDs(got, want) {
						t.Errorf("%s, app %q, %v: History has %d changes, Changes %d", when, app, r, len(got), len(want))
					}
				}
			}
		}
		compare("before the roll-ups")
		if _, err := db.Rollup(ctx, start.Add(40*time.Hour)); err != nil {
			t.Fatal(err)
		}
		compare("rolled up to hour 40")
		if _, err := db.Rollup(ctx, start.Add(72*time.Hour)); err != nil {
			t.Fatal(err)
		}
		compare("rolled up")
	})
}

func sameIDs(a, b []store.Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			return false
		}
	}
	return true
}

// SeriesByName is Series for every check at once.
func TestSeriesByName(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := mustOpen(t, url)
		mustMigrate(t, db)
		start := time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC)
		for i := range 5 * 6 {
			at := start.Add(time.Duration(i) * 10 * time.Minute)
			run := &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: at}}
			for _, name := range []string{"A", "B", "C"} {
				status := 1
				if name == "B" && i%4 == 0 {
					status = 0
				}
				run.Checks = append(run.Checks, healthjob.Result{Name: name, Status: status, Message: "m", Level: healthjob.LevelOK,
					Duration: time.Duration(1+i%3) * time.Millisecond})
			}
			if err := db.SaveRun(ctx, run); err != nil {
				t.Fatal(err)
			}
		}
		for _, rolled := range []time.Time{{}, start.Add(3 * time.Hour)} {
			if !rolled.IsZero() {
				if _, err := db.Rollup(ctx, rolled); err != nil {
					t.Fatal(err)
				}
			}
			from, to := start.Add(30*time.Minute), start.Add(4*time.Hour+30*time.Minute)
			all, err := db.SeriesByName(ctx, "", from, to)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 3 {
				t.Errorf("%d names, want 3", len(all))
			}
			for _, name := range []string{"A", "B", "C"} {
				want, err := db.Series(ctx, name, "", from, to)
				if err != nil {
					t.Fatal(err)
				}
				got := all[name]
				if len(got) != len(want) {
					t.Fatalf("%s: %d buckets, want %d", name, len(got), len(want))
				}
				for i := range got {
					if got[i].Start != want[i].Start || got[i].Runs != want[i].Runs || got[i].Failures != want[i].Failures ||
						got[i].DurationAvg != want[i].DurationAvg || got[i].DurationMax != want[i].DurationMax {
						t.Errorf("rolled up to %v, %s, bucket %d: %+v, want %+v", rolled, name, i, got[i], want[i])
					}
				}
			}
			// UptimesByName sums what Uptime sums, for several ranges at once.
			froms := []time.Time{start.Add(4*time.Hour + 10*time.Minute), start.Add(2 * time.Hour), start.Add(-time.Hour)}
			uptimes, err := db.UptimesByName(ctx, "", froms, to)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"A", "B", "C"} {
				for i, f := range froms {
					want, err := db.Uptime(ctx, name, "", f, to)
					if err != nil {
						t.Fatal(err)
					}
					if got := uptimes[name][i]; got.Runs != want.Runs || got.Failures != want.Failures {
						t.Errorf("rolled up to %v, %s from %v: %d runs, %d failures; want %d, %d", rolled, name, f, got.Runs, got.Failures, want.Runs, want.Failures)
					}
				}
			}
		}
	})
}
