package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/healthjob/healthjob/internal/outbox"
)

// email sends the message over SMTP with the standard library's client,
// on a connection it dials and bounds by the context itself.
type email struct {
	addr, host string // host:port to dial; the server's name for TLS and AUTH
	implicit   bool   // TLS from the first byte (smtps://)
	starttls   bool
	auth       *url.Userinfo
	from       string
	to         []string
}

func openEmail(u *url.URL) (*email, error) {
	e := &email{host: u.Hostname(), implicit: u.Scheme == "smtps", auth: u.User}
	if e.host == "" {
		return nil, fmt.Errorf("smtp URL %q names no host; want smtp://[user:pass@]host[:port]/?from=…&to=…", Redact(u.String()))
	}
	q := u.Query()
	for key := range q {
		if !slices.Contains([]string{"from", "to", "starttls"}, key) {
			return nil, fmt.Errorf("smtp URL %q: unknown parameter %s; want from, to and starttls", Redact(u.String()), key)
		}
	}
	port := u.Port()
	if port == "" {
		port = "25"
		if e.implicit {
			port = "465"
		}
	}
	e.addr = net.JoinHostPort(e.host, port)
	switch v := q.Get("starttls"); v {
	case "", "false":
	case "true":
		e.starttls = true
	default:
		return nil, fmt.Errorf("smtp URL %q: starttls: want true or false, got %q", Redact(u.String()), v)
	}
	from, err := mail.ParseAddress(q.Get("from"))
	if err != nil {
		return nil, fmt.Errorf("smtp URL %q: from: want the sender's address, e.g. ?from=healthjob@example.com", Redact(u.String()))
	}
	e.from = from.Address
	to, err := mail.ParseAddressList(q.Get("to"))
	if err != nil {
		return nil, fmt.Errorf("smtp URL %q: to: want the recipients' addresses, comma-separated, e.g. &to=ops@example.com", Redact(u.String()))
	}
	for _, a := range to {
		e.to = append(e.to, a.Address)
	}
	return e, nil
}

func (e *email) Send(ctx context.Context, m Message, _ []byte) error {
	err := e.send(ctx, m)
	var reply *textproto.Error
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &reply):
		return fmt.Errorf("smtp %s: %w", e.addr, err)
	}
	err = fmt.Errorf("smtp %s: %d %s", e.addr, reply.Code, reply.Msg)
	if reply.Code >= 500 && !slices.Contains([]int{530, 534, 535, 538}, reply.Code) {
		return outbox.Permanent(err) // refused for good; credentials, though, can be fixed
	}
	return err
}

func (e *email) send(ctx context.Context, m Message) (err error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	// Unblock the conversation when ctx ends without a deadline.
	defer context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })()
	if e.implicit {
		conn = tls.Client(conn, &tls.Config{ServerName: e.host})
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if host, err := os.Hostname(); err == nil {
		if err := c.Hello(host); err != nil {
			return err
		}
	}
	if e.starttls {
		if err := c.StartTLS(&tls.Config{ServerName: e.host}); err != nil {
			return err
		}
	}
	if e.auth != nil {
		pass, _ := e.auth.Password()
		// PlainAuth sends the password only over TLS or to a loopback server.
		if err := c.Auth(smtp.PlainAuth("", e.auth.Username(), pass, e.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(e.from); err != nil {
		return err
	}
	for _, to := range e.to {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(e.message(m)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message renders m as a plain-text e-mail.
func (e *email) message(m Message) []byte {
	var b strings.Builder
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", e.from)
	header("To", strings.Join(e.to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", m.Title()))
	header("Date", time.Now().Format(time.RFC1123Z))
	header("Message-ID", "<"+m.ID+"@healthjob>")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(m.Text(), "\n", "\r\n") + "\r\n"))
	qp.Close()
	return []byte(b.String())
}
