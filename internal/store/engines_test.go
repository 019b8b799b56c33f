package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/internal/testdb"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// The servers of the PostgreSQL and MySQL stores under test; each test gets
// a database of its own on them, dropped after it.
var (
	postgresURL = testdb.PostgresURL
	mysqlURL    = testdb.MySQLURL
)

var engines = []string{"sqlite", "postgres", "mysql"}

// eachEngine runs f once per engine, each time on a new empty database.
func eachEngine(t *testing.T, f func(t *testing.T, url string)) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { f(t, freshDatabase(t, engine)) })
	}
}

// freshDatabase creates an empty database of engine for the test and
// returns its URL.
func freshDatabase(t testing.TB, engine string) string {
	t.Helper()
	switch engine {
	case "postgres":
		return testdb.Postgres(t, postgresURL, "healthjob_store", engine+" store tests")
	case "mysql":
		return testdb.MySQL(t, mysqlURL, "healthjob_store", engine+" store tests")
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "healthjob.db")
}

// server opens a database/sql handle on a server URL for test set-up.
func server(t testing.TB, raw string) *sql.DB {
	t.Helper()
	driver, dsn, err := sqldb.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func mustOpen(t testing.TB, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustMigrate(t testing.TB, db *store.DB) int {
	t.Helper()
	n, err := db.Migrate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// migrated opens and migrates a new database of the engine.
func migrated(t testing.TB, url string) *store.DB {
	t.Helper()
	db := mustOpen(t, url)
	mustMigrate(t, db)
	return db
}

// migrations returns how many migrations engine has and the newest's version.
func migrations(t testing.TB, engine string) (n, newest int) {
	t.Helper()
	files, err := os.ReadDir(filepath.Join("migrations", engine))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		v, _, _ := strings.Cut(f.Name(), "_")
		version, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("migration %s is not numbered", f.Name())
		}
		n, newest = n+1, max(newest, version)
	}
	return n, newest
}
