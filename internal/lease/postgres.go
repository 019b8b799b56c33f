package lease

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/healthjob/healthjob/checks/sqldb"
)

// Table holds the leases in PostgreSQL, one row per lease name. Open
// creates it when missing.
const Table = "healthjob_lease"

// postgres is a lease row whose expiry the database's clock judges. A
// session-level advisory lock would be released at once when its holder
// is killed, but only after TCP keepalives give up when the holder is cut
// off or paused, or never behind a connection pooler: a row with an expiry
// is bounded in every case.
type postgres struct {
	db                  *sql.DB
	name, holder, token string
}

// createLock serialises the creation of Table by concurrent monitors.
const createLock = 0x6865616c74686a62 // "healthjb"

func openPostgres(ctx context.Context, rawURL, name, holder string) (*postgres, error) {
	driver, dsn, err := sqldb.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", sqldb.Redact(rawURL), err)
	}
	db.SetMaxOpenConns(2) // a renewal, and `healthjob status` or a release beside it
	p := &postgres{db: db, name: name, holder: holder, token: newToken()}
	if err := p.create(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("lock %s: %w", sqldb.Redact(rawURL), err)
	}
	return p, nil
}

func (p *postgres) create(ctx context.Context) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(createLock)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+Table+` (
		name varchar(200) NOT NULL PRIMARY KEY,
		holder varchar(200) NOT NULL,
		token char(32) NOT NULL,
		since timestamp with time zone NOT NULL,
		expires_at timestamp with time zone NOT NULL)`); err != nil {
		return err
	}
	return tx.Commit()
}

func (p *postgres) Hold(ctx context.Context, ttl time.Duration) (bool, error) {
	var one int
	err := p.db.QueryRowContext(ctx, `INSERT INTO `+Table+` AS l (name, holder, token, since, expires_at)
		VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp() + make_interval(secs => $4))
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,
			since = CASE WHEN l.token = excluded.token THEN l.since ELSE excluded.since END,
			expires_at = excluded.expires_at
		WHERE l.token = excluded.token OR l.expires_at <= clock_timestamp()
		RETURNING 1`, p.name, p.holder, p.token, ttl.Seconds()).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil // another holder's lease has not expired
	case err != nil:
		return false, fmt.Errorf("hold lease %q: %w", p.name, err)
	}
	return true, nil
}

func (p *postgres) Release(ctx context.Context) error {
	if _, err := p.db.ExecContext(ctx, `DELETE FROM `+Table+` WHERE name = $1 AND token = $2`, p.name, p.token); err != nil {
		return fmt.Errorf("release lease %q: %w", p.name, err)
	}
	return nil
}

func (p *postgres) Holder(ctx context.Context) (Info, error) {
	var info Info
	err := p.db.QueryRowContext(ctx, `SELECT holder, since, expires_at FROM `+Table+`
		WHERE name = $1 AND expires_at > clock_timestamp()`, p.name).Scan(&info.Holder, &info.Since, &info.Expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Info{}, nil
	case err != nil:
		return Info{}, fmt.Errorf("read lease %q: %w", p.name, err)
	}
	return info, nil
}

func (p *postgres) Close() error { return p.db.Close() }
