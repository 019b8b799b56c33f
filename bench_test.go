package healthjob_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/healthjob/healthjob"
)

// BenchmarkRunner measures the runner's own cost per check: each check does
// nothing, so ns/check is the overhead (deadline, goroutine, result, sort).
func BenchmarkRunner(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("checks=%d", n), func(b *testing.B) {
			reg := &healthjob.Registry{}
			for i := range n {
				mustRegister(b, reg, healthjob.CheckFunc(fmt.Sprintf("check-%05d", i), pass))
			}
			r := healthjob.NewRunner(reg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Run(ctx, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/check")
		})
	}
}
