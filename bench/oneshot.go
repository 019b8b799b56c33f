package main

import (
	"context"
	"fmt"
	"time"
)

// oneshotFamily: one `check` run of the 7 checks, from exec to exit —
// healthjob's check against django-health-check's health_check command.
// Nothing is saved, as health_check saves nothing.
func oneshotFamily(ctx context.Context, b *bench, res *results) error {
	w := workload{db: "sqlite", checks: "std", interval: time.Second}
	var wall, cpu samples
	err := b.alternate(ctx, func(_ int, s side) error {
		dir, env, argv, err := b.command(s, w, "check")
		if err != nil {
			return err
		}
		p, err := startProc(dir, env, argv...)
		if err != nil {
			return err
		}
		u, err := p.wait(2 * time.Minute)
		if err != nil {
			return err
		}
		if u.code != 0 {
			return fmt.Errorf("exit code %d: %s", u.code, p.stderr)
		}
		lines, err := p.waitLines(w.perCycle(), time.Second)
		if err != nil {
			return err
		}
		if err := verify(lines, w); err != nil {
			return err
		}
		wall.add(s, ms(u.wall))
		cpu.add(s, ms(u.cpu))
		return nil
	})
	if err != nil {
		return err
	}
	res.add("One-shot check of the 7 checks, wall time", "ms", false, goal{ratio: 10}, wall)
	res.add("One-shot check of the 7 checks, CPU time", "ms", false, goal{}, cpu)
	return nil
}
