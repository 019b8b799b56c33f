package admin

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/healthjob/healthjob/internal/admin/ui"
	"github.com/healthjob/healthjob/internal/store"
)

// recentCycles is how many of a check's newest records its status bar
// shows.
const recentCycles = 48

type dashboardPage struct {
	Base
	Groups     []dashGroup
	Checks     int
	Failing    int
	Warning    int
	LastCycle  time.Time
	LastAgo    string
	Refreshing bool
	RefreshURL string // turns the refresh off, or on
	Every      string
}

// dashGroup is the checks of one application (of every one on a monitor
// that does not sync).
type dashGroup struct {
	App  string
	Rows []dashRow
}

type dashRow struct {
	Latest     recordView
	Since      time.Time
	For        string
	Uptime     [3]string // 24 h, 7 d, 30 d
	Duration   string    // of the latest run
	Trend      sparkline
	Bar        statusBar
	ListURL    string
	HistoryURL string
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := h.now().UTC()
	values, err := h.filterValues(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	apps := []string{""}
	if vals := values["app_id"]; len(vals) > 0 {
		apps = apps[:0]
		for _, v := range vals {
			apps = append(apps, v.Value)
		}
		slices.Sort(apps)
	}
	p := &dashboardPage{
		Base:       Base{Title: "Dashboard", User: userOf(r), Section: "dashboard", Crumbs: []Crumb{{"Home", Root}, {"Dashboard", ""}}},
		Refreshing: r.URL.Query().Get("refresh") != "off",
		Every:      ui.Span(h.cfg.Refresh),
	}
	if p.Refreshing {
		p.Refresh = int(h.cfg.Refresh / time.Second)
		p.RefreshURL = "/admin/dashboard/?refresh=off"
	} else {
		p.RefreshURL = "/admin/dashboard/"
	}
	for _, app := range apps {
		g := dashGroup{App: app}
		latest, err := h.store.Latest(ctx, app)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		uptimes, err := h.store.UptimesByName(ctx, app, []time.Time{now.Add(-24 * time.Hour), now.Add(-7 * 24 * time.Hour), now.Add(-30 * 24 * time.Hour)}, now)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		series, err := h.store.SeriesByName(ctx, app, now.Add(-24*time.Hour), now)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, rec := range latest {
			row, err := h.dashRow(ctx, rec, app, now)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			for i, up := range uptimes[rec.Name] {
				row.Uptime[i] = percentOf(up)
			}
			row.Trend = newSparkline(series[rec.Name], now)
			g.Rows = append(g.Rows, row)
			p.Checks++
			switch row.Latest.Outcome {
			case "failed":
				p.Failing++
			case "warning":
				p.Warning++
			}
			if rec.CreatedAt.After(p.LastCycle) {
				p.LastCycle = rec.CreatedAt
			}
		}
		// Failing checks first, then warnings, each by name.
		rank := map[string]int{"failed": 0, "warning": 1, "passed": 2}
		slices.SortStableFunc(g.Rows, func(a, b dashRow) int {
			return cmp.Or(cmp.Compare(rank[a.Latest.Outcome], rank[b.Latest.Outcome]), cmp.Compare(a.Latest.Name, b.Latest.Name))
		})
		if len(g.Rows) > 0 {
			p.Groups = append(p.Groups, g)
		}
	}
	if !p.LastCycle.IsZero() {
		p.LastAgo = ui.Span(now.Sub(p.LastCycle))
	}
	render(w, r, h.log, http.StatusOK, "dashboard", p)
}

// dashRow is the row of the check of rec but for its uptimes and trend,
// which the dashboard reads for every check at once.
func (h *Handler) dashRow(ctx context.Context, rec store.Record, app string, now time.Time) (dashRow, error) {
	row := dashRow{Latest: view(rec, ""), Uptime: [3]string{"—", "—", "—"}}
	recent, err := h.store.List(ctx, store.Query{Filter: store.Filter{Name: rec.Name, App: app}, Sort: "-created_at", Limit: recentCycles})
	if err != nil {
		return row, err
	}
	row.Bar = newStatusBar(recent.Records)
	// The recent runs tell since when, when they hold the change; else the
	// store looks further back.
	var since time.Time
	runs := recent.Records
	for i := 1; i < len(runs); i++ {
		if runs[i].Status != rec.Status || runs[i].Level != rec.Level {
			since = runs[i-1].CreatedAt
			break
		}
	}
	switch {
	case !since.IsZero():
	case recent.Next == "" && len(runs) > 0:
		since = runs[len(runs)-1].CreatedAt // the check's first run
	default:
		if since, err = h.store.Since(ctx, rec.Name, app, rec.Status, rec.Level); err != nil {
			return row, err
		}
	}
	row.Since, row.For = since, ui.Span(now.Sub(since))
	row.Duration = durationText(rec.Duration)
	v := url.Values{"name__exact": {rec.Name}}
	if app != "" {
		v.Set("app_id__exact", app)
	}
	row.ListURL = withQuery(recordsPath, v)
	row.HistoryURL = recordPath(rec.ID, "history/")
	return row, nil
}

// durationText is a check's duration, "—" for a record without one.
func durationText(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	case d < 10*time.Second:
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}
