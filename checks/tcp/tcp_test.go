package tcp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/tcp"
	"github.com/healthjob/healthjob/healthjobtest"
)

const timeout = time.Second

func mustNew(t *testing.T, cfg tcp.Config) *tcp.Check {
	t.Helper()
	c, err := tcp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTCP(t *testing.T) {
	listening := healthjobtest.Blackhole(t) // accepts, which is all a plain TCP check asks
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsServer.Close)
	tlsAddr := strings.TrimPrefix(tlsServer.URL, "https://")
	for _, tc := range []struct {
		name string
		cfg  tcp.Config
		want string
	}{
		{"listening", tcp.Config{Address: listening}, "working"},
		{"listening URL", tcp.Config{Address: "tcp://" + listening}, "working"},
		{"server down", tcp.Config{Address: healthjobtest.ClosedPort(t)}, "unavailable: Connection refused"},
		{"TLS", tcp.Config{Address: tlsAddr, TLS: true, InsecureSkipVerify: true}, "working"},
		{"TLS untrusted", tcp.Config{Address: tlsAddr, TLS: true},
			"unavailable: " + tlsAddr + ": tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{"TLS server hangs", tcp.Config{Address: listening, TLS: true}, "unavailable: check timed out after 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, tc.cfg), timeout, tc.want)
		})
	}
	healthjobtest.Conformance(t, mustNew(t, tcp.Config{Address: tlsAddr, TLS: true, InsecureSkipVerify: true}))
}

func TestNew(t *testing.T) {
	for _, tc := range []struct{ addr, name string }{
		{"127.0.0.1:6379", "TCP 127.0.0.1:6379"},
		{"tcp://db.internal:5432", "TCP db.internal:5432"},
		{"tcp://[::1]:80/", "TCP [::1]:80"},
	} {
		if got := mustNew(t, tcp.Config{Address: tc.addr}).Name(); got != tc.name {
			t.Errorf("New(%q).Name() = %q, want %q", tc.addr, got, tc.name)
		}
	}
	for _, addr := range []string{"", "localhost", ":80", "tcp://localhost", "http://localhost:80", "tcp://localhost:80/db", "tcp://[::1"} {
		_, err := tcp.New(tcp.Config{Address: addr})
		want := `address: "` + addr + `" is not host:port or tcp://host:port`
		if err == nil || err.Error() != want {
			t.Errorf("New(%q) = %v, want %q", addr, err, want)
		}
	}
}
