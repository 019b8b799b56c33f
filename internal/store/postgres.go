package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

var postgresDialect = &dialect{
	name:   "postgres",
	goose:  goose.DialectPostgres,
	locker: func() (lock.SessionLocker, error) { return lock.NewPostgresSessionLocker() },
	dsn:    postgresDSN,
	configure: func(db *sql.DB) {
		db.SetMaxIdleConns(4)
	},
	time:      func(t time.Time) any { return t.UTC() },
	rowValues: true,
	hour:      `date_trunc('hour', created_at AT TIME ZONE 'UTC')`,
	upsert:    bucketUpsert,
	copy:      postgresCopy,
	search:    postgresSearch,
	// A B-tree entry must stay under about 2,700 bytes, and a check's
	// message may not: the index holds its first 200 characters.
	messageKey:  "left(message, 200)",
	timeParam:   "CAST(? AS timestamptz)",
	deleteBatch: deleteBatch,
}

// postgresDSN asks PostgreSQL to plan each query for its values: pgx
// prepares and caches statements, and after five runs PostgreSQL may keep
// one generic plan, which for a search or a filter of few records is a scan
// of the whole table.
func postgresDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil { // sqldb.ParseURL parsed it already
		return dsn
	}
	q := u.Query()
	if !q.Has("plan_cache_mode") {
		q.Set("plan_cache_mode", "force_custom_plan")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// postgresCopy writes rows with COPY on conn, through pgx's own connection
// under database/sql's (the stdlib driver's Conn).
func postgresCopy(ctx context.Context, conn *sql.Conn, rows [][]any) error {
	// pgx encodes a Go string as a uuid only after a failed first try,
	// whose error costs more than the rest of the row: give it the bytes.
	runUUID := slices.Index(columns, "run_uuid")
	for _, r := range rows {
		if s, ok := r[runUUID].(string); ok {
			var u pgtype.UUID
			if u.Scan(s) == nil {
				r[runUUID] = u
			}
		}
	}
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(interface{ Conn() *pgx.Conn })
		if !ok {
			return fmt.Errorf("copy: driver connection %T is not pgx's", driverConn)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{Table}, columns, pgx.CopyFromRows(rows))
		return err
	})
}

// postgresSearch is Django's icontains on both columns; the trigram index
// healthjob_record_search serves it when the pg_trgm extension could be
// installed (migration 00005), and the planner scans in sort order when the
// term is common.
func postgresSearch(_ context.Context, _ *DB, term string) (string, []any, error) {
	like := likePattern(term)
	return `(name ILIKE ? OR message ILIKE ?)`, []any{like, like}, nil
}
