// Package job is the spec's utilities as a Go API: process a Run (persist
// and/or sync it per the settings), save its checks in one bulk insert, sync
// it to the monitoring server, the settings error, and Monitor — the loop
// `healthjob monitor` runs, usable in-process by a Go service.
package job

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthjob/healthjob"
)

// SettingsError reports a missing or invalid setting: the spec's
// DjangoHealthCheckJobError.
type SettingsError struct {
	Setting string // e.g. "SYNC_SERVER_URL"
	Problem string // e.g. "setting is not set"
}

func (e *SettingsError) Error() string { return e.Setting + " " + e.Problem }

// Store persists runs; healthjob's SQL store implements it.
type Store interface {
	SaveRun(ctx context.Context, run *healthjob.Run) error
}

// Sender delivers a run to the monitoring server. HTTPSender posts it at
// once; a durable queue can stand in its place.
type Sender interface {
	Send(ctx context.Context, run *healthjob.Run) error
}

// Save writes the run's checks to the store in one bulk insert: the spec's
// save_health_check_data_to_db.
func Save(ctx context.Context, s Store, run *healthjob.Run) error {
	if s == nil {
		return &SettingsError{Setting: "DATABASE_URL", Problem: "names no store to save to"}
	}
	return s.SaveRun(ctx, run)
}

// DefaultSyncTimeout is the spec's timeout of one POST to the server.
const DefaultSyncTimeout = 5 * time.Second

// HTTPSender posts runs to {ServerURL}/v1/metrics as JSON with sync_app_id
// set: the spec's sync_health_check_data_to_monitoring_server. A run with
// no checks goes to {ServerURL}/v1/heartbeat: it tells the server that the
// monitor is alive.
type HTTPSender struct {
	ServerURL string       // SYNC_SERVER_URL, the server's base URL
	AppID     string       // SYNC_APP_ID
	Client    *http.Client // nil: a client with DefaultSyncTimeout
}

// HTTPError is a non-2xx answer of the monitoring server.
type HTTPError struct {
	URL        string
	StatusCode int
	Body       string // the start of the body, at most 512 bytes
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("POST %s: %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// MetricsURL joins the server's base URL and /v1/metrics with one slash
// however the base ends.
func MetricsURL(serverURL string) string {
	return strings.TrimRight(serverURL, "/") + "/v1/metrics"
}

// HeartbeatURL joins the server's base URL and /v1/heartbeat as MetricsURL
// does.
func HeartbeatURL(serverURL string) string {
	return strings.TrimRight(serverURL, "/") + "/v1/heartbeat"
}

// Send posts run, with SyncAppID set to s.AppID. A non-2xx answer is an
// *HTTPError carrying the status and the start of the body.
func (s *HTTPSender) Send(ctx context.Context, run *healthjob.Run) error {
	if s.ServerURL == "" {
		return &SettingsError{Setting: "SYNC_SERVER_URL", Problem: "setting is not set"}
	}
	if s.AppID == "" {
		return &SettingsError{Setting: "SYNC_APP_ID", Problem: "setting is not set"}
	}
	payload := *run
	payload.SyncAppID = s.AppID
	body, err := json.Marshal(&payload)
	if err != nil {
		return err
	}
	url := MetricsURL(s.ServerURL)
	if len(run.Checks) == 0 {
		url = HeartbeatURL(s.ServerURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultSyncTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &HTTPError{URL: url, StatusCode: resp.StatusCode, Body: cleanExcerpt(excerpt)}
	}
	return nil
}

// cleanExcerpt makes a body excerpt safe for one log line.
func cleanExcerpt(b []byte) string {
	for !utf8.Valid(b) && len(b) > 0 {
		b = b[:len(b)-1] // the 512-byte cut may split a character
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// Sync posts run to the monitoring server: the spec's
// sync_health_check_data_to_monitoring_server.
func Sync(ctx context.Context, client *http.Client, serverURL, appID string, run *healthjob.Run) error {
	return (&HTTPSender{ServerURL: serverURL, AppID: appID, Client: client}).Send(ctx, run)
}

// The failures Process reports, to tell them apart with errors.Is.
var (
	ErrPersist = errors.New("persist")
	ErrSync    = errors.New("sync")
)

// Processor persists and syncs runs as the settings say: the spec's
// process_payload.
type Processor struct {
	Persist bool   // PERSIST_HEALTH_CHECK_DATA
	Store   Store  // where to persist
	Sync    bool   // SYNC_HEALTH_CHECK_DATA
	Sender  Sender // where to sync
}

// Process saves and syncs run per the settings. It attempts both even when
// the first fails and returns what failed; neither failure is fatal to a
// monitor.
func (p *Processor) Process(ctx context.Context, run *healthjob.Run) error {
	var errs []error
	if p.Persist {
		if err := Save(ctx, p.Store, run); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrPersist, err))
		}
	}
	if p.Sync {
		if p.Sender == nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrSync, &SettingsError{Setting: "SYNC_SERVER_URL", Problem: "setting is not set"}))
		} else if err := p.Sender.Send(ctx, run); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrSync, err))
		}
	}
	return errors.Join(errs...)
}
