package job_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/job"
)

func sampleRun() *healthjob.Run {
	return &healthjob.Run{
		UUID:      "550e8400-e29b-41d4-a716-446655440000",
		Timestamp: healthjob.Timestamp{Time: time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)},
		Checks:    []healthjob.Result{{Name: "DatabaseBackend", Status: 1, Message: "working"}},
	}
}

// sink is a monitoring server that records what it receives.
type sink struct {
	*httptest.Server
	requests chan *http.Request
	bodies   chan []byte
}

func newSink(t *testing.T, status int, body string) *sink {
	s := &sink{requests: make(chan *http.Request, 10), bodies: make(chan []byte, 10)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.requests <- r
		s.bodies <- b
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestSyncPayload(t *testing.T) {
	for _, base := range []string{"", "/", "/monitor", "/monitor/"} {
		s := newSink(t, http.StatusCreated, "")
		if err := job.Sync(context.Background(), nil, s.URL+base, "billing", sampleRun()); err != nil {
			t.Fatalf("Sync(%q): %v", base, err)
		}
		r, body := <-s.requests, <-s.bodies
		wantPath := strings.TrimSuffix(base, "/") + "/v1/metrics"
		if r.Method != http.MethodPost || r.URL.Path != wantPath || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("base %q: %s %s %s, want POST %s application/json", base, r.Method, r.URL.Path, r.Header.Get("Content-Type"), wantPath)
		}
		var got struct {
			UUID      string `json:"uuid"`
			Timestamp string `json:"timestamp"`
			SyncAppID string `json:"sync_app_id"`
			Checks    []struct {
				Name    string `json:"name"`
				Status  int    `json:"status"`
				Message string `json:"message"`
			} `json:"checks"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if got.UUID != "550e8400-e29b-41d4-a716-446655440000" || got.Timestamp != "2023-11-20T12:00:00.000000" || got.SyncAppID != "billing" ||
			len(got.Checks) != 1 || got.Checks[0].Name != "DatabaseBackend" || got.Checks[0].Status != 1 || got.Checks[0].Message != "working" {
			t.Errorf("payload = %s", body)
		}
	}
}

// TestSyncHeartbeat: a run with no checks is posted to /v1/heartbeat.
func TestSyncHeartbeat(t *testing.T) {
	s := newSink(t, http.StatusAccepted, "")
	run := sampleRun()
	run.Checks = []healthjob.Result{}
	if err := job.Sync(context.Background(), nil, s.URL+"/monitor/", "billing", run); err != nil {
		t.Fatal(err)
	}
	r, body := <-s.requests, <-s.bodies
	if want := `{"uuid":"550e8400-e29b-41d4-a716-446655440000","timestamp":"2023-11-20T12:00:00.000000","checks":[],"sync_app_id":"billing"}`; r.URL.Path != "/monitor/v1/heartbeat" || string(body) != want {
		t.Errorf("POST %s %s\nwant POST /monitor/v1/heartbeat %s", r.URL.Path, body, want)
	}
}

func TestSyncErrors(t *testing.T) {
	t.Run("Status", func(t *testing.T) {
		s := newSink(t, http.StatusInternalServerError, "database\n  is down"+strings.Repeat("x", 1000))
		err := job.Sync(context.Background(), nil, s.URL, "a", sampleRun())
		var httpErr *job.HTTPError
		if !errors.As(err, &httpErr) || httpErr.StatusCode != 500 {
			t.Fatalf("err = %v, want an HTTPError 500", err)
		}
		want := "POST " + s.URL + "/v1/metrics: 500 Internal Server Error: database is down" + strings.Repeat("x", 512-len("database\n  is down"))
		if err.Error() != want {
			t.Errorf("err =\n%s\nwant\n%s", err, want)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		release := make(chan struct{})
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
		defer s.Close()
		defer close(release)
		start := time.Now()
		err := job.Sync(context.Background(), &http.Client{Timeout: 200 * time.Millisecond}, s.URL, "a", sampleRun())
		if err == nil || !strings.Contains(err.Error(), "Client.Timeout exceeded") || time.Since(start) > 2*time.Second {
			t.Errorf("err = %v after %s, want a client timeout after 200ms", err, time.Since(start))
		}
	})
	t.Run("Refused", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		err := job.Sync(context.Background(), nil, "http://"+addr, "a", sampleRun())
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("err = %v, want connection refused", err)
		}
	})
	t.Run("Settings", func(t *testing.T) {
		err := job.Sync(context.Background(), nil, "", "a", sampleRun())
		var se *job.SettingsError
		if !errors.As(err, &se) || err.Error() != "SYNC_SERVER_URL setting is not set" {
			t.Errorf("err = %v, want the SettingsError the spec's example raises", err)
		}
		if err := job.Sync(context.Background(), nil, "http://x", "", sampleRun()); err == nil || err.Error() != "SYNC_APP_ID setting is not set" {
			t.Errorf("err = %v", err)
		}
	})
}

type failingStore struct{ calls int }

func (s *failingStore) SaveRun(context.Context, *healthjob.Run) error {
	s.calls++
	return errors.New("disk I/O error")
}

type recordingSender struct{ runs []*healthjob.Run }

func (s *recordingSender) Send(_ context.Context, run *healthjob.Run) error {
	s.runs = append(s.runs, run)
	return nil
}

func TestProcessDoesBoth(t *testing.T) {
	st, snd := &failingStore{}, &recordingSender{}
	p := &job.Processor{Persist: true, Store: st, Sync: true, Sender: snd}
	err := p.Process(context.Background(), sampleRun())
	if !errors.Is(err, job.ErrPersist) || errors.Is(err, job.ErrSync) || err.Error() != "persist: disk I/O error" {
		t.Errorf("err = %v, want only the persist failure", err)
	}
	if st.calls != 1 || len(snd.runs) != 1 {
		t.Errorf("store called %d times, sender %d; want both once even though saving failed", st.calls, len(snd.runs))
	}
	off := &job.Processor{Store: st, Sender: snd}
	if err := off.Process(context.Background(), sampleRun()); err != nil || st.calls != 1 || len(snd.runs) != 1 {
		t.Errorf("with both settings off: err %v, store %d, sender %d; want nothing done", err, st.calls, len(snd.runs))
	}
}
