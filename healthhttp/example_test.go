package healthhttp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/healthhttp"
	"github.com/healthjob/healthjob/job"
)

// A Go service mounts the endpoint and the probes on its own mux, with its
// own checks. Its monitor loop (job.Monitor) hands every cycle to the
// handler through OnRun; here one cycle stands for the loop.
func Example() {
	reg := &healthjob.Registry{}
	reg.Register(healthjob.CheckFunc("app", func(ctx context.Context) error { return nil }))
	reg.Register(healthjob.CheckFunc("search", func(ctx context.Context) error {
		return healthjob.Unavailable("connection refused")
	}), healthjob.NonCritical())
	runner := healthjob.NewRunner(reg)

	health, err := healthhttp.New(healthhttp.Config{Runner: runner})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ht/", health)
	mux.HandleFunc("/livez", health.Livez)
	mux.HandleFunc("/readyz", health.Readyz)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// In a service: go job.Monitor(ctx, job.Config{Runner: runner, OnRun: health.Observe}).
	if _, err := job.Cycle(context.Background(), job.Config{Runner: runner, OnRun: health.Observe}); err != nil {
		log.Fatal(err)
	}

	for _, path := range []string{"/ht/?format=text", "/ht/?format=json", "/readyz"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d\n%s", path, resp.StatusCode, body)
	}
	// Output:
	// /ht/?format=text 200
	// app: OK
	// search: unavailable: connection refused
	// /ht/?format=json 200
	// {"app":"working","search":"unavailable: connection refused"}
	// /readyz 200
	// [+]app ok
	// readyz check passed
}

// In live mode the handler runs the checks on request, at most once per
// MinInterval however many requests arrive; no loop is needed.
func Example_live() {
	reg := &healthjob.Registry{}
	reg.Register(healthjob.CheckFunc("app", func(ctx context.Context) error { return nil }))
	health, err := healthhttp.New(healthhttp.Config{Runner: healthjob.NewRunner(reg), Live: true, ErrorStatus: http.StatusServiceUnavailable})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(health)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ht/", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	// Output:
	// 200 text/plain; charset=utf-8
	// app: OK
}
