package cli

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

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

	testEntries(t, sqlCheckTypes, []checkEntry{
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
			testEntries(t, sqlCheckTypes, []checkEntry{
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
	for _, spec := range config.DefaultChecks() {
		build, ok := sqlCheckTypes[spec.Type]
		if !ok {
			continue
		}
		c, err := build(spec, cfg)
		if err != nil {
			t.Fatalf("%s: %v", spec.Type, err)
		}
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	}
	if _, err := os.Stat("healthjob.db"); err != nil {
		t.Errorf("no healthjob.db in the working directory: %v", err)
	}
}
