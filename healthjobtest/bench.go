//go:build unix

package healthjobtest

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
)

// BenchmarkCheck runs c in a loop and reports cpu-ns/op, the CPU time of
// this process per run (a server's comes on top). A first run that fails
// means the service is missing: Missing, with service named in the reason.
func BenchmarkCheck(b *testing.B, c healthjob.Check, service string) {
	b.Helper()
	if err := c.Check(context.Background()); err != nil {
		Missing(b, service+": "+err.Error())
	}
	cpu := cpuTime(b)
	for b.Loop() {
		if err := c.Check(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
