package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/healthjob/healthjob/internal/config"
)

func TestSQLCheckTypes(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "app.db")
	gooseDir := filepath.Join(dir, "goose")
	polls := filepath.Join(dir, "polls", "migrations")
	for _, d := range []string{gooseDir, polls} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(gooseDir, "00001_create.sql"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	testEntries(t, closing(t, sqlCheckTypes), []checkEntry{
		{entry: `{type: db, url: "` + db + `"}`, name: "DatabaseBackend", status: "working"},
		{entry: `{type: db_heartbeat, url: "` + db + `"}`, name: "DatabaseHeartBeatCheck", status: "working"},
		{entry: `{type: db, url: "` + db + `", alias: replica}`, name: "DatabaseBackend[replica]", status: "working"},
		{entry: `{type: db_heartbeat, url: "` + db + `", alias: replica, name: Replica}`, name: "Replica", status: "working"},
		{settings: "DATABASE_URL: " + db + "\n", entry: `{type: db}`, name: "DatabaseBackend", status: "working"},
		{entry: `{type: db, url: "mysql://root:s3cret@127.0.0.1:1/app", name: Orders}`, name: "Orders",
			status: "unavailable: Database error: dial tcp 127.0.0.1:1: connect: connection refused"},
		{entry: `{type: db, url: app.db}`,
			err: `2: checks[1] (db): url: database URL "app.db" has no scheme; want sqlite:PATH, postgres://… or mysql://…`},
		{entry: `{type: db, url: "oracle://app:s3cret@db/app"}`,
			err: `2: checks[1] (db): url: database URL "oracle://app:*****@db/app": unknown scheme "oracle"; want sqlite, postgres or mysql`},
		{entry: `{type: db, url: "postgres://app:s3cret@db/app?sslmode=sometimes"}`,
			err: "2: checks[1] (db): url: cannot parse `postgres://app:xxxxx@db/app?sslmode=sometimes`: failed to configure TLS (sslmode is invalid)"},
		{entry: `{type: db_heartbeat, alias: the-replica-in-the-other-region}`,
			err: `2: checks[1] (db_heartbeat): alias: "the-replica-in-the-other-region" makes the name DatabaseHeartBeatCheck[the-replica-in-the-other-region] longer than 50 characters; shorten it or set name`},
		{entry: `{type: db_heartbeat, alias: the-replica-in-the-other-region, name: Replica}`, name: "Replica"},
		{entry: `{type: db, url: "` + db + `", conn_max_age: 0}`, name: "DatabaseBackend", status: "working"},
		{entry: `{type: db_heartbeat, url: "` + db + `", conn_max_age: 5m}`, name: "DatabaseHeartBeatCheck", status: "working"},
		{entry: `{type: db, conn_max_age: -1s}`,
			err: "2: checks[1] (db): conn_max_age: must be 0 (a new connection every run) or more, got -1s"},
		{entry: `{type: db_heartbeat, conn_max_age: soon}`,
			err: `2: checks[1] (db_heartbeat): conn_max_age: want a duration such as 30, 10s, 500ms or 30d, got "soon"`},
		{entry: `{type: db, database: app}`, err: "2: checks[1] (db): unknown option database"},
		{entry: `{type: db, alias: [a, b]}`, err: "2: checks[1] (db): alias: want a string, got a list"},

		{entry: `{type: migrations, url: "` + db + `", format: goose, dir: "` + gooseDir + `"}`, name: "MigrationsHealthCheck",
			status: "unavailable: There are migrations to apply: 00001_create.sql"},
		{entry: `{type: migrations, url: "` + db + `", format: goose, dir: "` + gooseDir + `", table: versions, name: Schema}`, name: "Schema",
			status: "unavailable: There are migrations to apply: 00001_create.sql"},
		{entry: `{type: migrations, url: "` + db + `", format: django, apps: {polls: "` + polls + `"}}`, name: "MigrationsHealthCheck", status: "working"},
		{entry: `{type: migrations, url: "` + db + `", format: django, dirs: ["` + polls + `"]}`, name: "MigrationsHealthCheck", status: "working"},
		{settings: "DATABASE_URL: " + db + "\n", entry: `{type: migrations, format: migrate, dir: "` + gooseDir + `"}`,
			name: "MigrationsHealthCheck", status: "working"},
		{entry: `{type: migrations, dir: "` + gooseDir + `"}`, err: "2: checks[1] (migrations): format: missing; want goose, migrate or django"},
		{entry: `{type: migrations, format: flyway, dir: "` + gooseDir + `"}`,
			err: `2: checks[1] (migrations): format: want goose, migrate or django, got "flyway"`},
		{entry: `{type: migrations, format: goose}`,
			err: "2: checks[1] (migrations): dir: missing; format goose needs the directory of its migration files"},
		{entry: `{type: migrations, format: goose, dir: /nonexistent/migrations}`,
			err: "2: checks[1] (migrations): migrations directory /nonexistent/migrations: not a directory"},
		{entry: `{type: migrations, format: django, dir: "` + polls + `"}`,
			err: "2: checks[1] (migrations): dir: format django reads apps or dirs, the migrations directory of each app"},
		{entry: `{type: migrations, format: goose, dir: "` + gooseDir + `", table: "a b"}`,
			err: `2: checks[1] (migrations): table: "a b" is not a table name such as goose_db_version`},
		{entry: `{type: migrations, url: "postgres://app:s3cret@/app", format: goose, dir: "` + gooseDir + `"}`,
			err: `2: checks[1] (migrations): url: database URL "postgres://app:*****@/app" is not a postgres://user:pass@host:5432/db URL`},
		{entry: `{type: migrations, format: django, apps: [polls]}`, err: "2: checks[1] (migrations): apps: want a mapping, got a list"},
	})
}

// TestSQLServers builds db checks of the test servers: the URL's scheme
// chooses the engine.
func TestSQLServers(t *testing.T) {
	for _, srv := range []struct{ env, def, what string }{
		{"HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL"},
		{"HEALTHJOB_MYSQL_URL", "mysql://root@127.0.0.1:3306/test", "MySQL or MariaDB"},
	} {
		t.Run(srv.what, func(t *testing.T) {
			raw := healthjobtest.Env(srv.env, srv.def)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			healthjobtest.NeedService(t, u.Host, srv.what+" ("+srv.env+")")
			testEntries(t, closing(t, sqlCheckTypes), []checkEntry{
				{entry: `{type: db, url: "` + raw + `"}`, name: "DatabaseBackend", status: "working"},
				{entry: `{type: db_heartbeat, url: "` + raw + `"}`, name: "DatabaseHeartBeatCheck", status: "working"},
			})
		})
	}
}

// TestDefaultSQLChecks builds the database checks of the default
// configuration, which have no options, and runs them in an empty working
// directory: they check sqlite:healthjob.db there.
func TestDefaultSQLChecks(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg := config.Default()
	n := 0
	for _, spec := range config.DefaultChecks() {
		build, ok := sqlCheckTypes[spec.Type]
		if !ok {
			continue
		}
		c, err := build(spec, cfg)
		if err != nil {
			t.Fatalf("%s: %v", spec.Type, err)
		}
		defer closeCheck(c)
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		n++
	}
	if _, err := os.Stat("healthjob.db"); err != nil {
		t.Fatalf("no healthjob.db in the working directory: %v", err)
	}
	// They keep their connections (conn_max_age's default).
	if open := openFiles(t, "healthjob.db"); open != n {
		t.Errorf("%d descriptors open on healthjob.db after the runs of %d checks, want %d", open, n, n)
	}
}

// closing returns types whose checks are closed with the test: a db check
// keeps its connection between runs.
func closing(t *testing.T, types map[string]checkType) map[string]checkType {
	wrapped := map[string]checkType{}
	for name, build := range types {
		wrapped[name] = func(spec config.Check, cfg *config.Config) (healthjob.Check, error) {
			c, err := build(spec, cfg)
			if err == nil {
				t.Cleanup(func() { closeCheck(c) })
			}
			return c, err
		}
	}
	return wrapped
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

// TestSQLConnMaxAge: a db check keeps its connection between runs for
// conn_max_age, 60s unless set; with 0 it closes it after each run.
func TestSQLConnMaxAge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	for _, tt := range []struct {
		entry string
		open  int // descriptors open on the database after a run
	}{
		{`{type: db, url: "sqlite:` + path + `"}`, 1},
		{`{type: db_heartbeat, url: "sqlite:` + path + `"}`, 1},
		{`{type: db, url: "sqlite:` + path + `", conn_max_age: 10m}`, 1},
		{`{type: db, url: "sqlite:` + path + `", conn_max_age: 0}`, 0},
		{`{type: db_heartbeat, url: "sqlite:` + path + `", conn_max_age: 0s}`, 0},
	} {
		c, err := buildEntry(t, sqlCheckTypes, "", tt.entry)
		if err != "" {
			t.Fatalf("%s: %s", tt.entry, err)
		}
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		if n := openFiles(t, path); n != tt.open {
			t.Errorf("%s: %d descriptors open on the database after a run, want %d", tt.entry, n, tt.open)
		}
		if err := closeCheck(c); err != nil {
			t.Errorf("%s: close: %v", tt.entry, err)
		}
		if n := openFiles(t, path); n != 0 {
			t.Errorf("%s: %d descriptors open on the database after close, want 0", tt.entry, n)
		}
	}
}

// TestSQLServersKeepConnection: a db_heartbeat check of each test server
// keeps its connection between runs, as conn_max_age's default says, until
// it is closed; with conn_max_age 0 none outlives a run. The connection is
// found on the server by a mark in the URL: PostgreSQL's application_name,
// a database of its own on MySQL.
func TestSQLServersKeepConnection(t *testing.T) {
	type marked struct {
		url         string
		connections func() int
	}
	for _, srv := range []struct {
		env, def, what string
		mark           func(t *testing.T, u *url.URL, db *sql.DB, mark string) marked
	}{
		{"HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL",
			func(t *testing.T, u *url.URL, db *sql.DB, mark string) marked {
				q := u.Query()
				q.Set("application_name", mark)
				u.RawQuery = q.Encode()
				return marked{u.String(), func() int {
					return count(t, db, "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1", mark)
				}}
			}},
		{"HEALTHJOB_MYSQL_URL", "mysql://root@127.0.0.1:3306/test", "MySQL or MariaDB",
			func(t *testing.T, u *url.URL, db *sql.DB, mark string) marked {
				if _, err := db.Exec("CREATE DATABASE " + mark); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Exec("DROP DATABASE " + mark) })
				u.Path = "/" + mark
				return marked{u.String(), func() int {
					return count(t, db, "SELECT COUNT(*) FROM information_schema.processlist WHERE db = ?", mark)
				}}
			}},
	} {
		t.Run(srv.what, func(t *testing.T) {
			raw := healthjobtest.Env(srv.env, srv.def)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			healthjobtest.NeedService(t, u.Host, srv.what+" ("+srv.env+")")
			driver, dsn, err := sqldb.ParseURL(raw)
			if err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			for option, kept := range map[string]int{"": 1, ", conn_max_age: 0": 0} {
				m := srv.mark(t, u, db, "healthjob_cli_"+strings.ToLower(rand.Text()[:10]))
				entry := `{type: db_heartbeat, url: "` + m.url + `"` + option + `}`
				c, errText := buildEntry(t, sqlCheckTypes, "", entry)
				if errText != "" {
					t.Fatalf("%s: %s", entry, errText)
				}
				for range 2 {
					healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
					if kept == 1 {
						if n := m.connections(); n != 1 {
							t.Errorf("%s: %d connections after a run, want the kept one", entry, n)
						}
					}
				}
				if err := closeCheck(c); err != nil {
					t.Errorf("%s: close: %v", entry, err)
				}
				// The server forgets a closed connection a moment later.
				n := m.connections()
				for deadline := time.Now().Add(5 * time.Second); n != 0 && time.Now().Before(deadline); n = m.connections() {
					time.Sleep(10 * time.Millisecond)
				}
				if n != 0 {
					t.Errorf("%s: %d connections after close, want none", entry, n)
				}
			}
		})
	}
}

// count runs query, which counts, on db.
func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// closer is a check registered in Go that records its runs and its Close.
type closer struct {
	mu     sync.Mutex
	events []string
	runs   int
	onRun  func(run int) // called with the number of the run
}

func (c *closer) Name() string { return "ZZ closer" } // last in a run

func (c *closer) Check(context.Context) error {
	c.mu.Lock()
	c.events = append(c.events, "run")
	c.runs++
	n := c.runs
	c.mu.Unlock()
	if c.onRun != nil {
		c.onRun(n)
	}
	return nil
}

func (c *closer) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, "close")
	return nil
}

// lockedBuffer is a bytes.Buffer that goroutines may write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestSQLChecksClosedAtExit: when check or monitor exits, after its last
// cycle, it closes the checks: a db check's kept connection, and a check
// registered in Go that is an io.Closer.
func TestSQLChecksClosedAtExit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	file := filepath.Join(dir, "healthjob.yaml")
	// One check at a time: the db check's run ends before the Go check
	// stops the monitor.
	yaml := "HEALTH_CHECK_INTERVAL: 10ms\nHEALTH_CHECK_CONCURRENCY: 1\nchecks:\n  - {type: db_heartbeat, url: \"sqlite:" + path + "\"}\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		command string
		runs    int
	}{{"check", 1}, {"monitor", 3}} {
		t.Run(tt.command, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := &closer{}
			if tt.command == "monitor" {
				c.onRun = func(n int) {
					if n == tt.runs {
						cancel() // the monitor stops after this cycle
					}
				}
			}
			var stderr lockedBuffer
			e := &env{stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }, checks: []extraCheck{{check: c}}}
			if code := run(ctx, []string{tt.command, "--config", file}, e); code != exitOK {
				t.Fatalf("%s: exit %d, want 0; stderr:\n%s", tt.command, code, stderr.String())
			}
			want := strings.TrimSpace(strings.Repeat("run ", tt.runs) + "close")
			if got := strings.Join(c.events, " "); got != want {
				t.Errorf("%s: the Go check saw %q, want %q", tt.command, got, want)
			}
			if n := openFiles(t, path); n != 0 {
				t.Errorf("%s: %d descriptors open on the db check's database after exit, want 0", tt.command, n)
			}
		})
	}
}

// TestSQLConnMaxAgeUsage: a bad conn_max_age stops the command with exit 2
// and one line naming the check and the option.
func TestSQLConnMaxAgeUsage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "healthjob.yaml")
	if err := os.WriteFile(file, []byte("checks:\n  - type: db\n    conn_max_age: -5s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	e := &env{stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }}
	if code := run(context.Background(), []string{"check", "--config", file}, e); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	want := "healthjob check: " + file + ":2: checks[1] (db): conn_max_age: must be 0 (a new connection every run) or more, got -5s\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}
