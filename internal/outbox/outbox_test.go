package outbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/outbox"
	"github.com/healthjob/healthjob/internal/store"

	_ "modernc.org/sqlite"
)

// newQueue is a real queue in a SQLite file.
func newQueue(t *testing.T) *store.Queue {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	q, err := db.Queue(context.Background(), store.KindSync, "billing", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func uuid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func enqueue(t *testing.T, q *store.Queue, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := q.Enqueue(context.Background(), uuid(i), []byte(fmt.Sprintf(`{"uuid":%q}`, uuid(i)))); err != nil {
			t.Fatal(err)
		}
	}
}

// receiver is a monitoring server that keeps each payload once, in the
// order it first accepted them, answering as answer says.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	kept     []string
	seen     map[string]bool
	requests int
	answer   func(n int, body string) int // status of the nth request; 0 accepts
	changed  chan struct{}
}

// hang is an answer: wait until the client gives up.
const hang = -1

func newReceiver(t *testing.T, answer func(n int, body string) int) *receiver {
	return newReceiverAt(t, "127.0.0.1:0", answer)
}

// newReceiverAt starts a receiver on addr.
func newReceiverAt(t *testing.T, addr string, answer func(n int, body string) int) *receiver {
	t.Helper()
	r := &receiver{seen: map[string]bool{}, answer: answer, changed: make(chan struct{}, 1)}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests++
		code := r.answer(r.requests, string(b))
		if code == 0 {
			code = http.StatusAccepted
			if r.seen[string(b)] {
				code = http.StatusOK
			} else {
				r.seen[string(b)] = true
				r.kept = append(r.kept, strings.TrimSuffix(strings.TrimPrefix(string(b), `{"uuid":"`), `"}`))
			}
		}
		r.mu.Unlock()
		select {
		case r.changed <- struct{}{}:
		default:
		}
		if code == hang {
			<-req.Context().Done()
			return
		}
		if code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(code)
	}))
	r.Listener.Close()
	r.Listener = ln
	r.Start()
	t.Cleanup(r.Close)
	return r
}

// eventually polls cond until it holds, for at most 30 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// waitKept waits until the receiver kept n payloads.
func (r *receiver) waitKept(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		kept := slices.Clone(r.kept)
		r.mu.Unlock()
		if len(kept) >= n {
			return kept
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("kept %d payloads, want %d", len(kept), n)
		}
	}
}

func uuids(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, uuid(i))
	}
	return out
}

// logs collects a relay's log lines.
type logs struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func relay(q outbox.Queue, url string, log io.Writer) *outbox.Relay {
	return &outbox.Relay{
		Queue:      q,
		Sender:     &outbox.HTTPSender{URL: url, Client: &http.Client{Timeout: 2 * time.Second}},
		Name:       "sync",
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 20 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(log, nil)),
	}
}

// TestRelayFlakyReceiver: a receiver that answers 500 or 503 to half the
// requests, at random (seeded), gets every payload exactly once, in order;
// the queue ends empty.
func TestRelayFlakyReceiver(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	r := newReceiver(t, func(int, string) int {
		switch rnd.IntN(4) {
		case 0:
			return http.StatusInternalServerError
		case 1:
			return http.StatusBadGateway
		}
		return 0
	})
	q := newQueue(t)
	var log logs
	rl := relay(q, r.URL, &log)
	var mu sync.Mutex
	attempts := map[bool]int{}
	rl.OnAttempt = func(_ outbox.Item, err error) {
		mu.Lock()
		attempts[err == nil]++
		mu.Unlock()
	}
	enqueue(t, q, 0, 30)
	rl.Start()
	q.OnEnqueue = rl.Wake
	enqueue(t, q, 30, 60)
	if got := r.waitKept(t, 60); !slices.Equal(got, uuids(0, 60)) {
		t.Errorf("kept %v", got)
	}
	rl.Stop(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if q.Len() != 0 || attempts[true] != 60 || attempts[false] != r.requests-60 || attempts[false] == 0 {
		t.Errorf("Len %d, attempts %v, requests %d", q.Len(), attempts, r.requests)
	}
	if !strings.Contains(log.String(), `msg="outbox: delivery failed, will retry" outbox=sync run=`) ||
		!strings.Contains(log.String(), "500 Internal Server Error") {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestRelayOutage: a receiver that is gone, then back on the same address,
// gets everything queued meanwhile, in order.
func TestRelayOutage(t *testing.T) {
	r := newReceiver(t, func(int, string) int { return 0 })
	addr := r.Listener.Addr().String()
	r.Close() // gone: connections are refused
	q := newQueue(t)
	var log logs
	rl := relay(q, "http://"+addr+"/v1/metrics", &log)
	rl.Start()
	defer rl.Stop(context.Background())
	enqueue(t, q, 0, 5)
	rl.Wake()
	eventually(t, "a refused connection", func() bool { return strings.Contains(log.String(), "connection refused") })
	back := newReceiverAt(t, addr, func(int, string) int { return 0 })
	if got := back.waitKept(t, 5); !slices.Equal(got, uuids(0, 5)) {
		t.Errorf("kept %v", got)
	}
}

// TestRelayRefused: a payload refused for good (400) is dropped, logged
// and counted, and the ones after it are delivered; 401, 404 and 429 are
// retried, and Retry-After is honoured.
func TestRelayRefused(t *testing.T) {
	r := newReceiver(t, func(n int, body string) int {
		switch {
		case strings.Contains(body, uuid(1)):
			return http.StatusBadRequest
		case n == 1:
			return http.StatusUnauthorized
		case n == 2:
			return http.StatusNotFound
		case n == 3:
			return http.StatusServiceUnavailable // with Retry-After: 1
		}
		return 0
	})
	q := newQueue(t)
	var log logs
	rl := relay(q, r.URL, &log)
	var dropped []string
	rl.OnDrop = func(item outbox.Item, err error) { dropped = append(dropped, item.UUID+": "+err.Error()) }
	enqueue(t, q, 0, 3)
	start := time.Now()
	rl.Start()
	got := r.waitKept(t, 2)
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("delivered after %s: Retry-After 1 not honoured", waited)
	}
	rl.Stop(context.Background())
	if !slices.Equal(got, []string{uuid(0), uuid(2)}) || q.Len() != 0 {
		t.Errorf("kept %v, Len %d", got, q.Len())
	}
	if want := []string{uuid(1) + ": POST " + r.URL + ": 400 Bad Request"}; !slices.Equal(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
	if !strings.Contains(log.String(), `level=ERROR msg="outbox: payload refused, dropped" outbox=sync run=`+uuid(1)+` error="POST `+r.URL+`: 400 Bad Request"`) {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestRelayStop: Stop delivers what is queued, retrying until its context
// ends, then leaves the rest queued; it cancels an attempt in flight.
func TestRelayStop(t *testing.T) {
	r := newReceiver(t, func(n int, _ string) int {
		if n == 1 {
			return http.StatusBadGateway
		}
		return 0
	})
	q := newQueue(t)
	rl := relay(q, r.URL, io.Discard)
	rl.Poll = time.Hour // only Stop can make it look
	rl.Start()
	enqueue(t, q, 0, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rl.Stop(ctx)
	if got := r.waitKept(t, 3); !slices.Equal(got, uuids(0, 3)) || q.Len() != 0 {
		t.Errorf("kept %v, Len %d", got, q.Len())
	}

	enqueue(t, q, 3, 4)
	for _, answer := range []int{http.StatusServiceUnavailable, hang} {
		down := newReceiver(t, func(int, string) int { return answer })
		rl = relay(q, down.URL, io.Discard)
		rl.Start()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		rl.Stop(ctx)
		cancel()
		if took := time.Since(start); took < 300*time.Millisecond || took > 5*time.Second || q.Len() != 1 {
			t.Errorf("answer %d: Stop took %s, Len %d; want 300ms, 1 left", answer, took, q.Len())
		}
	}
}
