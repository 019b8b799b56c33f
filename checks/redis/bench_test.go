//go:build unix

package redis_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/redis"
	"github.com/healthjob/healthjob/healthjobtest"
)

// BenchmarkCheck runs the check against the test server with a connection
// per run (ConnMaxAge 0) and with a kept one. cpu-ns/op is the CPU time of
// this process per run; the server's comes on top.
func BenchmarkCheck(b *testing.B) {
	srv := healthjobtest.Env("HEALTHJOB_REDIS_URL", "redis://127.0.0.1:6379/0")
	for _, age := range []time.Duration{0, time.Minute} {
		c, err := redis.New(redis.Config{URL: srv, ConnMaxAge: age})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("ConnMaxAge=%s", age), func(b *testing.B) {
			defer c.Close()
			healthjobtest.BenchmarkCheck(b, c, "Redis (HEALTHJOB_REDIS_URL)")
		})
	}
}
