package healthhttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/healthhttp"
)

// liveFixture is a live-mode server whose checks count their runs and
// block until gate is closed; arrived receives every request the server
// accepts, and gone every request whose client went away.
type liveFixture struct {
	fixture
	runs    map[string]*atomic.Int64
	started chan string
	arrived chan struct{}
	gone    chan struct{}
}

func serveLive(t *testing.T, gate <-chan struct{}) *liveFixture {
	t.Helper()
	f := &liveFixture{runs: map[string]*atomic.Int64{}, started: make(chan string, 100),
		arrived: make(chan struct{}, 10_000), gone: make(chan struct{}, 10_000)}
	reg := &healthjob.Registry{}
	for _, name := range []string{"a", "b", "c"} {
		n := &atomic.Int64{}
		f.runs[name] = n
		check := healthjob.CheckFunc(name, func(ctx context.Context) error {
			n.Add(1)
			f.started <- name
			select {
			case <-gate:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err := reg.Register(check, healthjob.Subsets("sub")); err != nil {
			t.Fatal(err)
		}
	}
	f.clock = &clock{now: t0}
	h, err := healthhttp.New(healthhttp.Config{Runner: healthjob.NewRunner(reg), Live: true, MinInterval: time.Second, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	mux := http.NewServeMux()
	mux.Handle("/ht/", h)
	mux.HandleFunc("/readyz", h.Readyz)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.arrived <- struct{}{}
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-r.Context().Done():
				f.gone <- struct{}{}
			case <-done:
			}
		}()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *liveFixture) counts() map[string]int64 {
	out := map[string]int64{}
	for name, n := range f.runs {
		out[name] = n.Load()
	}
	return out
}

func (f *liveFixture) wantRuns(t *testing.T, want int64) {
	t.Helper()
	for name, got := range f.counts() {
		if got != want {
			t.Errorf("check %s ran %d times, want %d", name, got, want)
		}
	}
}

// TestLiveFlood: 1,000 concurrent requests run each check once.
func TestLiveFlood(t *testing.T) {
	gate := make(chan struct{})
	close(gate)
	f := serveLive(t, gate)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1000}}
	defer client.CloseIdleConnections()

	const n = 1000
	start := make(chan struct{})
	bodies := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := client.Get(f.url + "/ht/?format=json")
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				err = errors.Join(err, errors.New(resp.Status))
			}
			bodies[i], errs[i] = string(b), err
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if bodies[i] != `{"a":"working","b":"working","c":"working"}`+"\n" {
			t.Fatalf("request %d: body %q", i, bodies[i])
		}
	}
	f.wantRuns(t, 1)
}

// TestLiveInFlight: requests that arrive while the checks run share that
// run, and one whose client leaves does not cancel it for the others. The
// run then serves for MinInterval; the next request after it runs again.
func TestLiveInFlight(t *testing.T) {
	gate := make(chan struct{})
	f := serveLive(t, gate)

	leaderCtx, leave := context.WithCancel(context.Background())
	leaderDone := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(leaderCtx, http.MethodGet, f.url+"/ht/?format=text", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		leaderDone <- err
	}()
	<-f.arrived
	for range 3 {
		<-f.started // the leader's run is in the checks
	}
	leave()
	<-f.gone // the server saw the leader's client go
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want context.Canceled", err)
	}

	const n = 50
	type answer struct {
		code int
		body string
	}
	answers := make(chan answer, n)
	for range n {
		go func() {
			resp, err := http.Get(f.url + "/ht/?format=text")
			if err != nil {
				answers <- answer{body: err.Error()}
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, string(body)}
		}()
	}
	for range n {
		<-f.arrived
	}
	close(gate)
	for range n {
		if a := <-answers; a.code != 200 || a.body != "a: OK\nb: OK\nc: OK\n" {
			t.Fatalf("answer %d %q, want 200 and every check OK", a.code, a.body)
		}
	}
	f.wantRuns(t, 1)

	f.clock.Set(t0.Add(999 * time.Millisecond))
	f.get(t, http.MethodGet, "/ht/")
	f.wantRuns(t, 1)

	f.clock.Set(t0.Add(time.Second))
	if resp, body := f.get(t, http.MethodGet, "/readyz"); resp.StatusCode != 200 {
		t.Errorf("readyz = %d, want 200: %s", resp.StatusCode, body)
	}
	f.wantRuns(t, 2)
}

// TestLiveSubsets runs a subset's checks on their own: its runs are cached
// apart from the whole set's.
func TestLiveSubsets(t *testing.T) {
	gate := make(chan struct{})
	close(gate)
	f := serveLive(t, gate)
	for _, path := range []string{"/ht/sub/", "/ht/sub/", "/ht/", "/ht/"} {
		if resp, body := f.get(t, http.MethodGet, path+"?format=text"); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	f.wantRuns(t, 2)
	if resp, _ := f.get(t, http.MethodGet, "/ht/nope/"); resp.StatusCode != 404 {
		t.Errorf("unknown subset: %d, want 404", resp.StatusCode)
	}
	f.wantRuns(t, 2)
}
