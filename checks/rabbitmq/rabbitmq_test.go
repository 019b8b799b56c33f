package rabbitmq_test

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/rabbitmq"
	"github.com/healthjob/healthjob/healthjobtest"
)

const timeout = time.Second

func mustNew(t *testing.T, cfg rabbitmq.Config) *rabbitmq.Check {
	t.Helper()
	c, err := rabbitmq.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

func TestCheck(t *testing.T) {
	raw := healthjobtest.Env("HEALTHJOB_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.NeedService(t, u.Host, "RabbitMQ (HEALTHJOB_RABBITMQ_URL)")
	with := func(user *url.Userinfo, path string) string {
		v := *u
		v.User, v.Path = user, path
		return v.String()
	}
	password, _ := u.User.Password()
	wrong := "wrong-" + password + "-s3cret"

	// The exact texts show that no password reaches a status.
	for _, tt := range []struct{ name, url, want string }{
		{"OK", raw, "working"},
		{"KombuVhost", with(u.User, "//"), "working"},
		{"CeleryScheme", "pyamqp://" + strings.TrimPrefix(raw, "amqp://"), "working"},
		{"UnknownVhost", with(u.User, "/nope"), "unavailable: IOError: NOT_ALLOWED - vhost nope not found"},
		{"ServerDown", "amqp://guest:guest@" + healthjobtest.ClosedPort(t) + "/", "unavailable: Unable to connect to RabbitMQ: Connection was refused."},
		{"Hangs", "amqp://guest:guest@" + healthjobtest.Blackhole(t) + "/", "unavailable: IOError: timeout"},
		{"NotAMQP", "amqp://guest:guest@" + garbage(t) + "/", "unavailable: Unknown error"},
		{"NotTLS", "amqps://" + strings.TrimPrefix(raw, "amqp://"), "unavailable: IOError: tls: first record does not look like a TLS handshake"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, rabbitmq.Config{URL: tt.url}), timeout, tt.want)
		})
	}
	// RabbitMQ answers a failed login after 3 seconds.
	for _, tt := range []struct{ name, url string }{
		{"WrongPassword", with(url.UserPassword(u.User.Username(), wrong), "/")},
		{"UnknownUser", with(url.UserPassword("nobody-healthjob", wrong), "/")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			healthjobtest.AssertStatus(t, mustNew(t, rabbitmq.Config{URL: tt.url}), 5*time.Second,
				"unavailable: Unable to connect to RabbitMQ: Authentication error.")
		})
	}
	healthjobtest.Conformance(t, mustNew(t, rabbitmq.Config{URL: raw}))
}

func TestNew(t *testing.T) {
	if got := mustNew(t, rabbitmq.Config{}).Name(); got != "RabbitMQHealthCheck" {
		t.Errorf("Name() = %q, want RabbitMQHealthCheck", got)
	}
	for _, tt := range []struct{ url, want string }{
		{"redis://guest:s3cret@localhost:6379/0", "url: AMQP scheme must be either 'amqp://' or 'amqps://'"},
		{"amqp://guest:s3cret@local host/", `url: invalid character " " in host name`},
		{"amqp://guest:s3cret@localhost:port/", `url: invalid port ":port" after host`},
		{"amqp://guest:s3cret@localhost:5672/?heartbeat=x", `url: heartbeat is not an uint16: strconv.ParseUint: parsing "x": invalid syntax`},
	} {
		_, err := rabbitmq.New(rabbitmq.Config{URL: tt.url})
		if got := fmt.Sprint(err); got != tt.want {
			t.Errorf("New(%q) = %v, want %q", tt.url, err, tt.want)
		}
	}
}

// garbage returns the address of a server that answers the client's AMQP
// header with something else, as an HTTP server would, and keeps the
// connection open until the client hangs up.
func garbage(t *testing.T) string {
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
			io.ReadFull(c, make([]byte, len("AMQP\x00\x00\x09\x01")))
			fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}
