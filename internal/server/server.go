// Package server is `healthjob serve`, the monitoring server of a fleet:
// POST /v1/metrics takes the payloads that monitors (healthjob's, or the
// original Python one) deliver and stores each once, by its uuid, with its
// records and the current state of its checks; POST /v1/heartbeat takes a
// run with no checks, which only says that its monitor is alive. A JSON
// status API reads them back for dashboards and scripts:
//
//	GET /v1/apps                                  the applications and how many of their checks fail
//	GET /v1/apps/{app}/checks                     each check's current status and last change
//	GET /v1/apps/{app}/checks/{name}/history      its records, newest first, by pages
//
// with /livez and /readyz. The server keeps no state beside its database
// but a short cache of API keys, so that replicas may run behind any load
// balancer on one PostgreSQL.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/outbox"
	"github.com/healthjob/healthjob/internal/store"
)

// Config is what a Server needs.
type Config struct {
	Store *store.DB

	// OpenApps are the app ids whose payloads are taken without an API
	// key: SERVE_OPEN_APPS, for monitors that send none, such as the
	// original Python one.
	OpenApps []string
	// SigningKey, when set (SERVE_SIGNING_KEY), makes every payload sent
	// with an API key carry a valid outbox.SignatureHeader no older than
	// SignatureMaxAge (0: DefaultSignatureMaxAge).
	SigningKey      string
	SignatureMaxAge time.Duration

	// Session, when set, tells whether a request comes from a signed-in
	// administrator, who may read every application's status without an
	// API key: the admin UI's session check.
	Session func(*http.Request) bool

	// Observe, when set, is told of every payload: its result (accepted,
	// duplicate, rejected or failed) and how long it took.
	Observe func(result string, d time.Duration)

	// Writers is how many transactions store payloads at once, each a
	// batch of the ones that arrived meanwhile: 0 means 1 on SQLite, which
	// has one writer, and 4 on PostgreSQL and MySQL.
	Writers int

	Logger *slog.Logger
	Now    func() time.Time // the clock of signatures; nil is time.Now
}

// maxBatch bounds the payloads of one transaction.
const maxBatch = 100

// DefaultSignatureMaxAge is how old a signature may be.
const DefaultSignatureMaxAge = 5 * time.Minute

// keyTTL is how long a replica trusts what it looked up of an API key: a
// revocation takes effect everywhere within it.
const keyTTL = 10 * time.Second

// Server serves the API; see the package documentation.
type Server struct {
	cfg    Config
	log    *slog.Logger
	keys   keyCache
	writer *writer
}

// New returns a server of cfg, with its writers started; Close stops them.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SignatureMaxAge <= 0 {
		cfg.SignatureMaxAge = DefaultSignatureMaxAge
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 4
		if cfg.Store.Engine() == "sqlite" {
			cfg.Writers = 1
		}
	}
	return &Server{cfg: cfg, log: cfg.Logger, keys: keyCache{m: map[string]cachedKey{}},
		writer: startWriter(cfg.Store, cfg.Writers, maxBatch)}
}

// Close stops the writers, once the requests are drained (see Serve).
func (s *Server) Close() { s.writer.close() }

// Handler routes the API, /livez and /readyz. The admin UI and /metrics
// mount beside it on the caller's mux.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, r *http.Request) { s.ingest(w, r, Decode) })
	mux.HandleFunc("POST /v1/heartbeat", func(w http.ResponseWriter, r *http.Request) { s.ingest(w, r, DecodeHeartbeat) })
	mux.HandleFunc("GET /v1/apps", s.apps)
	mux.HandleFunc("GET /v1/apps/{app}/checks", s.checks)
	mux.HandleFunc("GET /v1/apps/{app}/checks/{name}/history", s.history)
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	return mux
}

// The results Observe hears.
const (
	Accepted  = "accepted"
	Duplicate = "duplicate"
	Rejected  = "rejected"
	Failed    = "failed"
)

// ingest is POST /v1/metrics and /v1/heartbeat, whose payloads decode
// reads: 202 for a new payload, 200 for one stored before, 4xx naming the
// field for a bad one, 503 when the database fails.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, decode func([]byte) (*healthjob.Run, error)) {
	start := time.Now()
	result := Rejected
	defer func() {
		if s.cfg.Observe != nil {
			s.cfg.Observe(result, time.Since(start))
		}
	}()
	reject := func(code int, err *FieldError) {
		s.log.Warn("payload rejected", "status", code, "error", err.Error(), "remote", r.RemoteAddr)
		writeError(w, code, err)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		reject(http.StatusUnsupportedMediaType, fieldErr("Content-Type", "want application/json, got %s", quote(r.Header.Get("Content-Type"))))
		return
	}
	key, keyErr := s.apiKey(r)
	if keyErr != nil {
		result = s.authFailure(w, r, keyErr, reject)
		return
	}
	body, code, berr := readBody(w, r)
	if berr != nil {
		reject(code, berr)
		return
	}
	run, derr := decode(body)
	if derr != nil {
		reject(http.StatusBadRequest, derr.(*FieldError))
		return
	}
	switch {
	case key == nil && !slices.Contains(s.cfg.OpenApps, run.SyncAppID):
		w.Header().Set("WWW-Authenticate", `Bearer realm="healthjob"`)
		reject(http.StatusUnauthorized, fieldErr("Authorization", "no API key; create one for %s with `healthjob apikey create`", quote(run.SyncAppID)))
		return
	case key != nil && !key.Allows(run.SyncAppID):
		reject(http.StatusForbidden, fieldErr("sync_app_id", "the API key is for %s, not %s", quote(key.App), quote(run.SyncAppID)))
		return
	case key != nil && s.cfg.SigningKey != "":
		if err := outbox.CheckSignature(r.Header.Get(outbox.SignatureHeader), s.cfg.SigningKey, body, s.cfg.Now(), s.cfg.SignatureMaxAge); err != nil {
			reject(http.StatusUnauthorized, &FieldError{Field: outbox.SignatureHeader, Msg: strings.TrimPrefix(err.Error(), outbox.SignatureHeader+": ")})
			return
		}
	}
	stored, err := s.writer.ingest(r.Context(), run)
	if err != nil {
		result = Failed
		s.log.Error("payload not stored", "run", run.UUID, "app", run.SyncAppID, "error", err)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the database is unavailable; retry later"})
		return
	}
	if !stored {
		result = Duplicate
		writeJSON(w, http.StatusOK, ingested{run.UUID, true})
		return
	}
	result = Accepted
	writeJSON(w, http.StatusAccepted, ingested{run.UUID, false})
}

// ingested is the answer to a payload stored, or stored before.
type ingested struct {
	UUID      string `json:"uuid"`
	Duplicate bool   `json:"duplicate"`
}

// readBody reads at most MaxBody bytes of the request; an error comes with
// its status, 413 or 400.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, *FieldError) {
	if r.ContentLength > MaxBody {
		return nil, http.StatusRequestEntityTooLarge, fieldErr("body", "want at most %d bytes (1 MiB), got %d", MaxBody, r.ContentLength)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, fieldErr("body", "want at most %d bytes (1 MiB), got more", MaxBody)
	case err != nil:
		return nil, http.StatusBadRequest, fieldErr("body", "cannot read: %v", err)
	}
	return body, 0, nil
}

// errBadKey is an Authorization header that names no valid key.
var errBadKey = errors.New("unknown or revoked API key")

// apiKey returns the request's valid API key, nil when it sends none, or an
// error for a header that is not a valid key. A database failure is
// returned as is.
func (s *Server) apiKey(r *http.Request) (*store.APIKey, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	scheme, key, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return nil, errors.New(`want "Bearer <API key>"`)
	}
	return s.keys.lookup(r.Context(), s.cfg.Store, strings.TrimSpace(key))
}

// authFailure answers a request whose Authorization failed: 401, or 503
// when the keys could not be read.
func (s *Server) authFailure(w http.ResponseWriter, r *http.Request, err error, reject func(int, *FieldError)) string {
	if !isStoreError(err) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="healthjob", error="invalid_token"`)
		reject(http.StatusUnauthorized, &FieldError{Field: "Authorization", Msg: err.Error()})
		return Rejected
	}
	s.log.Error("cannot read the API keys", "error", err, "remote", r.RemoteAddr)
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the database is unavailable; retry later"})
	return Failed
}

// storeError marks a failure to read the keys, as opposed to a bad key.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func isStoreError(err error) bool {
	var se *storeError
	return errors.As(err, &se)
}

// keyCache remembers API key lookups, found or not, for keyTTL.
type keyCache struct {
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	key   *store.APIKey // nil: no valid key
	until time.Time
}

// maxCachedKeys bounds the cache against a flood of made-up keys.
const maxCachedKeys = 10000

func (c *keyCache) lookup(ctx context.Context, db *store.DB, key string) (*store.APIKey, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if !ok || now.After(e.until) {
		k, err := db.LookupAPIKey(ctx, key)
		switch {
		case errors.Is(err, store.ErrNoAPIKey):
			e = cachedKey{until: now.Add(keyTTL)}
		case err != nil:
			return nil, &storeError{err}
		default:
			e = cachedKey{key: &k, until: now.Add(keyTTL)}
		}
		c.mu.Lock()
		if len(c.m) >= maxCachedKeys {
			clear(c.m)
		}
		c.m[key] = e
		c.mu.Unlock()
	}
	if e.key == nil {
		return nil, errBadKey
	}
	return e.key, nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Store.SQL().PingContext(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) //nolint:errcheck // the client went away
}

// writeError answers {"error": "field: problem", "field": "field"}.
func writeError(w http.ResponseWriter, code int, err *FieldError) {
	writeJSON(w, code, map[string]string{"error": err.Error(), "field": err.Field})
}

// Serve serves h on ln until ctx is done, then stops accepting connections
// and lets the requests in flight finish, for at most drain.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, drain time.Duration, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("HTTP server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining the requests in flight", "drain", drain)
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("HTTP server: shutdown: %w", err)
	}
	<-served
	return nil
}
