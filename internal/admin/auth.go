package admin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthjob/healthjob/internal/admin/ui"
	"github.com/healthjob/healthjob/internal/store"
)

// The session and flash cookies; both live below Root only.
const (
	sessionCookie = "healthjob_session"
	flashCookie   = "healthjob_flash"
)

// Failed logins: an account takes 5 in 15 minutes, an address 20 (one
// office behind one address mistypes more); past that, that account or
// address is refused until its window ends, without a password check.
const (
	accountFailures = 5
	addressFailures = 20
	failureWindow   = 15 * time.Minute
)

type userKey struct{}

// userOf returns the user logged in for r, nil on the login page.
func userOf(r *http.Request) *store.User {
	u, _ := r.Context().Value(userKey{}).(*store.User)
	return u
}

// authed serves a page that needs a session: without one, it sends the
// browser to the login form, which comes back here after.
func (h *Handler) authed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := h.sessionUser(r)
		if errors.Is(err, store.ErrNoSession) {
			if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
				h.clearCookie(w, r, sessionCookie)
			}
			target := loginPath + "?" + url.Values{"next": {r.URL.RequestURI()}}.Encode()
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), userKey{}, &u)))
	}
}

// SignedIn tells whether r carries a live admin session; other handlers
// (the status API of serve) accept such a request as they accept a key.
func (h *Handler) SignedIn(r *http.Request) bool {
	_, err := h.sessionUser(r)
	return err == nil
}

func (h *Handler) sessionUser(r *http.Request) (store.User, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return store.User{}, store.ErrNoSession
	}
	return h.store.SessionUser(r.Context(), c.Value)
}

type loginPage struct {
	Base
	Next, Username, Error string
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := h.sessionUser(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	page := loginPage{Base: Base{Title: "Log in", Flash: h.takeFlash(w, r)}, Next: next}
	render(w, r, h.log, http.StatusOK, "login", &page)
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	name, password := r.PostFormValue("username"), r.PostFormValue("password")
	page := loginPage{Base: Base{Title: "Log in"}, Next: safeNext(r.PostFormValue("next")), Username: name}
	now := h.now()
	account, peer := strings.ToLower(name), h.clientAddr(r)
	if wait := max(h.logins.blocked(account, now), h.peers.blocked(peer, now)); wait > 0 {
		h.log.Warn("admin: login refused, too many failures", "user", name, "addr", peer)
		w.Header().Set("Retry-After", retryAfter(wait))
		page.Error = "Too many failed logins. Try again in " + ui.Span(wait.Round(time.Minute)+time.Minute) + "."
		render(w, r, h.log, http.StatusTooManyRequests, "login", &page)
		return
	}
	u, err := h.store.Authenticate(r.Context(), name, password)
	if errors.Is(err, store.ErrBadLogin) {
		h.logins.fail(account, now)
		h.peers.fail(peer, now)
		h.log.Warn("admin: failed login", "user", name, "addr", peer)
		page.Error = "Please enter the correct user name and password. Both are case-sensitive."
		render(w, r, h.log, http.StatusUnauthorized, "login", &page)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.logins.forget(account)
	sess, err := h.store.NewSession(r.Context(), u, h.cfg.SessionTTL)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sess.Token, Path: Root, MaxAge: int(sess.Expires.Sub(now) / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r),
	})
	h.log.Info("admin: login", "user", u.Name, "addr", peer)
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := h.store.EndSession(r.Context(), c.Value); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.clearCookie(w, r, sessionCookie)
	h.flash(w, r, "You are logged out.")
	http.Redirect(w, r, loginPath, http.StatusSeeOther)
}

// safeNext keeps a post-login target inside the admin, so that the login
// form cannot send anybody elsewhere.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, Root) || strings.HasPrefix(u.Path, loginPath) ||
		strings.Contains(next, `\`) {
		return Root
	}
	return u.RequestURI()
}

// retryAfter is d in whole seconds, rounded up, for a Retry-After header.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// secure tells whether r came over HTTPS, so that cookies are Secure.
func (h *Handler) secure(r *http.Request) bool {
	switch h.cfg.SecureCookies {
	case "true":
		return true
	case "false":
		return false
	}
	return r.TLS != nil || h.fromProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (h *Handler) fromProxy(r *http.Request) bool {
	peer, ok := peerAddr(r)
	return ok && h.trusted(peer)
}

func (h *Handler) trusted(a netip.Addr) bool {
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(host)
		return a, err == nil
	}
	return ap.Addr(), true
}

// clientAddr is the address failed logins are counted by: the peer, or,
// behind trusted proxies, the last address of X-Forwarded-For that is not
// one of them. An IPv6 client counts by its /64, which one host can change
// at will.
func (h *Handler) clientAddr(r *http.Request) string {
	a, ok := peerAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	if h.trusted(a) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			a = hop
			if !h.trusted(hop) {
				break
			}
		}
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// flash keeps a message for the next page shown, through a cookie.
func (h *Handler) flash(w http.ResponseWriter, r *http.Request, text string) {
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: url.QueryEscape(text), Path: Root,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r),
	})
}

// takeFlash returns the message kept for this page and forgets it.
func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	h.clearCookie(w, r, flashCookie)
	text, err := url.QueryUnescape(c.Value)
	if err != nil {
		return ""
	}
	return text
}

func (h *Handler) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Path: Root, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r)})
}

// limiter counts failures per key in fixed windows.
type limiter struct {
	max    int
	window time.Duration

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	start time.Time
	n     int
}

// limiterKeys bounds the keys a limiter keeps: from there, a failure first
// drops the keys whose window has ended, then, if none has, one at random,
// so that a flood of names or addresses cannot exhaust the memory.
const limiterKeys = 10000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, keys: map[string]*failures{}}
}

// blocked returns how long key stays refused, 0 when it is not.
func (l *limiter) blocked(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.keys[key]
	if !ok || f.n < l.max {
		return 0
	}
	return max(f.start.Add(l.window).Sub(now), 0)
}

func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.keys[key]
	if !ok && len(l.keys) >= limiterKeys {
		for k, f := range l.keys {
			if now.Sub(f.start) >= l.window {
				delete(l.keys, k)
			}
		}
		for k := range l.keys {
			if len(l.keys) < limiterKeys {
				break
			}
			delete(l.keys, k)
		}
	}
	if !ok || now.Sub(f.start) >= l.window {
		f = &failures{start: now}
		l.keys[key] = f
	}
	f.n++
}

func (l *limiter) forget(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}
