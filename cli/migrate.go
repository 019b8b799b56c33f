package cli

import (
	"context"
	"fmt"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/internal/store"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "migrate", "[--config FILE]")
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	fmt.Fprintf(e.stdout, "%s: %d migrations applied; the schema is up to date\n", sqldb.Redact(cfg.DatabaseURL), n)
	return nil
}
