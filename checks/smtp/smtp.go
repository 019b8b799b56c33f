// Package smtp checks a mail server the way django-health-check's mail
// plugin (MailHealthCheck) does: it opens a connection as Django's SMTP
// e-mail backend would and closes it, sending no mail. The check:
//
//  1. connects, over TLS from the start for smtps:// (implicit TLS);
//  2. reads the server's greeting and says EHLO;
//  3. upgrades with STARTTLS when configured (a server that does not offer
//     it fails the check: it never falls back to plain text);
//  4. authenticates when the URL names a user, with CRAM-MD5, PLAIN or
//     LOGIN, in that order of preference as Python's smtplib chooses; PLAIN
//     and LOGIN send the password only over TLS or to a loopback server;
//  5. says QUIT.
//
// It uses the standard library's net/smtp, on a connection it dials and
// bounds by the context itself. Its status texts:
//
//	working
//	unavailable: Connection refused error: <reason>
//	unavailable: Failed to open connection with SMTP server: <reason>, e.g. "535 5.7.8 Authentication failed"
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/healthjob/healthjob"
)

// DefaultName is the check's name unless Config.Name overrides it.
const DefaultName = "MailHealthCheck"

// DefaultURL is Django's default mail server: EMAIL_HOST localhost, EMAIL_PORT 25.
const DefaultURL = "smtp://localhost:25"

// DefaultTimeout is django-health-check's MAIL_TIMEOUT.
const DefaultTimeout = 15 * time.Second

// The TLS modes of Config.TLS.
const (
	TLSNone     = "none"     // plain text
	TLSStartTLS = "starttls" // plain text, upgraded with STARTTLS
	TLSImplicit = "implicit" // TLS from the first byte (smtps://)
)

// Config configures a mail check.
type Config struct {
	Name string // default DefaultName
	// URL is the server: smtp://[user:password@]host[:port][?starttls=true]
	// (port 25 by default) or smtps://[user:password@]host[:port] (port 465
	// by default). Default DefaultURL.
	URL string
	// TLS is TLSNone, TLSStartTLS or TLSImplicit; by default the URL's:
	// implicit for smtps://, starttls for ?starttls=true, else none.
	TLS string
	// InsecureSkipVerify accepts any certificate the server presents.
	InsecureSkipVerify bool
	// Timeout bounds the whole conversation; default DefaultTimeout. A
	// shorter deadline of the check's context wins.
	Timeout time.Duration
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
}

// Check is a mail check; see the package documentation.
type Check struct {
	name      string
	addr      string // host:port
	host      string
	tls       string
	user      *url.Userinfo // nil: no AUTH
	tlsConfig *tls.Config
	timeout   time.Duration
	localName string // what EHLO says
}

var _ healthjob.Check = (*Check)(nil)

// New returns a check of the server cfg.URL names. It connects to nothing:
// a bad URL or TLS mode is its only error, and it never shows the password.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	const want = "want smtp://[user:password@]host[:port][?starttls=true] or smtps://…"
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// url.Parse's error repeats the URL, password and all.
		return nil, fmt.Errorf("mail url: not a URL; %s", want)
	}
	if (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("mail url %q: %s", redact(u), want)
	}
	mode, port := "", "25"
	if u.Scheme == "smtps" {
		mode, port = TLSImplicit, "465"
	}
	q := u.Query()
	for key := range q {
		if key != "starttls" || u.Scheme == "smtps" {
			return nil, fmt.Errorf("mail url %q: unknown query %q; the only one is starttls=true, for smtp://", redact(u), key)
		}
		on, err := strconv.ParseBool(q.Get(key))
		if err != nil {
			return nil, fmt.Errorf("mail url %q: starttls=%q: want true or false", redact(u), q.Get(key))
		}
		mode = TLSNone
		if on {
			mode = TLSStartTLS
		}
	}
	switch {
	case cfg.TLS == "":
	case !slices.Contains([]string{TLSNone, TLSStartTLS, TLSImplicit}, cfg.TLS):
		return nil, fmt.Errorf("mail tls %q: want none, starttls or implicit", cfg.TLS)
	case mode != "" && mode != cfg.TLS:
		return nil, fmt.Errorf("mail tls %q contradicts the url %q, which means %s", cfg.TLS, redact(u), mode)
	default:
		mode = cfg.TLS
	}
	if mode == "" {
		mode = TLSNone
	}
	if u.Port() != "" {
		port = u.Port()
	}
	localName, err := os.Hostname()
	if err != nil {
		localName = "localhost"
	}
	return &Check{
		name:      cfg.Name,
		addr:      net.JoinHostPort(u.Hostname(), port),
		host:      u.Hostname(),
		tls:       mode,
		user:      u.User,
		tlsConfig: &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: cfg.InsecureSkipVerify},
		timeout:   cfg.Timeout,
		localName: localName,
	}, nil
}

// redact renders a mail URL for messages, its password hidden.
func redact(u *url.URL) string {
	if _, ok := u.User.Password(); !ok {
		return u.String()
	}
	r := *u
	r.User = url.UserPassword(u.User.Username(), "xxxxx")
	return strings.Replace(r.String(), "xxxxx", "*****", 1)
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check opens a connection to the mail server and closes it; see the
// package documentation.
func (c *Check) Check(ctx context.Context) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := c.open(ctx)
	switch {
	case err == nil:
		return nil
	case parent.Err() != nil:
		return parent.Err() // the runner reports the timeout or cancellation
	case ctx.Err() != nil:
		return healthjob.Unavailable("Failed to open connection with SMTP server: timed out after %s", c.timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return healthjob.Unavailable("Connection refused error: %v", err)
	}
	msg := "Failed to open connection with SMTP server: " + reason(err)
	return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: msg, Err: err}
}

// reason renders err on one line; a server's reply as it was sent, e.g.
// "535 5.7.8 Authentication failed".
func reason(err error) string {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return fmt.Sprintf("%03d %s", reply.Code, strings.ReplaceAll(reply.Msg, "\n", " "))
	}
	return err.Error()
}

// open has the conversation of the package documentation.
func (c *Check) open(ctx context.Context) error {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	// net/smtp takes no context: an expired one unblocks it through the connection.
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	conn := raw
	if c.tls == TLSImplicit {
		conn = tls.Client(raw, c.tlsConfig)
	}
	client, err := smtp.NewClient(conn, c.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer client.Close() // after Quit it has nothing left to close
	if err := client.Hello(c.localName); err != nil {
		return err
	}
	if c.tls == TLSStartTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return errors.New("STARTTLS extension not supported by server")
		}
		if err := client.StartTLS(c.tlsConfig); err != nil {
			return err
		}
	}
	if c.user != nil {
		if err := c.auth(client); err != nil {
			return err
		}
	}
	return client.Quit()
}

// auth authenticates with the first mechanism of smtplib's preference that
// the server offers.
func (c *Check) auth(client *smtp.Client) error {
	ok, offered := client.Extension("AUTH")
	if !ok {
		return errors.New("SMTP AUTH extension not supported by server")
	}
	user := c.user.Username()
	password, _ := c.user.Password()
	mechs := strings.Fields(strings.ToUpper(offered))
	switch {
	case slices.Contains(mechs, "CRAM-MD5"):
		return client.Auth(smtp.CRAMMD5Auth(user, password))
	case slices.Contains(mechs, "PLAIN"):
		return client.Auth(smtp.PlainAuth("", user, password, c.host))
	case slices.Contains(mechs, "LOGIN"):
		return client.Auth(loginAuth{user: user, password: password, host: c.host})
	}
	return fmt.Errorf("no supported authentication method (the server offers %s)", offered)
}

// loginAuth is the LOGIN mechanism, which net/smtp lacks and some servers
// (Microsoft 365's) offer instead of PLAIN. Like smtp.PlainAuth it sends the
// password only over TLS or to a loopback server.
type loginAuth struct{ user, password, host string }

func (a loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && server.Name != "localhost" && !net.ParseIP(server.Name).IsLoopback() {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch prompt := strings.ToLower(string(challenge)); {
	case strings.HasPrefix(prompt, "user"):
		return []byte(a.user), nil
	case strings.HasPrefix(prompt, "pass"):
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", challenge)
}
