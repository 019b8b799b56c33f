//go:build unix

package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/checks/sqlite"
	"github.com/healthjob/healthjob/healthjobtest"
)

// BenchmarkCheck runs each check with a connection per run (ConnMaxAge 0)
// and with a kept one, on a database with a schema about the size of
// healthjob's own store, which every new connection parses. cpu-ns/op is
// the CPU time of the process per run.
func BenchmarkCheck(b *testing.B) {
	path := filepath.Join(b.TempDir(), "healthjob.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 13 {
		for _, stmt := range []string{
			fmt.Sprintf("CREATE TABLE t%d (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, status INTEGER, message TEXT, created_at DATETIME, updated_at DATETIME)", i),
			fmt.Sprintf("CREATE INDEX t%d_name ON t%d (name, created_at)", i, i),
			fmt.Sprintf("CREATE INDEX t%d_created ON t%d (created_at)", i, i),
		} {
			if _, err := db.Exec(stmt); err != nil {
				b.Fatal(err)
			}
		}
	}
	db.Close()
	for _, kind := range []sqldb.Kind{sqldb.Backend, sqldb.HeartBeat} {
		for _, age := range []time.Duration{0, time.Minute} {
			c, err := sqlite.New(sqlite.Config{URL: "sqlite:" + path, Kind: kind, ConnMaxAge: age})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/ConnMaxAge=%s", c.Name(), age), func(b *testing.B) {
				defer c.Close()
				healthjobtest.BenchmarkCheck(b, c, "SQLite")
			})
		}
	}
}
