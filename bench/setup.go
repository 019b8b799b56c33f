package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/healthjob/healthjob/internal/store"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL, as healthjob's binary links it
	_ "modernc.org/sqlite"             // SQLite, as healthjob's binary links it
)

// prepareDatabases gives each system its own migrated database per
// engine: SQLite files in the scratch directory, and two new PostgreSQL
// databases, named apart from those of any other run (a test's smoke run
// may go on beside a full one) and dropped by the returned func. PostgreSQL
// is left out, with the reason recorded, when healthjob's store does not
// support it in this build.
func (b *bench) prepareDatabases(ctx context.Context, res *results) (drop func(), err error) {
	drop = func() {}
	b.databases = map[string]map[side]string{}
	base := env("HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if db, err := store.Open(ctx, base); err != nil {
		if !strings.Contains(err.Error(), "not supported") {
			return drop, fmt.Errorf("PostgreSQL (HEALTHJOB_POSTGRES_URL): %w", err)
		}
		res.Skipped["postgres"] = err.Error()
	} else {
		db.Close()
		var names []string
		drop = func() { dropDatabases(base, names) }
		pg := map[side]string{}
		for _, s := range []side{healthjobSide, peerSide} {
			name := fmt.Sprintf("healthjob_bench_%s_%d", s, os.Getpid())
			if pg[s], err = createDatabase(ctx, base, name); err != nil {
				return drop, err
			}
			names = append(names, name)
		}
		b.databases["postgres"] = pg
		if err := b.migrateAll(ctx, "postgres"); err != nil {
			return drop, err
		}
	}
	_, err = b.freshSQLite(ctx, "", healthjobSide, peerSide)
	return drop, err
}

// freshSQLite gives the sides new, migrated SQLite databases and returns
// their key in databases: "sqlite", or "sqlite/name" for a family's own, so
// that what one family stores does not weigh on another's cycles.
func (b *bench) freshSQLite(ctx context.Context, name string, sides ...side) (string, error) {
	key := "sqlite"
	if name != "" {
		key += "/" + name
	}
	urls := map[side]string{}
	for _, s := range sides {
		file := filepath.Join(b.work, strings.ReplaceAll(key, "/", "-")+"-"+string(s)+".db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(file + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		urls[s] = "sqlite:" + file
	}
	b.databases[key] = urls
	return key, b.migrateAll(ctx, key)
}

// migrateAll migrates the databases of key at once: the peer's migrations
// take seconds.
func (b *bench) migrateAll(ctx context.Context, key string) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(b.databases[key]))
	for s := range b.databases[key] {
		wg.Go(func() {
			if err := b.migrate(ctx, s, key); err != nil {
				errs <- fmt.Errorf("migrate %s's %s database: %w", s, key, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs // the first, if any
}

// createDatabase creates the database name on base's server and returns
// its URL.
func createDatabase(ctx context.Context, base, name string) (string, error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// dropDatabases drops the databases the run created, with any connection
// left to them.
func dropDatabases(base string, names []string) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: drop databases:", err)
		return
	}
	defer db.Close()
	for _, name := range names {
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "bench: drop database %s: %v\n", name, err)
		}
	}
}

// migrate brings a system's database schema up to date, so that no run
// measures a first migration.
func (b *bench) migrate(ctx context.Context, s side, key string) error {
	dir, env, argv, err := b.command(s, workload{db: key, checks: "std", interval: time.Second}, "migrate")
	if err != nil {
		return err
	}
	if s == peerSide {
		argv = append(argv, "-v0")
	}
	p, err := startProc(dir, env, argv...)
	if err != nil {
		return err
	}
	u, err := p.wait(2 * time.Minute)
	if err == nil && u.code != 0 {
		err = fmt.Errorf("exit code %d: %s", u.code, p.stderr)
	}
	return err
}

// serveTargets starts the local servers that the http and tcp probes ask:
// an HTTP server answering 200, and a TCP listener that accepts and closes.
func (b *bench) serveTargets() (stop func(), err error) {
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }), //nolint:errcheck // the probe sees a short body
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(hl) //nolint:errcheck // ends with Close
	b.httpURL = "http://" + hl.Addr().String() + "/"

	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	go func() {
		for {
			conn, err := tl.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench: tcp target:", err)
				time.Sleep(10 * time.Millisecond) // out of descriptors: let the probes finish
				continue
			}
			conn.Close()
		}
	}()
	b.tcpAddr = tl.Addr().String()
	return func() { srv.Close(); tl.Close() }, nil
}
