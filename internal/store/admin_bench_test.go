package store_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/admin"
	"github.com/healthjob/healthjob/internal/store"
)

// BenchmarkAdminPages renders each page of the admin over the query
// benchmarks' database, through the handler and without a network, and
// reports its median and 95th percentile in milliseconds. The README's
// figures come from 10 million records:
//
//	HEALTHJOB_BENCH_ROWS=10000000 go test ./internal/store -run '^$' -bench AdminPages -benchtime 40x
//
// The filter sidebar's values are kept 30 seconds, so the list pages are
// measured with them kept; "list, sidebar read" reads them every time.
func BenchmarkAdminPages(b *testing.B) {
	rows := benchRows(b)
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := benchDatabase(b, engine, rows)
			var last any
			if err := db.SQL().QueryRow("SELECT max(created_at) FROM " + store.Table).Scan(&last); err != nil {
				b.Fatal(err)
			}
			end, err := lastTime(last)
			if err != nil {
				b.Fatal(err)
			}
			end = end.Add(5 * time.Second)
			if _, err := db.Rollup(ctx, end); err != nil {
				b.Fatal(err)
			}
			cookie := benchSession(b, db)
			now := func() time.Time { return end }
			logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
			h, err := admin.New(admin.Config{Store: db, Now: now, Logger: logger})
			if err != nil {
				b.Fatal(err)
			}
			get := func(h http.Handler, path string) string {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d\n%s", path, rec.Code, rec.Body)
				}
				return rec.Body.String()
			}
			const list = "/admin/django_health_check_job/heathcheckjob/"
			deep := list // the 20th page, by keyset
			for range 19 {
				deep = nextPage(b, get(h, deep))
			}
			id := strconv.Itoa(rows / 2)
			day := end.Add(-24 * time.Hour).Format("2006-01-02 15:04:05")
			pages := []struct{ name, path string }{
				{"list", list},
				{"list, page 20", deep},
				{"list by name", list + "?o=2"},
				{"list by message", list + "?o=-4"},
				{"list by id", list + "?o=1"},
				{"list of failures", list + "?status__exact=0"},
				{"list of one check", list + "?name__exact=Check07"},
				{"list of one message", list + "?" + url.Values{"message__exact": {"unavailable: timeout after 3s"}}.Encode()},
				{"list of one check's failures by date", list + "?name__exact=Check07&status__exact=0&o=5"},
				{"list of the last day", list + "?" + url.Values{"created_at__gte": {day}}.Encode()},
				{"search, common", list + "?q=working"},
				{"search, rare", list + "?q=queued"},
				{"search, none", list + "?q=nowhere"},
				{"record", list + id + "/change/"},
				{"history, 24 h", list + id + "/history/"},
				{"history, 7 d", list + id + "/history/?range=7d"},
				{"dashboard", "/admin/dashboard/"},
			}
			for _, p := range pages {
				b.Run(p.name, func(b *testing.B) { measure(b, func() { get(h, p.path) }) })
			}
			b.Run("list, sidebar read", func(b *testing.B) {
				measure(b, func() {
					fresh, err := admin.New(admin.Config{Store: db, Now: now, Logger: logger})
					if err != nil {
						b.Fatal(err)
					}
					get(fresh, list)
				})
			})
		})
	}
}

// measure times each call of render and reports the median and the 95th
// percentile.
func measure(b *testing.B, render func()) {
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		render()
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	at := func(q float64) float64 {
		return float64(times[min(int(q*float64(len(times))), len(times)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}

// benchSession logs the user "bench" in, made the first time, and returns
// its session cookie.
func benchSession(b *testing.B, db *store.DB) *http.Cookie {
	u, err := db.User(ctx, "bench")
	if errors.Is(err, store.ErrNoUser) {
		u, err = db.CreateUser(ctx, "bench", "benchmark password", true)
	}
	if err != nil {
		b.Fatal(err)
	}
	sess, err := db.NewSession(ctx, u, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return &http.Cookie{Name: "healthjob_session", Value: sess.Token}
}

var nextLink = regexp.MustCompile(`<a class="button" href="([^"]*)" rel="next">`)

func nextPage(b *testing.B, body string) string {
	m := nextLink.FindStringSubmatch(body)
	if m == nil {
		b.Fatal("no next page")
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

// lastTime reads a max(created_at) as the drivers return it.
func lastTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case string:
		return time.Parse("2006-01-02 15:04:05.999999", v)
	case []byte:
		return time.Parse("2006-01-02 15:04:05.999999", string(v))
	}
	return time.Time{}, errors.New("unreadable time")
}
