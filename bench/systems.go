package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// side is one of the two systems measured.
type side string

const (
	healthjobSide side = "healthjob"
	peerSide      side = "peer" // django-health-check under bench/peer
)

// sides returns both systems, in the order of repetition rep: the order
// alternates so that neither always runs on a warmer (or busier) machine.
func sides(rep int) []side {
	if rep%2 == 1 {
		return []side{peerSide, healthjobSide}
	}
	return []side{healthjobSide, peerSide}
}

// alternate calls measure for every repetition and both sides, alternating
// their order, and stops at the first error.
func (b *bench) alternate(ctx context.Context, measure func(rep int, s side) error) error {
	for rep := range b.sizes.runs {
		for _, s := range sides(rep) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := measure(rep, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
	}
	return nil
}

// samples are a figure's measurements: healthjob's, then the peer's.
type samples [2][]float64

func (f *samples) add(s side, v ...float64) {
	i := 0
	if s == peerSide {
		i = 1
	}
	f[i] = append(f[i], v...)
}

// engineNames are the databases as the table names them.
var engineNames = map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}

// workload is what a system is asked to do.
type workload struct {
	db          string        // where it persists: a key of bench.databases, "sqlite", "postgres" or "sqlite/<name>"
	checks      string        // "std": the 7 checks; "http", "tcp": n probes of the bench's local servers
	n           int           // probes, for http and tcp
	interval    time.Duration // HEALTH_CHECK_INTERVAL
	persist     bool          // PERSIST_HEALTH_CHECK_DATA
	concurrency int           // HEALTH_CHECK_CONCURRENCY (healthjob only); 0: no bound
}

// stdChecks are the names of the 7 checks, as both systems print them.
var stdChecks = []string{
	"Cache backend: default", "DatabaseBackend", "DefaultFileStorageHealthCheck",
	"DiskUsage", "MemoryUsage", "MigrationsHealthCheck", "RedisHealthCheck",
}

// engine is the database engine of w.db: sqlite or postgres.
func (w workload) engine() string {
	engine, _, _ := strings.Cut(w.db, "/")
	return engine
}

// perCycle is how many lines, and rows, one cycle makes.
func (w workload) perCycle() int {
	if w.checks == "std" {
		return len(stdChecks)
	}
	return w.n
}

// command returns how to start a system on a workload: sub is "monitor"
// or "check" (the peer's health_check).
func (b *bench) command(s side, w workload, sub string) (dir string, env, argv []string, err error) {
	env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + b.work, "LANG=C.UTF-8", "NO_COLOR=1"}
	if s == peerSide {
		if sub == "check" {
			sub = "health_check"
		}
		env = append(env,
			"PYTHONPYCACHEPREFIX="+filepath.Join(b.work, "pycache"), // keeps bytecode out of the repository
			"BENCH_DATABASE_URL="+b.databases[w.db][peerSide],
			"BENCH_REDIS_URL="+b.redisURL,
			"BENCH_MEDIA_ROOT="+b.media(peerSide),
			"BENCH_CHECKS="+w.checks,
			"BENCH_HTTP_URL="+b.httpURL,
			"BENCH_HTTP_COUNT="+strconv.Itoa(w.n),
			"BENCH_INTERVAL="+strconv.FormatFloat(w.interval.Seconds(), 'f', -1, 64),
			"BENCH_PERSIST="+map[bool]string{true: "1", false: "0"}[w.persist],
		)
		return filepath.Join(b.root, "bench", "peer"), env, []string{python, "manage.py", sub}, nil
	}
	file, err := b.writeConfig(w)
	if err != nil {
		return "", nil, nil, err
	}
	return b.work, env, []string{b.binary, sub, "--config", file}, nil
}

// writeConfig writes healthjob's configuration for w (JSON, which YAML reads).
func (b *bench) writeConfig(w workload) (string, error) {
	var checks []map[string]any
	switch w.checks {
	case "std":
		checks = []map[string]any{
			{"type": "db"},
			{"type": "cache", "url": b.redisURL},
			{"type": "storage", "path": b.media(healthjobSide)},
			{"type": "migrations", "format": "goose", "table": "healthjob_schema_version",
				"dir": filepath.Join(b.root, "internal", "store", "migrations", w.engine())},
			{"type": "disk", "path": "/"},
			{"type": "memory"},
			{"type": "redis", "url": b.redisURL},
		}
	case "http", "tcp":
		for i := range w.n {
			c := map[string]any{"type": w.checks, "name": fmt.Sprintf("HTTPCheck%05d", i), "url": b.httpURL}
			if w.checks == "tcp" {
				c = map[string]any{"type": "tcp", "name": fmt.Sprintf("TCPCheck%05d", i), "address": b.tcpAddr}
			}
			checks = append(checks, c)
		}
	default:
		return "", fmt.Errorf("unknown checks %q", w.checks)
	}
	cfg := map[string]any{
		"HEALTH_CHECK_INTERVAL":     w.interval.Seconds(),
		"PERSIST_HEALTH_CHECK_DATA": w.persist,
		"DATABASE_URL":              b.databases[w.db][healthjobSide],
		"HEALTH_CHECK_CONCURRENCY":  w.concurrency,
		"LOG_LEVEL":                 "warn",
		"checks":                    checks,
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	file := filepath.Join(b.work, fmt.Sprintf("healthjob-%d.yaml", b.configs.Add(1)))
	return file, os.WriteFile(file, data, 0o600)
}

// media is the directory where a system's storage check writes.
func (b *bench) media(s side) string { return filepath.Join(b.work, "media-"+string(s)) }
