package store

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/pressly/goose/v3"
)

// dialect is what differs between engines.
type dialect struct {
	name      string // migrations/<name>
	goose     goose.Dialect
	dsn       func(string) string // adjusts the driver DSN
	configure func(*sql.DB)
	setup     []string                  // run on every new connection pool
	row       func(first, n int) string // one VALUES tuple of n placeholders
	time      func(time.Time) any       // a time as the column stores it
	parseTime func(any) (time.Time, error)
}

var dialects = map[string]dialect{
	sqldb.DriverSQLite: sqlite,
}

// djangoTime is how Django writes a datetime into SQLite: naive UTC text.
const djangoTime = "2006-01-02 15:04:05.000000"

var sqlite = dialect{
	name:  "sqlite",
	goose: goose.DialectSQLite3,
	dsn: func(path string) string {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		// WAL lets readers (the admin, `healthjob records`) run beside the
		// writer; busy_timeout makes a writer wait instead of failing.
		return "file:" + path + sep + "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	},
	configure: func(db *sql.DB) {
		db.SetMaxOpenConns(1) // SQLite has one writer; one connection avoids SQLITE_BUSY between our own goroutines
	},
	row: func(_, n int) string {
		return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	},
	time: func(t time.Time) any { return t.UTC().Format(djangoTime) },
	parseTime: func(v any) (time.Time, error) {
		switch v := v.(type) {
		case time.Time:
			return v.UTC(), nil
		case string:
			for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02 15:04:05.999999-07:00", time.RFC3339Nano} {
				if t, err := time.Parse(layout, v); err == nil {
					return t.UTC(), nil
				}
			}
		}
		return time.Time{}, fmt.Errorf("unreadable time %v", v)
	},
}
