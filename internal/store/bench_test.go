package store_test

// Benchmarks of the store on SQLite, PostgreSQL and MariaDB. The write and
// prune benchmarks use a new database each; the query benchmarks use a
// generated one of HEALTHJOB_BENCH_ROWS records (default 100,000), kept
// between runs on the servers (healthjob_bench_<rows>) and in
// HEALTHJOB_BENCH_DIR (default the temporary directory) for SQLite, since
// 10 million records take minutes to generate. See the README's
// performance table for the commands and the figures.

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/healthjob/healthjob/internal/store"
)

// BenchmarkSaveRun writes runs of 10, 100 and 1,000 checks from eight
// goroutines, as a monitoring server's ingest does, and reports rows/s.
func BenchmarkSaveRun(b *testing.B) {
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			db := migrated(b, freshDatabase(b, engine))
			for _, size := range []int{10, 100, 1000} {
				b.Run(strconv.Itoa(size), func(b *testing.B) {
					b.SetParallelism(4) // 4 × GOMAXPROCS writers
					start := time.Now()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							run := sampleRun(size)
							run.Timestamp.Time = time.Now()
							if err := db.SaveRun(ctx, run); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "rows/s")
				})
			}
		})
	}
}

// benchRows is the size of the query benchmarks' database.
func benchRows(b *testing.B) int {
	n, err := strconv.Atoi(healthjobtest.Env("HEALTHJOB_BENCH_ROWS", "100000"))
	if err != nil || n < 100000 {
		b.Fatalf("HEALTHJOB_BENCH_ROWS: want a number of records, 100000 or more")
	}
	return n
}

// benchNames is how many checks the generated records come from; one run
// of them every 5 seconds, so that 10 million records span 29 days.
const benchNames = 20

// benchStart is the time of the generated records' first run.
var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// benchMessages are the failures' messages; 2% of the runs fail.
var benchMessages = []string{"unavailable: connection refused", "unavailable: timeout after 3s",
	"unexpected result: 3 queued tasks", "warning: disk 91% full", "unknown error: boom"}

// benchDatabase opens (and the first time generates) the query
// benchmarks' database of engine.
func benchDatabase(b *testing.B, engine string, rows int) *store.DB {
	b.Helper()
	name := fmt.Sprintf("healthjob_bench_%d", rows)
	var dbURL string
	switch engine {
	case "sqlite":
		dbURL = "sqlite:" + filepath.Join(healthjobtest.Env("HEALTHJOB_BENCH_DIR", os.TempDir()), name+".db")
	default:
		base := postgresURL
		if engine == "mysql" {
			base = mysqlURL
		}
		u, err := url.Parse(base)
		if err != nil {
			b.Fatal(err)
		}
		healthjobtest.NeedService(b, u.Host, engine+" benchmarks")
		admin := server(b, base)
		defer admin.Close()
		var exists int
		admin.QueryRow("SELECT count(*) FROM information_schema.schemata WHERE schema_name = '" + name + "'").Scan(&exists)
		if engine == "postgres" {
			admin.QueryRow("SELECT count(*) FROM pg_database WHERE datname = '" + name + "'").Scan(&exists)
		}
		if exists == 0 {
			if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
				b.Fatal(err)
			}
		}
		u.Path = "/" + name
		dbURL = u.String()
	}
	db := migrated(b, dbURL)
	var have int
	if err := db.SQL().QueryRow("SELECT COALESCE(max(id), 0) FROM " + store.Table).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have != rows {
		if have != 0 {
			b.Fatalf("%s holds %d records, not %d: drop it to generate it again", dbURL, have, rows)
		}
		start := time.Now()
		generate(b, db, rows)
		b.Logf("generated %d records in %s", rows, time.Since(start).Round(time.Second))
	}
	return db
}

// generate writes rows records with one INSERT … SELECT per million, from
// a series of numbers, as benchStart and benchMessages describe.
func generate(b *testing.B, db *store.DB, rows int) {
	sqlDB := db.SQL()
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := sqlDB.Exec(q, args...); err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
	}
	const chunk = 1000000
	// A multiplicative hash of the record's number decides, evenly across
	// names and time, which runs fail (2%) and with which message.
	const hash = "((g * 2654435761) % 1000003)"
	failure := hash + " % 50 = 0"
	var message string
	switch db.Engine() {
	case "sqlite":
		// The search index is rebuilt once at the end, not row by row.
		exec(`DROP TRIGGER healthjob_record_search_insert`)
		exec(`PRAGMA cache_size = -1000000`)
		message = "CASE " + hash + " / 50 % 5"
		for i, m := range benchMessages {
			message += fmt.Sprintf(" WHEN %d THEN '%s'", i, m)
		}
		message += " END"
		for off := 0; off < rows; off += chunk {
			n := min(chunk, rows-off)
			exec(`WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x < ? - 1),
				series(g) AS (SELECT x + ? FROM s)
				INSERT INTO `+store.Table+` (name, status, message, created_at, updated_at, duration_ms, level, critical)
				SELECT 'Check' || printf('%02d', g % 20), CASE WHEN `+failure+` THEN 0 ELSE 1 END,
					CASE WHEN `+failure+` THEN `+message+` ELSE 'working' END,
					strftime('%Y-%m-%d %H:%M:%S', ?, '+' || (g / 20 * 5) || ' seconds') || '.000000',
					strftime('%Y-%m-%d %H:%M:%S', ?, '+' || (g / 20 * 5) || ' seconds') || '.005000',
					(g % 97) * 0.5, CASE WHEN `+failure+` THEN 'failure' ELSE 'ok' END, 1
				FROM series`, n, off, benchStart.Format(time.DateTime), benchStart.Format(time.DateTime))
		}
		exec(`CREATE TRIGGER "healthjob_record_search_insert" AFTER INSERT ON "django_health_check_job_heathcheckjob" BEGIN
			INSERT INTO "healthjob_record_search" (rowid, name, message) VALUES (new.id, new.name, new.message);
		END`)
		exec(`INSERT INTO healthjob_record_search (healthjob_record_search) VALUES ('rebuild')`)
		exec(`ANALYZE`)
	case "postgres":
		message = "(ARRAY['" + joinQuoted(benchMessages) + "'])[" + hash + " / 50 % 5 + 1]"
		for off := 0; off < rows; off += chunk {
			n := min(chunk, rows-off)
			exec(`INSERT INTO `+store.Table+` (name, status, message, created_at, updated_at, duration_ms, level, critical)
				SELECT 'Check' || lpad((g % 20)::text, 2, '0'), CASE WHEN `+failure+` THEN 0 ELSE 1 END,
					CASE WHEN `+failure+` THEN `+message+` ELSE 'working' END,
					$3::timestamptz + (g / 20) * interval '5 seconds',
					$3::timestamptz + (g / 20) * interval '5 seconds' + interval '5 milliseconds',
					(g % 97) * 0.5, CASE WHEN `+failure+` THEN 'failure' ELSE 'ok' END, true
				FROM generate_series($1::bigint, $1::bigint + $2 - 1) AS g`, off, n, benchStart)
		}
		exec(`VACUUM ANALYZE ` + store.Table)
	case "mysql":
		message = "ELT(" + hash + " DIV 50 % 5 + 1, '" + joinQuoted(benchMessages) + "')"
		for off := 0; off < rows; off += chunk {
			n := min(chunk, rows-off)
			// MariaDB's sequence engine: seq_0_to_N is a table of numbers.
			exec(`INSERT INTO `+store.Table+` (name, status, message, created_at, updated_at, duration_ms, level, critical)
				SELECT CONCAT('Check', LPAD(g % 20, 2, '0')), CASE WHEN `+failure+` THEN 0 ELSE 1 END,
					CASE WHEN `+failure+` THEN `+message+` ELSE 'working' END,
					TIMESTAMPADD(SECOND, (g DIV 20) * 5, ?), TIMESTAMPADD(MICROSECOND, 5000, TIMESTAMPADD(SECOND, (g DIV 20) * 5, ?)),
					(g % 97) * 0.5, CASE WHEN `+failure+` THEN 'failure' ELSE 'ok' END, 1
				FROM (SELECT seq + ? AS g FROM seq_0_to_`+strconv.Itoa(n-1)+`) series`, benchStart, benchStart, off)
		}
		exec(`ANALYZE TABLE ` + store.Table)
	}
}

func joinQuoted(s []string) string {
	out := ""
	for i, m := range s {
		if i > 0 {
			out += "', '"
		}
		out += m
	}
	return out
}

// BenchmarkQueries runs each query shape of the admin and the records
// command on a database of HEALTHJOB_BENCH_ROWS records and reports its
// 95th percentile latency.
func BenchmarkQueries(b *testing.B) {
	rows := benchRows(b)
	end := benchStart.Add(time.Duration(rows/benchNames) * 5 * time.Second) // the last run
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			db := benchDatabase(b, engine, rows)
			if _, err := db.Rollup(ctx, end.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
			list := func(q store.Query) func(*testing.B) func() error {
				if q.Limit == 0 {
					q.Limit = 100 // the admin's page
				}
				return func(*testing.B) func() error {
					return func() error {
						p, err := db.List(ctx, q)
						if err == nil && len(p.Records) == 0 {
							err = fmt.Errorf("no records for %+v", q)
						}
						return err
					}
				}
			}
			page1000 := func(f store.Filter) func(*testing.B) func() error {
				return func(b *testing.B) func() error {
					// The cursor after 999 pages of 100, reached by pages of 10,000.
					q := store.Query{Filter: f}
					for skipped := 0; skipped < 99900; skipped += q.Limit {
						q.Limit = min(store.MaxLimit, 99900-skipped)
						p, err := db.List(ctx, q)
						if err != nil {
							b.Fatal(err)
						}
						if p.Next == "" {
							b.Skip("fewer than 1,000 pages")
						}
						q.After = p.Next
					}
					q.Limit = 100
					return list(q)(b)
				}
			}
			do := func(f func() error) func(*testing.B) func() error {
				return func(*testing.B) func() error { return f }
			}
			// A day (at 10 million records) from the middle of the records.
			span := end.Sub(benchStart)
			day, dayEnd := benchStart.Add(span/2), benchStart.Add(span/2+min(24*time.Hour, span/4))
			shapes := []struct {
				name string
				run  func(*testing.B) func() error
			}{
				{"list/first-page", list(store.Query{})},
				{"list/status=0", list(store.Query{Filter: store.Filter{Status: ptr(0)}})},
				{"list/name", list(store.Query{Filter: store.Filter{Name: "Check07"}})},
				{"list/message", list(store.Query{Filter: store.Filter{Message: benchMessages[3]}})},
				{"list/date-range", list(store.Query{Filter: store.Filter{CreatedFrom: day, CreatedTo: dayEnd}})},
				{"list/search-common", list(store.Query{Filter: store.Filter{Search: "WORKING"}})},
				{"list/search-rare", list(store.Query{Filter: store.Filter{Search: "timeout"}})},
				{"list/search-none", do(func() error {
					_, err := db.List(ctx, store.Query{Limit: 100, Filter: store.Filter{Search: "no such text"}})
					return err
				})},
				{"list/search-name", list(store.Query{Filter: store.Filter{Search: "eck07"}})},
				{"list/page-1000-status=1", page1000(store.Filter{Status: ptr(1)})},
				{"list/page-1000-name", page1000(store.Filter{Name: "Check07"})},
				{"count/all", do(func() error { _, err := db.Count(ctx, store.Filter{}); return err })},
				{"count/status=0", do(func() error { _, err := db.Count(ctx, store.Filter{Status: ptr(0)}); return err })},
				{"latest", do(func() error { _, err := db.Latest(ctx, ""); return err })},
				{"changes/1-day", do(func() error { _, err := db.Changes(ctx, "Check07", "", day, dayEnd, 100); return err })},
				{"distinct/name", do(func() error { _, err := db.Distinct(ctx, "name", 100); return err })},
				{"uptime/30-days", do(func() error { _, err := db.Uptime(ctx, "Check07", "", end.Add(-30*24*time.Hour), end); return err })},
			}
			for _, col := range store.SortColumns {
				for _, sort := range []string{col, "-" + col} {
					shapes = append(shapes, struct {
						name string
						run  func(*testing.B) func() error
					}{"sort/" + sort, list(store.Query{Sort: sort})})
				}
			}
			for _, s := range shapes {
				b.Run(s.name, func(b *testing.B) {
					run := s.run(b)
					if err := run(); err != nil { // warm up, and fail early
						b.Fatal(err)
					}
					took := make([]time.Duration, 0, b.N)
					for b.Loop() {
						start := time.Now()
						if err := run(); err != nil {
							b.Fatal(err)
						}
						took = append(took, time.Since(start))
					}
					b.ReportMetric(percentile(took, 0.95).Seconds()*1000, "p95-ms")
				})
			}
		})
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkPruneWhileWriting prunes HEALTHJOB_BENCH_PRUNE_ROWS old records
// (default 100,000) while a writer saves a run of 10 checks every 10 ms,
// and reports the pruning rate and the writer's slowest save, beside its
// slowest save in as long a time without pruning: the machine's own stalls.
func BenchmarkPruneWhileWriting(b *testing.B) {
	rows, err := strconv.Atoi(healthjobtest.Env("HEALTHJOB_BENCH_PRUNE_ROWS", "100000"))
	if err != nil {
		b.Fatal(err)
	}
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			var pruned int64
			var total time.Duration
			var alone, pruning writer
			for b.Loop() {
				b.StopTimer()
				db := migrated(b, freshDatabase(b, engine))
				generate(b, db, rows)
				b.StartTimer()
				start := time.Now()
				stop := pruning.start(b, db)
				n, err := db.Prune(ctx, time.Now().Add(-24*time.Hour))
				took := time.Since(start)
				stop()
				if err != nil || n != int64(rows) {
					b.Fatalf("Prune = %d, %v; want %d", n, err, rows)
				}
				total += took
				pruned += n
				b.StopTimer()
				stop = alone.start(b, db)
				time.Sleep(took) // the same time, to compare the slowest saves
				stop()
				b.StartTimer()
			}
			b.ReportMetric(float64(pruned)/total.Seconds(), "pruned/s")
			b.ReportMetric(float64(pruning.saves), "saves")
			b.ReportMetric(pruning.slowest.Seconds()*1000, "slowest-save-ms")
			b.ReportMetric(alone.slowest.Seconds()*1000, "slowest-save-alone-ms")
		})
	}
}

// writer saves a run of 10 checks every 10 ms and notes its slowest save.
type writer struct {
	saves   int
	slowest time.Duration
}

// start starts writing; stop stops and waits.
func (w *writer) start(b *testing.B, db *store.DB) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			run := sampleRun(10)
			run.Timestamp.Time = time.Now()
			start := time.Now()
			if err := db.SaveRun(ctx, run); err != nil {
				b.Error(err)
				return
			}
			w.slowest = max(w.slowest, time.Since(start))
			w.saves++
		}
	})
	return func() { close(done); wg.Wait() }
}
