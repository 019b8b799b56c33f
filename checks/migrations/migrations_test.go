package migrations_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/migrations"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/pressly/goose/v3"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// engine is a database to run the scenarios in: an empty one of its own.
type engine struct {
	name string
	url  func(t *testing.T) string // a fresh, empty database
}

var engines = []engine{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "app.db") }},
	{"postgres", func(t *testing.T) string {
		srv := server(t, "HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL")
		exec(t, srv.String(), "DROP SCHEMA IF EXISTS healthjob_migrations CASCADE", "CREATE SCHEMA healthjob_migrations")
		t.Cleanup(func() { exec(t, srv.String(), "DROP SCHEMA healthjob_migrations CASCADE") })
		q := srv.Query()
		q.Set("search_path", "healthjob_migrations")
		srv.RawQuery = q.Encode()
		return srv.String()
	}},
	{"mysql", func(t *testing.T) string {
		srv := server(t, "HEALTHJOB_MYSQL_URL", "mysql://root@127.0.0.1:3306/test", "MySQL or MariaDB")
		exec(t, srv.String(), "DROP DATABASE IF EXISTS healthjob_migrations", "CREATE DATABASE healthjob_migrations")
		t.Cleanup(func() { exec(t, srv.String(), "DROP DATABASE healthjob_migrations") })
		srv.Path = "/healthjob_migrations"
		return srv.String()
	}},
}

// server returns the URL of a test server from env (or def), skipping the
// test when nothing listens there.
func server(t *testing.T, env, def, what string) *url.URL {
	t.Helper()
	u, err := url.Parse(healthjobtest.Env(env, def))
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.NeedService(t, u.Host, what+" ("+env+")")
	return u
}

func exec(t *testing.T, rawURL string, stmts ...string) {
	t.Helper()
	db := open(t, rawURL)
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func open(t *testing.T, rawURL string) *sql.DB {
	t.Helper()
	driver, dsn, err := sqldb.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// files makes a directory holding the named empty files.
func files(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustNew(t *testing.T, cfg migrations.Config) *migrations.Check {
	t.Helper()
	c, err := migrations.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

// The version tables in the shape the tools create them, reduced to the
// columns they read and written portably.
const (
	gooseTable   = "CREATE TABLE %s (id INTEGER PRIMARY KEY, version_id BIGINT NOT NULL, is_applied BOOLEAN NOT NULL)"
	migrateTable = "CREATE TABLE %s (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)"
	djangoTable  = "CREATE TABLE %s (id INTEGER PRIMARY KEY, app VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL)"
)

func TestStatus(t *testing.T) {
	gooseDir := files(t, "00001_create.sql", "00002_seed.go", "00003_index.sql",
		"README.md", "helpers.go", "00002_seed_test.go", "00000_zero.sql", "sub/00009_nested.sql")
	migrateDir := files(t, "1_create.up.sql", "1_create.down.sql", "2_seed.up.sql", "3_index.up.sql", "3_index.down.sql", "README.md")
	pollsDir := files(t, "polls/migrations/__init__.py", "polls/migrations/0001_initial.py",
		"polls/migrations/0002_choice.py", "polls/migrations/~0003_draft.py", "polls/migrations/notes.txt")
	polls := filepath.Join(pollsDir, "polls", "migrations")
	manyDir := files(t, "1_a.sql", "2_b.sql", "3_c.sql", "4_d.sql", "5_e.sql")

	goose := migrations.Config{Format: migrations.Goose, Dir: gooseDir}
	migrate := migrations.Config{Format: migrations.Migrate, Dir: migrateDir}
	django := migrations.Config{Format: migrations.Django, Apps: map[string]string{"polls": polls}}
	tests := []struct {
		name  string
		cfg   migrations.Config
		setup []string // %s is the table
		want  string
	}{
		{"goose, no table", goose, nil,
			"unavailable: There are migrations to apply: 00001_create.sql, 00002_seed.go, 00003_index.sql"},
		{"goose, up to date", goose, []string{gooseTable,
			"INSERT INTO %s VALUES (1, 0, TRUE), (2, 1, TRUE), (3, 2, TRUE), (4, 3, TRUE)"}, "working"},
		{"goose, behind", goose, []string{gooseTable,
			"INSERT INTO %s VALUES (1, 0, TRUE), (2, 1, TRUE), (3, 2, TRUE)"},
			"unavailable: There are migrations to apply: 00003_index.sql"},
		{"goose, rolled back", goose, []string{gooseTable,
			"INSERT INTO %s VALUES (1, 0, TRUE), (2, 1, TRUE), (3, 2, TRUE), (4, 3, TRUE), (5, 2, FALSE)"},
			"unavailable: There are migrations to apply: 00002_seed.go"},
		{"goose, many behind", migrations.Config{Format: migrations.Goose, Dir: manyDir}, nil,
			"unavailable: There are migrations to apply: 1_a.sql, 2_b.sql, 3_c.sql and 2 more"},
		{"goose, own table", migrations.Config{Format: migrations.Goose, Dir: gooseDir, Table: "app_versions"},
			[]string{gooseTable, "INSERT INTO %s VALUES (1, 0, TRUE), (2, 1, TRUE), (3, 2, TRUE), (4, 3, TRUE)"}, "working"},
		{"migrate, no table", migrate, nil,
			"unavailable: There are migrations to apply: 1_create.up.sql, 2_seed.up.sql, 3_index.up.sql"},
		{"migrate, no version", migrate, []string{migrateTable},
			"unavailable: There are migrations to apply: 1_create.up.sql, 2_seed.up.sql, 3_index.up.sql"},
		{"migrate, up to date", migrate, []string{migrateTable, "INSERT INTO %s VALUES (3, FALSE)"}, "working"},
		{"migrate, ahead", migrate, []string{migrateTable, "INSERT INTO %s VALUES (4, FALSE)"}, "working"},
		{"migrate, behind", migrate, []string{migrateTable, "INSERT INTO %s VALUES (2, FALSE)"},
			"unavailable: There are migrations to apply: 3_index.up.sql"},
		{"migrate, dirty", migrate, []string{migrateTable, "INSERT INTO %s VALUES (3, TRUE)"},
			"unavailable: Migration 3 is dirty: fix it and force the version"},
		{"django, no table", django, nil,
			"unavailable: There are migrations to apply: polls.0001_initial, polls.0002_choice"},
		{"django, up to date", django, []string{djangoTable,
			"INSERT INTO %s VALUES (1, 'admin', '0001_initial'), (2, 'polls', '0001_initial'), (3, 'polls', '0002_choice')"}, "working"},
		{"django, behind", django, []string{djangoTable,
			"INSERT INTO %s VALUES (1, 'admin', '0001_initial'), (2, 'polls', '0001_initial'), (3, 'blog', '0002_choice')"},
			"unavailable: There are migrations to apply: polls.0002_choice"},
		{"django, dirs", migrations.Config{Format: migrations.Django, Dirs: []string{polls + "/"}}, []string{djangoTable,
			"INSERT INTO %s VALUES (1, 'polls', '0001_initial')"},
			"unavailable: There are migrations to apply: polls.0002_choice"},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					cfg := tt.cfg
					cfg.URL = e.url(t)
					c := mustNew(t, cfg)
					table := cfg.Table
					if table == "" {
						table = map[migrations.Format]string{migrations.Goose: "goose_db_version",
							migrations.Migrate: "schema_migrations", migrations.Django: "django_migrations"}[cfg.Format]
					}
					for _, s := range tt.setup {
						exec(t, cfg.URL, strings.ReplaceAll(s, "%s", table))
					}
					healthjobtest.AssertStatus(t, c, 5*time.Second, tt.want)
				})
			}
		})
	}
}

// TestGoose migrates a database with goose itself and checks it as goose
// left it: up to date, then behind a new file, then after a rollback.
func TestGoose(t *testing.T) {
	dir := t.TempDir()
	write := func(name, sql string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("00001_users.sql", "-- +goose Up\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n-- +goose Down\nDROP TABLE users;\n")
	write("00002_posts.sql", "-- +goose Up\nCREATE TABLE posts (id INTEGER PRIMARY KEY);\n-- +goose Down\nDROP TABLE posts;\n")
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "app.db")
	db := open(t, dbURL)
	defer db.Close()
	provider := func() *goose.Provider {
		p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS(dir), goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := provider().Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, migrations.Config{URL: dbURL, Format: migrations.Goose, Dir: dir})
	healthjobtest.AssertStatus(t, c, 5*time.Second, "working")

	write("00003_tags.sql", "-- +goose Up\nCREATE TABLE tags (id INTEGER PRIMARY KEY);\n-- +goose Down\nDROP TABLE tags;\n")
	healthjobtest.AssertStatus(t, c, 5*time.Second, "unavailable: There are migrations to apply: 00003_tags.sql")

	p := provider()
	if _, err := p.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, c, 5*time.Second, "unavailable: There are migrations to apply: 00003_tags.sql")
}

func TestNotReady(t *testing.T) {
	dir := files(t, "00001_create.sql")
	pg := func(t *testing.T) *url.URL {
		return server(t, "HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL")
	}
	my := func(t *testing.T) *url.URL {
		return server(t, "HEALTHJOB_MYSQL_URL", "mysql://root@127.0.0.1:3306/test", "MySQL or MariaDB")
	}
	tests := []struct {
		name string
		url  func(t *testing.T) (url, want string)
	}{
		{"sqlite, directory missing", func(t *testing.T) (string, string) {
			return "sqlite:" + filepath.Join(t.TempDir(), "missing", "app.db"), "unable to open database file (14)"
		}},
		{"postgres, server down", func(t *testing.T) (string, string) {
			u, down := pg(t), healthjobtest.ClosedPort(t)
			u.Host = down
			return u.String(), "dial tcp " + down + ": connect: connection refused"
		}},
		{"postgres, unknown database", func(t *testing.T) (string, string) {
			u := pg(t)
			u.Path = "/healthjob_missing"
			return u.String(), `FATAL: database "healthjob_missing" does not exist (SQLSTATE 3D000)`
		}},
		{"postgres, server never answers", func(t *testing.T) (string, string) {
			u := pg(t)
			u.Host = healthjobtest.Blackhole(t)
			return u.String(), "timed out"
		}},
		{"mysql, unknown database", func(t *testing.T) (string, string) {
			u := my(t)
			u.Path = "/healthjob_missing"
			return u.String(), "Error 1049 (42000): Unknown database 'healthjob_missing'"
		}},
		{"mysql, server never answers", func(t *testing.T) (string, string) {
			u := my(t)
			u.Host = healthjobtest.Blackhole(t)
			return u.String(), "timed out"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, reason := tt.url(t)
			c := mustNew(t, migrations.Config{URL: u, Format: migrations.Goose, Dir: dir})
			healthjobtest.AssertStatus(t, c, time.Second, "unavailable: Database is not ready: "+reason)
		})
	}
}

func TestFilesGone(t *testing.T) {
	dir := files(t, "00001_create.sql")
	c := mustNew(t, migrations.Config{URL: "sqlite::memory:", Format: migrations.Goose, Dir: dir})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, c, time.Second,
		"unavailable: Migration files cannot be read: open "+dir+": no such file or directory")
}

func TestNewErrors(t *testing.T) {
	dir := files(t, "polls/migrations/0001_initial.py", "blog/polls/migrations/0001_initial.py")
	tests := []struct {
		cfg  migrations.Config
		want string
	}{
		{migrations.Config{URL: "app.db", Format: migrations.Goose, Dir: dir},
			`database URL "app.db" has no scheme; want sqlite:PATH, postgres://… or mysql://…`},
		{migrations.Config{URL: "sqlite:app.db", Dir: dir}, "format: missing; want goose, migrate or django"},
		{migrations.Config{URL: "sqlite:app.db", Format: "alembic", Dir: dir}, `format: want goose, migrate or django, got "alembic"`},
		{migrations.Config{URL: "sqlite:app.db", Format: migrations.Goose},
			"dir: missing; format goose needs the directory of its migration files"},
		{migrations.Config{URL: "sqlite:app.db", Format: migrations.Migrate, Dir: dir, Apps: map[string]string{"polls": dir}},
			"apps, dirs: only format django reads apps; format migrate reads dir"},
		{migrations.Config{URL: "sqlite:app.db", Format: migrations.Django, Dir: dir},
			"dir: format django reads apps or dirs, the migrations directory of each app"},
		{migrations.Config{URL: "sqlite:app.db", Format: migrations.Django},
			"apps: missing; format django needs the migrations directory of at least one app"},
		{migrations.Config{URL: "sqlite:app.db", Format: migrations.Django,
			Dirs: []string{dir + "/polls/migrations", dir + "/blog/polls/migrations"}},
			"dirs: " + dir + "/blog/polls/migrations: app polls has its migrations directory given twice"},
		{migrations.Config{URL: "sqlite:app.db", Format: migrations.Goose, Dir: dir, Table: "versions; DROP TABLE users"},
			`table: "versions; DROP TABLE users" is not a table name such as goose_db_version`},
		{migrations.Config{URL: "sqlite:app.db", Format: migrations.Goose, Dir: dir + "/missing"},
			"migrations directory " + dir + "/missing: not a directory"},
		{migrations.Config{URL: "sqlite:app.db", Format: migrations.Django, Apps: map[string]string{"polls": dir + "/polls/migrations/0001_initial.py"}},
			"migrations directory " + dir + "/polls/migrations/0001_initial.py: not a directory"},
	}
	for _, tt := range tests {
		_, err := migrations.New(tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestName(t *testing.T) {
	dir := files(t, "00001_create.sql")
	for name, want := range map[string]string{"": "MigrationsHealthCheck", "Schema": "Schema"} {
		c := mustNew(t, migrations.Config{Name: name, URL: "sqlite::memory:", Format: migrations.Goose, Dir: dir})
		if got := c.Name(); got != want {
			t.Errorf("New(Name: %q).Name() = %q, want %q", name, got, want)
		}
	}
}

func TestConformance(t *testing.T) {
	dir := files(t, "00001_create.sql")
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			u := e.url(t)
			exec(t, u, strings.ReplaceAll(gooseTable, "%s", "goose_db_version"),
				"INSERT INTO goose_db_version VALUES (1, 0, TRUE), (2, 1, TRUE)")
			healthjobtest.Conformance(t, mustNew(t, migrations.Config{URL: u, Format: migrations.Goose, Dir: dir}))
		})
	}
}
