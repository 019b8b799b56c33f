package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/job"

	_ "modernc.org/sqlite" // the embedded default store
)

// app is what monitor and check share: the checks, the runner, and where
// the runs go.
type app struct {
	cfg       *config.Config
	log       *slog.Logger
	runner    *healthjob.Runner
	processor *job.Processor
	store     *store.DB // nil unless persisting
}

// newApp builds the checks and opens the store. A configuration mistake is
// a usage error (exit 2); a store that cannot be opened ends start-up (exit 1).
func newApp(ctx context.Context, e *env, cfg *config.Config, subset string) (*app, error) {
	log := newLogger(e, cfg)
	reg, err := buildChecks(cfg)
	if err != nil {
		return nil, usageErr(err)
	}
	if _, err := reg.Subset(subset); err != nil {
		return nil, usageErr(fmt.Errorf("--subset: %v; known subsets: %s", err, orNone(reg.SubsetNames())))
	}
	runner := healthjob.NewRunner(reg)
	runner.Timeout = cfg.HealthCheckTimeout.D()
	runner.Concurrency = cfg.HealthCheckConcurrency
	runner.WarningsAsErrors = cfg.WarningsAsErrors
	runner.Logger = log

	a := &app{cfg: cfg, log: log, runner: runner, processor: &job.Processor{
		Persist: cfg.PersistHealthCheckData,
		Sync:    cfg.SyncHealthCheckData,
	}}
	if cfg.SyncHealthCheckData {
		a.processor.Sender = &job.HTTPSender{
			ServerURL: cfg.SyncServerURL,
			AppID:     cfg.SyncAppID,
			Client:    &http.Client{Timeout: cfg.SyncTimeout.D()},
		}
	}
	if cfg.PersistHealthCheckData {
		if a.store, err = openStore(ctx, cfg); err != nil {
			return nil, err
		}
		a.processor.Store = a.store
	}
	return a, nil
}

// openStore opens DATABASE_URL and brings its schema up to date, or refuses
// a schema that is behind when DATABASE_AUTO_MIGRATE is off.
func openStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if cfg.DatabaseAutoMigrate {
		_, err = db.Migrate(ctx)
	} else {
		err = db.CheckSchema(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	return db, nil
}

func (a *app) close() {
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Error("close store", "error", err)
		}
	}
}

// colorFlag is --color: auto, always or never.
type colorFlag string

func (c *colorFlag) String() string { return string(*c) }
func (c *colorFlag) Set(s string) error {
	switch s {
	case "auto", "always", "never":
		*c = colorFlag(s)
		return nil
	}
	return fmt.Errorf("want auto, always or never")
}

// enabled decides colour: always, never, or in auto mode only on a terminal
// and when NO_COLOR is unset (https://no-color.org).
func (c colorFlag) enabled(e *env) bool {
	switch c {
	case "always":
		return true
	case "never":
		return false
	}
	if e.getenv("NO_COLOR") != "" || e.getenv("TERM") == "dumb" {
		return false
	}
	f, ok := e.stdout.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none configured"
	}
	return strings.Join(names, ", ")
}
