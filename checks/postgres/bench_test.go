package postgres_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/postgres"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"
)

// BenchmarkCheck runs each check against the test server with a connection
// per run (ConnMaxAge 0) and with a kept one. cpu-ns/op is the CPU time of
// this process per run; the server's, a process forked for each new
// connection, comes on top.
func BenchmarkCheck(b *testing.B) {
	srv := healthjobtest.Env("HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	for _, kind := range []sqldb.Kind{sqldb.Backend, sqldb.HeartBeat} {
		for _, age := range []time.Duration{0, time.Minute} {
			c, err := postgres.New(postgres.Config{URL: srv, Kind: kind, ConnMaxAge: age})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/ConnMaxAge=%s", c.Name(), age), func(b *testing.B) {
				defer c.Close()
				if err := c.Check(context.Background()); err != nil {
					healthjobtest.Missing(b, "PostgreSQL (HEALTHJOB_POSTGRES_URL): "+err.Error())
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
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
