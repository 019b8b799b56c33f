package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/healthhttp"
	"github.com/healthjob/healthjob/internal/admin"
	"github.com/healthjob/healthjob/internal/config"
	"github.com/healthjob/healthjob/internal/metrics"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/job"
)

// shutdownTimeout bounds how long the server drains its requests at exit.
const shutdownTimeout = 10 * time.Second

// httpServer serves the health endpoint, the probes and the metrics next
// to a monitor.
type httpServer struct {
	srv    *http.Server
	served chan error // Serve's error, once it returned
	ctx    context.Context
}

// startHTTP serves, on cfg.HealthCheckHTTP, the health endpoint at
// HEALTH_CHECK_PATH, /livez, /readyz and /metrics, and wires jc.OnRun to
// feed them every cycle. It listens before it returns, so that a busy port
// fails the start; it serves in the background. The returned server's ctx
// is ctx, also ended when the server fails, so that the monitor stops.
func startHTTP(ctx context.Context, a *app, jc *job.Config) (*httpServer, error) {
	health, err := healthhttp.New(healthhttp.Config{
		Runner:      a.runner,
		Path:        a.cfg.HealthCheckPath,
		OKStatus:    a.cfg.HealthCheckOKStatus,
		ErrorStatus: a.cfg.HealthCheckErrorStatus,
		Live:        a.cfg.HealthCheckLive,
		MinInterval: a.cfg.HealthCheckLiveMinInterval.D(),
		Interval:    jc.Interval,
	})
	if err != nil {
		return nil, usageErr(err)
	}
	m := a.metrics
	jc.OnRun = observer(health, m, jc.Stats, a.processor)

	ui, err := adminUI(a.cfg, a.store, a.log)
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", a.cfg.HealthCheckHTTP)
	if err != nil {
		return nil, fmt.Errorf("cannot serve HTTP: %w", err)
	}
	ctx, stop := context.WithCancelCause(ctx)
	s := &httpServer{
		srv: &http.Server{
			Handler:           routes(a.cfg, health, m, ui),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      longestDeadline(a.runner) + 10*time.Second, // live mode answers after the checks
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		},
		served: make(chan error, 1),
		ctx:    ctx,
	}
	go func() {
		err := s.srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			err = fmt.Errorf("HTTP server: %w", err)
		}
		stop(err) // after a shutdown the monitor has returned already
		s.served <- err
	}()
	a.log.Info("serving HTTP", "addr", ln.Addr().String(), "health", a.cfg.HealthCheckPath,
		"live", a.cfg.HealthCheckLive, "metrics_auth", a.cfg.MetricsToken != "" || a.cfg.MetricsUsername != "")
	return s, nil
}

// shutdown drains the requests in flight, then reports why the server
// stopped if it failed.
func (s *httpServer) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if served := <-s.served; !errors.Is(served, http.ErrServerClosed) {
		return served
	}
	if err != nil {
		return fmt.Errorf("HTTP server: shutdown: %w", err)
	}
	return nil
}

// routes mounts the endpoints; the health endpoint serves its subsets below
// its path, the admin UI everything below /admin/.
func routes(cfg *config.Config, health *healthhttp.Handler, m *metrics.Metrics, ui http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(admin.Root, ui)
	mux.Handle(cfg.HealthCheckPath, health)
	mux.HandleFunc("/livez", health.Livez)
	mux.HandleFunc("/readyz", health.Readyz)
	mux.Handle("/metrics", m.Handler(metrics.Auth{Username: cfg.MetricsUsername, Password: cfg.MetricsPassword, Token: cfg.MetricsToken}))
	return mux
}

// adminUI is the admin web UI over the records store; without a store
// (PERSIST_HEALTH_CHECK_DATA off) it is a page that says how to get one.
func adminUI(cfg *config.Config, db *store.DB, log *slog.Logger) (http.Handler, error) {
	if db == nil {
		return admin.Off("PERSIST_HEALTH_CHECK_DATA is off, so this monitor keeps no records to show. " +
			"Set it to true (the records go to DATABASE_URL), create a user with `healthjob createuser NAME`, and restart healthjob."), nil
	}
	proxies := make([]netip.Prefix, len(cfg.AdminTrustedProxies))
	for i, p := range cfg.AdminTrustedProxies {
		var err error
		if proxies[i], err = config.ParsePrefix(p); err != nil {
			return nil, usageErr(fmt.Errorf("ADMIN_TRUSTED_PROXIES: %q: %v", p, err))
		}
	}
	return admin.New(admin.Config{
		Store:          db,
		Logger:         log,
		SessionTTL:     cfg.AdminSessionTTL.D(),
		SecureCookies:  cfg.AdminSecureCookies,
		TrustedProxies: proxies,
		// The dashboard reloads as often as the checks run, within reason.
		Refresh: min(max(cfg.HealthCheckInterval.D(), 5*time.Second), 5*time.Minute),
	})
}

// observer hands every cycle to the health endpoint and the metrics. The
// monitor calls it after each cycle, one at a time; the monitor's error
// counter tells whether this cycle's save worked. The outbox's relay counts
// the deliveries to the monitoring server itself.
func observer(health *healthhttp.Handler, m *metrics.Metrics, stats *job.Stats, p *job.Processor) func(*healthjob.Run) {
	persistErrors := stats.PersistErrors.Load()
	return func(run *healthjob.Run) {
		health.Observe(run)
		if p.Persist {
			n := stats.PersistErrors.Load()
			if n == persistErrors {
				m.RecordsWritten(len(run.Checks))
			}
			persistErrors = n
		}
		m.Observe(run) // last: a scrape never counts a cycle whose records it does not count
	}
}

// longestDeadline is the longest a check of r may run.
func longestDeadline(r *healthjob.Runner) time.Duration {
	longest := time.Duration(0)
	for _, e := range r.Registry.Entries() {
		longest = max(longest, cmp.Or(e.Timeout, r.Timeout, healthjob.DefaultTimeout))
	}
	return longest
}

// checkListenAddr validates a --http value as HEALTH_CHECK_HTTP is validated.
func checkListenAddr(addr string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return fmt.Errorf("want a listen address host:port such as 127.0.0.1:8000 or :8000, got %q", addr)
	}
	return nil
}
