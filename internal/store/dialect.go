package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// dialect is what differs between engines.
type dialect struct {
	name      string // migrations/<name>
	goose     goose.Dialect
	locker    func() (lock.SessionLocker, error) // serialises concurrent migrations; nil for none
	dsn       func(string) string                // adjusts the driver DSN
	configure func(*sql.DB)
	time      func(time.Time) any // a time as the columns store it
	// rowValues tells whether (a, b) < (?, ?) is understood and served by
	// an index; MySQL gets the expanded OR form instead.
	rowValues bool
	// hour is the SQL expression of the hour a created_at falls in.
	hour string
	// upsert ends an INSERT … SELECT into the roll-ups so that it replaces
	// the rows of the same bucket.
	upsert string
	// copy, when set, writes large batches faster than INSERT does.
	copy func(ctx context.Context, conn *sql.Conn, rows [][]any) error
	// search narrows a query to records whose name or message contains
	// term, ignoring case; it returns the condition and its arguments.
	search func(ctx context.Context, s *DB, term string) (string, []any, error)
	// messageKey is the expression the message index holds: message, or
	// its first messagePrefix characters.
	messageKey string
	// timeParam is a placeholder for a time where the statement does not
	// tell its type.
	timeParam string
	// looseGroupBy tells whether GROUP BY name reads one index entry per
	// name (MariaDB, MySQL) rather than every record.
	looseGroupBy bool
	// deleteBatch deletes up to ? records created before ?.
	deleteBatch string
}

// messagePrefix is how many characters of a message PostgreSQL's index
// holds (messageKey).
const messagePrefix = 200

// deleteBatch of SQLite and PostgreSQL: through the created_at index.
const deleteBatch = "DELETE FROM " + Table + " WHERE id IN (SELECT id FROM " + Table + " WHERE created_at < ? LIMIT ?)"

var dialects = map[string]*dialect{
	sqldb.DriverSQLite:   sqliteDialect,
	sqldb.DriverPostgres: postgresDialect,
	sqldb.DriverMySQL:    mysqlDialect,
}

// rebind turns the ? placeholders of q into PostgreSQL's $1, $2, …; the
// store's SQL has no other question marks.
func (d *dialect) rebind(q string) string {
	if d != postgresDialect {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parseTime reads a time column (or an hour expression) as the driver
// returns it: time.Time from PostgreSQL and MySQL, text from SQLite.
func parseTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case []byte:
		return parseTime(string(v))
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02 15:04:05.999999-07:00", time.RFC3339Nano} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %v", v)
}
