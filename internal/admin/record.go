package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/healthjob/healthjob/internal/admin/ui"
	"github.com/healthjob/healthjob/internal/store"
)

// record reads the record named by the {id} of the path, or answers 404.
func (h *Handler) record(w http.ResponseWriter, r *http.Request) (store.Record, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		var rec store.Record
		if rec, err = h.store.Record(r.Context(), id); err == nil {
			return rec, true
		}
		if !errors.Is(err, store.ErrNoRecord) {
			h.fail(w, r, err)
			return store.Record{}, false
		}
	}
	h.message(w, r, http.StatusNotFound, "Not found",
		fmt.Sprintf("There is no health check record with ID %q. Perhaps it was deleted?", r.PathValue("id")))
	return store.Record{}, false
}

// backToList is the list the user came from, as Django keeps it in
// _changelist_filters.
func backToList(r *http.Request) string {
	v, err := url.ParseQuery(r.URL.Query().Get("_changelist_filters"))
	if err != nil {
		return recordsPath
	}
	return withQuery(recordsPath, v)
}

// keepFilters adds the page's _changelist_filters to a link.
func keepFilters(r *http.Request, path string) string {
	if f := r.URL.Query().Get("_changelist_filters"); f != "" {
		return path + "?" + url.Values{"_changelist_filters": {f}}.Encode()
	}
	return path
}

func recordPath(id int64, page string) string {
	return recordsPath + strconv.FormatInt(id, 10) + "/" + page
}

type changePage struct {
	Base
	Record     recordView
	NameURL    string // the list of this check's records
	RunURL     string
	HistoryURL string
	DeleteURL  string // "" for a user who may not delete
	BackURL    string
}

func (h *Handler) change(w http.ResponseWriter, r *http.Request) {
	rec, ok := h.record(w, r)
	if !ok {
		return
	}
	u := userOf(r)
	title := fmt.Sprintf("Record %d", rec.ID)
	p := &changePage{
		Base: Base{Title: title, User: u, Section: "records", Flash: h.takeFlash(w, r),
			Crumbs: []Crumb{{"Home", Root}, {"Health check records", backToList(r)}, {title, ""}}},
		Record:     view(rec, ""),
		NameURL:    withQuery(recordsPath, url.Values{"name__exact": {rec.Name}}),
		HistoryURL: keepFilters(r, recordPath(rec.ID, "history/")),
		BackURL:    backToList(r),
	}
	if rec.AppID != "" {
		p.NameURL = withQuery(recordsPath, url.Values{"name__exact": {rec.Name}, "app_id__exact": {rec.AppID}})
	}
	if u.Superuser {
		p.DeleteURL = keepFilters(r, recordPath(rec.ID, "delete/"))
	}
	render(w, r, h.log, http.StatusOK, "change", p)
}

// The history: the status changes of a record's check over a range.

var historyRanges = []struct {
	key, label string
	span       time.Duration
}{{"24h", "24 hours", 24 * time.Hour}, {"7d", "7 days", 7 * 24 * time.Hour}, {"30d", "30 days", 30 * 24 * time.Hour}}

// historyLimit bounds the changes one history page shows.
const historyLimit = 500

type historyPage struct {
	Base
	Record   recordView
	Ranges   []choice
	Range    string
	Uptime   string
	Runs     string
	Failures string
	Timeline timeline
	Changes  []change
	More     bool // the range holds more changes than are shown
	BackURL  string
}

// change is one stretch of the timeline: a status from a record on, until
// the next change.
type change struct {
	recordView
	Until    time.Time
	For      time.Duration
	First    bool // the first record of the range, not a change
	Ongoing  bool
	Duration string
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	rec, ok := h.record(w, r)
	if !ok {
		return
	}
	span := historyRanges[0]
	for _, hr := range historyRanges {
		if r.URL.Query().Get("range") == hr.key {
			span = hr
		}
	}
	now := h.now().UTC()
	from := now.Add(-span.span)
	ctx := r.Context()
	changes, err := h.store.History(ctx, rec.Name, rec.AppID, from, time.Time{}, historyLimit+1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	up, err := h.store.Uptime(ctx, rec.Name, rec.AppID, from, now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	title := "History of " + rec.Name
	if rec.AppID != "" {
		title += " (" + rec.AppID + ")"
	}
	p := &historyPage{
		Base: Base{Title: title, User: userOf(r), Section: "records",
			Crumbs: []Crumb{{"Home", Root}, {"Health check records", backToList(r)},
				{fmt.Sprintf("Record %d", rec.ID), keepFilters(r, recordPath(rec.ID, "change/"))}, {"History", ""}}},
		Record:   view(rec, ""),
		Range:    span.label,
		Uptime:   percentOf(up),
		Runs:     thousands(up.Runs),
		Failures: thousands(up.Failures),
		More:     len(changes) > historyLimit,
		BackURL:  backToList(r),
	}
	for _, hr := range historyRanges {
		v := url.Values{"range": {hr.key}}
		if f := r.URL.Query().Get("_changelist_filters"); f != "" {
			v.Set("_changelist_filters", f)
		}
		p.Ranges = append(p.Ranges, choice{Label: hr.label, URL: withQuery(recordPath(rec.ID, "history/"), v), Selected: hr == span})
	}
	if p.More {
		changes = changes[:historyLimit]
	}
	until := now
	for i, c := range changes { // newest first
		ch := change{recordView: view(c, ""), Until: until, For: until.Sub(c.CreatedAt), Ongoing: i == 0}
		ch.First = i == len(changes)-1 && !p.More
		p.Changes = append(p.Changes, ch)
		until = c.CreatedAt
	}
	p.Timeline = newTimeline(p.Changes, from, now)
	render(w, r, h.log, http.StatusOK, "history", p)
}

// percentOf is a bucket's uptime, or a dash when nothing ran.
func percentOf(b store.Bucket) string {
	if b.Runs == 0 {
		return "—"
	}
	return ui.Percent(b.Uptime())
}

// Deleting: one record from its page, or those selected in the list, after
// a confirmation, by superusers only.

type deletePage struct {
	Base
	Records   []recordView
	Action    string // where the confirmation posts
	Selected  bool   // the list's action, with its form fields
	CancelURL string
}

func (h *Handler) deleteOne(w http.ResponseWriter, r *http.Request) {
	if !h.mayDelete(w, r) {
		return
	}
	rec, ok := h.record(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodPost {
		if _, err := h.store.DeleteRecords(r.Context(), []int64{rec.ID}); err != nil {
			h.fail(w, r, err)
			return
		}
		h.forgetFilterValues()
		h.log.Info("admin: deleted records", "user", userOf(r).Name, "ids", []int64{rec.ID})
		h.flash(w, r, fmt.Sprintf("Deleted record %d of %s.", rec.ID, rec.Name))
		http.Redirect(w, r, backToList(r), http.StatusSeeOther)
		return
	}
	title := "Delete record?"
	p := &deletePage{
		Base: Base{Title: title, User: userOf(r), Section: "records",
			Crumbs: []Crumb{{"Home", Root}, {"Health check records", backToList(r)},
				{fmt.Sprintf("Record %d", rec.ID), keepFilters(r, recordPath(rec.ID, "change/"))}, {"Delete", ""}}},
		Records:   []recordView{view(rec, "")},
		Action:    keepFilters(r, recordPath(rec.ID, "delete/")),
		CancelURL: keepFilters(r, recordPath(rec.ID, "change/")),
	}
	render(w, r, h.log, http.StatusOK, "delete", p)
}

// maxSelected bounds the records one action takes.
const maxSelected = 1000

// action runs the list's action on the records selected: delete_selected,
// Django's only one, first asking for a confirmation (post=yes).
func (h *Handler) action(w http.ResponseWriter, r *http.Request) {
	back := withQuery(recordsPath, r.URL.Query())
	if err := r.ParseForm(); err != nil {
		h.message(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	if r.PostForm.Get("action") != "delete_selected" {
		h.flash(w, r, "No action selected.")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	var ids []int64
	for _, s := range r.PostForm["_selected_action"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			h.message(w, r, http.StatusBadRequest, "Bad request", fmt.Sprintf("%q is not a record ID.", s))
			return
		}
		ids = append(ids, id)
	}
	switch {
	case len(ids) == 0:
		h.flash(w, r, "Items must be selected in order to perform actions on them. No items have been changed.")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	case len(ids) > maxSelected:
		h.message(w, r, http.StatusBadRequest, "Too many records", fmt.Sprintf("Select %d records at most at a time.", maxSelected))
		return
	case !h.mayDelete(w, r):
		return
	}
	if r.PostForm.Get("post") == "yes" {
		n, err := h.store.DeleteRecords(r.Context(), ids)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.forgetFilterValues()
		h.log.Info("admin: deleted records", "user", userOf(r).Name, "ids", ids)
		h.flash(w, r, fmt.Sprintf("Successfully deleted %d health check %s.", n, plural(n, "record", "records")))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	recs, err := h.store.Records(r.Context(), ids)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := &deletePage{
		Base: Base{Title: "Delete records?", User: userOf(r), Section: "records",
			Crumbs: []Crumb{{"Home", Root}, {"Health check records", back}, {"Delete selected records", ""}}},
		Action:    back,
		Selected:  true,
		CancelURL: back,
	}
	for _, rec := range recs {
		p.Records = append(p.Records, view(rec, ""))
	}
	render(w, r, h.log, http.StatusOK, "delete", p)
}

func (h *Handler) mayDelete(w http.ResponseWriter, r *http.Request) bool {
	if !userOf(r).Superuser {
		h.message(w, r, http.StatusForbidden, "Forbidden", "Only a superuser may delete records. Ask one, or run `healthjob createuser NAME --update --superuser`.")
		return false
	}
	return true
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
