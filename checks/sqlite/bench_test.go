package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/checks/sqlite"
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
				cpu := cpuTime(b)
				for b.Loop() {
					if err := c.Check(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
