// Package metrics exports healthjob's Prometheus metrics: the checks'
// state and durations, the monitor's cycles, the records written and the
// sync attempts, with the Go runtime and process metrics. The collectors
// live on a registry of their own, never the global one, so that tests and
// embedding programs do not collide.
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are healthjob's collectors on their own registry.
type Metrics struct {
	reg *prometheus.Registry

	mu                  sync.Mutex // Observe is called by one monitor, but keep it safe for several
	checkUp             *prometheus.GaugeVec
	checkStatus         *prometheus.GaugeVec
	checkDuration       *prometheus.HistogramVec
	lastSuccess         *prometheus.GaugeVec
	consecutiveFailures *prometheus.GaugeVec
	cycles              prometheus.Counter
	cycleDuration       prometheus.Histogram
	recordsWritten      prometheus.Counter
	syncAttempts        *prometheus.CounterVec
	outboxDepth         atomic.Pointer[func() int]
	outboxDropped       *prometheus.CounterVec
	ingested            *prometheus.CounterVec
	ingestDuration      prometheus.Histogram
}

// levels are the values of healthjob_check_status's status label.
var levels = []healthjob.Level{healthjob.LevelOK, healthjob.LevelWarning, healthjob.LevelFailure}

// New registers the collectors on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		checkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "healthjob_check_up",
			Help: "Whether the check passed in the latest cycle (1) or failed (0).",
		}, []string{"check"}),
		checkStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "healthjob_check_status",
			Help: "The check's level in the latest cycle: 1 for the current status (ok, warning or failure), 0 for the others.",
		}, []string{"check", "status"}),
		checkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "healthjob_check_duration_seconds",
			Help:    "How long the check took.",
			Buckets: prometheus.DefBuckets,
		}, []string{"check"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "healthjob_check_last_success_timestamp_seconds",
			Help: "When the check last passed, in seconds since the epoch; absent until it has.",
		}, []string{"check"}),
		consecutiveFailures: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "healthjob_check_consecutive_failures",
			Help: "How many cycles in a row the check has failed; 0 when it passed.",
		}, []string{"check"}),
		cycles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthjob_cycles_total",
			Help: "Cycles of checks completed.",
		}),
		cycleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "healthjob_cycle_duration_seconds",
			Help:    "How long the checks of a cycle took together.",
			Buckets: prometheus.DefBuckets,
		}),
		recordsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthjob_records_written_total",
			Help: "Check results saved to the records table.",
		}),
		syncAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthjob_sync_attempts_total",
			Help: "Deliveries of a run to the monitoring server, by result (success or failure).",
		}, []string{"result"}),
		outboxDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthjob_outbox_dropped_total",
			Help: "Payloads dropped from the outbox, by reason: full (the oldest, for room) or refused (by the server, for good).",
		}, []string{"reason"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthjob_ingest_payloads_total",
			Help: "Payloads received by serve on /v1/metrics, by result: accepted, duplicate, rejected or failed.",
		}, []string{"result"}),
		ingestDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "healthjob_ingest_duration_seconds",
			Help:    "How long serve took to answer a payload.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	outboxDepth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "healthjob_outbox_depth",
		Help: "Payloads waiting in the outbox: for the monitoring server, or for a records database that is down.",
	}, func() float64 {
		if depth := m.outboxDepth.Load(); depth != nil {
			return float64((*depth)())
		}
		return 0
	})
	for _, result := range []string{"success", "failure"} {
		m.syncAttempts.WithLabelValues(result) // export 0 before the first attempt, so rate() works
	}
	for _, reason := range []string{"full", "refused"} {
		m.outboxDropped.WithLabelValues(reason)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.checkUp, m.checkStatus, m.checkDuration, m.lastSuccess, m.consecutiveFailures,
		m.cycles, m.cycleDuration, m.recordsWritten, m.syncAttempts, outboxDepth, m.outboxDropped,
	)
	return m
}

// Observe records a completed cycle.
func (m *Metrics) Observe(run *healthjob.Run) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range run.Checks {
		up := 0.0
		if c.Passed() {
			up = 1
			m.lastSuccess.WithLabelValues(c.Name).Set(float64(run.Timestamp.UnixNano()) / 1e9)
			m.consecutiveFailures.WithLabelValues(c.Name).Set(0)
		} else {
			m.consecutiveFailures.WithLabelValues(c.Name).Inc()
		}
		m.checkUp.WithLabelValues(c.Name).Set(up)
		for _, l := range levels {
			v := 0.0
			if c.Level == l {
				v = 1
			}
			m.checkStatus.WithLabelValues(c.Name, string(l)).Set(v)
		}
		m.checkDuration.WithLabelValues(c.Name).Observe(c.Duration.Seconds())
	}
	m.cycles.Inc()
	m.cycleDuration.Observe(run.Duration.Seconds())
}

// RecordsWritten counts n results saved to the records table.
func (m *Metrics) RecordsWritten(n int) { m.recordsWritten.Add(float64(n)) }

// SyncAttempt counts a delivery to the monitoring server.
func (m *Metrics) SyncAttempt(ok bool) {
	result := "failure"
	if ok {
		result = "success"
	}
	m.syncAttempts.WithLabelValues(result).Inc()
}

// OutboxDepth makes healthjob_outbox_depth read depth at each scrape.
func (m *Metrics) OutboxDepth(depth func() int) { m.outboxDepth.Store(&depth) }

// OutboxDropped counts n payloads dropped from the outbox for reason: full
// or refused.
func (m *Metrics) OutboxDropped(reason string, n int) {
	m.outboxDropped.WithLabelValues(reason).Add(float64(n))
}

var alertStateDesc = prometheus.NewDesc("healthjob_alert_state",
	"The check's alert state after the failure and success thresholds: 1 for the current state (ok, warning or failing), 0 for the others.",
	[]string{"app", "check", "state"}, nil)

// ExportAlertStates adds healthjob_alert_state{app, check, state}, read
// from each when scraped: for every check each yields, 1 for its state and
// 0 for the others of states.
func (m *Metrics) ExportAlertStates(states []string, each func(yield func(app, check, state string))) {
	m.reg.MustRegister(alertStates{states, each})
}

type alertStates struct {
	states []string
	each   func(yield func(app, check, state string))
}

func (c alertStates) Describe(ch chan<- *prometheus.Desc) { ch <- alertStateDesc }

func (c alertStates) Collect(ch chan<- prometheus.Metric) {
	c.each(func(app, check, state string) {
		for _, s := range c.states {
			v := 0.0
			if s == state {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(alertStateDesc, prometheus.GaugeValue, v, app, check, s)
		}
	})
}

// ExportHA adds healthjob_ha_active, read from active when scraped.
func (m *Metrics) ExportHA(active func() bool) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "healthjob_ha_active",
		Help: "1 while this monitor holds the application's HA lease and runs the cycles, 0 while it stands by.",
	}, func() float64 {
		if active() {
			return 1
		}
		return 0
	}))
}

// ExportIngest adds serve's ingest metrics to the ones exported.
func (m *Metrics) ExportIngest() {
	for _, r := range []string{"accepted", "duplicate", "rejected", "failed"} {
		m.ingested.WithLabelValues(r)
	}
	m.reg.MustRegister(m.ingested, m.ingestDuration)
}

// Ingested counts a payload received by serve, with its result (accepted,
// duplicate, rejected or failed) and how long it took.
func (m *Metrics) Ingested(result string, d time.Duration) {
	m.ingested.WithLabelValues(result).Inc()
	m.ingestDuration.Observe(d.Seconds())
}

// Auth protects the metrics: with a Token, a request must carry
// "Authorization: Bearer <Token>"; with a Username, HTTP basic auth with
// Username and Password. With both, either is accepted; with neither, the
// metrics are open.
type Auth struct {
	Username, Password string
	Token              string
}

// Handler serves the metrics in the exposition format the scraper asks for.
func (m *Metrics) Handler(auth Auth) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, EnableOpenMetrics: true})
	if auth.Token == "" && auth.Username == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !auth.allows(r) {
			var challenges []string
			if auth.Username != "" {
				challenges = append(challenges, `Basic realm="metrics", charset="UTF-8"`)
			}
			if auth.Token != "" {
				challenges = append(challenges, `Bearer realm="metrics"`)
			}
			w.Header().Set("WWW-Authenticate", strings.Join(challenges, ", "))
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// allows compares the credentials in constant time, also in length: both
// sides are hashed first.
func (a Auth) allows(r *http.Request) bool {
	ok := false
	if a.Token != "" {
		scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
		if found && strings.EqualFold(scheme, "Bearer") {
			ok = equal(token, a.Token) == 1
		}
	}
	if a.Username != "" {
		if user, pass, found := r.BasicAuth(); found {
			// Both compared every time, so that timing does not tell which was wrong.
			ok = equal(user, a.Username)&equal(pass, a.Password) == 1 || ok
		}
	}
	return ok
}

func equal(a, b string) int {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:])
}
