package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthjob/healthjob/internal/store"
)

// listColumns are the columns of the list in the order of the spec's
// list_display, which Django's o parameter numbers from 1.
var listColumns = []struct{ name, label string }{
	{"id", "ID"}, {"name", "Name"}, {"status", "Status"}, {"message", "Message"},
	{"created_at", "Created at"}, {"updated_at", "Updated at"},
}

// pageSize is Django's list_per_page.
const pageSize = 100

// djangoTime is how Django's date filter writes a time in its links.
const djangoTime = "2006-01-02 15:04:05-07:00"

// listState is the view of the list its URL describes, in the spelling of
// Django's admin: status__exact=0, name__exact=…, message__exact=…, q=…,
// o=-5, created_at__gte=…; plus after=, the keyset of the next page.
type listState struct {
	query  store.Query
	params url.Values // the parameters understood, from which links are made
	errs   []string
	col    int // the sort column, an index of listColumns
	desc   bool
}

var dateParam = regexp.MustCompile(`^(created_at|updated_at)(__date)?__(gte|gt|lte|lt)$`)

func parseList(v url.Values) listState {
	st := listState{params: url.Values{}, col: 4, desc: true} // newest first
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	f := &st.query.Filter
	for _, key := range keys {
		val := strings.TrimSpace(v[key][len(v[key])-1]) // the last, as Django reads it
		if val == "" {
			continue
		}
		switch key {
		case "q":
			f.Search = val
		case "o":
			if !st.parseOrder(val) {
				st.errs = append(st.errs, fmt.Sprintf("Sorting o=%s: want a column number from 1 to %d, negative for descending, such as o=-5.", val, len(listColumns)))
				continue
			}
		case "after":
			st.query.After = val
		case "status__exact":
			n, err := strconv.Atoi(val)
			if err != nil {
				st.errs = append(st.errs, fmt.Sprintf("Status filter %q: want 0 (failed) or 1 (passed).", val))
				continue
			}
			f.Status = &n
		case "name__exact":
			f.Name = val
		case "message__exact":
			f.Message = val
		case "app_id__exact":
			f.App = val
		case "p", "e", "all", "_changelist_filters":
			continue // Django's page number, error flag and show-all: the list pages by keyset
		default:
			m := dateParam.FindStringSubmatch(key)
			if m == nil {
				st.errs = append(st.errs, fmt.Sprintf("Unknown filter %q: left out.", key))
				continue
			}
			if !st.parseDate(m[1], m[2] != "", m[3], val) {
				st.errs = append(st.errs, fmt.Sprintf("Date filter %s=%s: want a date such as 2024-05-01 or a time such as 2024-05-01 12:00:00+00:00.", key, val))
				continue
			}
		}
		st.params.Set(key, val)
	}
	st.query.Sort = listColumns[st.col].name
	if st.desc {
		st.query.Sort = "-" + st.query.Sort
	}
	st.query.Limit = pageSize
	return st
}

// parseOrder reads Django's o: 1-based column numbers, negative for
// descending, separated by dots. The list sorts by the first; ties go by
// created_at, then id.
func (st *listState) parseOrder(o string) bool {
	first, _, _ := strings.Cut(o, ".")
	n, err := strconv.Atoi(first)
	if err != nil || n == 0 || n > len(listColumns) || n < -len(listColumns) {
		return false
	}
	st.col, st.desc = abs(n)-1, n < 0
	return true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// parseDate narrows the range of field by one lookup: gte, gt, lte or lt,
// of a time, or of a day with __date.
func (st *listState) parseDate(field string, day bool, lookup, val string) bool {
	t, ok := parseTime(val, day)
	if !ok {
		return false
	}
	step := time.Microsecond // the columns' precision
	if day {
		step = 24 * time.Hour
	}
	from, to := &st.query.CreatedFrom, &st.query.CreatedTo
	if field == "updated_at" {
		from, to = &st.query.UpdatedFrom, &st.query.UpdatedTo
	}
	switch lookup {
	case "gte":
		*from = later(*from, t)
	case "gt":
		*from = later(*from, t.Add(step))
	case "lt":
		*to = earlier(*to, t)
	case "lte":
		*to = earlier(*to, t.Add(step))
	}
	return true
}

func later(a, b time.Time) time.Time {
	if a.IsZero() || b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// A "+" in a URL that was not escaped arrives as a space: "… 00:00:00 00:00".
var spacedOffset = regexp.MustCompile(`(\d) (\d\d:\d\d)$`)

// parseTime reads a day (2024-05-01), or with day false also a time, in
// the forms Django writes and the forms people type; UTC unless the time
// says otherwise.
func parseTime(s string, day bool) (time.Time, bool) {
	layouts := []string{time.DateOnly}
	if !day {
		s = spacedOffset.ReplaceAllString(s, "$1+$2")
		layouts = append(layouts, "2006-01-02 15:04:05.999999Z07:00", "2006-01-02 15:04:05.999999",
			"2006-01-02T15:04:05.999999Z07:00", "2006-01-02T15:04:05.999999", "2006-01-02T15:04", "2006-01-02 15:04")
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// link is the list's URL with the parameters change makes, on its first
// page.
func (st listState) link(change func(url.Values)) string {
	v := url.Values{}
	for k, vals := range st.params {
		if k != "after" {
			v[k] = vals
		}
	}
	if change != nil {
		change(v)
	}
	return withQuery(recordsPath, v)
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// without deletes keys from the parameters.
func without(keys ...string) func(url.Values) {
	return func(v url.Values) {
		for _, k := range keys {
			v.Del(k)
		}
	}
}

// dateKeys are the parameters that filter field by date.
func (st listState) dateKeys(field string) []string {
	var keys []string
	for k := range st.params {
		if m := dateParam.FindStringSubmatch(k); m != nil && m[1] == field {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// The list page.

type listPage struct {
	Base
	Records    []recordView
	Columns    []columnView
	SortedBy   string
	Count      string
	Search     string
	Hidden     []param // the search form's other parameters
	Active     []chip
	ClearURL   string
	Filters    []filterGroup
	Dates      []dateGroup
	FirstURL   string
	NextURL    string
	ExportCSV  string
	ExportJSON string
	Here       string // the list's URL, where its action form posts
	CanDelete  bool
	Errors     []string
	Window     string // how many of the newest records the filter counts cover
}

type recordView struct {
	store.Record
	URL     string
	Outcome string // passed, warning or failed
}

type columnView struct {
	Name, Label, URL string
	Sort             string // ascending, descending, or "" (aria-sort's words)
}

type param struct{ Name, Value string }

type chip struct{ Label, RemoveURL string }

type filterGroup struct {
	Title   string
	Choices []choice
}

type choice struct {
	Label, Count, URL string
	Selected          bool
}

type dateGroup struct {
	Field, Title string
	Choices      []choice
	From, To     string // the custom range's days
	Hidden       []param
}

// outcome names a record's result: its status, and the level healthjob
// adds (a warning passes when WARNINGS_AS_ERRORS is off).
func outcome(r store.Record) string {
	switch {
	case r.Status == 0:
		return "failed"
	case r.Level == "warning":
		return "warning"
	}
	return "passed"
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := parseList(r.URL.Query())
	page, err := h.store.List(ctx, st.query)
	if errors.Is(err, store.ErrBadCursor) {
		st.errs = append(st.errs, "That page link is out of date: here is the first page.")
		st.query.After = ""
		st.params.Del("after")
		page, err = h.store.List(ctx, st.query)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	count, err := h.count(ctx, st, page)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	values, err := h.filterValues(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u := userOf(r)
	p := &listPage{
		Base: Base{Title: "Health check records", User: u, Section: "records", Flash: h.takeFlash(w, r),
			Crumbs: []Crumb{{"Home", Root}, {"Health check records", ""}}},
		Count:      countText(count, st.query.Filter.IsZero()),
		Search:     st.query.Search,
		ClearURL:   recordsPath,
		ExportCSV:  strings.Replace(st.link(nil), recordsPath, recordsPath+"export.csv", 1),
		ExportJSON: strings.Replace(st.link(nil), recordsPath, recordsPath+"export.json", 1),
		Here:       withQuery(recordsPath, st.params),
		CanDelete:  u.Superuser,
		Errors:     st.errs,
		Window:     thousands(store.DistinctWindow),
	}
	filters := strings.TrimPrefix(st.link(nil), recordsPath)
	for _, rec := range page.Records {
		p.Records = append(p.Records, view(rec, filters))
	}
	for i, c := range listColumns {
		col := columnView{Name: c.name, Label: c.label}
		o := strconv.Itoa(i + 1)
		if i == st.col {
			col.Sort = "ascending"
			if st.desc {
				col.Sort = "descending"
			} else {
				o = "-" + o
			}
			p.SortedBy = "sorted by " + strings.ToLower(c.label) + ", " + col.Sort
		}
		col.URL = st.link(func(v url.Values) { v.Set("o", o) })
		p.Columns = append(p.Columns, col)
	}
	for k, vals := range st.params {
		if k != "q" && k != "after" {
			p.Hidden = append(p.Hidden, param{k, vals[0]})
		}
	}
	slices.SortFunc(p.Hidden, func(a, b param) int { return cmp.Compare(a.Name, b.Name) })
	p.Active = st.chips()
	p.Filters = st.filterGroups(values)
	p.Dates = []dateGroup{st.dateGroup("created_at", "created at", h.now()), st.dateGroup("updated_at", "updated at", h.now())}
	if st.query.After != "" {
		p.FirstURL = st.link(nil)
	}
	if page.Next != "" {
		p.NextURL = st.link(func(v url.Values) { v.Set("after", page.Next) })
	}
	status := http.StatusOK
	if len(st.errs) > 0 {
		status = http.StatusBadRequest
	}
	render(w, r, h.log, status, "list", p)
}

// DefaultCountBudget bounds the time a list page spends counting its
// records: a filter that selects many records among many more, such as a
// rare search term, can take a second to count to store.CountLimit.
const DefaultCountBudget = 50 * time.Millisecond

// count counts the records of the list: a first page that holds them all
// has counted them; else the store counts, within the CountBudget, past
// which the page says what it knows: more than a page of them.
func (h *Handler) count(ctx context.Context, st listState, page store.Page) (store.Count, error) {
	if st.query.After == "" && page.Next == "" {
		return store.Count{N: int64(len(page.Records))}, nil
	}
	budget, cancel := context.WithTimeout(ctx, cmp.Or(h.cfg.CountBudget, DefaultCountBudget))
	defer cancel()
	c, err := h.store.Count(budget, st.query.Filter)
	if err != nil && budget.Err() != nil && ctx.Err() == nil {
		return store.Count{N: pageSize, More: true}, nil
	}
	return c, err
}

// view is a record as a row of the list; filters is the list's query, kept
// for the way back, as Django keeps it in _changelist_filters.
func view(r store.Record, filters string) recordView {
	u := recordsPath + strconv.FormatInt(r.ID, 10) + "/change/"
	if filters = strings.TrimPrefix(filters, "?"); filters != "" {
		u += "?" + url.Values{"_changelist_filters": {filters}}.Encode()
	}
	return recordView{Record: r, URL: u, Outcome: outcome(r)}
}

// countText says how many records the list holds: exact when it is cheap,
// else an estimate or a lower bound, said as such.
func countText(c store.Count, all bool) string {
	n := thousands(c.N)
	what := "records"
	if !all {
		what = "matching records"
	}
	if c.N == 1 {
		what = strings.TrimSuffix(what, "s")
	}
	switch {
	case c.Estimated:
		return "about " + n + " " + what
	case c.More:
		return "more than " + n + " " + what
	}
	return n + " " + what
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (st listState) chips() []chip {
	var out []chip
	f := st.query.Filter
	add := func(label string, keys ...string) { out = append(out, chip{label, st.link(without(keys...))}) }
	if f.Search != "" {
		add("Search: "+f.Search, "q")
	}
	if f.Status != nil {
		add("Status: "+statusLabel(strconv.Itoa(*f.Status)), "status__exact")
	}
	if f.Name != "" {
		add("Name: "+f.Name, "name__exact")
	}
	if f.Message != "" {
		add("Message: "+f.Message, "message__exact")
	}
	if f.App != "" {
		add("App: "+f.App, "app_id__exact")
	}
	for _, d := range []struct {
		field, label string
		from, to     time.Time
	}{{"created_at", "Created", f.CreatedFrom, f.CreatedTo}, {"updated_at", "Updated", f.UpdatedFrom, f.UpdatedTo}} {
		if keys := st.dateKeys(d.field); len(keys) > 0 {
			add(d.label+" "+rangeText(d.from, d.to), keys...)
		}
	}
	return out
}

// rangeText says a half-open range [from, to) of times in UTC.
func rangeText(from, to time.Time) string {
	show := func(t time.Time) string {
		if t.Equal(t.Truncate(24 * time.Hour)) {
			return t.Format(time.DateOnly)
		}
		return t.Format("2006-01-02 15:04:05")
	}
	switch {
	case from.IsZero():
		return "before " + show(to)
	case to.IsZero():
		return "from " + show(from)
	}
	return "from " + show(from) + " to before " + show(to)
}

func statusLabel(v string) string {
	switch v {
	case "0":
		return "0 · failed"
	case "1":
		return "1 · passed"
	}
	return v
}

// The filter sidebar: the values of status, name, message and app among
// the newest records (store.DistinctWindow), with how often each occurs,
// kept a little while: they move slowly and cost a scan of those records.

const filterValuesTTL = 30 * time.Second

var filterColumns = []struct {
	column, key, title string
	limit              int
}{
	{"status", "status__exact", "status", 10},
	{"name", "name__exact", "name", 100},
	{"message", "message__exact", "message", 15},
	{"app_id", "app_id__exact", "app", 100},
}

type sidebarCache struct {
	mu     sync.Mutex
	at     time.Time
	values map[string][]store.Value
}

func (h *Handler) filterValues(ctx context.Context) (map[string][]store.Value, error) {
	c := &h.filters
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := h.now(); c.values == nil || now.Sub(c.at) >= filterValuesTTL || now.Before(c.at) {
		values := map[string][]store.Value{}
		for _, fc := range filterColumns {
			v, err := h.store.Distinct(ctx, fc.column, fc.limit)
			if err != nil {
				return nil, err
			}
			values[fc.column] = v
		}
		c.values, c.at = values, now
	}
	return c.values, nil
}

// forgetFilterValues makes the next page read the values again.
func (h *Handler) forgetFilterValues() {
	h.filters.mu.Lock()
	h.filters.values = nil
	h.filters.mu.Unlock()
}

func (st listState) filterGroups(values map[string][]store.Value) []filterGroup {
	var out []filterGroup
	for _, fc := range filterColumns {
		vals := values[fc.column]
		current := st.params.Get(fc.key)
		if fc.column == "app_id" && len(vals) == 0 && current == "" {
			continue // not a fleet server
		}
		g := filterGroup{Title: fc.title}
		g.Choices = append(g.Choices, choice{Label: "All", URL: st.link(without(fc.key)), Selected: current == ""})
		found := false
		for _, v := range vals {
			label := v.Value
			if fc.column == "status" {
				label = statusLabel(v.Value)
			}
			key := fc.key
			g.Choices = append(g.Choices, choice{Label: label, Count: thousands(v.Count), Selected: v.Value == current,
				URL: st.link(func(u url.Values) { u.Set(key, v.Value) })})
			found = found || v.Value == current
		}
		if current != "" && !found {
			label := current
			if fc.column == "status" {
				label = statusLabel(current)
			}
			g.Choices = append(g.Choices, choice{Label: label, Selected: true, URL: st.link(nil)})
		}
		out = append(out, g)
	}
	return out
}

// dateGroup is Django's date filter of field: any date, today, past 7
// days, this month, this year, with the same links Django makes, and a
// custom range of days.
func (st listState) dateGroup(field, title string, now time.Time) dateGroup {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	keys := st.dateKeys(field)
	g := dateGroup{Field: field, Title: title}
	g.Choices = append(g.Choices, choice{Label: "Any date", URL: st.link(without(keys...)), Selected: len(keys) == 0})
	for _, c := range []struct {
		label    string
		from, to time.Time
	}{
		{"Today", today, today.AddDate(0, 0, 1)},
		{"Past 7 days", today.AddDate(0, 0, -7), today.AddDate(0, 0, 1)},
		{"This month", month, month.AddDate(0, 1, 0)},
		{"This year", year, year.AddDate(1, 0, 0)},
	} {
		gte, lt := c.from.Format(djangoTime), c.to.Format(djangoTime)
		selected := len(keys) == 2 && st.params.Get(field+"__gte") == gte && st.params.Get(field+"__lt") == lt
		g.Choices = append(g.Choices, choice{Label: c.label, Selected: selected, URL: st.link(func(v url.Values) {
			without(keys...)(v)
			v.Set(field+"__gte", gte)
			v.Set(field+"__lt", lt)
		})})
	}
	g.From, g.To = st.params.Get(field+"__date__gte"), st.params.Get(field+"__date__lte")
	for k, vals := range st.params {
		if k != "after" && !slices.Contains(keys, k) {
			g.Hidden = append(g.Hidden, param{k, vals[0]})
		}
	}
	slices.SortFunc(g.Hidden, func(a, b param) int { return cmp.Compare(a.Name, b.Name) })
	return g
}
