package main

import (
	"context"
	"fmt"
)

// httpFamily: the monitor with many HTTP checks (1,000) against the bench's
// local HTTP server, every run saved to SQLite: CPU per check, persistence
// included, and resident memory. The peer's checks are a plugin of
// bench/peer (urllib), run as django-health-check runs plugins: a thread each.
func httpFamily(ctx context.Context, b *bench, res *results) error {
	n := b.sizes.probes
	db, err := b.freshSQLite(ctx, "http", healthjobSide, peerSide)
	if err != nil {
		return err
	}
	w := workload{db: db, checks: "http", n: n, interval: b.sizes.probeInterval, persist: true}
	var cpu, rss, anon, peak samples
	err = b.alternate(ctx, func(rep int, s side) error {
		fmt.Fprintf(b.opts.log, "bench: %d HTTP checks, run %d of %d: %s\n", n, rep+1, b.sizes.runs, s)
		m, err := b.measureMonitor(s, w, b.sizes.probeCycles, "http")
		if err != nil {
			return err
		}
		cpu.add(s, m.cpuPerCycle/float64(n))
		rss.add(s, m.rss)
		anon.add(s, m.anon)
		peak.add(s, m.peakRSS)
		return nil
	})
	if err != nil {
		return err
	}
	res.add(fmt.Sprintf("CPU per check, %d HTTP checks a cycle, saved to SQLite", n), "ms", false, goal{below: 0.3}, cpu)
	res.add(fmt.Sprintf("Resident memory, steady, %d HTTP checks", n), "MiB", false, goal{below: 30}, rss)
	res.add(fmt.Sprintf("Resident memory, steady, anonymous part, %d HTTP checks", n), "MiB", false, goal{}, anon)
	res.add(fmt.Sprintf("Resident memory, peak, %d HTTP checks", n), "MiB", false, goal{below: 30}, peak)
	return nil
}
