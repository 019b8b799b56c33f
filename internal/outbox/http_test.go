package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/healthjob/healthjob/job"
)

// TestHTTPSender: what it sends, and how it classes each answer.
func TestHTTPSender(t *testing.T) {
	now := time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)
	var status int
	var header http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header, body = r.Header, nil
		body, _ = io.ReadAll(r.Body)
		switch status {
		case 429:
			w.Header().Set("Retry-After", "7")
		case 503:
			w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
		}
		w.WriteHeader(status)
		io.WriteString(w, "  answer\n\tfrom the server ")
	}))
	defer srv.Close()
	s := &HTTPSender{URL: srv.URL + "/v1/metrics", APIKey: "hj_key", SigningKey: "s3cret", UserAgent: "healthjob/test", Now: func() time.Time { return now }}
	item := Item{UUID: "u", Payload: []byte(`{"uuid":"u"}`)}

	status = 202
	if err := s.Send(context.Background(), item); err != nil {
		t.Fatal(err)
	}
	if string(body) != `{"uuid":"u"}` || header.Get("Content-Type") != "application/json" || header.Get("Authorization") != "Bearer hj_key" ||
		header.Get("User-Agent") != "healthjob/test" {
		t.Errorf("sent %s with %v", body, header)
	}
	if err := CheckSignature(header.Get(SignatureHeader), "s3cret", body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("signature %q: %v", header.Get(SignatureHeader), err)
	}

	for _, tt := range []struct {
		status     int
		permanent  bool
		retryAfter time.Duration // -1: none
	}{
		{200, false, -1}, {204, false, -1},
		{400, true, -1}, {413, true, -1}, {415, true, -1}, {422, true, -1},
		{401, false, -1}, {403, false, -1}, {404, false, -1},
		{408, false, -1}, {429, false, 7 * time.Second},
		{500, false, -1}, {502, false, -1}, {503, false, 90 * time.Second},
	} {
		status = tt.status
		err := s.Send(context.Background(), item)
		if tt.status < 300 {
			if err != nil {
				t.Errorf("%d: %v", tt.status, err)
			}
			continue
		}
		var he *job.HTTPError
		if !errors.As(err, &he) || he.StatusCode != tt.status || he.Body != "answer from the server" ||
			err.Error() != fmt.Sprintf("POST %s/v1/metrics: %d %s: answer from the server", srv.URL, tt.status, http.StatusText(tt.status)) {
			t.Errorf("%d: %v", tt.status, err)
		}
		if IsPermanent(err) != tt.permanent {
			t.Errorf("%d: permanent %v, want %v", tt.status, IsPermanent(err), tt.permanent)
		}
		var ra *retryAfter
		got := time.Duration(-1)
		if errors.As(err, &ra) {
			got = ra.after
		}
		// The HTTP date is read against the real clock: allow its drift.
		if got != tt.retryAfter && !(tt.status == 503 && got >= 0) {
			t.Errorf("%d: Retry-After %s, want %s", tt.status, got, tt.retryAfter)
		}
	}
	srv.Close()
	if err := s.Send(context.Background(), item); err == nil || IsPermanent(err) {
		t.Errorf("no server: %v, want a retryable error", err)
	}
}

// TestHTTPSenderHeartbeat: a payload with no checks goes to HeartbeatURL,
// one with checks to URL, and an error names the URL posted to.
func TestHTTPSenderHeartbeat(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if r.URL.Path == "/v1/heartbeat" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	s := &HTTPSender{URL: srv.URL + "/v1/metrics", HeartbeatURL: srv.URL + "/v1/heartbeat"}
	withChecks := Item{Payload: []byte(`{"uuid":"u","checks":[{"name":"a","status":1,"message":"\"checks\":[]"}]}`)}
	if err := s.Send(context.Background(), withChecks); err != nil {
		t.Fatal(err)
	}
	for _, payload := range []string{`{"uuid":"u","checks":[]}`, `{"uuid":"u","checks":null}`, `{"uuid":"u"}`} {
		err := s.Send(context.Background(), Item{Payload: []byte(payload)})
		if want := "POST " + srv.URL + "/v1/heartbeat: 503 Service Unavailable"; err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", payload, err, want)
		}
	}
	if want := []string{"/v1/metrics", "/v1/heartbeat", "/v1/heartbeat", "/v1/heartbeat"}; !slices.Equal(paths, want) {
		t.Errorf("posted to %v, want %v", paths, want)
	}
}

// TestBackoff: MinBackoff doubled per failure, capped, jittered in its
// upper half, never shorter than a Retry-After, which is itself capped.
func TestBackoff(t *testing.T) {
	r := &Relay{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for _, tt := range []struct {
		n        int
		err      error
		min, max time.Duration
	}{
		{1, nil, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, nil, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, nil, 400 * time.Millisecond, 800 * time.Millisecond},
		{5, nil, 500 * time.Millisecond, time.Second},
		{80, nil, 500 * time.Millisecond, time.Second},
		{1, RetryAfter(errors.New("busy"), 3*time.Second), 3 * time.Second, 3 * time.Second},
		{1, RetryAfter(errors.New("busy"), 48*time.Hour), time.Hour, time.Hour},
	} {
		for range 100 {
			if d := r.backoff(tt.n, tt.err); d < tt.min || d > tt.max {
				t.Fatalf("backoff(%d, %v) = %s, want %s to %s", tt.n, tt.err, d, tt.min, tt.max)
			}
		}
	}
}

// TestCheckSignature: the ways a signature fails.
func TestCheckSignature(t *testing.T) {
	now := time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"uuid":"u"}`)
	good := Sign("k", now, body)
	for _, tt := range []struct{ header, want string }{
		{good, ""},
		{Sign("k", now.Add(4*time.Minute), body), ""},
		{"", "no X-Healthjob-Signature header"},
		{"v1=" + good[len("t=1700481600,v1="):], "X-Healthjob-Signature: want t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>"},
		{"t=1700481600,v1=abc", "X-Healthjob-Signature: want t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>"},
		{"t=1700481600", "X-Healthjob-Signature: want t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>"},
		{Sign("other", now, body), "X-Healthjob-Signature: the signature does not match the body"},
		{Sign("k", now.Add(-10*time.Minute), body), "X-Healthjob-Signature: signed at 2023-11-20T11:50:00Z, more than 5m0s from now: a replay, or a clock out of step"},
		{Sign("k", now.Add(10*time.Minute), body), "X-Healthjob-Signature: signed at 2023-11-20T12:10:00Z, more than 5m0s from now: a replay, or a clock out of step"},
	} {
		err := CheckSignature(tt.header, "k", body, now, 5*time.Minute)
		if (err == nil && tt.want != "") || (err != nil && err.Error() != tt.want) {
			t.Errorf("CheckSignature(%q) = %v, want %q", tt.header, err, tt.want)
		}
	}
	// As Python computes it: hmac.new(b"k", b"1700481600." + body, hashlib.sha256).hexdigest()
	if want := "t=1700481600,v1=9cc4fc70b48b08bc6f4d245231fa2f6763604452475524bfc6a04ac813f1e234"; good != want {
		t.Errorf("Sign = %s, want %s", good, want)
	}
}
