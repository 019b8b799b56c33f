package notify

import (
	"github.com/prometheus/client_golang/prometheus"
)

var alertStateDesc = prometheus.NewDesc("healthjob_alert_state",
	"The check's alert state after the failure and success thresholds: 1 for the current state (ok, warning or failing), 0 for the others.",
	[]string{"app", "check", "state"}, nil)

// Collector exports the alert state of every check this notifier has seen
// a result of, as healthjob_alert_state{app, check, state}.
func (n *Notifier) Collector() prometheus.Collector { return collector{n} }

type collector struct{ n *Notifier }

func (c collector) Describe(ch chan<- *prometheus.Desc) { ch <- alertStateDesc }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	for key, st := range c.n.states {
		for _, s := range []State{OK, Warning, Failing} {
			v := 0.0
			if s == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(alertStateDesc, prometheus.GaugeValue, v, key[0], key[1], string(s))
		}
	}
}
