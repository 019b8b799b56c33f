package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// monitorFamily: the monitor with the 7 checks, persisting every run, on
// SQLite and on PostgreSQL. CPU per cycle in steady state, resident memory
// (steady and peak), drift per cycle and the lag it adds up to, and the
// start-up time to the first cycle's results.
func monitorFamily(ctx context.Context, b *bench, res *results) error {
	for _, engine := range []string{"sqlite", "postgres"} {
		if _, ok := b.databases[engine]; !ok {
			continue
		}
		w := workload{db: engine, checks: "std", interval: b.sizes.interval, persist: true}
		var cpu, rss, anon, peak, drift, lag, startup samples
		err := b.alternate(ctx, func(rep int, s side) error {
			fmt.Fprintf(b.opts.log, "bench: monitor %s, run %d of %d: %s\n", engine, rep+1, b.sizes.runs, s)
			m, err := b.measureMonitor(s, w, b.sizes.cycles, "monitor-"+engine)
			if err != nil {
				return err
			}
			cpu.add(s, m.cpuPerCycle)
			rss.add(s, m.rss)
			anon.add(s, m.anon)
			peak.add(s, m.peakRSS)
			lag.add(s, m.lag())
			drift.add(s, m.lag()/float64(b.sizes.cycles))
			startup.add(s, m.startups...)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
		db, every := engineNames[engine], fmt.Sprintf("every %gs", b.sizes.interval.Seconds())
		res.add("CPU per cycle, 7 checks, saved to "+db, "ms", false, goal{ratio: 20, below: 1.5}, cpu)
		res.add("Resident memory, steady, "+db, "MiB", false, goal{ratio: 3, below: 20}, rss)
		res.add("Resident memory, steady, anonymous part, "+db, "MiB", false, goal{}, anon)
		res.add("Resident memory, peak, "+db, "MiB", false, goal{ratio: 3, below: 20}, peak)
		res.add("Drift per cycle, "+every+", "+db, "ms", false, goal{below: 1, noRatio: true}, drift)
		res.add(fmt.Sprintf("Lag after %d cycles, %s, %s", b.sizes.cycles, every, db), "ms", false, goal{below: 10, noRatio: true}, lag)
		res.add("Start-up to the first cycle's results, "+db, "ms", false, goal{below: 50}, startup)
	}
	return nil
}

// monitorRun is what two monitor processes of one system tell, one stopped
// after a few cycles and one after many.
type monitorRun struct {
	interval    time.Duration
	startups    []float64       // ms from exec to the first cycle's last line, each process
	cpuPerCycle float64         // ms, after the first cycle
	rss         float64         // MiB resident after the long run's last cycle
	anon        float64         // MiB of it not mapped from files
	peakRSS     float64         // MiB, the long run's peak
	starts      []time.Duration // when each cycle's first line arrived, long run, from the second
}

// lag is how far the long run's last cycle came after its slot on the grid
// of intervals that began with its second cycle (the first warms up), in ms.
func (m monitorRun) lag() float64 {
	n := len(m.starts) - 1
	return ms(m.starts[n] - m.starts[0] - time.Duration(n)*m.interval)
}

// cyclePeriod is the mean time from one cycle's first line to the next one's, in ms.
func (m monitorRun) cyclePeriod() float64 {
	n := len(m.starts) - 1
	return ms(m.starts[n]-m.starts[0]) / float64(n)
}

// tick is the unit of CPU time in /proc/<pid>/stat (USER_HZ).
const tick = 10 * time.Millisecond

// measureMonitor runs a system's monitor twice, for one cycle and for
// measured+2 cycles, and stops each with SIGTERM once the last cycle's lines
// are out. The first cycle warms up; drift and lag are measured over the
// measured intervals from the second cycle on. The CPU of the cycles after
// the first is the difference of the two runs' CPU times, which the kernel
// knows exactly once a process has exited; a first cycle that costs more in
// one run than in the other would skew it, so it is kept within what /proc
// says, in ticks, of the long run's cycles after the first (two ticks at
// most from the truth: user and system time are each rounded down).
func (b *bench) measureMonitor(s side, w workload, measured int, label string) (monitorRun, error) {
	m := monitorRun{interval: w.interval}
	short, long := 1, measured+2
	var exact [2]time.Duration
	var ticks time.Duration
	for i, cycles := range []int{short, long} {
		dir, env, argv, err := b.command(s, w, "monitor")
		if err != nil {
			return m, err
		}
		if s == healthjobSide && b.opts.profile != "" && i == 1 {
			env = append(env, "HEALTHJOB_CPUPROFILE="+filepath.Join(b.opts.profile, label+".pprof"))
		}
		p, err := startProc(dir, env, argv...)
		if err != nil {
			return m, err
		}
		k := w.perCycle()
		timeout := time.Minute + time.Duration(cycles)*(w.interval+30*time.Second)
		if _, err := p.waitLines(k, timeout); err != nil {
			return m, err
		}
		first, err1 := p.cpuTicks()
		lines, err := p.waitLines(cycles*k, timeout)
		if err != nil {
			return m, err
		}
		last, err2 := p.cpuTicks()
		rss, anon, peak, err3 := p.memory()
		u, err := p.stop(time.Minute)
		if err := errors.Join(err, err1, err2, err3); err != nil {
			return m, err
		}
		if err := verify(lines[:cycles*k], w); err != nil {
			return m, err
		}
		exact[i] = u.cpu
		m.startups = append(m.startups, ms(lines[k-1].at))
		if i == 1 {
			ticks = last - first
			m.rss, m.anon, m.peakRSS = mib(rss), mib(anon), mib(peak)
			for c := 1; c < cycles; c++ {
				m.starts = append(m.starts, lines[c*k].at)
			}
		}
	}
	cpu := min(max(exact[1]-exact[0], ticks-2*tick), ticks+2*tick)
	m.cpuPerCycle = ms(cpu) / float64(long-short)
	return m, nil
}

// verify makes sure that every check passed, and that the 7 checks are the
// same on both sides: a failing check would measure something else.
func verify(lines []line, w workload) error {
	for i, l := range lines {
		name, status, ok := strings.Cut(l.text, " ... ")
		if !ok || status != "working" {
			return fmt.Errorf("check line %q: want every check working", l.text)
		}
		if w.checks == "std" && strings.TrimSpace(name) != stdChecks[i%len(stdChecks)] {
			return fmt.Errorf("check line %q: want the checks %s in this order", l.text, strings.Join(stdChecks, ", "))
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(bytes int64) float64    { return float64(bytes) / (1 << 20) }
