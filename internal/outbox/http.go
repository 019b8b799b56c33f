package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthjob/healthjob/job"
)

// HTTPSender posts payloads to a monitoring server's /v1/metrics: JSON, the
// API key as a bearer token, and, with a signing key, an HMAC signature of
// the body and the time. A payload with no checks is a heartbeat, posted to
// HeartbeatURL when set.
type HTTPSender struct {
	URL          string       // the full URL, job.MetricsURL(SYNC_SERVER_URL)
	HeartbeatURL string       // job.HeartbeatURL(SYNC_SERVER_URL); "" posts heartbeats to URL
	APIKey       string       // SYNC_API_KEY; "" sends none
	SigningKey   string       // SYNC_SIGNING_KEY; "" signs nothing
	Client       *http.Client // nil: a client with job.DefaultSyncTimeout
	UserAgent    string       // "" sends Go's

	// Now is the clock of the signature; tests replace it.
	Now func() time.Time
}

// Send posts item.Payload once. A 2xx answer is a delivery. No answer, 408,
// 425, 429 and 5xx are retried (with the answer's Retry-After); so are 401,
// 403 and 404, which a fix on the server or of the settings cures without
// changing the payload. Any other 4xx refuses the payload itself: Permanent.
func (s *HTTPSender) Send(ctx context.Context, item Item) error {
	url := s.URL
	if s.HeartbeatURL != "" && !hasChecks(item.Payload) {
		url = s.HeartbeatURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(item.Payload))
	if err != nil {
		return Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.UserAgent != "" {
		req.Header.Set("User-Agent", s.UserAgent)
	}
	if s.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.APIKey)
	}
	if s.SigningKey != "" {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		req.Header.Set(SignatureHeader, Sign(s.SigningKey, now(), item.Payload))
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: job.DefaultSyncTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	err = &job.HTTPError{URL: url, StatusCode: code, Body: cleanExcerpt(excerpt)}
	switch {
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code == http.StatusTooManyRequests || code >= 500:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return RetryAfter(err, d)
		}
		return err
	case code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusNotFound:
		return err
	case code >= 400:
		return Permanent(err)
	}
	return err // 1xx and 3xx that the client did not follow: retried
}

// hasChecks tells whether a payload carries checks; one that cannot be
// read is left to the receiver to refuse.
func hasChecks(payload []byte) bool {
	var p struct {
		Checks []struct{} `json:"checks"`
	}
	return json.Unmarshal(payload, &p) != nil || len(p.Checks) > 0
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// cleanExcerpt makes a body excerpt safe for one log line.
func cleanExcerpt(b []byte) string {
	for !utf8.Valid(b) && len(b) > 0 {
		b = b[:len(b)-1] // the 512-byte cut may split a character
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// SignatureHeader carries the signature of a payload:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
const SignatureHeader = "X-Healthjob-Signature"

// Sign returns the signature header's value for body at time t.
func Sign(key string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(key, ts, body))
}

func mac(key, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// The ways a signature fails CheckSignature.
var (
	ErrNoSignature  = errors.New("no " + SignatureHeader + " header")
	ErrBadSignature = errors.New(SignatureHeader + ": want t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>")
	ErrWrongMAC     = errors.New(SignatureHeader + ": the signature does not match the body")
)

// CheckSignature verifies header (the SignatureHeader's value) for body: the
// MAC must match, and its time must be within maxAge of now either way, so
// that a captured request cannot be replayed later.
func CheckSignature(header, key string, body []byte, now time.Time, maxAge time.Duration) error {
	if header == "" {
		return ErrNoSignature
	}
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		switch k, v, _ := strings.Cut(strings.TrimSpace(part), "="); k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	sum, herr := hex.DecodeString(sig)
	if err != nil || herr != nil || len(sum) != sha256.Size {
		return ErrBadSignature
	}
	signed := time.Unix(sec, 0)
	if age := now.Sub(signed); age > maxAge || age < -maxAge {
		return fmt.Errorf("%s: signed at %s, more than %s from now: a replay, or a clock out of step", SignatureHeader, signed.UTC().Format(time.RFC3339), maxAge)
	}
	if hmac.Equal(sum, mac(key, ts, body)) {
		return nil
	}
	return ErrWrongMAC
}
