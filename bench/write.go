package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"
)

// writeFamily: how many records a second each system saves, one payload
// (one run) at a time, for payloads of 10, 100 and 1,000 checks: healthjob's
// store (SaveRun: one transaction, multi-row INSERTs) against the spec's
// save_health_check_data_to_db (one bulk_create), each in its own process
// and database, for a fixed time after one warm-up payload.
func writeFamily(ctx context.Context, b *bench, res *results) error {
	for _, engine := range []string{"sqlite", "postgres"} {
		if _, ok := b.databases[engine]; !ok {
			continue
		}
		rates := map[int]*samples{}
		for _, n := range b.sizes.writeSizes {
			rates[n] = &samples{}
		}
		err := b.alternate(ctx, func(_ int, s side) error {
			write := b.peerWrites
			if s == healthjobSide {
				write = b.healthjobWrites
			}
			got, err := write(ctx, engine)
			for n, rate := range got {
				rates[n].add(s, rate)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
		for _, n := range b.sizes.writeSizes {
			res.add(fmt.Sprintf("Write rate, %d checks a payload, %s", n, engineNames[engine]), "rows/s", true, goal{ratio: 10}, *rates[n])
		}
	}
	return nil
}

// healthjobWrites times healthjob's store, in this process.
func (b *bench) healthjobWrites(ctx context.Context, engine string) (map[int]float64, error) {
	db, err := store.Open(ctx, b.databases[engine][healthjobSide])
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rates := map[int]float64{}
	for _, n := range b.sizes.writeSizes {
		run := &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: time.Now().UTC()}}
		for i := range n {
			run.Checks = append(run.Checks, healthjob.Result{Name: fmt.Sprintf("check-%05d", i), Status: healthjob.StatusSuccess,
				Message: "working", Level: healthjob.LevelOK, Critical: true, Duration: time.Millisecond})
		}
		if err := db.SaveRun(ctx, run); err != nil { // warm-up
			return nil, err
		}
		rows, start := 0, time.Now()
		for time.Since(start) < b.sizes.writeFor {
			if err := db.SaveRun(ctx, run); err != nil {
				return nil, err
			}
			rows += n
		}
		rates[n] = float64(rows) / time.Since(start).Seconds()
	}
	_, err = db.SQL().ExecContext(ctx, "DELETE FROM "+store.Table) // as the peer does: the next run starts alike
	return rates, err
}

// peerWrites runs the peer's bench_write command.
func (b *bench) peerWrites(_ context.Context, engine string) (map[int]float64, error) {
	dir, env, argv, err := b.command(peerSide, workload{db: engine, checks: "std", interval: time.Second}, "bench_write")
	if err != nil {
		return nil, err
	}
	for _, n := range b.sizes.writeSizes {
		argv = append(argv, strconv.Itoa(n))
	}
	argv = append(argv, "--seconds", strconv.FormatFloat(b.sizes.writeFor.Seconds(), 'f', -1, 64))
	p, err := startProc(dir, env, argv...)
	if err != nil {
		return nil, err
	}
	lines, err := p.waitLines(1, time.Minute+time.Duration(len(b.sizes.writeSizes))*2*b.sizes.writeFor)
	if err != nil {
		return nil, err
	}
	if u, err := p.wait(time.Minute); err != nil || u.code != 0 {
		return nil, fmt.Errorf("bench_write: exit %d, %v: %s", u.code, err, p.stderr)
	}
	var byName map[string]float64
	if err := json.Unmarshal([]byte(lines[0].text), &byName); err != nil {
		return nil, fmt.Errorf("bench_write printed %q: %w", lines[0].text, err)
	}
	rates := map[int]float64{}
	for _, n := range b.sizes.writeSizes {
		rates[n] = byName[strconv.Itoa(n)]
	}
	return rates, nil
}
