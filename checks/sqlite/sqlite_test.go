package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/checks/sqlite"
	"github.com/healthjob/healthjob/healthjobtest"
	"go.uber.org/goleak"
	_ "modernc.org/sqlite"
)

func mustNew(t *testing.T, cfg sqlite.Config) *sqlite.Check {
	t.Helper()
	c, err := sqlite.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

// open opens the database file path as another client would.
func open(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestStatus(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte("this is not an SQLite database, not even its header, but long enough to be read as one"), 0o644); err != nil {
		t.Fatal(err)
	}
	missingDir := filepath.Join(dir, "missing", "app.db")
	tests := []struct {
		name string
		url  string
		kind sqldb.Kind
		want string
	}{
		{"healthy", "sqlite:" + filepath.Join(dir, "app.db"), sqldb.Backend, "working"},
		{"healthy heartbeat", "sqlite:" + filepath.Join(dir, "app.db"), sqldb.HeartBeat, "working"},
		{"memory", "sqlite::memory:", sqldb.Backend, "working"},
		{"directory missing", "sqlite:" + missingDir, sqldb.Backend,
			"unavailable: Database error: unable to open database file (14)"},
		{"directory missing heartbeat", "sqlite:" + missingDir, sqldb.HeartBeat,
			"unavailable: Database health check failed: unable to open database file (14)"},
		{"not a database", "sqlite:" + garbage, sqldb.Backend,
			"unavailable: Database error: file is not a database (26)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, sqlite.Config{URL: tt.url, Kind: tt.kind}), 5*time.Second, tt.want)
		})
	}
}

// TestDefaultURL runs the checks of the default configuration, which have
// no options: sqlite:healthjob.db in the working directory.
func TestDefaultURL(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, kind := range []sqldb.Kind{sqldb.Backend, sqldb.HeartBeat} {
		healthjobtest.AssertStatus(t, mustNew(t, sqlite.Config{URL: "sqlite:healthjob.db", Kind: kind}), 5*time.Second, "working")
	}
	if _, err := os.Stat("healthjob.db"); err != nil {
		t.Errorf("the check made no database file: %v", err)
	}
}

// TestLocked holds the database's write lock, as a long transaction does:
// the check waits for it until its deadline and reports the timeout within
// that deadline; SELECT 1 only reads and passes.
func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	db := open(t, path)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	healthjobtest.AssertStatus(t, mustNew(t, sqlite.Config{URL: "sqlite:" + path}), time.Second,
		"unavailable: Database error: timed out")
	healthjobtest.AssertStatus(t, mustNew(t, sqlite.Config{URL: "sqlite:" + path, Kind: sqldb.HeartBeat}), time.Second, "working")
}

// TestIntegrityError gives the scratch table a constraint that the check's
// update breaks, and checks that the failed run leaves no row behind.
func TestIntegrityError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	db := open(t, path)
	exec(t, db, "CREATE TABLE "+sqldb.ScratchTable+" (id VARCHAR(32) PRIMARY KEY, title VARCHAR(20) NOT NULL CHECK (title <> 'newtest'))")
	healthjobtest.AssertStatus(t, mustNew(t, sqlite.Config{URL: "sqlite:" + path}), 5*time.Second, "unexpected result: Integrity Error")
	var rows int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + sqldb.ScratchTable).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d rows left in the scratch table, want 0", rows)
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		cfg  sqlite.Config
		want string
	}{
		{sqlite.Config{}, "DatabaseBackend"},
		{sqlite.Config{Kind: sqldb.HeartBeat}, "DatabaseHeartBeatCheck"},
		{sqlite.Config{Alias: "default"}, "DatabaseBackend"},
		{sqlite.Config{Alias: "replica"}, "DatabaseBackend[replica]"},
		{sqlite.Config{Alias: "replica", Kind: sqldb.HeartBeat}, "DatabaseHeartBeatCheck[replica]"},
		{sqlite.Config{Alias: "replica", Name: "Replica"}, "Replica"},
	}
	for _, tt := range tests {
		tt.cfg.URL = "sqlite::memory:"
		if got := mustNew(t, tt.cfg).Name(); got != tt.want {
			t.Errorf("New(%+v).Name() = %q, want %q", tt.cfg, got, tt.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		cfg  sqlite.Config
		want string
	}{
		{sqlite.Config{URL: "healthjob.db"}, `database URL "healthjob.db" has no scheme; want sqlite:PATH, postgres://… or mysql://…`},
		{sqlite.Config{URL: "sqlite:"}, `database URL "sqlite:" names no file; want sqlite:PATH, e.g. sqlite:healthjob.db`},
		{sqlite.Config{URL: "postgres://u:secret@db/app"}, `database URL "postgres://u:*****@db/app" is not a sqlite:PATH URL`},
		{sqlite.Config{URL: "sqlite:app.db?vfs=a&vfs=b"}, `database URL "sqlite:app.db?vfs=a&vfs=b": conflicting vfs query parameters: [a b]`},
		{sqlite.Config{URL: "sqlite:app.db", Alias: "a-replica-whose-alias-is-far-too-long"},
			`name "DatabaseBackend[a-replica-whose-alias-is-far-too-long]" is longer than 50 characters; choose a shorter alias or set a name`},
	}
	for _, tt := range tests {
		_, err := sqlite.New(tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestConformance(t *testing.T) {
	path := "sqlite:" + filepath.Join(t.TempDir(), "app.db")
	healthjobtest.Conformance(t, mustNew(t, sqlite.Config{URL: path}))
	healthjobtest.Conformance(t, mustNew(t, sqlite.Config{URL: path, Kind: sqldb.HeartBeat}))
}

// openFiles counts the descriptors of this process open on the file path.
func openFiles(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to count open files: %v", err)
	}
	want, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if info, err := os.Stat(filepath.Join("/proc/self/fd", fd.Name())); err == nil && os.SameFile(info, want) {
			n++
		}
	}
	return n
}

// TestKeptConnection: a check with ConnMaxAge keeps the file open between
// runs, and Close closes it and leaves no goroutine behind; with
// ConnMaxAge 0 the file is closed after each run.
func TestKeptConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	for _, kind := range []sqldb.Kind{sqldb.Backend, sqldb.HeartBeat} {
		before := goleak.IgnoreCurrent()
		c := mustNew(t, sqlite.Config{URL: "sqlite:" + path, Kind: kind, ConnMaxAge: time.Minute})
		for range 2 {
			healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
			if n := openFiles(t, path); n != 1 {
				t.Errorf("%s: %d descriptors open on the database after a run, want 1", c.Name(), n)
			}
		}
		if err := c.Close(); err != nil {
			t.Errorf("%s: Close() = %v", c.Name(), err)
		}
		if n := openFiles(t, path); n != 0 {
			t.Errorf("%s: %d descriptors open on the database after Close, want 0", c.Name(), n)
		}
		goleak.VerifyNone(t, before)

		c = mustNew(t, sqlite.Config{URL: "sqlite:" + path, Kind: kind})
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		if n := openFiles(t, path); n != 0 {
			t.Errorf("%s with ConnMaxAge 0: %d descriptors open on the database after a run, want 0", c.Name(), n)
		}
	}
}

// TestReplacedFile replaces and deletes the database file under a check
// that keeps its connection, which would go on reading the old file: each
// run reports what a new client sees at the path.
func TestReplacedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	replace := func(t *testing.T, with func(path string)) {
		t.Helper()
		next := filepath.Join(dir, "next.db")
		with(next)
		if err := os.Rename(next, path); err != nil {
			t.Fatal(err)
		}
	}
	garbage := func(path string) {
		if err := os.WriteFile(path, []byte("this is not an SQLite database, not even its header, but long enough to be read as one"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	constrained := func(path string) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		exec(t, db, "CREATE TABLE "+sqldb.ScratchTable+" (id VARCHAR(32) PRIMARY KEY, title VARCHAR(20) NOT NULL CHECK (title <> 'newtest'))")
	}
	for name, url := range map[string]string{"path": "sqlite:" + path, "file URI": "sqlite:file:" + path + "?mode=rwc"} {
		t.Run(name, func(t *testing.T) {
			os.Remove(path)
			backend := mustNew(t, sqlite.Config{URL: url, ConnMaxAge: time.Minute})
			defer backend.Close()
			heartbeat := mustNew(t, sqlite.Config{URL: url, Kind: sqldb.HeartBeat, ConnMaxAge: time.Minute})
			defer heartbeat.Close()
			status := func(backendWant, heartbeatWant string) {
				t.Helper()
				healthjobtest.AssertStatus(t, backend, 5*time.Second, backendWant)
				healthjobtest.AssertStatus(t, heartbeat, 5*time.Second, heartbeatWant)
			}
			status("working", "working")

			replace(t, garbage)
			status("unavailable: Database error: file is not a database (26)",
				"unavailable: Database health check failed: file is not a database (26)")

			replace(t, constrained)
			status("unexpected result: Integrity Error", "working")

			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			status("working", "working")
			if _, err := os.Stat(path); err != nil {
				t.Errorf("the runs after the file was deleted made no new one: %v", err)
			}
		})
	}
}

// TestKeptMemory: a database in memory is no file to compare; its kept
// connection passes run after run.
func TestKeptMemory(t *testing.T) {
	for _, url := range []string{"sqlite::memory:", "sqlite:file::memory:", "sqlite:file:kept?mode=memory"} {
		c := mustNew(t, sqlite.Config{URL: url, ConnMaxAge: time.Minute})
		for range 2 {
			healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		}
		c.Close()
	}
}
