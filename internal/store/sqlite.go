package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pressly/goose/v3"
)

// djangoTime is how Django writes a datetime into SQLite: naive UTC text.
const djangoTime = "2006-01-02 15:04:05.000000"

// bucketUpsert is the upsert clause of SQLite and PostgreSQL.
const bucketUpsert = ` ON CONFLICT (name, app_id, bucket) DO UPDATE SET runs = excluded.runs, failures = excluded.failures,
	duration_min = excluded.duration_min, duration_max = excluded.duration_max,
	duration_sum = excluded.duration_sum, duration_count = excluded.duration_count`

var sqliteDialect = &dialect{
	name:   "sqlite",
	goose:  goose.DialectSQLite3,
	locker: sqliteLocker,
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
	time:        func(t time.Time) any { return t.UTC().Format(djangoTime) },
	rowValues:   true,
	hour:        `substr(created_at, 1, 13) || ':00:00'`,
	upsert:      bucketUpsert,
	search:      sqliteSearch,
	messageKey:  "message",
	timeParam:   "?",
	deleteBatch: deleteBatch,
}

// searchIndexLimit is how many matches the trigram index may return for a
// search to be answered through it. Beyond, the term is common enough that
// scanning the records in sort order fills a page sooner than sorting every
// match would.
const searchIndexLimit = 5000

// sqliteSearch uses the FTS5 trigram index healthjob_record_search, which
// finds substrings of three characters or more regardless of case, as
// Django's icontains does; shorter terms and common terms scan.
func sqliteSearch(ctx context.Context, s *DB, term string) (string, []any, error) {
	like := likePattern(term)
	scan := `(name LIKE ? ESCAPE '\' OR message LIKE ? ESCAPE '\')`
	if utf8.RuneCountInString(term) < 3 {
		return scan, []any{like, like}, nil
	}
	phrase := `"` + strings.ReplaceAll(term, `"`, `""`) + `"`
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT rowid FROM healthjob_record_search
		WHERE healthjob_record_search MATCH ? LIMIT ?)`, phrase, searchIndexLimit+1).Scan(&n)
	if err != nil {
		return "", nil, err
	}
	if n > searchIndexLimit {
		return scan, []any{like, like}, nil
	}
	return `id IN (SELECT rowid FROM healthjob_record_search WHERE healthjob_record_search MATCH ?)`, []any{phrase}, nil
}

// likePattern is a LIKE pattern matching term anywhere, with LIKE's
// wildcards in term escaped by a backslash.
func likePattern(term string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(term) + "%"
}
