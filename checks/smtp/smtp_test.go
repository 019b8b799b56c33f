package smtp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/healthjob/healthjob/checks/smtp"
	"github.com/healthjob/healthjob/healthjobtest"
)

const (
	user     = "monitor"
	password = "s3cret-pass-never-shown"
)

// server is a real SMTP server (emersion/go-smtp) on a loopback port.
type server struct {
	startTLS bool     // offer STARTTLS
	implicit bool     // speak TLS from the first byte
	mechs    []string // AUTH mechanisms offered
	tlsOnly  bool     // offer AUTH only over TLS, as most servers do
}

// start serves s until the test ends and returns its address.
func (s server) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) {
		return session{mechs: s.mechs}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = !s.tlsOnly
	srv.ReadTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0) // a client that hangs up early is no news here
	if s.startTLS {
		srv.TLSConfig = testTLS(t)
	}
	if s.implicit {
		ln = tls.NewListener(ln, testTLS(t))
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

// session accepts the user with the password, through PLAIN or LOGIN.
type session struct{ mechs []string }

func (session) Reset()                                 {}
func (session) Logout() error                          { return nil }
func (session) Mail(string, *gosmtp.MailOptions) error { return errors.New("no mail") }
func (session) Rcpt(string, *gosmtp.RcptOptions) error { return errors.New("no mail") }
func (session) Data(io.Reader) error                   { return errors.New("no mail") }
func (s session) AuthMechanisms() []string             { return s.mechs }

func (session) Auth(mech string) (sasl.Server, error) {
	check := func(u, p string) error {
		if u != user || p != password {
			return gosmtp.ErrAuthFailed
		}
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, u, p string) error { return check(u, p) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of LOGIN, which go-sasl lacks.
type loginServer struct {
	check    func(user, password string) error
	username string
	step     int
}

func (s *loginServer) Next(response []byte) ([]byte, bool, error) {
	s.step++
	switch s.step {
	case 1:
		return []byte("Username:"), false, nil
	case 2:
		s.username = string(response)
		return []byte("Password:"), false, nil
	}
	return nil, true, s.check(s.username, string(response))
}

// testTLS is a self-signed certificate for 127.0.0.1, made once.
var testTLS = func() func(*testing.T) *tls.Config {
	var once sync.Once
	var cfg *tls.Config
	return func(t *testing.T) *tls.Config {
		once.Do(func() {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(1),
				IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
				NotBefore:    time.Now().Add(-time.Hour),
				NotAfter:     time.Now().Add(time.Hour),
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
			if err != nil {
				t.Fatal(err)
			}
			cfg = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
		})
		return cfg
	}
}()

// greeter accepts connections and greets each with line, then closes it.
func greeter(t *testing.T, line string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, line+"\r\n")
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func mustNew(t *testing.T, cfg smtp.Config) *smtp.Check {
	t.Helper()
	c, err := smtp.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

const failed = "unavailable: Failed to open connection with SMTP server: "

// cases are the situations an operator meets, each with its status text.
func cases(t *testing.T) []struct {
	name string
	cfg  smtp.Config
	want string
} {
	plain := server{}.start(t)
	plainAuth := server{mechs: []string{sasl.Plain}}.start(t)
	loginAuth := server{mechs: []string{sasl.Login}}.start(t)
	startTLS := server{startTLS: true, mechs: []string{sasl.Plain}, tlsOnly: true}.start(t)
	implicit := server{implicit: true, mechs: []string{sasl.Plain, sasl.Login}, tlsOnly: true}.start(t)
	down := healthjobtest.ClosedPort(t)
	auth := user + ":" + password + "@"
	wrong := user + ":wrong-" + password + "@"
	return []struct {
		name string
		cfg  smtp.Config
		want string
	}{
		{"plain", smtp.Config{URL: "smtp://" + plain}, "working"},
		{"plain, auth", smtp.Config{URL: "smtp://" + auth + plainAuth}, "working"},
		{"plain, wrong password", smtp.Config{URL: "smtp://" + wrong + plainAuth},
			failed + "535 5.7.8 Authentication failed"},
		{"LOGIN auth", smtp.Config{URL: "smtp://" + auth + loginAuth}, "working"},
		{"LOGIN auth, wrong password", smtp.Config{URL: "smtp://" + wrong + loginAuth},
			failed + "535 5.7.8 Authentication failed"},
		{"no AUTH offered", smtp.Config{URL: "smtp://" + auth + plain},
			failed + "SMTP AUTH extension not supported by server"},
		{"STARTTLS, auth", smtp.Config{URL: "smtp://" + auth + startTLS + "?starttls=true", InsecureSkipVerify: true}, "working"},
		{"STARTTLS as tls option", smtp.Config{URL: "smtp://" + startTLS, TLS: smtp.TLSStartTLS, InsecureSkipVerify: true}, "working"},
		{"STARTTLS, wrong password", smtp.Config{URL: "smtp://" + wrong + startTLS + "?starttls=true", InsecureSkipVerify: true},
			failed + "535 5.7.8 Authentication failed"},
		{"STARTTLS, unknown certificate", smtp.Config{URL: "smtp://" + startTLS + "?starttls=true"},
			failed + "tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{"STARTTLS not offered", smtp.Config{URL: "smtp://" + plain + "?starttls=true"},
			failed + "STARTTLS extension not supported by server"},
		{"auth before STARTTLS", smtp.Config{URL: "smtp://" + auth + startTLS},
			failed + "SMTP AUTH extension not supported by server"},
		{"implicit TLS, auth", smtp.Config{URL: "smtps://" + auth + implicit, InsecureSkipVerify: true}, "working"},
		{"implicit TLS, wrong password", smtp.Config{URL: "smtps://" + wrong + implicit, InsecureSkipVerify: true},
			failed + "535 5.7.8 Authentication failed"},
		{"implicit TLS to a plain server", smtp.Config{URL: "smtps://" + plain, InsecureSkipVerify: true},
			failed + "tls: first record does not look like a TLS handshake"},
		{"server down", smtp.Config{URL: "smtp://" + auth + down},
			"unavailable: Connection refused error: dial tcp " + down + ": connect: connection refused"},
		{"no SMTP service", smtp.Config{URL: "smtp://" + auth + greeter(t, "554 5.3.2 No SMTP service here")},
			failed + "554 5.3.2 No SMTP service here"},
		{"no SMTP service, multi-line", smtp.Config{URL: "smtp://" + greeter(t, "554-mail.example.org\r\n554 5.3.2 No SMTP service here")},
			failed + "554 mail.example.org 5.3.2 No SMTP service here"},
		{"server hangs", smtp.Config{URL: "smtp://" + auth + healthjobtest.Blackhole(t)},
			"unavailable: check timed out after 1s"},
		{"server hangs past MAIL_TIMEOUT", smtp.Config{URL: "smtp://" + healthjobtest.Blackhole(t), Timeout: 300 * time.Millisecond},
			failed + "timed out after 300ms"},
	}
}

func TestStatus(t *testing.T) {
	for _, tt := range cases(t) {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, tt.cfg), time.Second, tt.want)
		})
	}
}

// No status text shows the password, whatever goes wrong.
func TestNoPasswordInStatus(t *testing.T) {
	for _, tt := range cases(t) {
		if text, _ := healthjobtest.Result(mustNew(t, tt.cfg), time.Second); strings.Contains(text, password) {
			t.Errorf("%s: status %q shows the password", tt.name, text)
		}
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  smtp.Config
		want string
	}{
		{"not a URL", smtp.Config{URL: "smtp://" + user + ":" + password + "@host:x"},
			"mail url: not a URL; want smtp://[user:password@]host[:port][?starttls=true] or smtps://…"},
		{"wrong scheme", smtp.Config{URL: "http://" + user + ":" + password + "@host"},
			`mail url "http://monitor:*****@host": want smtp://[user:password@]host[:port][?starttls=true] or smtps://…`},
		{"no host", smtp.Config{URL: "smtp:///"},
			`mail url "smtp:///": want smtp://[user:password@]host[:port][?starttls=true] or smtps://…`},
		{"unknown query", smtp.Config{URL: "smtp://host?ssl=1"},
			`mail url "smtp://host?ssl=1": unknown query "ssl"; the only one is starttls=true, for smtp://`},
		{"starttls with smtps", smtp.Config{URL: "smtps://host?starttls=true"},
			`mail url "smtps://host?starttls=true": unknown query "starttls"; the only one is starttls=true, for smtp://`},
		{"bad starttls", smtp.Config{URL: "smtp://host?starttls=maybe"},
			`mail url "smtp://host?starttls=maybe": starttls="maybe": want true or false`},
		{"unknown tls", smtp.Config{URL: "smtp://host", TLS: "ssl"},
			`mail tls "ssl": want none, starttls or implicit`},
		{"tls contradicts smtps", smtp.Config{URL: "smtps://" + user + ":" + password + "@host", TLS: smtp.TLSStartTLS},
			`mail tls "starttls" contradicts the url "smtps://monitor:*****@host", which means implicit`},
		{"tls contradicts starttls", smtp.Config{URL: "smtp://host?starttls=true", TLS: smtp.TLSNone},
			`mail tls "none" contradicts the url "smtp://host?starttls=true", which means starttls`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := smtp.New(tt.cfg)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	if got := mustNew(t, smtp.Config{}).Name(); got != "MailHealthCheck" {
		t.Errorf("default Name() = %q, want MailHealthCheck", got)
	}
}

func TestConformance(t *testing.T) {
	addr := server{implicit: true, mechs: []string{sasl.Plain}, tlsOnly: true}.start(t)
	healthjobtest.Conformance(t, mustNew(t, smtp.Config{URL: "smtps://" + user + ":" + password + "@" + addr, InsecureSkipVerify: true}))
}
