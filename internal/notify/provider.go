package notify

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
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/healthjob/healthjob/internal/notify/routing"
	"github.com/healthjob/healthjob/internal/outbox"
	"github.com/nicholas-fedor/shoutrrr/pkg/router"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"
)

// Provider delivers notifications to one receiver. An error it wraps with
// outbox.Permanent means that retrying cannot help.
type Provider interface {
	// Send delivers m; body is m as the JSON the webhook posts.
	Send(ctx context.Context, m Message, body []byte) error
}

// DefaultTimeout bounds one delivery attempt.
const DefaultTimeout = 10 * time.Second

// Open returns the provider for a notifier URL:
//
//	http://…, https://…                 the JSON webhook; secret signs its body
//	slack://HOST/PATH                   a Slack-compatible incoming webhook at https://HOST/PATH
//	                                    (Slack, Mattermost, Rocket.Chat); slack+http:// for plain HTTP
//	smtp://[USER:PASS@]HOST[:PORT]/?from=ADDR&to=ADDR[,ADDR][&starttls=true], smtps://…
//	                                    e-mail
//	any other scheme                    a shoutrrr service URL: discord://, teams://, telegram://,
//	                                    ntfy://, pagerduty://, gotify://, … (and slack:// with a token)
func Open(rawURL, secret string, timeout time.Duration) (Provider, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("notifier URL %q is not a URL with a scheme", Redact(rawURL))
	}
	client := &http.Client{Timeout: timeout}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("webhook URL %q names no host", Redact(rawURL))
		}
		return &webhook{url: rawURL, secret: []byte(secret), client: client}, nil
	case "slack", "slack+https", "slack+http":
		if u.User != nil {
			break // shoutrrr's token forms: slack://hook:…@webhook, slack://xoxb:…@channel
		}
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return nil, fmt.Errorf("slack URL %q: want the incoming webhook's URL with slack:// for https://, e.g. slack://hooks.slack.com/services/T000/B000/XXXX", Redact(rawURL))
		}
		hook := *u
		hook.Scheme = "https"
		if u.Scheme == "slack+http" {
			hook.Scheme = "http"
		}
		return &slack{url: hook.String(), client: client}, nil
	case "smtp", "smtps":
		return openEmail(u)
	}
	r, err := router.NewWithOptions(nil, types.SenderOptions{Timeout: timeout, HTTPClient: client}, rawURL)
	if errors.Is(err, router.ErrUnknownService) {
		return nil, fmt.Errorf("notifier URL %q: unknown scheme %s; want http(s)://, slack://, smtp(s):// or one of shoutrrr's: %s",
			Redact(rawURL), u.Scheme, strings.Join(slices.Sorted(slices.Values(new(router.ServiceRouter).ListServices())), ", "))
	}
	if err != nil {
		// shoutrrr's messages may quote the URL, secrets and all.
		return nil, fmt.Errorf("notifier URL %q: %s", Redact(rawURL), strings.ReplaceAll(err.Error(), rawURL, Redact(rawURL)))
	}
	return &shoutrrr{router: r}, nil
}

// webhook posts the message as JSON.
type webhook struct {
	url    string
	secret []byte
	client *http.Client
}

// SignatureHeader carries the HMAC-SHA256 of the body, keyed with the
// notifier's secret, as "sha256=<hex>".
const SignatureHeader = "X-Healthjob-Signature"

func (w *webhook) Send(ctx context.Context, m Message, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return outbox.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ID)
	req.Header.Set("X-Healthjob-Event", m.Event)
	if len(w.secret) > 0 {
		mac := hmac.New(sha256.New, w.secret)
		mac.Write(body)
		req.Header.Set(SignatureHeader, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	return post(w.client, req)
}

// slack posts the text to a Slack-compatible incoming webhook.
type slack struct {
	url    string
	client *http.Client
}

func (s *slack) Send(ctx context.Context, m Message, _ []byte) error {
	body, err := json.Marshal(map[string]string{"text": m.Text()})
	if err != nil {
		return outbox.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return outbox.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return post(s.client, req)
}

// post sends req. A receiver that cannot be reached, times out, is busy
// (408, 425, 429) or fails (5xx) is tried again, no sooner than its
// Retry-After; any other non-2xx answer refuses the message for good.
func post(client *http.Client, req *http.Request) error {
	where := req.URL.Scheme + "://" + req.URL.Host // the path of a webhook is often its secret
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the whole URL
		}
		return fmt.Errorf("POST %s: %w", where, err)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("POST %s: %s: %s", where, resp.Status, strings.Join(strings.Fields(string(excerpt)), " "))
	switch s := resp.StatusCode; {
	case s == http.StatusRequestTimeout || s == http.StatusTooEarly || s == http.StatusTooManyRequests || s >= 500:
		if after, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return outbox.RetryAfter(err, after)
		}
		return err
	}
	return outbox.Permanent(err)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t), true
	}
	return 0, false
}

// shoutrrr sends the text through one shoutrrr service.
type shoutrrr struct {
	router *router.ServiceRouter
}

func (s *shoutrrr) Send(ctx context.Context, m Message, _ []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// The router bounds the send by its timeout; the services take no context.
	if err := s.router.Send(m.Text(), &types.Params{})[0]; err != nil {
		return err
	}
	return nil
}

// Redact hides a notifier URL's secrets for a message: its password, and
// its path and query, where webhooks and tokens keep theirs.
func Redact(s string) string { return routing.Redact(s) }
