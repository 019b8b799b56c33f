package healthhttp_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/healthhttp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// t0 is the fixed time of the first cycle.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// The checks of the fixed runs.
const (
	db    = "DatabaseBackend"
	disk  = "DiskUsage"
	redis = "RedisHealthCheck"
	odd   = `Odd "name" <&> \ check`
)

// clock is a settable clock for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// newRegistry registers the fixed checks: db and odd are in the "startup"
// subset, disk is not critical. Their functions only run in live mode.
func newRegistry(t *testing.T) *healthjob.Registry {
	t.Helper()
	reg := &healthjob.Registry{}
	ok := func(context.Context) error { return nil }
	for _, r := range []struct {
		name string
		opts []healthjob.Option
	}{
		{db, []healthjob.Option{healthjob.Subsets("startup")}},
		{disk, []healthjob.Option{healthjob.NonCritical()}},
		{odd, []healthjob.Option{healthjob.Subsets("startup")}},
		{redis, []healthjob.Option{healthjob.Subsets("cache")}},
	} {
		if err := reg.Register(healthjob.CheckFunc(r.name, ok), r.opts...); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// result is what the runner makes of err, with warnings as errors.
func result(name string, critical bool, d time.Duration, err error) healthjob.Result {
	r := healthjob.Result{Name: name, Status: healthjob.StatusSuccess, Message: healthjob.StatusText(err),
		Level: healthjob.LevelOf(err), Critical: critical, Duration: d, Err: err}
	if err != nil {
		r.Status = healthjob.StatusFailure
	}
	return r
}

// healthyRun is the first cycle: everything works.
func healthyRun() *healthjob.Run {
	return &healthjob.Run{UUID: "00000000-0000-4000-8000-000000000001", Timestamp: healthjob.Timestamp{Time: t0}, Checks: []healthjob.Result{
		result(db, true, 12*time.Millisecond, nil),
		result(disk, false, time.Millisecond, nil),
		result(odd, true, 2500*time.Microsecond, nil),
		result(redis, true, 3*time.Millisecond, nil),
	}}
}

// failingRun is the second cycle, 5 s later: the disk is nearly full (not
// critical) and Redis is down (critical), with a two-line status text.
func failingRun() *healthjob.Run {
	return &healthjob.Run{UUID: "00000000-0000-4000-8000-000000000002", Timestamp: healthjob.Timestamp{Time: t0.Add(5 * time.Second)}, Checks: []healthjob.Result{
		result(db, true, 11*time.Millisecond, nil),
		result(disk, false, time.Millisecond, healthjob.Warning("disk usage exceeds 90%%")),
		result(odd, true, 2*time.Millisecond, nil),
		result(redis, true, 5*time.Second, errors.Join(
			healthjob.Unavailable("Unable to connect to Redis: connection refused"),
			healthjob.UnexpectedResult("PING answered %q", "LOADING"))),
	}}
}

// fixture is a real server over a Handler.
type fixture struct {
	h     *healthhttp.Handler
	clock *clock
	url   string
}

// serve mounts a Handler as the binary does and observes runs in order,
// one second apart on the clock; the clock ends one second after the last.
func serve(t *testing.T, cfg healthhttp.Config, runs ...*healthjob.Run) *fixture {
	t.Helper()
	c := &clock{now: t0}
	if cfg.Runner == nil {
		cfg.Runner = healthjob.NewRunner(newRegistry(t))
	}
	cfg.Now = c.Now
	h, err := healthhttp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range runs {
		c.Set(run.Timestamp.Add(time.Second))
		h.Observe(run)
	}
	mux := http.NewServeMux()
	path := cfg.Path
	if path == "" {
		path = healthhttp.DefaultPath
	}
	mux.Handle(path, h)
	mux.HandleFunc("/livez", h.Livez)
	mux.HandleFunc("/readyz", h.Readyz)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{h: h, clock: c, url: srv.URL}
}

// get requests path with the Accept headers given (none: no header) and
// returns the response with its body read.
func (f *fixture) get(t *testing.T, method, path string, accept ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "health.example" // fixed, for the feeds' links
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("body differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	healthy := serve(t, healthhttp.Config{}, healthyRun())
	failing := serve(t, healthhttp.Config{}, healthyRun(), failingRun())
	none := serve(t, healthhttp.Config{})
	for _, tc := range []struct {
		golden string
		f      *fixture
		path   string
		accept string
		code   int
		typ    string
	}{
		{"healthy.html", healthy, "/ht/", "text/html", 200, "text/html; charset=utf-8"},
		{"failing.html", failing, "/ht/", "text/html", 500, "text/html; charset=utf-8"},
		{"failing.json", failing, "/ht/?format=json", "", 500, "application/json"},
		{"failing_detail.json", failing, "/ht/?format=json&detail=1", "", 500, "application/json"},
		{"failing.txt", failing, "/ht/?format=text", "", 500, "text/plain; charset=utf-8"},
		{"failing.atom", failing, "/ht/?format=atom", "", 200, "application/atom+xml; charset=utf-8"},
		{"failing.rss", failing, "/ht/?format=rss", "", 200, "application/rss+xml; charset=utf-8"},
		{"failing.openmetrics", failing, "/ht/?format=openmetrics", "", 200, "application/openmetrics-text; version=1.0.0; charset=utf-8"},
		{"healthy.json", healthy, "/ht/", "application/json", 200, "application/json"},
		{"healthy.txt", healthy, "/ht/", "text/plain", 200, "text/plain; charset=utf-8"},
		{"startup.txt", failing, "/ht/startup/", "text/plain", 200, "text/plain; charset=utf-8"},
		{"cache.json", failing, "/ht/cache/?format=json", "", 500, "application/json"},
		{"no_results.txt", none, "/ht/", "application/json", 503, "text/plain; charset=utf-8"},
		{"not_acceptable.txt", failing, "/ht/", "image/png", 406, "text/plain; charset=utf-8"},
		{"unknown_format.txt", failing, "/ht/?format=yaml", "", 406, "text/plain; charset=utf-8"},
		{"unknown_subset.txt", failing, "/ht/nope/", "", 404, "text/plain; charset=utf-8"},
		{"readyz_failing.txt", failing, "/readyz", "", 503, "text/plain; charset=utf-8"},
		{"readyz_healthy.txt", healthy, "/readyz", "", 200, "text/plain; charset=utf-8"},
		{"readyz_no_results.txt", none, "/readyz", "", 503, "text/plain; charset=utf-8"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var accept []string
			if tc.accept != "" {
				accept = []string{tc.accept}
			}
			resp, body := tc.f.get(t, http.MethodGet, tc.path, accept...)
			if resp.StatusCode != tc.code {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.code)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.typ {
				t.Errorf("Content-Type = %q, want %q", got, tc.typ)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			golden(t, tc.golden, body)
		})
	}
}

// TestStatusCodes covers every status code the endpoint and the probes
// answer, in every format.
func TestStatusCodes(t *testing.T) {
	nonCritical := healthyRun()
	nonCritical.Checks[1] = failingRun().Checks[1] // only DiskUsage, not critical, fails
	for _, tc := range []struct {
		name   string
		cfg    healthhttp.Config
		runs   []*healthjob.Run
		method string
		path   string
		want   int
	}{
		{"healthy", healthhttp.Config{}, []*healthjob.Run{healthyRun()}, "GET", "/ht/", 200},
		{"healthy HEAD", healthhttp.Config{}, []*healthjob.Run{healthyRun()}, "HEAD", "/ht/", 200},
		{"critical failure html", healthhttp.Config{}, []*healthjob.Run{failingRun()}, "GET", "/ht/", 500},
		{"critical failure json", healthhttp.Config{}, []*healthjob.Run{failingRun()}, "GET", "/ht/?format=json", 500},
		{"critical failure text", healthhttp.Config{}, []*healthjob.Run{failingRun()}, "GET", "/ht/?format=text", 500},
		{"critical failure atom", healthhttp.Config{}, []*healthjob.Run{failingRun()}, "GET", "/ht/?format=atom", 200},
		{"critical failure rss", healthhttp.Config{}, []*healthjob.Run{failingRun()}, "GET", "/ht/?format=rss", 200},
		{"critical failure openmetrics", healthhttp.Config{}, []*healthjob.Run{failingRun()}, "GET", "/ht/?format=openmetrics", 200},
		{"non-critical failure", healthhttp.Config{}, []*healthjob.Run{nonCritical}, "GET", "/ht/", 200},
		{"recovered", healthhttp.Config{}, []*healthjob.Run{failingRun(), healthyRun()}, "GET", "/ht/", 200},
		{"custom ok status", healthhttp.Config{OKStatus: 299}, []*healthjob.Run{healthyRun()}, "GET", "/ht/", 299},
		{"custom error status", healthhttp.Config{ErrorStatus: 503}, []*healthjob.Run{failingRun()}, "GET", "/ht/?format=json", 503},
		{"healthy subset of a failing run", healthhttp.Config{}, []*healthjob.Run{failingRun()}, "GET", "/ht/startup/", 200},
		{"failing subset", healthhttp.Config{}, []*healthjob.Run{failingRun()}, "GET", "/ht/cache/", 500},
		{"unknown subset", healthhttp.Config{}, []*healthjob.Run{healthyRun()}, "GET", "/ht/nope/", 404},
		{"subset without slash", healthhttp.Config{}, []*healthjob.Run{healthyRun()}, "GET", "/ht/startup", 404},
		{"nested path", healthhttp.Config{}, []*healthjob.Run{healthyRun()}, "GET", "/ht/startup/x/", 404},
		{"subset not in the run", healthhttp.Config{}, []*healthjob.Run{{Timestamp: healthyRun().Timestamp, Checks: healthyRun().Checks[:1]}}, "GET", "/ht/cache/", 404},
		{"other path", healthhttp.Config{Path: "/health/"}, []*healthjob.Run{healthyRun()}, "GET", "/health/?format=json", 200},
		{"no results yet", healthhttp.Config{}, nil, "GET", "/ht/", 503},
		{"no results yet, feed", healthhttp.Config{}, nil, "GET", "/ht/?format=rss", 503},
		{"not acceptable", healthhttp.Config{}, []*healthjob.Run{healthyRun()}, "GET", "/ht/?format=pdf", 406},
		{"POST", healthhttp.Config{}, []*healthjob.Run{healthyRun()}, "POST", "/ht/", 405},
		{"readyz healthy", healthhttp.Config{}, []*healthjob.Run{healthyRun()}, "GET", "/readyz", 200},
		{"readyz non-critical failure", healthhttp.Config{}, []*healthjob.Run{nonCritical}, "GET", "/readyz", 200},
		{"readyz failing", healthhttp.Config{}, []*healthjob.Run{failingRun()}, "GET", "/readyz", 503},
		{"readyz no results", healthhttp.Config{}, nil, "GET", "/readyz", 503},
		{"readyz POST", healthhttp.Config{}, []*healthjob.Run{healthyRun()}, "POST", "/readyz", 405},
		{"livez without a loop", healthhttp.Config{}, nil, "GET", "/livez", 200},
		{"livez fresh", healthhttp.Config{Interval: 5 * time.Second}, []*healthjob.Run{failingRun()}, "GET", "/livez", 200},
		{"livez before the first cycle", healthhttp.Config{Interval: 5 * time.Second}, nil, "GET", "/livez", 200},
		{"livez POST", healthhttp.Config{}, nil, "POST", "/livez", 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := serve(t, tc.cfg, tc.runs...)
			resp, body := f.get(t, tc.method, tc.path)
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s: status = %d, want %d; body:\n%s", tc.method, tc.path, resp.StatusCode, tc.want, body)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if tc.want == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q, want GET, HEAD", resp.Header.Get("Allow"))
			}
		})
	}
}

// TestLivez fails the probe once no cycle completed for 3 intervals, or
// for one interval plus the longest check deadline when that is longer.
func TestLivez(t *testing.T) {
	interval := 5 * time.Second
	for _, tc := range []struct {
		name    string
		timeout time.Duration // the runner's default check deadline
		runs    []*healthjob.Run
		after   time.Duration // clock since the last cycle (or the start)
		want    int
		body    string
	}{
		{"fresh", time.Second, []*healthjob.Run{healthyRun()}, 0, 200, "ok\n"},
		{"at the limit", time.Second, []*healthjob.Run{healthyRun()}, 15 * time.Second, 200, "ok\n"},
		{"stale", time.Second, []*healthjob.Run{healthyRun()}, 15*time.Second + time.Millisecond, 503, "stale: the last cycle completed 15.001s ago; the limit is 15s\n"},
		{"long deadline", 20 * time.Second, []*healthjob.Run{healthyRun()}, 25 * time.Second, 200, "ok\n"},
		{"long deadline stale", 20 * time.Second, []*healthjob.Run{healthyRun()}, 26 * time.Second, 503, "stale: the last cycle completed 26s ago; the limit is 25s\n"},
		{"first cycle late", time.Second, nil, 16 * time.Second, 503, "stale: no cycle has completed since the start 16s ago; the limit is 15s\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runner := healthjob.NewRunner(newRegistry(t))
			runner.Timeout = tc.timeout
			f := serve(t, healthhttp.Config{Runner: runner, Interval: interval}, tc.runs...)
			// serve leaves the clock 1 s after the last cycle was observed.
			f.clock.Set(f.clock.Now().Add(tc.after))
			resp, body := f.get(t, "GET", "/livez")
			if resp.StatusCode != tc.want || body != tc.body {
				t.Errorf("livez = %d %q, want %d %q", resp.StatusCode, body, tc.want, tc.body)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	runner := healthjob.NewRunner(&healthjob.Registry{})
	for _, tc := range []struct {
		cfg  healthhttp.Config
		want string
	}{
		{healthhttp.Config{}, "healthhttp: no runner"},
		{healthhttp.Config{Runner: runner, Path: "ht"}, `healthhttp: path "ht" must start and end with a slash`},
		{healthhttp.Config{Runner: runner, Path: "/ht"}, `healthhttp: path "/ht" must start and end with a slash`},
		{healthhttp.Config{Runner: runner, OKStatus: 99}, "healthhttp: status code 99: want 200 to 599"},
		{healthhttp.Config{Runner: runner, ErrorStatus: 600}, "healthhttp: status code 600: want 200 to 599"},
	} {
		if _, err := healthhttp.New(tc.cfg); err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestVary tells caches that the answer depends on Accept.
func TestVary(t *testing.T) {
	f := serve(t, healthhttp.Config{}, healthyRun())
	resp, _ := f.get(t, "GET", "/ht/")
	if got := resp.Header.Get("Vary"); got != "Accept" {
		t.Errorf("Vary = %q, want Accept", got)
	}
	if resp, body := f.get(t, "HEAD", "/ht/?format=json"); body != "" || resp.ContentLength <= 0 {
		t.Errorf("HEAD: body %q, Content-Length %d; want no body and the GET's length", body, resp.ContentLength)
	}
}

// TestSubsetPathEscaping serves a subset whose name needs escaping.
func TestSubsetPathEscaping(t *testing.T) {
	reg := &healthjob.Registry{}
	if err := reg.Register(healthjob.CheckFunc("a", func(context.Context) error { return nil }), healthjob.Subsets("with space")); err != nil {
		t.Fatal(err)
	}
	run := &healthjob.Run{Timestamp: healthjob.Timestamp{Time: t0}, Checks: []healthjob.Result{result("a", true, 0, nil)}}
	f := serve(t, healthhttp.Config{Runner: healthjob.NewRunner(reg)}, run)
	resp, body := f.get(t, "GET", "/ht/with%20space/?format=text")
	if resp.StatusCode != 200 || body != "a: OK\n" {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, "a: OK\n")
	}
	if !strings.Contains(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("Content-Type = %q", resp.Header.Get("Content-Type"))
	}
}
