package http_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	healthhttp "github.com/healthjob/healthjob/checks/http"
	"github.com/healthjob/healthjob/healthjobtest"
)

const timeout = 2 * time.Second

func mustNew(t *testing.T, cfg healthhttp.Config) *healthhttp.Check {
	t.Helper()
	c, err := healthhttp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// server answers like a small application: / is healthy, /down is down,
// /moved redirects to /, /echo requires a header and a virtual host.
func server(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "status: ready\n") })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusFound) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" || r.Host != "app.internal" {
			http.Error(w, "who are you", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "%s ok", r.Method)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestHTTP(t *testing.T) {
	s := server(t)
	closed := healthjobtest.ClosedPort(t)
	for _, tc := range []struct {
		name string
		cfg  healthhttp.Config
		want string
	}{
		{"healthy", healthhttp.Config{URL: s.URL}, "working"},
		{"body contains", healthhttp.Config{URL: s.URL, Contains: "ready"}, "working"},
		{"body lacks", healthhttp.Config{URL: s.URL, Contains: `"ok"`}, `unexpected result: response body does not contain "\"ok\""`},
		{"down", healthhttp.Config{URL: s.URL + "/down"}, "unexpected result: status 503, want 2xx"},
		{"down wanted", healthhttp.Config{URL: s.URL + "/down", Status: []int{503}}, "working"},
		{"not the wanted status", healthhttp.Config{URL: s.URL, Status: []int{201, 204}}, "unexpected result: status 200, want 201 or 204"},
		{"redirect followed", healthhttp.Config{URL: s.URL + "/moved", Contains: "ready"}, "working"},
		{"redirect not followed", healthhttp.Config{URL: s.URL + "/moved", NoRedirects: true}, "unexpected result: status 302, want 2xx"},
		{"redirect wanted", healthhttp.Config{URL: s.URL + "/moved", NoRedirects: true, Status: []int{301, 302}}, "working"},
		{"headers", healthhttp.Config{URL: s.URL + "/echo", Method: "post", Contains: "POST ok",
			Headers: map[string]string{"Authorization": "Bearer t0ken", "host": "app.internal"}}, "working"},
		{"headers missing", healthhttp.Config{URL: s.URL + "/echo"}, "unexpected result: status 403, want 2xx"},
		{"server down", healthhttp.Config{URL: "http://" + closed + "/health"},
			"unavailable: http://" + closed + "/health: dial tcp " + closed + ": connect: connection refused"},
		{"password hidden", healthhttp.Config{URL: "http://probe:s3cret@" + closed + "/"},
			"unavailable: http://probe:*****@" + closed + "/: dial tcp " + closed + ": connect: connection refused"},
		{"server hangs", healthhttp.Config{URL: "http://" + healthjobtest.Blackhole(t) + "/"}, "unavailable: check timed out after 2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, tc.cfg), timeout, tc.want)
		})
	}
	healthjobtest.Conformance(t, mustNew(t, healthhttp.Config{URL: s.URL, Contains: "ready"}))
}

func TestHTTPS(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(s.Close)
	host := strings.TrimPrefix(s.URL, "https://")

	healthjobtest.AssertStatus(t, mustNew(t, healthhttp.Config{URL: s.URL}), timeout,
		"unavailable: "+s.URL+": tls: failed to verify certificate: x509: certificate signed by unknown authority")
	// httptest's certificate is valid until 2084.
	skip := mustNew(t, healthhttp.Config{URL: s.URL, InsecureSkipVerify: true, Name: "Local TLS"})
	healthjobtest.AssertStatus(t, skip, timeout, "working")
	healthjobtest.Conformance(t, skip)
	if got := mustNew(t, healthhttp.Config{URL: s.URL}).Name(); got != "HTTP "+host {
		t.Errorf("Name() = %q, want %q", got, "HTTP "+host)
	}
}

func TestCertExpiry(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		left     time.Duration // from now to the certificate's expiry
		warnings time.Duration
		want     string
	}{
		{"expires soon", 3*day - time.Hour, 0, "warning: TLS certificate of 127.0.0.1 expires in 2 days (%s)"},
		{"expires today", time.Hour, 0, "warning: TLS certificate of 127.0.0.1 expires in 0 days (%s)"},
		{"expired", -49 * time.Hour, 0, "warning: TLS certificate of 127.0.0.1 expired 2 days ago (%s)"},
		{"beyond the default", 15 * day, 0, "working"},
		{"within a longer warning", 15 * day, 30 * day, "warning: TLS certificate of 127.0.0.1 expires in 14 days (%s)"},
		{"warning off", time.Hour, -1, "working"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			notAfter := time.Now().Add(tc.left)
			s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			s.TLS = &tls.Config{Certificates: []tls.Certificate{certificate(t, notAfter)}}
			s.StartTLS()
			t.Cleanup(s.Close)
			c := mustNew(t, healthhttp.Config{URL: s.URL, InsecureSkipVerify: true, CertExpiryWarning: tc.warnings})
			want := tc.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, notAfter.UTC().Format(time.DateOnly))
			}
			healthjobtest.AssertStatus(t, c, timeout, want)
		})
	}
}

// certificate returns a self-signed certificate for 127.0.0.1 that expires at notAfter.
func certificate(t *testing.T, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "healthjob test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    notAfter.Add(-90 * 24 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		cfg  healthhttp.Config
		want string
	}{
		{healthhttp.Config{}, `url: "" is not an http:// or https:// URL with a host`},
		{healthhttp.Config{URL: "ftp://files.example.com/"}, `url: "ftp://files.example.com/" is not an http:// or https:// URL with a host`},
		{healthhttp.Config{URL: "https://admin:hunter2@/"}, `url: "https://admin:*****@/" is not an http:// or https:// URL with a host`},
		{healthhttp.Config{URL: "http://admin:hunter2@exa mple.com/"}, `url: invalid character " " in host name`},
		{healthhttp.Config{URL: "http://example.com/", Method: "GET /"}, `method: "GET /" is not a request method`},
		{healthhttp.Config{URL: "http://example.com/", Status: []int{200, 2000}}, "status: 2000 is not an HTTP status code"},
	} {
		_, err := healthhttp.New(tc.cfg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	long := mustNew(t, healthhttp.Config{URL: "https://" + strings.Repeat("a", 60) + ".example.com/"})
	if got := long.Name(); got != "HTTP "+strings.Repeat("a", 44)+"…" {
		t.Errorf("Name() = %q, want the host cut to 50 characters", got)
	}
}
