package main

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/metrics"
	"github.com/healthjob/healthjob/internal/server"
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
	srv := server.New(server.Config{
		Store:           db,
		OpenApps:        cfg.ServeOpenApps,
		SigningKey:      cfg.ServeSigningKey,
		SignatureMaxAge: cfg.ServeSignatureMaxAge.D(),
		Observe:         m.Ingested,
		Logger:          log,
	})
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.ServeHTTP)
	if err != nil {
		return fmt.Errorf("cannot serve HTTP: %w", err)
	}
	log.Info("serving HTTP", "addr", ln.Addr().String(), "database", db.Engine(), "open_apps", cfg.ServeOpenApps,
		"signatures", cfg.ServeSigningKey != "")
	err = server.Serve(ctx, ln, serveMux(cfg, srv, m), shutdownTimeout, log)
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
