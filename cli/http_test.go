package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// monitorHTTP starts `healthjob monitor --http 127.0.0.1:0 args…` and
// returns the base URL it serves at, read from its log.
func monitorHTTP(t *testing.T, dir string, env []string, args ...string) (base string, stop func() error, stderr *lineWatcher) {
	t.Helper()
	cmd := start(t, command(dir, env, append([]string{"monitor", "--http", "127.0.0.1:0"}, args...)...))
	stderr = cmd.stderr
	stderr.waitFor(t, `msg="serving HTTP"`, 1)
	addr := regexp.MustCompile(`msg="serving HTTP" addr=(\S+)`).FindStringSubmatch(stderr.text())
	if addr == nil {
		t.Fatalf("no address in the log:\n%s", stderr.text())
	}
	stop = func() error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return err
		}
		return cmd.Wait()
	}
	return "http://" + addr[1], stop, stderr
}

type answer struct {
	code int
	typ  string
	body string
}

func get(t *testing.T, url string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), string(body)}
}

// eventually polls cond until it holds, for at most 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// scrapeMetrics parses /metrics into "name{labels}" → value.
func scrapeMetrics(t *testing.T, url, token string) map[string]float64 {
	t.Helper()
	a := get(t, url, "Authorization", "Bearer "+token)
	if a.code != 200 {
		t.Fatalf("/metrics: %d %s", a.code, a.body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(a.body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, a.body)
	}
	out := map[string]float64{}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Histogram != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
		out[name+" type"] = float64(mf.GetType())
	}
	return out
}

// TestMonitorHTTP runs the real binary with --http and reads every endpoint
// in every format, then stops it with SIGTERM.
func TestMonitorHTTP(t *testing.T) {
	dir := t.TempDir()
	// 1: accepted; then the monitoring server fails.
	s := newSink(t, func(n int) int {
		if n == 1 {
			return 202
		}
		return 500
	})
	writeConfig(t, dir, fmt.Sprintf(`HEALTH_CHECK_INTERVAL: 0.2
PERSIST_HEALTH_CHECK_DATA: true
SYNC_HEALTH_CHECK_DATA: true
SYNC_SERVER_URL: %s
SYNC_APP_ID: billing
SUBSETS: {startup: [DefaultFileStorageHealthCheck]}
checks:
  - {type: storage, path: %s}
  - {type: exec, name: "True", command: [/bin/true]}
  - {type: exec, name: "False", command: [/bin/false], critical: false}
`, s.URL, dir))
	const token = "s3cret-t0ken"
	base, stop, stderr := monitorHTTP(t, dir, []string{"METRICS_TOKEN=" + token})

	eventually(t, "the first cycle on /readyz", func() bool { return get(t, base+"/readyz").code == 200 })

	t.Run("formats", func(t *testing.T) {
		for _, tc := range []struct {
			url, accept, typ string
			code             int
			contains         []string
		}{
			{"/ht/", "", "text/html; charset=utf-8", 200, []string{"<title>System status</title>", "<td>True</td>", "<td>False</td>"}},
			{"/ht/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html; charset=utf-8", 200, []string{"<h1>System status</h1>"}},
			{"/ht/", "application/json", "application/json", 200, []string{`"True":"working"`, `"DefaultFileStorageHealthCheck":"working"`}},
			{"/ht/?format=json&detail=1", "", "application/json", 200, []string{`"True":{"status":"working","level":"ok","passed":true,"critical":true,"duration_seconds":`}},
			{"/ht/?format=text", "", "text/plain; charset=utf-8", 200, []string{"DefaultFileStorageHealthCheck: OK\n", "True: OK\n", "False: "}},
			{"/ht/", "text/plain", "text/plain; charset=utf-8", 200, []string{"True: OK\n"}},
			{"/ht/?format=atom", "", "application/atom+xml; charset=utf-8", 200, []string{"<title>True</title>", `<category term="unhealthy"></category>`}},
			{"/ht/", "application/rss+xml", "application/rss+xml; charset=utf-8", 200, []string{"<title>Health Check Status</title>", "<title>False</title>"}},
			{"/ht/?format=openmetrics", "", "application/openmetrics-text; version=1.0.0; charset=utf-8", 200, []string{`django_health_check_status{check="True"} 1`, `django_health_check_status{check="False"} 0`, "django_health_check_overall_status 1\n# EOF\n"}},
			{"/ht/startup/?format=text", "", "text/plain; charset=utf-8", 200, []string{"DefaultFileStorageHealthCheck: OK\n"}},
			{"/ht/nope/", "", "text/plain; charset=utf-8", 404, []string{`Not Found: unknown subset "nope"`}},
			{"/ht/", "image/png", "text/plain; charset=utf-8", 406, []string{"Not Acceptable: Supported content types: text/html, application/json"}},
			{"/livez", "", "text/plain; charset=utf-8", 200, []string{"ok\n"}},
			{"/readyz", "", "text/plain; charset=utf-8", 200, []string{"[+]True ok\n", "readyz check passed\n"}},
			{"/metrics", "", "text/plain; charset=utf-8", 401, []string{"Unauthorized"}},
		} {
			var a answer
			if tc.accept != "" {
				a = get(t, base+tc.url, "Accept", tc.accept)
			} else {
				a = get(t, base+tc.url)
			}
			if a.code != tc.code || a.typ != tc.typ {
				t.Errorf("%s (Accept %q): %d %s, want %d %s\n%s", tc.url, tc.accept, a.code, a.typ, tc.code, tc.typ, a.body)
			}
			for _, want := range tc.contains {
				if !strings.Contains(a.body, want) {
					t.Errorf("%s (Accept %q): no %q in\n%s", tc.url, tc.accept, want, a.body)
				}
			}
		}
		var simple map[string]string
		if err := json.Unmarshal([]byte(get(t, base+"/ht/?format=json").body), &simple); err != nil || len(simple) != 3 || simple["False"] == "working" {
			t.Errorf("JSON: %v %v", simple, err)
		}
		var rss struct {
			Items []struct {
				Title, Category string
			} `xml:"channel>item"`
		}
		if err := xml.Unmarshal([]byte(get(t, base+"/ht/?format=rss").body), &rss); err != nil || len(rss.Items) != 3 {
			t.Errorf("RSS: %+v %v", rss, err)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		for range 2 {
			<-s.got // one accepted delivery, one refused
		}
		var m map[string]float64
		eventually(t, "two cycles and a refused delivery in /metrics", func() bool {
			m = scrapeMetrics(t, base+"/metrics", token)
			return m["healthjob_cycles_total{}"] >= 2 && m[`healthjob_sync_attempts_total{result="failure"}`] >= 1
		})
		for key, want := range map[string]float64{
			`healthjob_check_up{check="True"}`:                                     1,
			`healthjob_check_up{check="False"}`:                                    0,
			`healthjob_check_status{check="True",status="ok"}`:                     1,
			`healthjob_check_status{check="False",status="ok"}`:                    0,
			`healthjob_sync_attempts_total{result="success"}`:                      1,
			`healthjob_check_consecutive_failures{check="True"}`:                   0,
			`healthjob_check_last_success_timestamp_seconds{check="False"} absent`: 0,
		} {
			if strings.HasSuffix(key, " absent") {
				if _, ok := m[strings.TrimSuffix(key, " absent")]; ok {
					t.Errorf("%s: present", key)
				}
				continue
			}
			if got, ok := m[key]; !ok || got != want {
				t.Errorf("%s = %g (present %v), want %g", key, got, ok, want)
			}
		}
		cycles := m["healthjob_cycles_total{}"]
		for key, check := range map[string]func(float64) bool{
			`healthjob_sync_attempts_total{result="failure"}`:              func(v float64) bool { return v >= 1 },
			`healthjob_outbox_depth{}`:                                     func(v float64) bool { return v >= 1 }, // the refused run waits
			`healthjob_records_written_total{}`:                            func(v float64) bool { return v >= 3*cycles && int(v)%3 == 0 },
			`healthjob_check_consecutive_failures{check="False"}`:          func(v float64) bool { return v >= cycles },
			`healthjob_check_duration_seconds{check="True"}_count`:         func(v float64) bool { return v >= cycles },
			`healthjob_cycle_duration_seconds{}_count`:                     func(v float64) bool { return v == cycles },
			`healthjob_check_last_success_timestamp_seconds{check="True"}`: func(v float64) bool { return time.Since(time.Unix(int64(v), 0)) < time.Minute },
			`go_goroutines{}`:              func(v float64) bool { return v > 0 },
			`process_start_time_seconds{}`: func(v float64) bool { return v > 0 },
			`healthjob_check_duration_seconds{check="DefaultFileStorageHealthCheck"}_count`: func(v float64) bool { return v >= cycles },
		} {
			if v, ok := m[key]; !ok || !check(v) {
				t.Errorf("%s = %g (present %v); cycles %g", key, v, ok, cycles)
			}
		}
	})

	if err := stop(); err != nil {
		t.Errorf("SIGTERM: %v, want exit 0\n%s", err, stderr.text())
	}
	stderr.waitFor(t, "monitor stopped", 1)
}

// TestMonitorHTTPAddress: a busy port stops the start with exit 1 and a
// clear line, from HEALTH_CHECK_HTTP or --http; --http wins over the setting;
// a malformed address is a usage error.
func TestMonitorHTTPAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	dir := t.TempDir()
	writeConfig(t, dir, "checks:\n  - {type: exec, name: \"True\", command: [/bin/true]}\n")

	want := "healthjob monitor: cannot serve HTTP: listen tcp " + addr + ": bind: address already in use\n"
	if r := healthjob(t, dir, []string{"HEALTH_CHECK_HTTP=" + addr}, "monitor"); r.code != 1 || !strings.HasSuffix(r.stderr, want) {
		t.Errorf("HEALTH_CHECK_HTTP busy: exit %d, stderr:\n%s\nwant exit 1 and %q", r.code, r.stderr, want)
	}
	if r := healthjob(t, dir, nil, "monitor", "--http", addr); r.code != 1 || !strings.HasSuffix(r.stderr, want) {
		t.Errorf("--http busy: exit %d, stderr:\n%s\nwant exit 1 and %q", r.code, r.stderr, want)
	}

	base, stop, stderr := monitorHTTP(t, dir, []string{"HEALTH_CHECK_HTTP=" + addr})
	eventually(t, "/readyz", func() bool { return get(t, base+"/readyz").code == 200 })
	if base == "http://"+addr {
		t.Errorf("served on HEALTH_CHECK_HTTP %s, want the --http address", addr)
	}
	if err := stop(); err != nil {
		t.Errorf("SIGTERM: %v\n%s", err, stderr.text())
	}

	for _, bad := range []string{"8000", "localhost", "http://127.0.0.1:8000"} {
		r := healthjob(t, dir, nil, "monitor", "--http", bad)
		want := fmt.Sprintf("healthjob monitor: --http: want a listen address host:port such as 127.0.0.1:8000 or :8000, got %q\n", bad)
		if r.code != 2 || r.stderr != want {
			t.Errorf("--http %s: exit %d, stderr %q, want exit 2 and %q", bad, r.code, r.stderr, want)
		}
	}
}

// TestHTTPSettings rejects every bad value of the HTTP settings with one
// line naming the setting, exit 2.
func TestHTTPSettings(t *testing.T) {
	for _, tc := range []struct {
		yaml   string
		env    []string
		stderr string
	}{
		{"", []string{"HEALTH_CHECK_HTTP=8000"}, `HEALTH_CHECK_HTTP (environment): want a listen address host:port such as 127.0.0.1:8000 or :8000, got "8000"`},
		{"HEALTH_CHECK_PATH: ht\n", nil, `healthjob.yaml:1: HEALTH_CHECK_PATH: want a URL path that starts and ends with a slash, such as /ht/, got "ht"`},
		{"", []string{"HEALTH_CHECK_PATH=/ht"}, `HEALTH_CHECK_PATH (environment): want a URL path that starts and ends with a slash, such as /ht/, got "/ht"`},
		{"", []string{"HEALTH_CHECK_PATH=/h t/"}, `HEALTH_CHECK_PATH (environment): want a URL path that starts and ends with a slash, such as /ht/, got "/h t/"`},
		{"", []string{"HEALTH_CHECK_PATH=/{x}/"}, `HEALTH_CHECK_PATH (environment): want a URL path that starts and ends with a slash, such as /ht/, got "/{x}/"`},
		{"HEALTH_CHECK_OK_STATUS: 99\n", nil, `healthjob.yaml:1: HEALTH_CHECK_OK_STATUS: want an HTTP status code from 200 to 599, got 99`},
		{"", []string{"HEALTH_CHECK_ERROR_STATUS=600"}, `HEALTH_CHECK_ERROR_STATUS (environment): want an HTTP status code from 200 to 599, got 600`},
		{"", []string{"HEALTH_CHECK_LIVE_MIN_INTERVAL=0"}, `HEALTH_CHECK_LIVE_MIN_INTERVAL (environment): must be more than 0, got 0s`},
		{"", []string{"METRICS_USERNAME=prometheus"}, `METRICS_PASSWORD: setting is not set; METRICS_USERNAME is set and needs it`},
		{"", []string{"METRICS_PASSWORD=secret"}, `METRICS_USERNAME: setting is not set; METRICS_PASSWORD is set and needs it`},
	} {
		dir := t.TempDir()
		writeConfig(t, dir, tc.yaml)
		r := healthjob(t, dir, tc.env, "config", "--validate")
		if want := "healthjob config: " + tc.stderr + "\n"; r.code != 2 || r.stderr != want {
			t.Errorf("%q %v: exit %d, stderr %q, want exit 2 and %q", tc.yaml, tc.env, r.code, r.stderr, want)
		}
	}
	for _, env := range []string{"HEALTH_CHECK_OK_STATUS=ok", "HEALTH_CHECK_LIVE=maybe", "HEALTH_CHECK_LIVE_MIN_INTERVAL=soon"} {
		name, _, _ := strings.Cut(env, "=")
		r := healthjob(t, t.TempDir(), []string{env}, "config", "--validate")
		if r.code != 2 || !strings.HasPrefix(r.stderr, "healthjob config: "+name+" (environment): ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q, want exit 2 and one line naming %s", env, r.code, r.stderr, name)
		}
	}
}

// TestConfigMasksMetricsSecrets: `healthjob config` never prints the
// metrics password or token.
func TestConfigMasksMetricsSecrets(t *testing.T) {
	r := healthjob(t, t.TempDir(), []string{"METRICS_USERNAME=prometheus", "METRICS_PASSWORD=hunter2-pass", "METRICS_TOKEN=hunter2-token"}, "config")
	if r.code != 0 || !strings.Contains(r.stdout, "METRICS_USERNAME: prometheus") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "hunter2") {
		t.Errorf("a metrics secret is printed:\n%s", r.stdout)
	}
}
