// Package healthhttp serves health-check results over HTTP as
// django-health-check's view does, plus the probes Kubernetes asks for.
//
// The health endpoint (mounted at Config.Path, "/ht/" by default) answers
// 200 when every critical check passed and 500 otherwise, in the format the
// client asks for with ?format= or the Accept header: an HTML status page,
// JSON ({"<name>": "<status text>"}; with ?detail=1 the status, level,
// duration and last success of each check), plain text ("<name>: OK"),
// OpenMetrics, RSS and Atom. The feeds and OpenMetrics always answer 200, as
// feed readers and scrapers expect. A subset's checks are at
// Path+"<subset>/".
//
// By default the handler serves the results of the latest cycle handed to
// Observe (wire it to job.Config.OnRun), so a flood of requests costs no
// check runs. In live mode it runs the checks on request instead, once for
// all the requests that arrive while they run and at most once per
// Config.MinInterval.
//
// Livez reports whether the loop that calls Observe is alive, Readyz whether
// the critical checks pass. Every answer carries Cache-Control: no-store.
package healthhttp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/healthjob/healthjob"
)

// Config configures a Handler.
type Config struct {
	// Runner runs the checks in live mode and tells which checks belong to
	// which subset. Required.
	Runner *healthjob.Runner
	// Path is where the endpoint is mounted; it starts and ends with a
	// slash. Default "/ht/".
	Path string
	// OKStatus is the status code when every critical check passed (default
	// 200), ErrorStatus when one failed (default 500).
	OKStatus, ErrorStatus int
	// Live runs the checks on request instead of serving the latest cycle,
	// at most once per MinInterval (default 1 s) however many requests come.
	Live        bool
	MinInterval time.Duration
	// Interval is the period of the loop that calls Observe. Livez fails
	// once no cycle has completed for 3 intervals, or for one interval plus
	// the longest check deadline when that is longer. 0: no loop to watch.
	Interval time.Duration
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
}

// Defaults of Config.
const (
	DefaultPath        = "/ht/"
	DefaultMinInterval = time.Second
)

func (c *Config) defaults() error {
	if c.Runner == nil || c.Runner.Registry == nil {
		return errors.New("healthhttp: no runner")
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if !strings.HasPrefix(c.Path, "/") || !strings.HasSuffix(c.Path, "/") {
		return fmt.Errorf("healthhttp: path %q must start and end with a slash", c.Path)
	}
	if c.OKStatus == 0 {
		c.OKStatus = http.StatusOK
	}
	if c.ErrorStatus == 0 {
		c.ErrorStatus = http.StatusInternalServerError
	}
	for _, code := range []int{c.OKStatus, c.ErrorStatus} {
		if code < 200 || code > 599 {
			return fmt.Errorf("healthhttp: status code %d: want 200 to 599", code)
		}
	}
	if c.MinInterval <= 0 {
		c.MinInterval = DefaultMinInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Handler serves the health endpoint; Livez and Readyz serve the probes.
type Handler struct {
	cfg     Config
	started time.Time

	mu      sync.Mutex
	latest  *healthjob.Run     // the latest cycle, nil before the first
	cycleAt time.Time          // when it was observed
	history map[string]history // by check name
	flights map[string]*flight // live runs by subset
}

// history is what the handler remembers of a check across runs.
type history struct {
	at          time.Time // timestamp of the run that last updated it
	passed      bool
	since       time.Time // when the current passed or failed state began
	lastSuccess time.Time // zero: never passed
}

// New returns a Handler; it fails on a Config it cannot serve with.
func New(cfg Config) (*Handler, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, started: cfg.Now(), history: map[string]history{}, flights: map[string]*flight{}}, nil
}

// Observe records a completed cycle; the endpoint serves it from now on.
// Safe to call from the monitor while requests are served; run must not be
// modified afterwards.
func (h *Handler) Observe(run *healthjob.Run) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest, h.cycleAt = run, h.cfg.Now()
	h.remember(run)
}

// remember updates the checks' history with run; h.mu is held.
func (h *Handler) remember(run *healthjob.Run) {
	at := run.Timestamp.Time
	for _, c := range run.Checks {
		old, seen := h.history[c.Name]
		if seen && at.Before(old.at) {
			continue // a live run that started before the one already seen
		}
		hist := history{at: at, passed: c.Passed(), since: old.since, lastSuccess: old.lastSuccess}
		if !seen || old.passed != hist.passed {
			hist.since = at
		}
		if hist.passed {
			hist.lastSuccess = at
		}
		h.history[c.Name] = hist
	}
}

// ServeHTTP serves the health endpoint and its subsets.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r) {
		return
	}
	w.Header().Add("Vary", "Accept")
	subset, ok := h.subset(r.URL.Path)
	if !ok {
		plain(w, http.StatusNotFound, fmt.Sprintf("Not Found: the health endpoint is %s, a subset's is %s<subset>/\n", h.cfg.Path, h.cfg.Path))
		return
	}
	if _, err := h.cfg.Runner.Registry.Subset(subset); err != nil {
		plain(w, http.StatusNotFound, fmt.Sprintf("Not Found: %v\n", err))
		return
	}
	f, problem := chooseFormat(r)
	if f == nil {
		plain(w, http.StatusNotAcceptable, problem)
		return
	}
	v, err := h.view(r.Context(), subset)
	switch {
	case errors.Is(err, errNoResults):
		plain(w, http.StatusServiceUnavailable, "Service Unavailable: no results yet; the first cycle of checks has not completed\n")
		return
	case errors.Is(err, errNotRun):
		plain(w, http.StatusNotFound, fmt.Sprintf("Not Found: no check of subset %q runs in this monitor\n", subset))
		return
	case err != nil:
		return // the client went away while live checks ran
	}
	v.url = absoluteURL(r)
	v.detail = r.URL.Query().Get("detail") == "1" || r.URL.Query().Get("detail") == "true"
	body, err := f.render(v)
	if err != nil {
		plain(w, http.StatusInternalServerError, fmt.Sprintf("Internal Server Error: render %s: %v\n", f.name, err))
		return
	}
	code := h.cfg.OKStatus
	if !v.run.OK() {
		code = h.cfg.ErrorStatus
	}
	if f.always200 {
		code = http.StatusOK
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

// subset tells the subset a path names: "" for Path itself, "name" for
// Path+"name/".
func (h *Handler) subset(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, h.cfg.Path)
	if !ok {
		return "", false
	}
	if rest == "" {
		return "", true
	}
	name, ok := strings.CutSuffix(rest, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

var (
	errNoResults = errors.New("no results yet")
	errNotRun    = errors.New("subset not run")
)

// view is what a format renders.
type view struct {
	run     *healthjob.Run // only the checks of the subset asked for
	history map[string]history
	url     string // the absolute URL of the request
	detail  bool   // ?detail=1
}

// view returns the results to serve for subset: the latest cycle's, or in
// live mode a run shared with the requests that arrive at the same time.
func (h *Handler) view(ctx context.Context, subset string) (*view, error) {
	var run *healthjob.Run
	if h.cfg.Live {
		var err error
		if run, err = h.live(ctx, subset); err != nil {
			return nil, err
		}
	} else {
		h.mu.Lock()
		run = h.latest
		h.mu.Unlock()
		if run == nil {
			return nil, errNoResults
		}
		if subset != "" {
			if run = h.only(run, subset); len(run.Checks) == 0 {
				return nil, errNotRun
			}
		}
	}
	v := &view{run: run, history: make(map[string]history, len(run.Checks))}
	h.mu.Lock()
	for _, c := range run.Checks {
		v.history[c.Name] = h.history[c.Name]
	}
	h.mu.Unlock()
	return v, nil
}

// only returns a copy of run with the checks of subset.
func (h *Handler) only(run *healthjob.Run, subset string) *healthjob.Run {
	entries, _ := h.cfg.Runner.Registry.Subset(subset) // known: ServeHTTP checked
	out := *run
	out.Checks = slices.DeleteFunc(slices.Clone(run.Checks), func(c healthjob.Result) bool {
		return !slices.ContainsFunc(entries, func(e healthjob.Entry) bool { return e.Check.Name() == c.Name })
	})
	return &out
}

// flight is one live run, shared by the requests that ask while it runs
// and for MinInterval after it ended.
type flight struct {
	done chan struct{} // closed when run, err and end are set
	run  *healthjob.Run
	err  error
	end  time.Time
}

// live returns a run of subset's checks no older than MinInterval, starting
// one only when none is running.
func (h *Handler) live(ctx context.Context, subset string) (*healthjob.Run, error) {
	h.mu.Lock()
	f := h.flights[subset]
	lead := f == nil || !f.end.IsZero() && h.cfg.Now().Sub(f.end) >= h.cfg.MinInterval
	if lead {
		f = &flight{done: make(chan struct{})}
		h.flights[subset] = f
	}
	h.mu.Unlock()
	if lead {
		// Detached from the request: the others waiting for this run must
		// not see it cancelled because its first client went away. The
		// checks' deadlines bound it.
		run, err := h.cfg.Runner.Run(context.WithoutCancel(ctx), subset)
		h.mu.Lock()
		f.run, f.end = run, h.cfg.Now()
		if err != nil {
			f.err = errNotRun // the subset lost its checks since ServeHTTP looked
		} else {
			h.remember(run)
		}
		h.mu.Unlock()
		close(f.done)
		return f.run, f.err
	}
	select {
	case <-f.done:
		return f.run, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Livez answers 200 while the loop that calls Observe is alive: a cycle has
// completed recently enough (see Config.Interval). It answers 503 when the
// loop is stuck or gone, so that Kubernetes restarts the process.
func (h *Handler) Livez(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r) {
		return
	}
	if h.cfg.Interval <= 0 {
		plain(w, http.StatusOK, "ok\n")
		return
	}
	h.mu.Lock()
	last, what := h.cycleAt, "the last cycle completed"
	if h.latest == nil {
		last, what = h.started, "no cycle has completed since the start"
	}
	h.mu.Unlock()
	limit := h.staleAfter()
	if age := h.cfg.Now().Sub(last); age > limit {
		plain(w, http.StatusServiceUnavailable, fmt.Sprintf("stale: %s %s ago; the limit is %s\n", what, age.Round(time.Millisecond), limit))
		return
	}
	plain(w, http.StatusOK, "ok\n")
}

// staleAfter is how old the last cycle may be before Livez fails.
func (h *Handler) staleAfter() time.Duration {
	longest := time.Duration(0)
	for _, e := range h.cfg.Runner.Registry.Entries() {
		longest = max(longest, cmp.Or(e.Timeout, h.cfg.Runner.Timeout, healthjob.DefaultTimeout))
	}
	return max(3*h.cfg.Interval, h.cfg.Interval+longest)
}

// Readyz answers 200 when every critical check passed in the latest cycle
// (in live mode: in a fresh run) and 503 otherwise, listing the critical
// checks as Kubernetes' own /readyz?verbose does.
func (h *Handler) Readyz(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r) {
		return
	}
	v, err := h.view(r.Context(), "")
	switch {
	case errors.Is(err, errNoResults):
		plain(w, http.StatusServiceUnavailable, "no results yet; the first cycle of checks has not completed\nreadyz check failed\n")
		return
	case err != nil:
		return
	}
	var b strings.Builder
	for _, c := range v.run.Checks {
		if !c.Critical {
			continue
		}
		if c.Passed() {
			fmt.Fprintf(&b, "[+]%s ok\n", c.Name)
		} else {
			fmt.Fprintf(&b, "[-]%s failed: %s\n", c.Name, oneLine(c.Message))
		}
	}
	if !v.run.OK() {
		b.WriteString("readyz check failed\n")
		plain(w, http.StatusServiceUnavailable, b.String())
		return
	}
	b.WriteString("readyz check passed\n")
	plain(w, http.StatusOK, b.String())
}

// allowed sets the headers every answer carries and answers 405 to a
// method other than GET and HEAD.
func allowed(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	plain(w, http.StatusMethodNotAllowed, "Method Not Allowed: use GET or HEAD\n")
	return false
}

func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

// absoluteURL rebuilds the request's URL for the feeds' links.
func absoluteURL(r *http.Request) string {
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	return u.String()
}

// oneLine joins the lines of a multi-line status text.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }
