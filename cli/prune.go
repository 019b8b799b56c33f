package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/internal/config"
)

func runPrune(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "prune", "[--config FILE] [--older-than DURATION]")
	older := f.String("older-than", "", "delete the records created more than `DURATION` ago (30d, 12h); default HEALTH_CHECK_RETENTION")
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	p := policy(cfg)
	if *older != "" {
		d, err := config.ParseDuration(*older)
		if err != nil || d < config.Duration(time.Hour) {
			return usageErr(fmt.Errorf("--older-than: want a duration of 1h or more, such as 30d or 12h; got %q", *older))
		}
		p.raw = d.D()
	}
	if p.raw == 0 {
		return usageErr(errors.New("--older-than: not given, and HEALTH_CHECK_RETENTION is 0 (keep the records forever)"))
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := p.apply(ctx, db, time.Now())
	if err != nil {
		return err
	}
	what := plural(r.records, "record")
	if r.runs > 0 { // serve's database
		what += " and " + plural(r.runs, "run")
	}
	fmt.Fprintf(e.stdout, "%s: pruned %s created before %s", sqldb.Redact(cfg.DatabaseURL), what, r.before.Format(time.RFC3339))
	if p.rollups > 0 {
		fmt.Fprintf(e.stdout, "; rolled up %d hours, pruned %d hourly roll-ups older than %s", r.hours, r.rollup, config.Duration(p.rollups))
	}
	fmt.Fprintln(e.stdout)
	return nil
}

// plural is "1 record", "2 records".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
