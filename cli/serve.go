package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/healthjob/healthjob/internal/admin"
	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/metrics"
	"github.com/healthjob/healthjob/internal/notify"
	"github.com/healthjob/healthjob/internal/server"
	"github.com/healthjob/healthjob/internal/store"
)

// serveConns is how many connections a serve replica keeps to a
// PostgreSQL or MySQL database: enough to keep two cores busy while some
// wait on commits (measured with tools/loadgen), few enough that a dozen
// replicas stay within PostgreSQL's default of 100.
const serveConns = 8

func runServe(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "serve", "[--config FILE] [--http ADDR]")
	httpAddr := f.String("http", "", "listen on `ADDR` (host:port); overrides SERVE_HTTP, whose default is :8000")
	if err := f.parse(args); err != nil {
		return err
	}
	if *httpAddr != "" {
		if err := checkListenAddr(*httpAddr); err != nil {
			return usageErr(fmt.Errorf("--http: %v", err))
		}
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	if *httpAddr != "" {
		cfg.ServeHTTP = *httpAddr
	}
	log := newLogger(e, cfg)
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Engine() == "sqlite" {
		// Checkpoint the WAL every 40 MB rather than 4: the pages every
		// payload touches (the indexes' last leaves) are copied to the
		// database once per checkpoint, so fewer checkpoints copy less
		// (a third more payloads a second, measured with tools/loadgen).
		if _, err := db.SQL().ExecContext(ctx, "PRAGMA wal_autocheckpoint = 10000"); err != nil {
			return fmt.Errorf("DATABASE_URL: %w", err)
		}
	} else {
		db.SQL().SetMaxOpenConns(serveConns)
		db.SQL().SetMaxIdleConns(serveConns)
	}
	m := metrics.New()
	m.ExportIngest()
	ui, err := adminUI(cfg, db, log)
	if err != nil {
		return err
	}
	sc := server.Config{
		Store:           db,
		OpenApps:        cfg.ServeOpenApps,
		SigningKey:      cfg.ServeSigningKey,
		SignatureMaxAge: cfg.ServeSignatureMaxAge.D(),
		Observe:         m.Ingested,
		Logger:          log,
	}
	if h, ok := ui.(*admin.Handler); ok {
		sc.Session = h.SignedIn
	}
	srv := server.New(sc)
	defer srv.Close()
	defer startRetention(ctx, cfg, db, log)()
	if len(cfg.Notifications) > 0 {
		// One relay per queue: set NOTIFICATIONS on one serve replica only.
		stop, err := watchSilence(ctx, cfg, db, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", cfg.ServeHTTP)
	if err != nil {
		return fmt.Errorf("cannot serve HTTP: %w", err)
	}
	log.Info("serving HTTP", "addr", ln.Addr().String(), "database", db.Engine(), "open_apps", cfg.ServeOpenApps,
		"signatures", cfg.ServeSigningKey != "")
	mux := serveMux(cfg, srv, m)
	mux.Handle(admin.Root, ui)
	err = server.Serve(ctx, ln, mux, shutdownTimeout, log)
	log.Info("serve stopped")
	return err
}

// serveMux mounts the API, /livez, /readyz and /metrics; the admin UI
// mounts beside them.
func serveMux(cfg *config.Config, srv *server.Server, m *metrics.Metrics) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/metrics", m.Handler(metrics.Auth{Username: cfg.MetricsUsername, Password: cfg.MetricsPassword, Token: cfg.MetricsToken}))
	return mux
}

// watchSilence notifies, like a failing check, when an app's payloads stop
// arriving for 3 of its intervals. It returns the function that stops it.
func watchSilence(ctx context.Context, cfg *config.Config, db *store.DB, log *slog.Logger) (func(), error) {
	nc, err := notifyConfig(cfg, db)
	if err != nil {
		return nil, usageErr(err)
	}
	nc.Logger = log
	alerts, err := notify.New(ctx, nc)
	if err != nil {
		return nil, usageErr(err)
	}
	alerts.Start()
	watchCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		alerts.WatchSilence(watchCtx, cfg.HealthCheckInterval.D(), cfg.HealthCheckInterval.D())
	}()
	return func() {
		cancel()
		<-done
		stop, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancelStop()
		alerts.Stop(stop)
	}, nil
}
