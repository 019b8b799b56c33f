package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"
)

// base is the time of the first run of the dataset.
var base = time.Date(2023, 11, 20, 9, 0, 0, 123456000, time.UTC)

var names = []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo"}

// dataset writes 40 runs of five checks, ten minutes apart from base, and
// returns every record. Records of a run share created_at; updated_at runs
// backwards, so that sorting by it differs from sorting by created_at.
// Every third run (from the second) came from the application "billing".
func dataset(t *testing.T, db *store.DB) []store.Record {
	t.Helper()
	for r := range 40 {
		at := base.Add(time.Duration(r) * 10 * time.Minute)
		run := &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: at}}
		if r%3 == 1 {
			run.SyncAppID = "billing"
		}
		for i, name := range names {
			c := healthjob.Result{Name: name, Status: 1, Message: "working", Level: healthjob.LevelOK, Critical: true,
				Duration: time.Duration(i+1) * 1500 * time.Microsecond}
			if (r*5+i)%7 == 0 {
				c.Status, c.Message, c.Level = 0, "unavailable: down", healthjob.LevelFailure
				if r%2 == 1 {
					c.Message = "warning: slow"
				}
			}
			run.Checks = append(run.Checks, c)
		}
		db.Now = func() time.Time { return base.Add(7*time.Hour - time.Duration(r)*10*time.Minute) }
		if err := db.SaveRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	recs := all(t, db)
	if len(recs) != 200 {
		t.Fatalf("%d records, want 200", len(recs))
	}
	return recs
}

// ids lists the ids of recs.
func ids(recs []store.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// sorted orders recs as sort does: by its column, then created_at, then id.
func sorted(recs []store.Record, sort string) []store.Record {
	col, desc := strings.CutPrefix(sort, "-")
	out := slices.Clone(recs)
	slices.SortFunc(out, func(a, b store.Record) int {
		c := 0
		switch col {
		case "name":
			c = strings.Compare(a.Name, b.Name)
		case "status":
			c = a.Status - b.Status
		case "message":
			c = strings.Compare(a.Message, b.Message)
		case "updated_at":
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		}
		if c == 0 && col != "id" && col != "updated_at" {
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		if c == 0 {
			c = int(a.ID - b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
	return out
}

// pages lists every page of q, following the cursors.
func pages(t *testing.T, db *store.DB, q store.Query) []store.Record {
	t.Helper()
	var out []store.Record
	for range 1000 {
		p, err := db.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Records...)
		if p.Next == "" {
			return out
		}
		if len(p.Records) != q.Limit {
			t.Fatalf("a page of %d records before the last, want %d", len(p.Records), q.Limit)
		}
		q.After = p.Next
	}
	t.Fatal("the pages never end")
	return nil
}

func TestListSortsAndPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		recs := dataset(t, db)
		for _, col := range store.SortColumns {
			for _, sort := range []string{col, "-" + col} {
				got := ids(pages(t, db, store.Query{Sort: sort, Limit: 7}))
				if want := ids(sorted(recs, sort)); !slices.Equal(got, want) {
					t.Errorf("sort %s:\n got %v\nwant %v", sort, got, want)
				}
			}
		}
		p, err := db.List(ctx, store.Query{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(p.Records), ids(sorted(recs, "-created_at")[:3]); !slices.Equal(got, want) {
			t.Errorf("default sort: %v, want -created_at: %v", got, want)
		}
		if _, err := db.List(ctx, store.Query{Sort: "-name", After: p.Next}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("a cursor of another sort: %v, want ErrBadCursor", err)
		}
		if _, err := db.List(ctx, store.Query{After: "bm90IGEgY3Vyc29y"}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("a made-up cursor: %v, want ErrBadCursor", err)
		}
		for _, q := range []struct {
			q    store.Query
			want string
		}{
			{store.Query{Sort: "-duration"}, `cannot sort by "duration"; want one of id, name, status, message, created_at, updated_at, with - before it for descending`},
			{store.Query{Limit: store.MaxLimit + 1}, "limit 10001: want 1 to 10000"},
		} {
			if _, err := db.List(ctx, q.q); err == nil || err.Error() != q.want {
				t.Errorf("List(%+v) = %v, want %q", q.q, err, q.want)
			}
		}
	})
}

func contains(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }

func TestListFilters(t *testing.T) {
	tests := []struct {
		name string
		f    store.Filter
		keep func(store.Record) bool
	}{
		{"StatusFailed", store.Filter{Status: ptr(0)}, func(r store.Record) bool { return r.Status == 0 }},
		{"StatusPassed", store.Filter{Status: ptr(1)}, func(r store.Record) bool { return r.Status == 1 }},
		{"Name", store.Filter{Name: "Charlie"}, func(r store.Record) bool { return r.Name == "Charlie" }},
		{"Message", store.Filter{Message: "warning: slow"}, func(r store.Record) bool { return r.Message == "warning: slow" }},
		{"App", store.Filter{App: "billing"}, func(r store.Record) bool { return r.AppID == "billing" }},
		{"Created", store.Filter{CreatedFrom: base.Add(time.Hour), CreatedTo: base.Add(3 * time.Hour)}, func(r store.Record) bool {
			return !r.CreatedAt.Before(base.Add(time.Hour)) && r.CreatedAt.Before(base.Add(3*time.Hour))
		}},
		{"Updated", store.Filter{UpdatedFrom: base.Add(5 * time.Hour)}, func(r store.Record) bool { return !r.UpdatedAt.Before(base.Add(5 * time.Hour)) }},
		{"FailedAlpha", store.Filter{Status: ptr(0), Name: "Alpha"}, func(r store.Record) bool { return r.Status == 0 && r.Name == "Alpha" }},
		{"SearchMessageAnyCase", store.Filter{Search: "ARN"}, func(r store.Record) bool { return contains(r.Message, "arn") }},
		{"SearchName", store.Filter{Search: "lph"}, func(r store.Record) bool { return contains(r.Name, "lph") }},
		{"SearchShort", store.Filter{Search: "ha"}, func(r store.Record) bool { return contains(r.Name, "ha") || contains(r.Message, "ha") }},
		{"SearchBoth", store.Filter{Search: "a"}, func(r store.Record) bool { return contains(r.Name, "a") || contains(r.Message, "a") }},
		{"SearchNothing", store.Filter{Search: "zzz"}, func(store.Record) bool { return false }},
		{"SearchWildcardsAreLiteral", store.Filter{Search: "%"}, func(store.Record) bool { return false }},
		{"SearchUnderscore", store.Filter{Search: "a_l"}, func(store.Record) bool { return false }},
		{"SearchQuote", store.Filter{Search: `a"l`}, func(store.Record) bool { return false }},
		{"SearchAndStatus", store.Filter{Search: "work", Status: ptr(1), Name: "Echo"}, func(r store.Record) bool { return r.Status == 1 && r.Name == "Echo" }},
	}
	eachEngine(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		recs := dataset(t, db)
		for _, tt := range tests {
			var want []store.Record
			for _, r := range recs {
				if tt.keep(r) {
					want = append(want, r)
				}
			}
			got := pages(t, db, store.Query{Filter: tt.f, Limit: 5})
			if w := ids(sorted(want, "-created_at")); !slices.Equal(ids(got), w) {
				t.Errorf("%s: %d records %v\nwant %d %v", tt.name, len(got), ids(got), len(w), w)
			}
			c, err := db.Count(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if c != (store.Count{N: int64(len(want))}) {
				t.Errorf("%s: count %+v, want %d", tt.name, c, len(want))
			}
		}
		if c, err := db.Count(ctx, store.Filter{}); err != nil || c.String() != "200" {
			t.Errorf("count of all = %v, %v; want 200", c, err)
		}
	})
}

// TestLarge has more records than CountLimit and than the SQLite search
// sends through its index.
func TestLarge(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		run := sampleRun(10050)
		if err := db.SaveRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			f    store.Filter
			want string
		}{
			{store.Filter{}, "about 10050"},
			{store.Filter{Status: ptr(1)}, "5025"},
			{store.Filter{Status: ptr(1), Name: "Check0001"}, "1"},
			{store.Filter{Search: "work"}, "more than 10000"},
			{store.Filter{Search: "heck999"}, "10"},
		} {
			if c, err := db.Count(ctx, tt.f); err != nil || c.String() != tt.want {
				t.Errorf("Count(%+v) = %v, %v; want %s", tt.f, c, err, tt.want)
			}
		}
		// A common term (scanned in order) and a rare one (through the index).
		for term, want := range map[string][]string{
			"WORK":    {"Check0000", "Check0001", "Check0002"},
			"heck999": {"Check9990", "Check9991", "Check9992"},
		} {
			p, err := db.List(ctx, store.Query{Filter: store.Filter{Search: term}, Sort: "name", Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range p.Records {
				got = append(got, r.Name)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("search %q: %v, want %v", term, got, want)
			}
		}
		n, err := db.Prune(ctx, run.Timestamp.Add(time.Second))
		if err != nil || n != 10050 {
			t.Errorf("Prune = %d, %v; want all 10050 records, in batches", n, err)
		}
		if c, err := db.Count(ctx, store.Filter{}); err != nil || c.String() != "0" {
			t.Errorf("count after pruning = %v, %v; want 0", c, err)
		}
	})
}

func TestLatestChangesDistinct(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		recs := dataset(t, db)
		for _, app := range []string{"", "billing"} {
			var want []string
			for _, name := range names {
				for _, r := range sorted(recs, "-created_at") {
					if r.Name == name && (app == "" || r.AppID == app) {
						want = append(want, fmt.Sprint(r.ID))
						break
					}
				}
			}
			latest, err := db.Latest(ctx, app)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(latest))
			for i, r := range latest {
				got[i] = fmt.Sprint(r.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Latest(%q) = %v, want %v", app, got, want)
			}
		}

		from, to := base.Add(30*time.Minute), base.Add(5*time.Hour)
		var want []int64
		previous := -1
		for _, r := range sorted(recs, "created_at") {
			if r.Name != "Alpha" || r.CreatedAt.Before(from) || !r.CreatedAt.Before(to) {
				continue
			}
			if r.Status != previous {
				want = append([]int64{r.ID}, want...)
			}
			previous = r.Status
		}
		changes, err := db.Changes(ctx, "Alpha", "", from, to, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(changes); !slices.Equal(got, want) || len(want) < 3 {
			t.Errorf("Changes = %v, want %v", got, want)
		}
		if changes, err := db.Changes(ctx, "Alpha", "", from, to, 2); err != nil || !slices.Equal(ids(changes), want[:2]) {
			t.Errorf("Changes limit 2 = %v, %v; want %v", ids(changes), err, want[:2])
		}

		failed := 0
		for _, r := range recs {
			failed += 1 - r.Status
		}
		for _, tt := range []struct {
			column string
			want   string
		}{
			{"name", "[{Alpha 40} {Bravo 40} {Charlie 40} {Delta 40} {Echo 40}]"},
			{"status", fmt.Sprintf("[{1 %d} {0 %d}]", 200-failed, failed)},
			{"app_id", "[{billing 65}]"},
		} {
			vals, err := db.Distinct(ctx, tt.column, 10)
			if got := fmt.Sprint(vals); err != nil || got != tt.want {
				t.Errorf("Distinct(%s) = %s, %v; want %s", tt.column, got, err, tt.want)
			}
		}
		if _, err := db.Distinct(ctx, "id; DROP TABLE x", 10); err == nil {
			t.Error("Distinct of an unknown column: no error")
		}
	})
}
