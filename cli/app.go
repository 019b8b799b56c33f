package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/metrics"
	"github.com/healthjob/healthjob/internal/outbox"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/job"

	_ "github.com/go-sql-driver/mysql" // DATABASE_URL=mysql://…
	_ "github.com/jackc/pgx/v5/stdlib" // DATABASE_URL=postgres://…
	_ "modernc.org/sqlite"             // the embedded default store
)

// app is what monitor and check share: the checks, the runner, and where
// the runs go.
type app struct {
	cfg       *config.Config
	log       *slog.Logger
	runner    *healthjob.Runner
	processor *job.Processor
	store     *store.DB // nil unless persisting
	metrics   *metrics.Metrics

	outbox *store.DB       // the local outbox file SYNC_OUTBOX_PATH; nil when unused
	relays []*outbox.Relay // deliver the outbox's queues
}

// newApp builds the checks and opens the store. A configuration mistake is
// a usage error (exit 2); a store that cannot be opened ends start-up (exit 1).
func newApp(ctx context.Context, e *env, cfg *config.Config, subset string) (*app, error) {
	log := newLogger(e, cfg)
	reg, err := buildChecks(e, cfg)
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

	a := &app{cfg: cfg, log: log, runner: runner, metrics: metrics.New(), processor: &job.Processor{
		Persist: cfg.PersistHealthCheckData,
		Sync:    cfg.SyncHealthCheckData,
	}}
	if cfg.PersistHealthCheckData {
		if a.store, err = openStore(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if err := a.openOutbox(ctx); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// openOutbox routes the runs through the outbox, so that nothing leaves the
// process but through a durable queue (see store.Outbox), and starts the
// relays that deliver it: the payloads to SYNC_SERVER_URL, and the runs
// that wait for a remote DATABASE_URL that was down.
func (a *app) openOutbox(ctx context.Context) error {
	cfg, p := a.cfg, a.processor
	if !p.Persist && !p.Sync {
		return nil
	}
	o := &store.Outbox{Records: a.store, AppID: cfg.SyncAppID}
	remote := a.store != nil && a.store.Engine() != "sqlite"
	if (p.Sync && a.store == nil) || remote {
		path := outboxPath(cfg)
		db, err := store.Open(ctx, "sqlite:"+path)
		if err == nil {
			a.outbox = db
			_, err = db.Migrate(ctx)
		}
		if err != nil {
			return fmt.Errorf("SYNC_OUTBOX_PATH: %w", err)
		}
	}
	maxBytes := int64(cfg.SyncOutboxMaxMB * (1 << 20))
	queue := func(db *store.DB, kind string) (*store.Queue, error) {
		q, err := db.Queue(ctx, kind, cfg.SyncAppID, cfg.SyncOutboxMax, maxBytes)
		if err != nil {
			return nil, err
		}
		q.OnDrop = func(items []outbox.Item) {
			a.metrics.OutboxDropped("full", len(items))
			a.log.Error("outbox full: the oldest payloads were dropped", "outbox", kind, "dropped", len(items),
				"first", items[0].UUID, "last", items[len(items)-1].UUID, "max", cfg.SyncOutboxMax, "max_mb", cfg.SyncOutboxMaxMB)
		}
		return q, nil
	}
	var err error
	if p.Sync {
		db := cmp.Or(a.store, a.outbox)
		if o.Sync, err = queue(db, store.KindSync); err != nil {
			return err
		}
		r := a.startRelay(o.Sync, "sync", &outbox.HTTPSender{
			URL:          job.MetricsURL(cfg.SyncServerURL),
			HeartbeatURL: job.HeartbeatURL(cfg.SyncServerURL),
			APIKey:       cfg.SyncAPIKey,
			SigningKey:   cfg.SyncSigningKey,
			Client:       &http.Client{Timeout: cfg.SyncTimeout.D()},
			UserAgent:    "healthjob/" + cmp.Or(version, "dev"),
		})
		r.OnAttempt = func(_ outbox.Item, err error) { a.metrics.SyncAttempt(err == nil) }
		r.OnDrop = func(outbox.Item, error) { a.metrics.OutboxDropped("refused", 1) }
	}
	if remote {
		if o.Pending, err = queue(a.outbox, store.KindPersist); err != nil {
			return err
		}
		o.OnPending = func(run *healthjob.Run, err error) {
			if err != nil {
				a.log.Warn("records database unavailable: runs wait in the outbox until it is back", "run", run.UUID, "outbox", outboxPath(cfg), "error", err)
			}
		}
		a.startRelay(o.Pending, "persist", outbox.SenderFunc(o.Write))
	}
	if p.Persist {
		// One transaction writes the records and queues the payload: the
		// Processor syncs through its Store.
		p.Store, p.Sync = o, false
	} else {
		p.Sender = o
	}
	a.metrics.OutboxDepth(func() int {
		n := 0
		for _, q := range []*store.Queue{o.Sync, o.Pending} {
			if q != nil {
				n += q.Len()
			}
		}
		return n
	})
	return nil
}

// startRelay starts a relay delivering q to sender, woken by every enqueue.
func (a *app) startRelay(q *store.Queue, name string, sender outbox.Sender) *outbox.Relay {
	r := &outbox.Relay{
		Queue: q, Sender: sender, Name: name, Logger: a.log,
		MinBackoff: a.cfg.SyncBackoffMin.D(), MaxBackoff: a.cfg.SyncBackoffMax.D(),
	}
	q.OnEnqueue = r.Wake
	a.relays = append(a.relays, r)
	r.Start()
	return r
}

// outboxPath is SYNC_OUTBOX_PATH, by default healthjob-outbox.db beside a
// SQLite DATABASE_URL, else in the working directory.
func outboxPath(cfg *config.Config) string {
	if cfg.SyncOutboxPath != "" {
		return cfg.SyncOutboxPath
	}
	const name = "healthjob-outbox.db"
	path, ok := sqliteFile(cfg.DatabaseURL)
	if !ok {
		return name
	}
	return filepath.Join(filepath.Dir(path), name)
}

// sqliteFile is the file of a SQLite database URL; false for another
// engine, or a database in memory.
func sqliteFile(url string) (string, bool) {
	driver, dsn, err := sqldb.ParseURL(url)
	path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	return path, err == nil && driver == sqldb.DriverSQLite && path != ":memory:"
}

// existingStore refuses a SQLite DATABASE_URL whose file is missing, for
// the commands that only read: opening it would create an empty database,
// most often in the wrong directory.
func existingStore(cfg *config.Config) error {
	path, ok := sqliteFile(cfg.DatabaseURL)
	if !ok {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s; the monitor creates it with PERSIST_HEALTH_CHECK_DATA: true (or run `healthjob migrate`), or set DATABASE_URL to the one it writes", path)
	}
	return nil
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

// flushTime is the least time the outbox has at exit to deliver what it
// holds; SYNC_TIMEOUT when longer.
const flushTime = 5 * time.Second

// close lets the outbox deliver what it holds, retrying, for flushTime or
// SYNC_TIMEOUT; what is left waits for the next start. The runs waiting
// for the records database go first, so that their payloads follow. Then
// it closes the databases, and the checks, whose runs have ended.
func (a *app) close() {
	ctx, cancel := context.WithTimeout(context.Background(), max(a.cfg.SyncTimeout.D(), flushTime))
	defer cancel()
	for _, r := range slices.Backward(a.relays) {
		r.Stop(ctx)
		if n := r.Queue.(*store.Queue).Len(); n > 0 {
			a.log.Warn("outbox: not all delivered before exit; the rest goes at the next start", "outbox", r.Name, "queued", n)
		}
	}
	for _, db := range []*store.DB{a.outbox, a.store} {
		if db == nil {
			continue
		}
		if err := db.Close(); err != nil {
			a.log.Error("close store", "error", err)
		}
	}
	if err := closeChecks(a.runner.Registry); err != nil {
		a.log.Error("close checks", "error", err)
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
