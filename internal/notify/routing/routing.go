// Package routing decides who hears about a check: routes (which notifier
// is told of which checks, from which severity on) and maintenance windows
// (when nobody is). It reads them from the NOTIFICATIONS and MAINTENANCE
// settings, one mapping per item, so that the configuration can validate
// them without linking the notifiers.
package routing

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The severities of a route.
const (
	SeverityWarning = "warning" // told of warnings and failures
	SeverityFailure = "failure" // told of failures only
)

// Route is one item of NOTIFICATIONS.
type Route struct {
	URL      string        // the notifier: http(s):// for the JSON webhook, else a provider scheme
	Checks   Globs         // the checks it hears of
	Severity string        // SeverityWarning or SeverityFailure
	Reminder time.Duration // repeat while still bad; 0: never
	Secret   string        // signs the JSON webhook's body (HMAC-SHA256)
}

// routeKeys are the keys an item of NOTIFICATIONS may have.
var routeKeys = []string{"url", "checks", "severity", "reminder", "secret"}

// ParseRoute reads an item of NOTIFICATIONS.
func ParseRoute(item map[string]string) (Route, error) {
	if err := known(item, routeKeys); err != nil {
		return Route{}, err
	}
	r := Route{URL: item["url"], Severity: SeverityFailure, Secret: item["secret"]}
	u, err := url.Parse(r.URL)
	switch {
	case r.URL == "":
		return Route{}, fmt.Errorf("url is missing; want the notifier's URL, e.g. https://example.com/hook or slack://hooks.slack.com/services/…")
	case err != nil || u.Scheme == "":
		return Route{}, fmt.Errorf("url %q is not a URL with a scheme such as https:// or slack://", Redact(r.URL))
	case r.Secret != "" && u.Scheme != "http" && u.Scheme != "https":
		return Route{}, fmt.Errorf("secret signs the JSON webhook only; %s:// does not take it", u.Scheme)
	}
	if r.Checks, err = ParseGlobs(item["checks"]); err != nil {
		return Route{}, err
	}
	if s, ok := item["severity"]; ok {
		if s != SeverityWarning && s != SeverityFailure {
			return Route{}, fmt.Errorf("severity: want warning or failure, got %q", s)
		}
		r.Severity = s
	}
	if s, ok := item["reminder"]; ok {
		if r.Reminder, err = parseDuration("reminder", s); err != nil {
			return Route{}, err
		}
		if r.Reminder < 0 {
			return Route{}, fmt.Errorf("reminder: want 0 (no reminders) or more, got %s", s)
		}
	}
	return r, nil
}

// Hears tells whether the route is told of state ("ok", "warning" or
// "failing") as it is, or as ok: a failure route sees a warning as ok.
func (r Route) Hears(state string) string {
	if state == "warning" && r.Severity == SeverityFailure {
		return "ok"
	}
	return state
}

// Window is one item of MAINTENANCE: a one-off period from Start to End,
// or one of Duration starting at every time of Cron, in the local time
// zone. During it, the notifications of its checks are held back.
type Window struct {
	Start, End time.Time
	Cron       *Schedule
	Duration   time.Duration
	Checks     Globs
	Reason     string // shown by `healthjob status`

	loc *time.Location // where Cron is read
}

var windowKeys = []string{"start", "end", "cron", "duration", "checks", "reason"}

// maxDuration bounds a recurring window: it is looked for minute by minute.
const maxDuration = 31 * 24 * time.Hour

// timeLayouts are the forms start and end take; without an offset they are
// local times.
var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// ParseWindow reads an item of MAINTENANCE, with times in loc.
func ParseWindow(item map[string]string, loc *time.Location) (Window, error) {
	if err := known(item, windowKeys); err != nil {
		return Window{}, err
	}
	w := Window{Reason: item["reason"], loc: loc}
	var err error
	if w.Checks, err = ParseGlobs(item["checks"]); err != nil {
		return Window{}, err
	}
	_, hasStart := item["start"]
	_, hasEnd := item["end"]
	_, hasCron := item["cron"]
	_, hasDuration := item["duration"]
	switch {
	case hasCron && (hasStart || hasEnd):
		return Window{}, fmt.Errorf("give either start and end, or cron and duration, not both")
	case hasCron != hasDuration:
		return Window{}, fmt.Errorf("cron and duration go together, e.g. {cron: \"0 2 * * 0\", duration: 1h}")
	case hasCron:
		if w.Cron, err = ParseSchedule(item["cron"]); err != nil {
			return Window{}, err
		}
		if w.Duration, err = parseDuration("duration", item["duration"]); err != nil {
			return Window{}, err
		}
		if w.Duration <= 0 || w.Duration > maxDuration {
			return Window{}, fmt.Errorf("duration: want more than 0 and at most 31d, got %s", item["duration"])
		}
		return w, nil
	case !hasStart || !hasEnd:
		return Window{}, fmt.Errorf("want start and end (e.g. 2026-12-24T08:00), or cron and duration")
	}
	if w.Start, err = parseTime("start", item["start"], loc); err != nil {
		return Window{}, err
	}
	if w.End, err = parseTime("end", item["end"], loc); err != nil {
		return Window{}, err
	}
	if !w.End.After(w.Start) {
		return Window{}, fmt.Errorf("end %s is not after start %s", item["end"], item["start"])
	}
	return w, nil
}

// Span returns the period of w that t falls in; ok is false when t is
// outside w.
func (w Window) Span(t time.Time) (start, end time.Time, ok bool) {
	if w.Cron == nil {
		if t.Before(w.Start) || !t.Before(w.End) {
			return time.Time{}, time.Time{}, false
		}
		return w.Start, w.End, true
	}
	start, found := w.Cron.Last(t.In(w.location()), w.Duration)
	if !found || !t.Before(start.Add(w.Duration)) {
		return time.Time{}, time.Time{}, false
	}
	return start, start.Add(w.Duration), true
}

// Next returns the next period of w that starts after t; ok is false when
// none does within a year.
func (w Window) Next(t time.Time) (start, end time.Time, ok bool) {
	if w.Cron == nil {
		return w.Start, w.End, w.Start.After(t)
	}
	start, ok = w.Cron.Next(t.In(w.location()), 366*24*time.Hour)
	return start, start.Add(w.Duration), ok
}

func (w Window) location() *time.Location {
	if w.loc == nil {
		return time.Local
	}
	return w.loc
}

// String describes w for people.
func (w Window) String() string {
	var s string
	if w.Cron != nil {
		s = fmt.Sprintf("cron %q for %s", w.Cron, w.Duration)
	} else {
		s = w.Start.Format("2006-01-02 15:04 MST") + " to " + w.End.Format("2006-01-02 15:04 MST")
	}
	s += ", checks " + w.Checks.String()
	if w.Reason != "" {
		s += ": " + w.Reason
	}
	return s
}

// Windows are the maintenance windows.
type Windows []Window

// Active returns the first window in force for check at t.
func (ws Windows) Active(check string, t time.Time) (Window, bool) {
	for _, w := range ws {
		if _, _, ok := w.Span(t); ok && w.Checks.Match(check) {
			return w, true
		}
	}
	return Window{}, false
}

// Globs are check name patterns as path.Match reads them (* matches any
// run of characters but /); a name matches when any pattern does. Empty
// matches every check.
type Globs []string

// ParseGlobs reads a comma-separated list of patterns.
func ParseGlobs(s string) (Globs, error) {
	var g Globs
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("checks: %q is not a valid pattern (use * and ?, e.g. Redis*)", p)
		}
		g = append(g, p)
	}
	return g, nil
}

// Match tells whether name matches.
func (g Globs) Match(name string) bool {
	if len(g) == 0 {
		return true
	}
	return slices.ContainsFunc(g, func(p string) bool {
		ok, _ := path.Match(p, name) // validated by ParseGlobs
		return ok
	})
}

func (g Globs) String() string {
	if len(g) == 0 {
		return "*"
	}
	return strings.Join(g, ",")
}

func known(item map[string]string, keys []string) error {
	for k := range item {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("unknown key %s; known keys: %s", k, strings.Join(keys, ", "))
		}
	}
	return nil
}

// parseDuration reads a duration as the settings do: a Go duration, a
// number of seconds, or of days ("2d").
func parseDuration(key, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil {
			return time.Duration(n * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: want a duration such as 30m or 1h, got %q", key, s)
	}
	return d, nil
}

func parseTime(key, s string, loc *time.Location) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: want a time such as 2026-12-24T08:00 or 2026-12-24T08:00:00+01:00, got %q", key, s)
}

// Redact hides a notifier URL's secrets for a message: its password, and
// its path and query, where webhooks and tokens keep theirs.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "(not a URL)"
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += u.User.Username() + ":*****@"
	}
	out += u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Opaque != "" {
		out += "/*****"
	}
	return out
}
