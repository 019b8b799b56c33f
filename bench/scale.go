package main

import (
	"context"
	"fmt"
	"time"
)

// scaleFamily: healthjob alone, how the cost of a cycle grows with its
// work: 10 to 10,000 HTTP or TCP probes of the bench's local servers, with
// and without a bound on concurrency, cycles back to back (an interval far
// below a cycle), every run saved to SQLite: a new database for each point.
func scaleFamily(ctx context.Context, b *bench, res *results) error {
	for _, kind := range []string{"http", "tcp"} {
		for _, conc := range b.sizes.scaleConcurrency {
			for _, n := range b.sizes.scale {
				db, err := b.freshSQLite(ctx, "scale", healthjobSide)
				if err != nil {
					return err
				}
				w := workload{db: db, checks: kind, n: n, interval: 100 * time.Microsecond, persist: true, concurrency: conc}
				cycles := max(3, 1000/n) // a thousand probes measured, or more
				p := scalePoint{Kind: kind, Probes: n, Concurrency: conc}
				for rep := range b.sizes.scaleRuns {
					if err := ctx.Err(); err != nil {
						return err
					}
					fmt.Fprintf(b.opts.log, "bench: scale, %d %s probes, concurrency %d, run %d of %d\n", n, kind, conc, rep+1, b.sizes.scaleRuns)
					m, err := b.measureMonitor(healthjobSide, w, cycles, fmt.Sprintf("scale-%s-%d-%d", kind, n, conc))
					if err != nil {
						return fmt.Errorf("%d %s probes: %w", n, kind, err)
					}
					p.CycleMs = append(p.CycleMs, m.cyclePeriod())
					p.CPUMs = append(p.CPUMs, m.cpuPerCycle)
					p.RSSMiB = append(p.RSSMiB, m.rss)
				}
				res.Scale = append(res.Scale, p)
			}
		}
	}
	return nil
}
