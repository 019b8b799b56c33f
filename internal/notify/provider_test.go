package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/healthjob/healthjob/internal/notify"
	"github.com/healthjob/healthjob/internal/outbox"
)

var message = notify.Message{
	ID: "0b9f3c1e-8a4d-4a57-9d1e-3f3c2b1a0e9d", Event: notify.Triggered, App: "shop", Check: "RedisHealthCheck",
	State: notify.Failing, Previous: notify.OK, Message: "unavailable: Connection refused",
	Since: time.Date(2026, 11, 26, 23, 40, 1, 0, time.UTC), RunUUID: "5c7e2a9b-1d3f-4e6a-8b0c-2d4f6a8b0c1e",
}

const messageJSON = `{"id":"0b9f3c1e-8a4d-4a57-9d1e-3f3c2b1a0e9d","event":"triggered","app":"shop","check":"RedisHealthCheck",` +
	`"state":"failing","previous_state":"ok","message":"unavailable: Connection refused","since":"2026-11-26T23:40:01Z",` +
	`"run_uuid":"5c7e2a9b-1d3f-4e6a-8b0c-2d4f6a8b0c1e"}`

const messageText = "[shop] RedisHealthCheck is failing\nunavailable: Connection refused\n" +
	"failing since 2026-11-26 23:40:01 UTC, run 5c7e2a9b-1d3f-4e6a-8b0c-2d4f6a8b0c1e"

func send(t *testing.T, rawURL, secret string) error {
	t.Helper()
	p, err := notify.Open(rawURL, secret, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(message)
	if err != nil {
		t.Fatal(err)
	}
	return p.Send(context.Background(), message, body)
}

func TestMessage(t *testing.T) {
	body, err := json.Marshal(message)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != messageJSON {
		t.Errorf("JSON =\n%s\nwant\n%s", body, messageJSON)
	}
	if got := message.Text(); got != messageText {
		t.Errorf("Text =\n%s\nwant\n%s", got, messageText)
	}
	titles := []struct {
		m    notify.Message
		want string
	}{
		{notify.Message{Event: notify.Resolved, Check: "DiskUsage", State: notify.OK}, "DiskUsage is ok again"},
		{notify.Message{Event: notify.Resolved, App: "a", Check: "DiskUsage", State: notify.Warning}, "[a] DiskUsage is no longer failing, but warning"},
		{notify.Message{Event: notify.Reminder, Check: "DiskUsage", State: notify.Failing}, "DiskUsage is still failing"},
		{notify.Message{Event: notify.Triggered, Check: "DiskUsage", State: notify.Warning}, "DiskUsage is warning"},
	}
	for _, tt := range titles {
		if got := tt.m.Title(); got != tt.want {
			t.Errorf("Title = %q, want %q", got, tt.want)
		}
	}
}

func TestWebhook(t *testing.T) {
	h := newHook(t)
	if err := send(t, h.URL+"/hooks/healthjob", "hmac-key"); err != nil {
		t.Fatal(err)
	}
	got := h.all()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	r := got[0]
	mac := hmac.New(sha256.New, []byte("hmac-key"))
	mac.Write([]byte(messageJSON))
	want := map[string]string{
		"Content-Type":          "application/json",
		"Idempotency-Key":       message.ID,
		"X-Healthjob-Event":     "triggered",
		"X-Healthjob-Signature": "sha256=" + hex.EncodeToString(mac.Sum(nil)),
	}
	for k, v := range want {
		if r.Header.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, r.Header.Get(k), v)
		}
	}
	if r.Path != "/hooks/healthjob" || r.Body != messageJSON {
		t.Errorf("POST %s %s, want /hooks/healthjob %s", r.Path, r.Body, messageJSON)
	}
	if err := send(t, h.URL+"/unsigned", ""); err != nil {
		t.Fatal(err)
	}
	if sig := h.all()[1].Header.Get(notify.SignatureHeader); sig != "" {
		t.Errorf("unsigned webhook got a signature %q", sig)
	}
}

func TestWebhookFailures(t *testing.T) {
	h := newHook(t)
	h.answer = func(n int, w http.ResponseWriter) {
		switch n {
		case 1:
			http.Error(w, "boom", http.StatusInternalServerError)
		case 2:
			w.Header().Set("Retry-After", "7")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case 3:
			http.Error(w, "no such hook", http.StatusNotFound)
		}
	}
	where := "POST " + h.URL
	closed := "http://" + healthjobtest.ClosedPort(t)
	tests := []struct {
		url       string
		want      string
		permanent bool
	}{
		{h.URL + "/services/T0/B0/SECRET", where + ": 500 Internal Server Error: boom", false},
		{h.URL + "/services/T0/B0/SECRET", where + ": 429 Too Many Requests: slow down", false},
		{h.URL + "/services/T0/B0/SECRET", where + ": 404 Not Found: no such hook", true},
		{closed + "/services/T0/B0/SECRET", "POST " + closed + ": dial tcp " + strings.TrimPrefix(closed, "http://") + ": connect: connection refused", false},
	}
	for _, tt := range tests {
		err := send(t, tt.url, "")
		if err == nil || err.Error() != tt.want || outbox.IsPermanent(err) != tt.permanent {
			t.Errorf("Send = %v (permanent %v), want %s (permanent %v)", err, outbox.IsPermanent(err), tt.want, tt.permanent)
		}
	}
}

func TestSlack(t *testing.T) {
	h := newHook(t)
	if err := send(t, "slack+http://"+strings.TrimPrefix(h.URL, "http://")+"/services/T0/B0/XXXX", ""); err != nil {
		t.Fatal(err)
	}
	r := h.all()[0]
	want, _ := json.Marshal(map[string]string{"text": messageText})
	if r.Path != "/services/T0/B0/XXXX" || r.Body != string(want) || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST %s %s (%s), want /services/T0/B0/XXXX %s", r.Path, r.Body, r.Header.Get("Content-Type"), want)
	}
}

func TestEmail(t *testing.T) {
	m := newMailServer(t)
	u := "smtp://" + mailUser + ":" + mailPassword + "@" + m.addr + "/?from=healthjob@example.com&to=ops@example.com,dev@example.com"
	if err := send(t, u, ""); err != nil {
		t.Fatal(err)
	}
	got, err := m.wait()
	if err != nil {
		t.Fatal(err)
	}
	if got.From != "healthjob@example.com" || strings.Join(got.To, ",") != "ops@example.com,dev@example.com" {
		t.Errorf("envelope %s -> %v", got.From, got.To)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{
		"From":         "healthjob@example.com",
		"To":           "ops@example.com, dev@example.com",
		"Subject":      "[shop] RedisHealthCheck is failing",
		"Message-Id":   "<" + message.ID + "@healthjob>",
		"Content-Type": "text/plain; charset=utf-8",
	}
	for k, v := range headers {
		if msg.Header.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, msg.Header.Get(k), v)
		}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(messageText, "\n", "\r\n") + "\r\n"; string(body) != want {
		t.Errorf("body =\n%q\nwant\n%q", body, want)
	}
}

func TestEmailRefused(t *testing.T) {
	m := newMailServer(t)
	u := "smtp://" + mailUser + ":wrong@" + m.addr + "/?from=healthjob@example.com&to=ops@example.com"
	err := send(t, u, "")
	want := "smtp " + m.addr + ": 535 5.7.8 Authentication failed"
	if err == nil || err.Error() != want || outbox.IsPermanent(err) {
		t.Errorf("Send = %v (permanent %v), want %s, retried: the credentials can be fixed", err, outbox.IsPermanent(err), want)
	}
}

// TestShoutrrr sends through one of shoutrrr's services, ntfy, to a local
// receiver: the services that take a host of their own can be tested so.
func TestShoutrrr(t *testing.T) {
	h := newHook(t)
	h.answer = func(_ int, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x1","event":"message"}`)
	}
	if err := send(t, "ntfy://"+strings.TrimPrefix(h.URL, "http://")+"/alerts?scheme=http", ""); err != nil {
		t.Fatal(err)
	}
	r := h.all()[0]
	if r.Path != "/alerts" || r.Body != messageText {
		t.Errorf("POST %s %q, want /alerts %q", r.Path, r.Body, messageText)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"slack://hooks.slack.com", `slack URL "slack://hooks.slack.com": want the incoming webhook's URL with slack:// for https://, e.g. slack://hooks.slack.com/services/T000/B000/XXXX`},
		{"smtp://mail:25/?to=ops@example.com", `smtp URL "smtp://mail:25/*****": from: want the sender's address, e.g. ?from=healthjob@example.com`},
		{"smtp://mail:25/?from=a@example.com", `smtp URL "smtp://mail:25/*****": to: want the recipients' addresses, comma-separated, e.g. &to=ops@example.com`},
		{"smtp://mail:25/?from=a@example.com&to=b@example.com&tls=yes", `smtp URL "smtp://mail:25/*****": unknown parameter tls; want from, to and starttls`},
		{"https:///hook", `webhook URL "https:///*****" names no host`},
	}
	for _, tt := range tests {
		if _, err := notify.Open(tt.url, "", 0); err == nil || err.Error() != tt.want {
			t.Errorf("Open(%q) = %v, want %s", tt.url, err, tt.want)
		}
	}
	_, err := notify.Open("gopher://x/y", "", 0)
	if want := `notifier URL "gopher://x/*****": unknown scheme gopher; want http(s)://, slack://, smtp(s):// or one of shoutrrr's: bark, discord,`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Open(gopher://) = %v, want it to start with %s", err, want)
	}
}
