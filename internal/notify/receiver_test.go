package notify_test

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// request is what a receiver got.
type request struct {
	Path   string
	Header http.Header
	Body   string
}

// hook is an HTTP receiver that records every request and answers with
// the status its answer function gives (200 when nil).
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	got      chan struct{} // a value per request
	answer   func(n int, w http.ResponseWriter)
}

func newHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{got: make(chan struct{}, 100)}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.requests = append(h.requests, request{Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body)})
	n, answer := len(h.requests), h.answer
	h.mu.Unlock()
	if answer != nil {
		answer(n, w)
	}
	h.got <- struct{}{}
}

// wait waits for the next request.
func (h *hook) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no request within 10s")
	}
}

func (h *hook) all() []request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]request(nil), h.requests...)
}

const (
	mailUser     = "healthjob"
	mailPassword = "mail-s3cret"
)

// mail is what the SMTP receiver got.
type mail struct {
	From string
	To   []string
	Data string
}

// mailServer is a real SMTP server (emersion/go-smtp) on a loopback port
// that takes mail from mailUser and records it.
type mailServer struct {
	addr string
	got  chan mail
}

func newMailServer(t *testing.T) *mailServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mailServer{addr: ln.Addr().String(), got: make(chan mail, 10)}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) {
		return &mailSession{server: m}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback
	srv.ReadTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return m
}

type mailSession struct {
	server *mailServer
	authed bool
	m      mail
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != mailUser || pass != mailPassword {
			return gosmtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}
func (s *mailSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if !s.authed {
		return gosmtp.ErrAuthRequired
	}
	s.m = mail{From: from}
	return nil
}
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.m.To = append(s.m.To, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.Data = string(b)
	s.server.got <- s.m
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

var errNoMail = errors.New("no mail within 10s")

func (m *mailServer) wait() (mail, error) {
	select {
	case got := <-m.got:
		return got, nil
	case <-time.After(10 * time.Second):
		return mail{}, errNoMail
	}
}
