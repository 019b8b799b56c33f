package routing_test

import (
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/notify/routing"
)

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"0 2 * *", `cron "0 2 * *": want 5 fields (minute hour day-of-month month day-of-week), got 4`},
		{"60 2 * * 0", `cron "60 2 * * 0": minute: 60 is out of range 0-59`},
		{"0 24 * * 0", `cron "0 24 * * 0": hour: 24 is out of range 0-23`},
		{"0 2 0 * *", `cron "0 2 0 * *": day of month: 0 is out of range 1-31`},
		{"0 2 * 13 *", `cron "0 2 * 13 *": month: 13 is out of range 1-12`},
		{"0 2 * * 8", `cron "0 2 * * 8": day of week: 8 is out of range 0-7`},
		{"0 5-2 * * *", `cron "0 5-2 * * *": hour: range "5-2" runs backwards`},
		{"*/0 * * * *", `cron "*/0 * * * *": minute: step "0" is not a whole number above 0`},
		{"0 2 * * sunday", `cron "0 2 * * sunday": day of week: "sunday" is not a number`},
	}
	for _, tt := range tests {
		if _, err := routing.ParseSchedule(tt.expr); err == nil || err.Error() != tt.want {
			t.Errorf("ParseSchedule(%q) = %v, want %s", tt.expr, err, tt.want)
		}
	}
}

func TestScheduleMatch(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse("2006-01-02 15:04 Mon", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		expr string
		at   string
		want bool
	}{
		{"0 2 * * 0", "2026-11-29 02:00 Sun", true},
		{"0 2 * * 7", "2026-11-29 02:00 Sun", true},
		{"0 2 * * sun", "2026-11-29 02:00 Sun", true},
		{"0 2 * * 0", "2026-11-29 02:01 Sun", false},
		{"0 2 * * 0", "2026-11-30 02:00 Mon", false},
		{"*/15 * * * *", "2026-11-30 02:45 Mon", true},
		{"*/15 * * * *", "2026-11-30 02:46 Mon", false},
		{"5/20 * * * *", "2026-11-30 02:45 Mon", true},
		{"0-10/5,30 9-17 * * mon-fri", "2026-11-30 09:30 Mon", true},
		{"0-10/5,30 9-17 * * mon-fri", "2026-11-30 09:07 Mon", false},
		{"0-10/5,30 9-17 * * mon-fri", "2026-11-29 09:30 Sun", false},
		{"0 0 1 jan-mar *", "2026-02-01 00:00 Sun", true},
		// Day of month or day of week when both are restricted, as in cron.
		{"0 0 13 * fri", "2026-11-13 00:00 Fri", true},
		{"0 0 13 * fri", "2026-11-20 00:00 Fri", true},
		{"0 0 13 * fri", "2026-12-13 00:00 Sun", true},
		{"0 0 13 * fri", "2026-12-14 00:00 Mon", false},
	}
	for _, tt := range tests {
		s, err := routing.ParseSchedule(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Match(at(tt.at)); got != tt.want {
			t.Errorf("%q matches %s = %v, want %v", tt.expr, tt.at, got, tt.want)
		}
	}
}

func TestWindowSpan(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	recurring, err := routing.ParseWindow(map[string]string{"cron": "0 2 * * 0", "duration": "1h", "checks": "Redis*"}, loc)
	if err != nil {
		t.Fatal(err)
	}
	oneOff, err := routing.ParseWindow(map[string]string{"start": "2026-12-24T08:00", "end": "2026-12-24 10:30"}, loc)
	if err != nil {
		t.Fatal(err)
	}
	sunday2 := time.Date(2026, 11, 29, 2, 0, 0, 0, loc)
	tests := []struct {
		name     string
		w        routing.Window
		at       time.Time
		want     bool
		from, to time.Time
	}{
		{"recurring, at its start", recurring, sunday2, true, sunday2, sunday2.Add(time.Hour)},
		{"recurring, within", recurring, sunday2.Add(59*time.Minute + 59*time.Second), true, sunday2, sunday2.Add(time.Hour)},
		{"recurring, at its end", recurring, sunday2.Add(time.Hour), false, time.Time{}, time.Time{}},
		{"recurring, before", recurring, sunday2.Add(-time.Second), false, time.Time{}, time.Time{}},
		{"recurring, read in its zone", recurring, sunday2.UTC(), true, sunday2, sunday2.Add(time.Hour)},
		{"one-off, within", oneOff, time.Date(2026, 12, 24, 9, 0, 0, 0, loc), true,
			time.Date(2026, 12, 24, 8, 0, 0, 0, loc), time.Date(2026, 12, 24, 10, 30, 0, 0, loc)},
		{"one-off, after", oneOff, time.Date(2026, 12, 24, 10, 30, 0, 0, loc), false, time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		from, to, ok := tt.w.Span(tt.at)
		if ok != tt.want || !from.Equal(tt.from) || !to.Equal(tt.to) {
			t.Errorf("%s: Span = %v, %v, %v; want %v, %v, %v", tt.name, from, to, ok, tt.from, tt.to, tt.want)
		}
	}
	ws := routing.Windows{recurring}
	if _, ok := ws.Active("RedisHealthCheck", sunday2); !ok {
		t.Error("RedisHealthCheck is not in maintenance on Sunday at 2")
	}
	if _, ok := ws.Active("DatabaseBackend", sunday2); ok {
		t.Error("DatabaseBackend is in maintenance; the window names Redis* only")
	}
	if next, _, ok := recurring.Next(sunday2); !ok || !next.Equal(sunday2.AddDate(0, 0, 7)) {
		t.Errorf("Next = %v, %v; want %v", next, ok, sunday2.AddDate(0, 0, 7))
	}
}

func TestParseErrors(t *testing.T) {
	routes := []struct {
		item map[string]string
		want string
	}{
		{map[string]string{}, "url is missing; want the notifier's URL, e.g. https://example.com/hook or slack://hooks.slack.com/services/…"},
		{map[string]string{"url": "example.com/hook"}, `url "(not a URL)" is not a URL with a scheme such as https:// or slack://`},
		{map[string]string{"url": "https://x/h", "severity": "critical"}, `severity: want warning or failure, got "critical"`},
		{map[string]string{"url": "https://x/h", "reminder": "soon"}, `reminder: want a duration such as 30m or 1h, got "soon"`},
		{map[string]string{"url": "https://x/h", "checks": "Redis["}, `checks: "Redis[" is not a valid pattern (use * and ?, e.g. Redis*)`},
		{map[string]string{"url": "slack://hooks.slack.com/services/x", "secret": "s"}, "secret signs the JSON webhook only; slack:// does not take it"},
		{map[string]string{"url": "https://x/h", "channel": "#ops"}, "unknown key channel; known keys: url, checks, severity, reminder, secret"},
	}
	for _, tt := range routes {
		if _, err := routing.ParseRoute(tt.item); err == nil || err.Error() != tt.want {
			t.Errorf("ParseRoute(%v) = %v, want %s", tt.item, err, tt.want)
		}
	}
	windows := []struct {
		item map[string]string
		want string
	}{
		{map[string]string{"cron": "0 2 * * 0"}, `cron and duration go together, e.g. {cron: "0 2 * * 0", duration: 1h}`},
		{map[string]string{"cron": "0 2 * * 0", "duration": "1h", "start": "2026-12-24T08:00"}, "give either start and end, or cron and duration, not both"},
		{map[string]string{"start": "2026-12-24T08:00"}, "want start and end (e.g. 2026-12-24T08:00), or cron and duration"},
		{map[string]string{"start": "2026-12-24T08:00", "end": "2026-12-24T07:00"}, "end 2026-12-24T07:00 is not after start 2026-12-24T08:00"},
		{map[string]string{"start": "Christmas", "end": "2026-12-24T07:00"}, `start: want a time such as 2026-12-24T08:00 or 2026-12-24T08:00:00+01:00, got "Christmas"`},
		{map[string]string{"cron": "0 2 * * 0", "duration": "0"}, "duration: want more than 0 and at most 31d, got 0"},
		{map[string]string{"cron": "0 2 * * 0", "duration": "1h", "every": "week"}, "unknown key every; known keys: start, end, cron, duration, checks, reason"},
	}
	for _, tt := range windows {
		if _, err := routing.ParseWindow(tt.item, time.UTC); err == nil || err.Error() != tt.want {
			t.Errorf("ParseWindow(%v) = %v, want %s", tt.item, err, tt.want)
		}
	}
}

func TestRoute(t *testing.T) {
	r, err := routing.ParseRoute(map[string]string{"url": "https://x/h", "checks": "Redis*, Database*", "reminder": "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Severity != routing.SeverityFailure || r.Reminder != time.Hour || r.Checks.String() != "Redis*,Database*" {
		t.Errorf("route = %+v", r)
	}
	for name, want := range map[string]bool{"RedisHealthCheck": true, "DatabaseBackend": true, "Cache backend: default": false} {
		if got := r.Checks.Match(name); got != want {
			t.Errorf("Match(%q) = %v, want %v", name, got, want)
		}
	}
	for state, want := range map[string]string{"ok": "ok", "warning": "ok", "failing": "failing"} {
		if got := r.Hears(state); got != want {
			t.Errorf("failure route hears %s as %s, want %s", state, got, want)
		}
	}
	r.Severity = routing.SeverityWarning
	if got := r.Hears("warning"); got != "warning" {
		t.Errorf("warning route hears warning as %s", got)
	}
	if got := routing.Redact("smtp://ops:s3cret@mail:587/?from=a@b&to=c@d"); got != "smtp://ops:*****@mail:587/*****" {
		t.Errorf("Redact = %s", got)
	}
}
