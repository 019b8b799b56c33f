package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func result(name string, d time.Duration, err error) healthjob.Result {
	r := healthjob.Result{Name: name, Status: healthjob.StatusSuccess, Message: healthjob.StatusText(err),
		Level: healthjob.LevelOf(err), Critical: true, Duration: d, Err: err}
	if err != nil {
		r.Status = healthjob.StatusFailure
	}
	return r
}

// observe feeds three cycles: all pass, then Redis fails twice while the
// disk warns once.
func observe(m *metrics.Metrics) {
	m.Observe(&healthjob.Run{Timestamp: healthjob.Timestamp{Time: t0}, Duration: 20 * time.Millisecond, Checks: []healthjob.Result{
		result("DatabaseBackend", 10*time.Millisecond, nil),
		result("DiskUsage", time.Millisecond, nil),
		result("RedisHealthCheck", 3*time.Millisecond, nil),
	}})
	m.Observe(&healthjob.Run{Timestamp: healthjob.Timestamp{Time: t0.Add(5 * time.Second)}, Duration: 2 * time.Second, Checks: []healthjob.Result{
		result("DatabaseBackend", 10*time.Millisecond, nil),
		result("DiskUsage", time.Millisecond, healthjob.Warning("disk usage exceeds 90%%")),
		result("RedisHealthCheck", 2*time.Second, healthjob.Unavailable("connection refused")),
	}})
	m.Observe(&healthjob.Run{Timestamp: healthjob.Timestamp{Time: t0.Add(10 * time.Second)}, Duration: 2 * time.Second, Checks: []healthjob.Result{
		result("DatabaseBackend", 10*time.Millisecond, nil),
		result("DiskUsage", time.Millisecond, nil),
		result("RedisHealthCheck", 2*time.Second, healthjob.Unavailable("connection refused")),
	}})
	m.RecordsWritten(3)
	m.RecordsWritten(3)
	m.SyncAttempt(true)
	m.SyncAttempt(false)
	m.SyncAttempt(false)
}

func scrape(t *testing.T, h http.Handler, accept string) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
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
	return resp, string(body)
}

// TestExposition checks /metrics as `promtool check metrics` would, then
// the names, types and values of every family healthjob exports.
func TestExposition(t *testing.T) {
	m := metrics.New()
	observe(m)
	resp, body := scrape(t, m.Handler(metrics.Auth{}), "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}

	for name, typ := range map[string]dto.MetricType{
		"healthjob_check_up":                             dto.MetricType_GAUGE,
		"healthjob_check_status":                         dto.MetricType_GAUGE,
		"healthjob_check_duration_seconds":               dto.MetricType_HISTOGRAM,
		"healthjob_check_last_success_timestamp_seconds": dto.MetricType_GAUGE,
		"healthjob_check_consecutive_failures":           dto.MetricType_GAUGE,
		"healthjob_cycles_total":                         dto.MetricType_COUNTER,
		"healthjob_cycle_duration_seconds":               dto.MetricType_HISTOGRAM,
		"healthjob_records_written_total":                dto.MetricType_COUNTER,
		"healthjob_sync_attempts_total":                  dto.MetricType_COUNTER,
		"healthjob_outbox_depth":                         dto.MetricType_GAUGE,
		"go_goroutines":                                  dto.MetricType_GAUGE,
		"go_memstats_alloc_bytes":                        dto.MetricType_GAUGE,
		"process_cpu_seconds_total":                      dto.MetricType_COUNTER,
		"process_resident_memory_bytes":                  dto.MetricType_GAUGE,
		"process_start_time_seconds":                     dto.MetricType_GAUGE,
	} {
		mf, ok := families[name]
		if !ok {
			t.Errorf("%s: missing", name)
			continue
		}
		if mf.GetType() != typ {
			t.Errorf("%s: type %s, want %s", name, mf.GetType(), typ)
		}
	}

	type sample struct {
		family string
		labels string // name=value,… sorted by name
	}
	want := map[sample]float64{
		{"healthjob_check_up", "check=DatabaseBackend"}:                                1,
		{"healthjob_check_up", "check=DiskUsage"}:                                      1,
		{"healthjob_check_up", "check=RedisHealthCheck"}:                               0,
		{"healthjob_check_status", "check=DatabaseBackend,status=ok"}:                  1,
		{"healthjob_check_status", "check=DatabaseBackend,status=failure"}:             0,
		{"healthjob_check_status", "check=DiskUsage,status=ok"}:                        1,
		{"healthjob_check_status", "check=DiskUsage,status=warning"}:                   0,
		{"healthjob_check_status", "check=DiskUsage,status=failure"}:                   0,
		{"healthjob_check_status", "check=RedisHealthCheck,status=ok"}:                 0,
		{"healthjob_check_status", "check=RedisHealthCheck,status=warning"}:            0,
		{"healthjob_check_status", "check=RedisHealthCheck,status=failure"}:            1,
		{"healthjob_check_last_success_timestamp_seconds", "check=DatabaseBackend"}:    float64(t0.Unix() + 10),
		{"healthjob_check_last_success_timestamp_seconds", "check=DiskUsage"}:          float64(t0.Unix() + 10),
		{"healthjob_check_last_success_timestamp_seconds", "check=RedisHealthCheck"}:   float64(t0.Unix()),
		{"healthjob_check_consecutive_failures", "check=DatabaseBackend"}:              0,
		{"healthjob_check_consecutive_failures", "check=DiskUsage"}:                    0,
		{"healthjob_check_consecutive_failures", "check=RedisHealthCheck"}:             2,
		{"healthjob_check_duration_seconds_count", "check=DatabaseBackend"}:            3,
		{"healthjob_check_duration_seconds_sum", "check=DatabaseBackend"}:              0.03,
		{"healthjob_check_duration_seconds_bucket", "check=DatabaseBackend,le=0.005"}:  0,
		{"healthjob_check_duration_seconds_bucket", "check=DatabaseBackend,le=0.01"}:   3,
		{"healthjob_check_duration_seconds_bucket", "check=DiskUsage,le=0.005"}:        3,
		{"healthjob_check_duration_seconds_count", "check=RedisHealthCheck"}:           3,
		{"healthjob_check_duration_seconds_sum", "check=RedisHealthCheck"}:             4.003,
		{"healthjob_check_duration_seconds_bucket", "check=RedisHealthCheck,le=0.005"}: 1,
		{"healthjob_check_duration_seconds_bucket", "check=RedisHealthCheck,le=1"}:     1,
		{"healthjob_check_duration_seconds_bucket", "check=RedisHealthCheck,le=2.5"}:   3,
		{"healthjob_check_duration_seconds_bucket", "check=RedisHealthCheck,le=+Inf"}:  3,
		{"healthjob_cycles_total", ""}:                                                 3,
		{"healthjob_cycle_duration_seconds_count", ""}:                                 3,
		{"healthjob_cycle_duration_seconds_sum", ""}:                                   4.02,
		{"healthjob_cycle_duration_seconds_bucket", "le=0.025"}:                        1,
		{"healthjob_cycle_duration_seconds_bucket", "le=1"}:                            1,
		{"healthjob_cycle_duration_seconds_bucket", "le=2.5"}:                          3,
		{"healthjob_cycle_duration_seconds_bucket", "le=+Inf"}:                         3,
		{"healthjob_records_written_total", ""}:                                        6,
		{"healthjob_sync_attempts_total", "result=success"}:                            1,
		{"healthjob_sync_attempts_total", "result=failure"}:                            2,
		{"healthjob_outbox_depth", ""}:                                                 0,
	}
	got := map[sample]float64{}
	for name, mf := range families {
		for _, metric := range mf.GetMetric() {
			var labels []string
			for _, l := range metric.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			base := sample{name, strings.Join(labels, ",")}
			switch mf.GetType() {
			case dto.MetricType_GAUGE:
				got[base] = metric.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				got[base] = metric.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := metric.GetHistogram()
				got[sample{name + "_count", base.labels}] = float64(h.GetSampleCount())
				got[sample{name + "_sum", base.labels}] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					l := "le=" + model.SampleValue(b.GetUpperBound()).String()
					if base.labels != "" {
						l = base.labels + "," + l
					}
					got[sample{name + "_bucket", l}] = float64(b.GetCumulativeCount())
				}
				inf := "le=+Inf"
				if base.labels != "" {
					inf = base.labels + "," + inf
				}
				got[sample{name + "_bucket", inf}] = float64(h.GetSampleCount())
			}
		}
	}
	for s, v := range want {
		g, ok := got[s]
		switch {
		case !ok:
			t.Errorf("%s{%s}: missing", s.family, s.labels)
		case diff(g, v) > 1e-9:
			t.Errorf("%s{%s} = %g, want %g", s.family, s.labels, g, v)
		}
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestOpenMetrics answers a scraper that asks for OpenMetrics in it.
func TestOpenMetrics(t *testing.T) {
	m := metrics.New()
	observe(m)
	resp, body := scrape(t, m.Handler(metrics.Auth{}), "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	if typ := resp.Header.Get("Content-Type"); !strings.HasPrefix(typ, "application/openmetrics-text") {
		t.Errorf("Content-Type = %q, want OpenMetrics", typ)
	}
	if !strings.HasSuffix(body, "# EOF\n") || !strings.Contains(body, "healthjob_cycles_total 3.0\n") {
		t.Errorf("not OpenMetrics with healthjob_cycles_total 3:\n%s", body)
	}
}

func TestAuth(t *testing.T) {
	basic := metrics.Auth{Username: "prometheus", Password: "s3cret"}
	token := metrics.Auth{Token: "t0ken"}
	both := metrics.Auth{Username: "prometheus", Password: "s3cret", Token: "t0ken"}
	type creds struct{ user, pass, authorization string }
	for _, tc := range []struct {
		name      string
		auth      metrics.Auth
		creds     creds
		want      int
		challenge string
	}{
		{"open", metrics.Auth{}, creds{}, 200, ""},
		{"basic: none", basic, creds{}, 401, `Basic realm="metrics", charset="UTF-8"`},
		{"basic: right", basic, creds{user: "prometheus", pass: "s3cret"}, 200, ""},
		{"basic: wrong password", basic, creds{user: "prometheus", pass: "s3cre"}, 401, `Basic realm="metrics", charset="UTF-8"`},
		{"basic: wrong user", basic, creds{user: "prometheu", pass: "s3cret"}, 401, `Basic realm="metrics", charset="UTF-8"`},
		{"basic: empty password", basic, creds{user: "prometheus"}, 401, `Basic realm="metrics", charset="UTF-8"`},
		{"basic: a bearer token", basic, creds{authorization: "Bearer s3cret"}, 401, `Basic realm="metrics", charset="UTF-8"`},
		{"token: none", token, creds{}, 401, `Bearer realm="metrics"`},
		{"token: right", token, creds{authorization: "Bearer t0ken"}, 200, ""},
		{"token: scheme in lower case", token, creds{authorization: "bearer t0ken"}, 200, ""},
		{"token: wrong", token, creds{authorization: "Bearer t0ke"}, 401, `Bearer realm="metrics"`},
		{"token: longer", token, creds{authorization: "Bearer t0ken2"}, 401, `Bearer realm="metrics"`},
		{"token: as a basic password", token, creds{user: "x", pass: "t0ken"}, 401, `Bearer realm="metrics"`},
		{"both: basic", both, creds{user: "prometheus", pass: "s3cret"}, 200, ""},
		{"both: token", both, creds{authorization: "Bearer t0ken"}, 200, ""},
		{"both: none", both, creds{}, 401, `Basic realm="metrics", charset="UTF-8", Bearer realm="metrics"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(metrics.New().Handler(tc.auth))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
			if tc.creds.user != "" {
				req.SetBasicAuth(tc.creds.user, tc.creds.pass)
			}
			if tc.creds.authorization != "" {
				req.Header.Set("Authorization", tc.creds.authorization)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			if tc.want == 200 && !strings.Contains(string(body), "healthjob_outbox_depth 0") {
				t.Errorf("no metrics in the answer:\n%s", body)
			}
		})
	}
}

// TestAlertStatesAndHA: healthjob_alert_state has one series per check and
// state, 1 for the current one; healthjob_ha_active follows its function.
func TestAlertStatesAndHA(t *testing.T) {
	m := metrics.New()
	m.ExportAlertStates([]string{"ok", "warning", "failing"}, func(yield func(app, check, state string)) {
		yield("billing", "RedisHealthCheck", "failing")
	})
	active := false
	m.ExportHA(func() bool { return active })
	lines := func() string {
		_, body := scrape(t, m.Handler(metrics.Auth{}), "")
		var out []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "healthjob_alert_state{") || strings.HasPrefix(l, "healthjob_ha_active ") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	want := `healthjob_alert_state{app="billing",check="RedisHealthCheck",state="failing"} 1
healthjob_alert_state{app="billing",check="RedisHealthCheck",state="ok"} 0
healthjob_alert_state{app="billing",check="RedisHealthCheck",state="warning"} 0
healthjob_ha_active 0`
	if got := lines(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	active = true
	if got := lines(); !strings.HasSuffix(got, "healthjob_ha_active 1") {
		t.Errorf("active: got\n%s", got)
	}
}
