//go:build unix

package memcached_test

import (
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/cache"
	"github.com/healthjob/healthjob/checks/cache/memcached"
	"github.com/healthjob/healthjob/healthjobtest"
)

// BenchmarkCheck runs the check against the test server with a connection
// per run (ConnMaxAge 0) and with a kept one. cpu-ns/op is the CPU time of
// this process per run; the server's comes on top.
func BenchmarkCheck(b *testing.B) {
	b.Run("ConnMaxAge=0s", func(b *testing.B) { benchmark(b, 0) })
	b.Run("ConnMaxAge=1m0s", func(b *testing.B) { benchmark(b, time.Minute) })
}

func benchmark(b *testing.B, age time.Duration) {
	srv := "memcached://" + healthjobtest.Env("HEALTHJOB_MEMCACHED_ADDR", "127.0.0.1:11211")
	backend, err := memcached.New(srv)
	if err != nil {
		b.Fatal(err)
	}
	c, err := cache.New(cache.Config{Backend: backend, ConnMaxAge: age})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	healthjobtest.BenchmarkCheck(b, c, "memcached (HEALTHJOB_MEMCACHED_ADDR)")
}
