package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RollupTable keeps one row per check name, application and hour.
const RollupTable = "healthjob_rollup_hourly"

// RollupLateness is how far back each Rollup recomputes hours already
// rolled up, for records that arrive late (a payload delivered after an
// outage); Prune keeps the records of those hours.
const RollupLateness = 2 * time.Hour

// Rollup brings the hourly roll-ups up to date with the records: every
// complete hour before now, from the oldest record on the first call, and
// from RollupLateness before the last complete hour afterwards. Each hour is
// one statement that replaces its buckets, so a Rollup interrupted or run
// twice leaves the same roll-ups. It returns how many hours it computed.
func (s *DB) Rollup(ctx context.Context, now time.Time) (int, error) {
	until := now.UTC().Truncate(time.Hour)
	done, err := s.rolledUntil(ctx)
	if err != nil {
		return 0, fmt.Errorf("roll up: %w", err)
	}
	var next time.Time // the oldest record's hour on the first call
	if !done.IsZero() {
		next = done.Add(-RollupLateness)
	}
	hours := 0
	for next.IsZero() || next.Before(until) {
		// Jump over hours without records: a store that was idle for a
		// month costs one query, not 720.
		first, err := s.firstCreated(ctx, next)
		if err != nil {
			return hours, fmt.Errorf("roll up: %w", err)
		}
		if first.IsZero() || !first.Before(until) {
			break
		}
		hour := first.Truncate(time.Hour)
		if err := s.rollupHour(ctx, hour, done); err != nil {
			return hours, fmt.Errorf("roll up %s: %w", hour.Format(time.RFC3339), err)
		}
		hours++
		next = hour.Add(time.Hour)
	}
	if until.After(done) {
		if err := s.setRolledUntil(ctx, s.db, until); err != nil {
			return hours, fmt.Errorf("roll up: %w", err)
		}
	}
	return hours, nil
}

// firstCreated returns the created_at of the oldest record created at or
// after t (the zero time for t zero), or the zero time when there is none.
func (s *DB) firstCreated(ctx context.Context, t time.Time) (time.Time, error) {
	q := "SELECT min(created_at) FROM " + Table
	var args []any
	if !t.IsZero() {
		q += " WHERE created_at >= ?"
		args = append(args, s.dialect.time(t))
	}
	var v any
	if err := s.db.QueryRowContext(ctx, s.dialect.rebind(q), args...).Scan(&v); err != nil || v == nil {
		return time.Time{}, err
	}
	return parseTime(v)
}

// rollupHour recomputes the buckets of one hour and moves the watermark
// past it, in one transaction.
func (s *DB) rollupHour(ctx context.Context, hour, done time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	q := `INSERT INTO ` + RollupTable + ` (name, app_id, bucket, runs, failures, duration_min, duration_max, duration_sum, duration_count)
		SELECT name, COALESCE(app_id, ''), ` + s.dialect.timeParam + `, count(*), sum(CASE WHEN status = 0 THEN 1 ELSE 0 END),
			min(duration_ms), max(duration_ms), COALESCE(sum(duration_ms), 0), count(duration_ms)
		FROM ` + Table + ` WHERE created_at >= ? AND created_at < ?
		GROUP BY name, COALESCE(app_id, '')` + s.dialect.upsert
	t := s.dialect.time
	if _, err := tx.ExecContext(ctx, s.dialect.rebind(q), t(hour), t(hour), t(hour.Add(time.Hour))); err != nil {
		return err
	}
	if end := hour.Add(time.Hour); end.After(done) {
		if err := s.setRolledUntil(ctx, tx, end); err != nil {
			return err
		}
	}
	return tx.Commit()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// RolledUp returns the hour up to which the roll-ups are complete, the
// zero time before the first Rollup. The records of RollupLateness before
// it may be rolled up again: Prune should keep them.
func (s *DB) RolledUp(ctx context.Context) (time.Time, error) {
	t, err := s.rolledUntil(ctx)
	if err != nil {
		return t, fmt.Errorf("read the roll-ups' progress: %w", err)
	}
	return t, nil
}

func (s *DB) rolledUntil(ctx context.Context) (time.Time, error) {
	var text string
	err := s.db.QueryRowContext(ctx, "SELECT complete_until FROM healthjob_rollup_state WHERE id = 1").Scan(&text)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339, text)
}

func (s *DB) setRolledUntil(ctx context.Context, db execer, t time.Time) error {
	if _, err := db.ExecContext(ctx, "DELETE FROM healthjob_rollup_state WHERE id = 1"); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, s.dialect.rebind("INSERT INTO healthjob_rollup_state (id, complete_until) VALUES (1, ?)"), t.UTC().Format(time.RFC3339))
	return err
}

// Batches of Prune: each deletes few enough rows to take about
// pruneBatchTime, so that a writer waiting behind one is never held long.
const (
	pruneBatchTime = 20 * time.Millisecond
	minPruneBatch  = 100
	maxPruneBatch  = 20000
)

// Prune deletes the records created before before, oldest first, in short
// transactions, and returns how many it deleted.
func (s *DB) Prune(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	batch := 1000
	for {
		start := time.Now()
		res, err := s.db.ExecContext(ctx, s.dialect.rebind(s.dialect.deleteBatch), s.dialect.time(before), batch)
		if err != nil {
			return total, fmt.Errorf("prune: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune: %w", err)
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
		switch took := time.Since(start); {
		case took < pruneBatchTime/2 && batch < maxPruneBatch:
			batch *= 2
		case took > pruneBatchTime && batch > minPruneBatch:
			batch /= 2
		}
	}
}

// PruneRollups deletes the hourly roll-ups of hours before before.
func (s *DB) PruneRollups(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.dialect.rebind("DELETE FROM "+RollupTable+" WHERE bucket < ?"), s.dialect.time(before.UTC().Truncate(time.Hour)))
	if err != nil {
		return 0, fmt.Errorf("prune roll-ups: %w", err)
	}
	return res.RowsAffected()
}

// Bucket is what one hour (or, from Uptime, a whole range) holds of a
// check's runs.
type Bucket struct {
	Start    time.Time
	Runs     int64
	Failures int64
	// Durations, over the runs that recorded one (not Django's).
	DurationMin, DurationAvg, DurationMax time.Duration
	durationSum                           float64 // milliseconds
	durationCount                         int64
}

// Uptime is the share of runs that passed, 1 when there were none.
func (b Bucket) Uptime() float64 {
	if b.Runs == 0 {
		return 1
	}
	return float64(b.Runs-b.Failures) / float64(b.Runs)
}

// Series returns the hourly buckets of the check name (every check for "")
// of app (every application for "") from from to to: the roll-ups for
// complete hours, the records for the rest, oldest first. Hours without runs
// are left out.
func (s *DB) Series(ctx context.Context, name, app string, from, to time.Time) ([]Bucket, error) {
	done, err := s.rolledUntil(ctx)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	from, to = from.UTC().Truncate(time.Hour), to.UTC()
	var out []Bucket
	if done.After(from) {
		cond, args := s.seriesWhere(name, app, "bucket", from, minTime(to, done))
		q := `SELECT bucket, sum(runs), sum(failures), min(duration_min), max(duration_max), sum(duration_sum), sum(duration_count)
			FROM ` + RollupTable + ` WHERE ` + cond + ` GROUP BY bucket ORDER BY bucket`
		if out, err = s.buckets(ctx, out, q, args); err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
	}
	if to.After(done) {
		start := from
		if done.After(start) {
			start = done
		}
		cond, args := s.seriesWhere(name, app, "created_at", start, to)
		q := `SELECT ` + s.dialect.hour + ` AS hour, count(*), sum(CASE WHEN status = 0 THEN 1 ELSE 0 END),
			min(duration_ms), max(duration_ms), COALESCE(sum(duration_ms), 0), count(duration_ms)
			FROM ` + Table + ` WHERE ` + cond + ` GROUP BY ` + s.dialect.hour + ` ORDER BY hour`
		if out, err = s.buckets(ctx, out, q, args); err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
	}
	return out, nil
}

// Uptime sums the Series of name and app from from to to into one bucket
// that starts at from.
func (s *DB) Uptime(ctx context.Context, name, app string, from, to time.Time) (Bucket, error) {
	series, err := s.Series(ctx, name, app, from, to)
	if err != nil {
		return Bucket{}, err
	}
	total := Bucket{Start: from.UTC().Truncate(time.Hour)}
	for _, b := range series {
		total.Runs += b.Runs
		total.Failures += b.Failures
		if b.durationCount > 0 {
			if total.durationCount == 0 || b.DurationMin < total.DurationMin {
				total.DurationMin = b.DurationMin
			}
			total.DurationMax = max(total.DurationMax, b.DurationMax)
			total.durationSum += b.durationSum
			total.durationCount += b.durationCount
		}
	}
	total.DurationAvg = avg(total.durationSum, total.durationCount)
	return total, nil
}

func (s *DB) seriesWhere(name, app, col string, from, to time.Time) (string, []any) {
	cond := col + " >= ? AND " + col + " < ?"
	args := []any{s.dialect.time(from), s.dialect.time(to)}
	if name != "" {
		cond += " AND name = ?"
		args = append(args, name)
	}
	if app != "" {
		cond += " AND app_id = ?"
		args = append(args, app)
	}
	return cond, args
}

func (s *DB) buckets(ctx context.Context, out []Bucket, q string, args []any) ([]Bucket, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var b Bucket
		var start any
		var lo, hi sql.NullFloat64
		if err := rows.Scan(&start, &b.Runs, &b.Failures, &lo, &hi, &b.durationSum, &b.durationCount); err != nil {
			return nil, err
		}
		if b.Start, err = parseTime(start); err != nil {
			return nil, err
		}
		b.DurationMin, b.DurationMax = ms(lo.Float64), ms(hi.Float64)
		b.DurationAvg = avg(b.durationSum, b.durationCount)
		out = append(out, b)
	}
	return out, rows.Err()
}

func ms(v float64) time.Duration {
	return time.Duration(v * float64(time.Millisecond)).Round(time.Microsecond)
}

func avg(sum float64, n int64) time.Duration {
	if n == 0 {
		return 0
	}
	return ms(sum / float64(n))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
