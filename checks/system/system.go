package system

import (
	"context"
	"math"
	"os"
	"strconv"
)

// hostname names the machine in messages, as socket.gethostname() does.
func hostname() string {
	host, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return host
}

// done reports a context that has ended before or during a reading as the
// plain context error, which the runner renders as "unavailable: check timed
// out after 1s" or "unavailable: check cancelled".
func done(ctx context.Context) error { return ctx.Err() }

// threshold renders a configured threshold as written: 90, 0.5.
func threshold(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// percent renders a percentage as psutil prints its one-decimal rounding: 93.4, 90.0.
func percent(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// round1 rounds to one decimal, as psutil does before a percentage is compared.
func round1(x float64) float64 { return math.Round(x*10) / 10 }
