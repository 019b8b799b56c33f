package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/healthjob/healthjob/healthjobtest"
)

func TestProbeCheckTypes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") != "abc" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, "token ok")
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/health", http.StatusMovedPermanently)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	host := strings.TrimPrefix(s.URL, "http://")
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsServer.Close)
	listening := healthjobtest.Blackhole(t)

	testEntries(t, probeCheckTypes, []checkEntry{
		{entry: `{type: http, url: "` + s.URL + `/health"}`, name: "HTTP " + host, status: "working"},
		{entry: `{type: http, url: "` + s.URL + `/health", status: 200}`, name: "HTTP " + host, status: "unexpected result: status 204, want 200"},
		{entry: `{type: http, url: "` + s.URL + `/health", status: [200, 204]}`, name: "HTTP " + host, status: "working"},
		{entry: `{type: http, url: "` + s.URL + `/health", method: HEAD, headers: {X-Token: abc}, contains: "token ok", name: App}`,
			name: "App", status: `unexpected result: response body does not contain "token ok"`},
		{entry: `{type: http, url: "` + s.URL + `/health", headers: {X-Token: abc}, contains: "token ok"}`, name: "HTTP " + host, status: "working"},
		{entry: `{type: http, url: "` + s.URL + `/old"}`, name: "HTTP " + host, status: "working"},
		{entry: `{type: http, url: "` + s.URL + `/old", follow_redirects: false}`, name: "HTTP " + host, status: "unexpected result: status 301, want 2xx"},
		{entry: `{type: http, url: "` + tlsServer.URL + `", insecure_skip_verify: true, status: 404, cert_expiry_warning: 36500d}`,
			name: "HTTP " + strings.TrimPrefix(tlsServer.URL, "https://"), status: "warning: TLS certificate of 127.0.0.1 expires in …"},
		{entry: `{type: http, url: "` + tlsServer.URL + `", insecure_skip_verify: true, status: 404, cert_expiry_warning: 0}`,
			name: "HTTP " + strings.TrimPrefix(tlsServer.URL, "https://"), status: "working"},
		{entry: `{type: http}`, err: "2: checks[1] (http): url is missing; want an http:// or https:// URL"},
		{entry: `{type: http, url: "ftp://u:s3cret@files"}`, err: `2: checks[1] (http): url: "ftp://u:*****@files" is not an http:// or https:// URL with a host`},
		{entry: `{type: http, url: "http://x", status: ok}`, err: `2: checks[1] (http): status: "ok" is not an HTTP status code`},
		{entry: `{type: http, url: "http://x", status: 600}`, err: `2: checks[1] (http): status: 600 is not an HTTP status code`},
		{entry: `{type: http, url: "http://x", cert_expiry_warning: soon}`,
			err: `2: checks[1] (http): cert_expiry_warning: want a duration such as 30, 10s, 500ms or 30d, got "soon"`},

		{entry: `{type: tcp, url: "tcp://` + listening + `"}`, name: "TCP " + listening, status: "working"},
		{entry: `{type: tcp, address: "` + listening + `", name: Listener}`, name: "Listener", status: "working"},
		{entry: `{type: tcp, address: "` + strings.TrimPrefix(tlsServer.URL, "https://") + `", tls: true, insecure_skip_verify: true}`,
			name: "TCP " + strings.TrimPrefix(tlsServer.URL, "https://"), status: "working"},
		{entry: `{type: tcp}`, err: "2: checks[1] (tcp): url is missing; want tcp://host:port (or address: host:port)"},
		{entry: `{type: tcp, url: "tcp://a:1", address: "a:1"}`, err: "2: checks[1] (tcp): give url or address, not both"},
		{entry: `{type: tcp, url: "http://u:s3cret@a:1"}`, err: `2: checks[1] (tcp): url: "http://u:*****@a:1" is not a tcp://host:port URL`},
		{entry: `{type: tcp, address: "a"}`, err: `2: checks[1] (tcp): address: "a" is not host:port or tcp://host:port`},

		{entry: `{type: dns, host: localhost, expect: 127.0.0.1}`, name: "DNS localhost", status: "working"},
		{entry: `{type: dns, host: localhost, expect: [192.0.2.1, 192.0.2.2]}`, name: "DNS localhost", status: "unexpected result: localhost resolved to […"},
		{entry: `{type: dns, host: localhost, server: "127.0.0.1:53", expect: "192.0.2.1, 192.0.2.2"}`, name: "DNS localhost"},
		{entry: `{type: dns, name: localhost}`, err: "2: checks[1] (dns): host is missing; name the host to resolve, e.g. db.internal"},
		{entry: `{type: dns, host: db, expect: db.internal}`, err: `2: checks[1] (dns): expect: "db.internal" is not an IP address`},

		{entry: `{type: exec, command: true}`, name: "Exec true", status: "working"},
		{entry: `{type: exec, command: [sh, -c, "echo hi, there; exit 1"]}`, name: "Exec sh", status: "warning: hi, there"},
		{entry: `{type: exec, command: "echo hi, there | tr a-z A-Z; exit 2", shell: true}`, name: "Exec echo", status: "unavailable: HI, THERE"},
		{entry: `{type: exec, command: "check_disk -w 10%"}`,
			err: `2: checks[1] (exec): command: a string with arguments needs shell: true; or give a list such as [check_disk, -w, "10%"]`},
		{entry: `{type: exec, command: [echo, hi], shell: true}`, err: "2: checks[1] (exec): command: with shell, give one string, the script for /bin/sh -c"},
		{entry: `{type: exec}`, err: "2: checks[1] (exec): command is missing; give the program and its arguments as a list"},
	})
}
