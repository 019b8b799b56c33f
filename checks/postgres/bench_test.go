//go:build unix

package postgres_test

import (
	"fmt"
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
				healthjobtest.BenchmarkCheck(b, c, "PostgreSQL (HEALTHJOB_POSTGRES_URL)")
			})
		}
	}
}
