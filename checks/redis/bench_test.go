package redis_test

import (
	"context"
	"fmt"
	"syscall"
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
			if err := c.Check(context.Background()); err != nil {
				healthjobtest.Missing(b, "Redis (HEALTHJOB_REDIS_URL): "+err.Error())
			}
			cpu := cpuTime(b)
			for b.Loop() {
				if err := c.Check(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
