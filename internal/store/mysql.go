package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/pressly/goose/v3"
)

var mysqlDialect = &dialect{
	name:  "mysql",
	goose: goose.DialectMySQL,
	dsn:   func(dsn string) string { return dsn },
	configure: func(db *sql.DB) {
		db.SetMaxIdleConns(4)
		db.SetConnMaxLifetime(time.Hour) // below the server's wait_timeout
	},
	// Times go out as UTC (the driver's loc), so datetime(6) columns hold
	// naive UTC, as Django's MySQL backend writes them.
	time: func(t time.Time) any { return t.UTC() },
	hour: `DATE_FORMAT(created_at, '%Y-%m-%d %H:00:00')`,
	upsert: ` ON DUPLICATE KEY UPDATE runs = VALUES(runs), failures = VALUES(failures),
	duration_min = VALUES(duration_min), duration_max = VALUES(duration_max),
	duration_sum = VALUES(duration_sum), duration_count = VALUES(duration_count)`,
	search:       mysqlSearch,
	looseGroupBy: true,
	messageKey:   "message",
	timeParam:    "?",
	deleteBatch:  "DELETE FROM " + Table + " WHERE created_at < ? ORDER BY created_at LIMIT ?",
}

// SearchWindow is how many of the newest records a search examines on
// MySQL and MariaDB, where no index finds substrings (FULLTEXT finds words)
// and LIKE reads every row it is given: about 3 µs a row on 2 cores, so a
// search that matches little stays within seconds.
const SearchWindow = 1000000

// mysqlSearch is Django's icontains on MySQL: LIKE under the column's
// case-insensitive collation, over the newest SearchWindow records, scanned
// in sort order until the page is full.
func mysqlSearch(ctx context.Context, s *DB, term string) (string, []any, error) {
	var newest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT max(id) FROM "+Table).Scan(&newest); err != nil {
		return "", nil, err
	}
	like := likePattern(term)
	return `id > ? AND (name LIKE ? OR message LIKE ?)`, []any{newest.Int64 - SearchWindow, like, like}, nil
}
