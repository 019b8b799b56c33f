package celery

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
)

// fakeBroker answers remote-control requests with canned reply bodies, by
// method, to test how the ping check judges replies no real worker sends.
type fakeBroker struct {
	replies map[string][]string
}

func (b fakeBroker) Open(context.Context) (Conn, error) { return &fakeConn{replies: b.replies}, nil }

type fakeConn struct {
	replies map[string][]string
	inbox   []*Message
}

func (c *fakeConn) ReplyKey() string { return "fake" }

func (c *fakeConn) Broadcast(_ context.Context, m *Message) (int, error) {
	var req controlRequest
	if err := json.Unmarshal(m.Body, &req); err != nil {
		return 0, err
	}
	// A reply to an earlier request comes first; the check must skip it.
	c.inbox = append(c.inbox, &Message{Headers: map[string]any{"ticket": "old"}, Body: []byte(`{"w0": {"ok": "pong"}}`)})
	for _, body := range c.replies[req.Method] {
		c.inbox = append(c.inbox, &Message{Headers: map[string]any{"ticket": req.Ticket}, Body: []byte(body)})
	}
	return len(c.replies[req.Method]), nil
}

func (c *fakeConn) Send(context.Context, string, *Message) error { return nil }

func (c *fakeConn) Receive(ctx context.Context) (*Message, error) {
	if len(c.inbox) == 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	m := c.inbox[0]
	c.inbox = c.inbox[1:]
	return m, nil
}

func (c *fakeConn) Close() error { return nil }

func TestPingJudgesReplies(t *testing.T) {
	pongs := []string{`{"w1": {"ok": "pong"}}`, `{"w2": {"ok": "pong"}}`}
	for _, tc := range []struct {
		name    string
		replies map[string][]string
		queues  []string
		want    string
	}{
		{"pongs", map[string][]string{"ping": pongs}, nil, "working"},
		{"one wrong", map[string][]string{"ping": {`{"w1": {"ok": "pong"}}`, `{"w2": {"ok": "pang"}}`}}, nil,
			"unavailable: Celery worker w2 response was incorrect"},
		{"errors", map[string][]string{"ping": {`{"w1": {"error": "boom"}}`, `{"w2": {"ok": "pong", "extra": 1}}`}}, nil,
			"unavailable: Celery worker w1 response was incorrect\nunavailable: Celery worker w2 response was incorrect"},
		{"not a reply", map[string][]string{"ping": {`[1]`}}, nil, "unavailable: Celery workers unavailable"},
		{"queues", map[string][]string{"ping": pongs, "active_queues": {`{"w1": [{"name": "a"}]}`, `{"w2": [{"name": "b"}]}`}},
			[]string{"a", "b"}, "working"},
		{"queues missing", map[string][]string{"ping": pongs, "active_queues": {`{"w1": [{"name": "a"}]}`, `{"w2": []}`}},
			[]string{"a", "b", "c"}, "unavailable: No worker for Celery task queue b\nunavailable: No worker for Celery task queue c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewPing(PingConfig{Broker: fakeBroker{tc.replies}, Queues: tc.queues, Timeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if got := healthjob.StatusText(c.Check(context.Background())); got != tc.want {
				t.Errorf("status = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPyTitle(t *testing.T) {
	// As Python's str.title() renders them.
	for in, want := range map[string]string{
		"celery":           "Celery",
		"hj-redis-results": "Hj-Redis-Results",
		"my_queue2x":       "My_Queue2X",
		"HIGH.priority":    "High.Priority",
		"émoi":             "Émoi",
	} {
		if got := pyTitle(in); got != want {
			t.Errorf("pyTitle(%q) = %q, want %q", in, got, want)
		}
	}
}
