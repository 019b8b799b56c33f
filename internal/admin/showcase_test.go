package admin_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/admin"
	"github.com/healthjob/healthjob/internal/store"
)

// showcaseCheck is a check of the showcase with its usual duration and
// what goes wrong with it.
type showcaseCheck struct {
	name     string
	duration time.Duration
	outcome  func(at time.Time) (healthjob.Level, string)
}

func working(time.Time) (healthjob.Level, string) { return healthjob.LevelOK, "working" }

// between tells whether at is in [now-from, now-to).
func between(at time.Time, from, to time.Duration) bool {
	return !at.Before(now.Add(-from)) && at.Before(now.Add(-to))
}

var showcaseChecks = []showcaseCheck{
	{"DatabaseBackend", 1400 * time.Microsecond, working},
	{"DatabaseHeartBeatCheck", 900 * time.Microsecond, working},
	{"Cache backend: default", 600 * time.Microsecond, working},
	{"RedisHealthCheck", 800 * time.Microsecond, func(at time.Time) (healthjob.Level, string) {
		if between(at, 12*time.Minute, 0) || between(at, 9*24*time.Hour, 9*24*time.Hour-3*time.Hour) {
			return healthjob.LevelFailure, "unavailable: Unable to connect to Redis: dial tcp 10.0.4.12:6379: connect: connection refused"
		}
		return working(at)
	}},
	{"CeleryHealthCheckdefault", 45 * time.Millisecond, func(at time.Time) (healthjob.Level, string) {
		if between(at, 40*time.Minute, 0) {
			return healthjob.LevelWarning, "warning: 1,204 tasks wait in the queue default"
		}
		if between(at, 4*24*time.Hour, 4*24*time.Hour-time.Hour) {
			return healthjob.LevelFailure, "unavailable: no worker answered the ping within 3s"
		}
		return working(at)
	}},
	{"DiskUsage", 300 * time.Microsecond, working},
	{"MemoryUsage", 200 * time.Microsecond, working},
	{"S3Boto3StorageHealthCheck", 84 * time.Millisecond, func(at time.Time) (healthjob.Level, string) {
		if between(at, 20*24*time.Hour, 20*24*time.Hour-2*time.Hour) {
			return healthjob.LevelFailure, "unavailable: S3 PUT healthjob/probe: 503 Slow Down"
		}
		return working(at)
	}},
	{"MailHealthCheck", 38 * time.Millisecond, working},
}

// newShowcase is a test server over a month of a service's checks: hourly
// runs for 30 days, then one a minute for the last four hours, rolled up.
func newShowcase(t *testing.T) *testServer {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "showcase.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: now}
	db.Now = c.Now
	ts := &testServer{db: db, clock: c}
	random := rand.New(rand.NewPCG(1, 2))
	var times []time.Time
	for at := now.Add(-30 * 24 * time.Hour); at.Before(now.Add(-4 * time.Hour)); at = at.Add(time.Hour) {
		times = append(times, at)
	}
	for at := now.Add(-4 * time.Hour); at.Before(now); at = at.Add(time.Minute) {
		times = append(times, at.Add(7*time.Second))
	}
	for _, at := range times {
		run := &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: at}}
		for _, sc := range showcaseChecks {
			level, msg := sc.outcome(at)
			status := 1
			if level == healthjob.LevelFailure {
				status = 0
			}
			// A daily rhythm and some noise, so that the trends look like trends.
			busy := 1 + 0.35*float64((at.Hour()+24-9)%24)/23
			d := time.Duration(float64(sc.duration) * busy * (0.75 + 0.5*random.Float64()))
			run.Checks = append(run.Checks, healthjob.Result{Name: sc.name, Status: status, Message: msg, Level: level, Critical: true, Duration: d})
		}
		c.t = at.Add(40 * time.Millisecond)
		if err := db.SaveRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		for _, r := range run.Checks {
			ts.records = append(ts.records, seeded{id: int64(len(ts.records) + 1), name: r.Name, status: r.Status, message: r.Message, level: string(r.Level), created: at})
		}
	}
	c.t = now
	if _, err := db.Rollup(ctx, now); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name, password string
		super          bool
	}{{superuser, superPassword, true}, {reader, readerPassword, false}} {
		if _, err := db.CreateUser(ctx, u.name, u.password, u.super); err != nil {
			t.Fatal(err)
		}
	}
	h, err := admin.New(admin.Config{Store: db, Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}
