// Package admin is healthjob's web admin, at /admin/: the records list of
// django-health-check-job's admin at the URL Django gives it
// (/admin/django_health_check_job/heathcheckjob/), with its filters,
// search, sorting and date filter spelled in the URL as Django spells them,
// the detail and status history of a record, CSV and JSON export, deletion
// with a confirmation, and a dashboard of every check's state.
//
// Every page but the login form needs a session: users are made with
// `healthjob createuser`; passwords are bcrypt hashes; the session cookie
// is HttpOnly and SameSite=Lax, and Secure behind TLS. Failed logins are
// limited per account and per address. State-changing requests from another
// site are refused (net/http's CrossOriginProtection), and every answer
// forbids framing, sniffing and inline script.
package admin

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/healthjob/healthjob/internal/admin/ui"
	"github.com/healthjob/healthjob/internal/store"
)

// The admin's places.
const (
	Root        = "/admin/"
	recordsPath = "/admin/django_health_check_job/heathcheckjob/"
	loginPath   = "/admin/login/"
)

// Config is what the admin needs; only Store is required.
type Config struct {
	Store  *store.DB
	Logger *slog.Logger // nil: slog.Default()

	// SessionTTL is how long a login lasts (ADMIN_SESSION_TTL); 0: 12 h.
	SessionTTL time.Duration
	// SecureCookies is ADMIN_SECURE_COOKIES: "auto" ("" too) marks the
	// session cookie Secure when the request came over TLS, or from a
	// trusted proxy with X-Forwarded-Proto: https; "true" always; "false"
	// never.
	SecureCookies string
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed (ADMIN_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// Refresh is how often the dashboard reloads itself; 0: 30 s.
	Refresh time.Duration
	// CountBudget bounds the time a list page spends counting its
	// records; 0: DefaultCountBudget.
	CountBudget time.Duration

	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Handler serves the admin below Root.
type Handler struct {
	cfg     Config
	store   *store.DB
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	handler http.Handler
	logins  *limiter // failed logins per account
	peers   *limiter // failed logins per address
	filters sidebarCache
}

// New returns the admin of cfg.Store.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("admin: no store")
	}
	switch cfg.SecureCookies {
	case "", "auto", "true", "false":
	default:
		return nil, fmt.Errorf("admin: secure cookies %q: want auto, true or false", cfg.SecureCookies)
	}
	if cfg.SessionTTL < 0 || cfg.Refresh < 0 {
		return nil, errors.New("admin: negative session TTL or refresh")
	}
	cfg.SessionTTL = cmp.Or(cfg.SessionTTL, 12*time.Hour)
	cfg.Refresh = cmp.Or(cfg.Refresh, 30*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{
		cfg:    cfg,
		store:  cfg.Store,
		log:    cmp.Or(cfg.Logger, slog.Default()),
		now:    cfg.Now,
		mux:    http.NewServeMux(),
		logins: newLimiter(accountFailures, failureWindow),
		peers:  newLimiter(addressFailures, failureWindow),
	}
	h.routes()
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.message(w, r, http.StatusForbidden, "Forbidden", "This request came from another site, so it was refused. Open the admin and try again from its own pages.")
	}))
	h.handler = securityHeaders(csrf.Handler(h.mux))
	return h, nil
}

// ServeHTTP serves the admin; mount it at Root.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// contentSecurity allows the admin's own files only: no inline script or
// style, no framing, forms posting to the admin only.
const contentSecurity = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", contentSecurity)
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// Off answers every admin request with a page saying why the admin is not
// there: reason, such as "persistence is off". Mount it at Root instead of
// a Handler when there is no store.
func Off(reason string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ui.StaticPrefix+"{hash}/{name}", ui.Static)
	mux.HandleFunc(Root, func(w http.ResponseWriter, r *http.Request) {
		page := messagePage{Base: Base{Title: "The admin is off"}, Text: reason}
		render(w, r, nil, http.StatusServiceUnavailable, "message", &page)
	})
	return securityHeaders(mux)
}

// Base is what every page shows around its content.
type Base struct {
	Title   string
	User    *store.User // nil when logged out
	Section string      // the highlighted section: dashboard, records
	Crumbs  []Crumb
	Flash   string // a one-time message after a redirect
	Refresh int    // seconds after which the page reloads; 0: never
}

// Crumb is one step of the breadcrumbs; the last has no URL.
type Crumb struct{ Text, URL string }

type messagePage struct {
	Base
	Text     string
	LinkText string
	LinkURL  string
}

// message answers status with a page of one message.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	page := messagePage{Base: Base{Title: title, User: userOf(r)}, Text: text}
	if page.User != nil {
		page.LinkText, page.LinkURL = "Back to the records", recordsPath
	}
	render(w, r, h.log, status, "message", &page)
}

// fail answers 500 for an error of the store, which it logs.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("admin", "method", r.Method, "path", r.URL.Path, "error", err)
	h.message(w, r, http.StatusInternalServerError, "Something went wrong",
		"The admin could not read the records store; the error is in healthjob's log. Try again in a moment.")
}

// render writes a page, or a bare 500 when the template fails: a page is
// rendered in full before the first byte is sent.
func render(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, page string, data any) {
	var buf bytes.Buffer
	if err := ui.Execute(&buf, page, data); err != nil {
		cmp.Or(log, slog.Default()).Error("admin: render", "page", page, "path", r.URL.Path, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}
