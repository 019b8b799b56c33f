package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"
)

// hourly aggregates recs (of name, "" for all) as the roll-ups do.
func hourly(recs []store.Record, name string) string {
	type agg struct{ runs, failures int }
	var hours []time.Time
	byHour := map[time.Time]*agg{}
	for _, r := range sorted(recs, "created_at") {
		if name != "" && r.Name != name {
			continue
		}
		h := r.CreatedAt.Truncate(time.Hour)
		if byHour[h] == nil {
			byHour[h] = &agg{}
			hours = append(hours, h)
		}
		byHour[h].runs++
		byHour[h].failures += 1 - r.Status
	}
	var out string
	for _, h := range hours {
		out += fmt.Sprintf("%s %d/%d ", h.Format("15h"), byHour[h].failures, byHour[h].runs)
	}
	return out
}

func series(buckets []store.Bucket) string {
	var out string
	for _, b := range buckets {
		out += fmt.Sprintf("%s %d/%d ", b.Start.Format("15h"), b.Failures, b.Runs)
	}
	return out
}

func TestRollupAndPrune(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		recs := dataset(t, db) // 09:00 to 15:30
		now := base.Add(8 * time.Hour)
		if n, err := db.Rollup(ctx, now); err != nil || n != 7 {
			t.Fatalf("Rollup = %d, %v; want the 7 hours 09h to 15h", n, err)
		}
		from := base.Add(-time.Hour)
		check := func(when string) {
			t.Helper()
			for _, name := range []string{"", "Delta"} {
				got, err := db.Series(ctx, name, "", from, now)
				if err != nil {
					t.Fatal(err)
				}
				if want := hourly(recs, name); series(got) != want {
					t.Errorf("%s: Series(%q) = %s\nwant %s", when, name, series(got), want)
				}
			}
		}
		check("rolled up")
		d, err := db.Series(ctx, "Delta", "", from, now)
		if err != nil {
			t.Fatal(err)
		}
		if b := d[0]; b.DurationMin != 6*time.Millisecond || b.DurationAvg != 6*time.Millisecond || b.DurationMax != 6*time.Millisecond {
			t.Errorf("Delta's durations = %s/%s/%s, want 6ms each", b.DurationMin, b.DurationAvg, b.DurationMax)
		}
		if n, err := db.Rollup(ctx, now); err != nil || n != 1 {
			t.Errorf("second Rollup = %d, %v; want the last hour (15h) again, within RollupLateness", n, err)
		}
		check("rolled up twice")

		// The records before 15h (the roll-ups' 17h less RollupLateness)
		// go; the roll-ups keep them.
		done, err := db.RolledUp(ctx)
		if err != nil || !done.Equal(now.Truncate(time.Hour)) {
			t.Fatalf("RolledUp = %s, %v; want %s", done, err, now.Truncate(time.Hour))
		}
		n, err := db.Prune(ctx, done.Add(-store.RollupLateness))
		if err != nil || n != 180 {
			t.Errorf("Prune = %d, %v; want the 180 records before 15h", n, err)
		}
		if left := len(all(t, db)); left != 20 {
			t.Errorf("%d records left, want 20", left)
		}
		check("pruned")
		u, err := db.Uptime(ctx, "", "", from, now)
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, r := range recs {
			failed += 1 - r.Status
		}
		if u.Runs != 200 || u.Failures != int64(failed) || u.Uptime() != float64(200-failed)/200 ||
			u.DurationMin != 1500*time.Microsecond || u.DurationMax != 7500*time.Microsecond || u.DurationAvg != 4500*time.Microsecond {
			t.Errorf("Uptime = %+v, want 200 runs, %d failures, durations 1.5ms/4.5ms/7.5ms", u, failed)
		}

		// Records after the roll-ups come from the table.
		late := sampleRun(2)
		late.Timestamp.Time = now.Add(10 * time.Minute)
		if err := db.SaveRun(ctx, late); err != nil {
			t.Fatal(err)
		}
		s, err := db.Series(ctx, "", "", now, now.Add(time.Hour))
		if err != nil || series(s) != "17h 1/2 " {
			t.Errorf("Series after the roll-ups = %s, %v; want 17h 1/2", series(s), err)
		}

		n, err = db.PruneRollups(ctx, base.Add(3*time.Hour))
		if err != nil || n != 30 {
			t.Errorf("PruneRollups = %d, %v; want 09h to 11h: 30 buckets of five names and two apps", n, err)
		}
		s, err = db.Series(ctx, "", "", from, now)
		if err != nil || len(s) != 4 || !s[0].Start.Equal(base.Add(3*time.Hour).Truncate(time.Hour)) {
			t.Errorf("Series after pruning the roll-ups = %s, %v; want 12h to 15h", series(s), err)
		}
	})
}

func TestPruneWithoutRollups(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		dataset(t, db)
		if n, err := db.Prune(ctx, base.Add(time.Hour)); err != nil || n != 30 {
			t.Errorf("Prune = %d, %v; want the six runs of the first hour", n, err)
		}
	})
}

// TestPruneWhileWriting prunes in batches while another goroutine keeps
// writing: every write succeeds, every old record goes, no new one does.
func TestPruneWhileWriting(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		old := sampleRun(5000)
		for range 4 {
			old.UUID = healthjob.NewUUID()
			if err := db.SaveRun(ctx, old); err != nil {
				t.Fatal(err)
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var writes int
		var werr error
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				run := sampleRun(10)
				run.Timestamp.Time = time.Now()
				if werr = db.SaveRun(ctx, run); werr != nil {
					return
				}
				writes++
			}
		})
		n, err := db.Prune(ctx, old.Timestamp.Add(time.Second))
		close(stop)
		wg.Wait()
		if err != nil || n != 20000 || werr != nil {
			t.Fatalf("Prune = %d, %v (writer: %v); want 20000", n, err, werr)
		}
		if c, err := db.Count(ctx, store.Filter{}); err != nil || c.N != int64(writes*10) {
			t.Errorf("%v records left, %v; want the %d written meanwhile", c, err, writes*10)
		}
	})
}
