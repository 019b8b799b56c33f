package job_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/job"
)

// A monitoring server receives the payload with sync_app_id added.
func ExampleSync() {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path)
		fmt.Println(string(body))
	}))
	defer server.Close()

	run := &healthjob.Run{
		UUID:      "550e8400-e29b-41d4-a716-446655440000",
		Timestamp: healthjob.Timestamp{Time: time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)},
		Checks:    []healthjob.Result{{Name: "DatabaseBackend", Status: 1, Message: "working"}},
	}
	if err := job.Sync(context.Background(), nil, server.URL, "billing", run); err != nil {
		fmt.Println(err)
	}
	// Output:
	// POST /v1/metrics
	// {"uuid":"550e8400-e29b-41d4-a716-446655440000","timestamp":"2023-11-20T12:00:00.000000","checks":[{"name":"DatabaseBackend","status":1,"message":"working"}],"sync_app_id":"billing"}
}

// memoryStore is a Store of the caller's own; healthjob's binary uses its SQL store.
type memoryStore struct{ records []healthjob.Result }

func (s *memoryStore) SaveRun(_ context.Context, run *healthjob.Run) error {
	s.records = append(s.records, run.Checks...)
	return nil
}

func ExampleSave() {
	s := &memoryStore{}
	run := &healthjob.Run{Checks: []healthjob.Result{
		{Name: "DatabaseBackend", Status: 1, Message: "working"},
		{Name: "CacheBackend", Status: 0, Message: "unavailable"},
	}}
	if err := job.Save(context.Background(), s, run); err != nil {
		fmt.Println(err)
	}
	fmt.Println(len(s.records), "records saved")
	// Output: 2 records saved
}

// Process persists and syncs as PERSIST_HEALTH_CHECK_DATA and
// SYNC_HEALTH_CHECK_DATA say; a missing setting is a SettingsError.
func ExampleProcessor_Process() {
	p := &job.Processor{Persist: true, Store: &memoryStore{}, Sync: true}
	err := p.Process(context.Background(), &healthjob.Run{})
	fmt.Println(err)
	// Output: sync: SYNC_SERVER_URL setting is not set
}

// A Go service runs the monitor loop in-process with a check of its own.
func ExampleMonitor() {
	reg := &healthjob.Registry{}
	reg.Register(healthjob.CheckFunc("MyService", func(ctx context.Context) error {
		return nil // ping your service here
	}))
	ctx, cancel := context.WithCancel(context.Background())
	err := job.Monitor(ctx, job.Config{
		Runner:   healthjob.NewRunner(reg),
		Interval: 30 * time.Second,
		Console:  os.Stdout,
		OnRun:    func(*healthjob.Run) { cancel() }, // stop after the first cycle
	})
	fmt.Println("stopped:", err)
	// Output:
	// MyService                ... working
	// stopped: <nil>
}
