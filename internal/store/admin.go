package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNoRecord is returned for an id that no record has.
var ErrNoRecord = errors.New("no such record")

// Record returns the record of id, or ErrNoRecord.
func (s *DB) Record(ctx context.Context, id int64) (Record, error) {
	recs, err := s.Records(ctx, []int64{id})
	if err != nil {
		return Record{}, err
	}
	if len(recs) == 0 {
		return Record{}, ErrNoRecord
	}
	return recs[0], nil
}

// idsPerStatement bounds the ids of one IN list below every engine's limit
// on bound parameters.
const idsPerStatement = 500

// Records returns the records of ids that exist, by id.
func (s *DB) Records(ctx context.Context, ids []int64) ([]Record, error) {
	var out []Record
	for start := 0; start < len(ids); start += idsPerStatement {
		batch := ids[start:min(start+idsPerStatement, len(ids))]
		recs, err := s.records(ctx, "SELECT "+recordColumns+" FROM "+Table+" WHERE id IN ("+placeholders(len(batch))+") ORDER BY id", int64Args(batch)...)
		if err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
		out = append(out, recs...)
	}
	return out, nil
}

// DeleteRecords deletes the records of ids and returns how many there were.
// The hourly roll-ups keep counting them: they tell what ran.
func (s *DB) DeleteRecords(ctx context.Context, ids []int64) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("delete records: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var n int64
	for start := 0; start < len(ids); start += idsPerStatement {
		batch := ids[start:min(start+idsPerStatement, len(ids))]
		res, err := tx.ExecContext(ctx, s.dialect.rebind("DELETE FROM "+Table+" WHERE id IN ("+placeholders(len(batch))+")"), int64Args(batch)...)
		if err != nil {
			return 0, fmt.Errorf("delete records: %w", err)
		}
		deleted, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("delete records: %w", err)
		}
		n += deleted
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("delete records: %w", err)
	}
	return n, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

// Since returns when the check name (of app, "" for every application's)
// came to have status and level: the creation time of its first record
// after the newest one with another, or of its very first record; the zero
// time when the check has no record. The hourly roll-ups find the hour of
// the last other status, so the cost does not grow with a check's age; as
// they count failures only, a change between warning and ok shows in the
// records not rolled up yet (the last hour or two), and older ones do not.
func (s *DB) Since(ctx context.Context, name, app string, status int, level string) (time.Time, error) {
	other, err := s.lastOther(ctx, name, app, status, level)
	if err != nil {
		return time.Time{}, fmt.Errorf("since when %s: %w", name, err)
	}
	cond, args := "name = ?", []any{name}
	if app != "" {
		cond, args = cond+" AND app_id = ?", append(args, app)
	}
	if !other.IsZero() {
		cond, args = cond+" AND created_at > ?", append(args, s.dialect.time(other))
	}
	var first any
	q := "SELECT created_at FROM " + Table + " WHERE " + cond + " ORDER BY created_at, id LIMIT 1"
	err = s.db.QueryRowContext(ctx, s.dialect.rebind(q), args...).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		return other, nil // the newest record has another status: it changes now
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("since when %s: %w", name, err)
	}
	return parseTime(first)
}

// lastOther returns the creation time of the newest record of name and app
// whose status or level is not status and level, zero when there is none.
func (s *DB) lastOther(ctx context.Context, name, app string, status int, level string) (time.Time, error) {
	done, err := s.rolledUntil(ctx)
	if err != nil {
		return time.Time{}, err
	}
	// The records the roll-ups do not hold yet.
	t, err := s.newestOther(ctx, name, app, status, level, done, time.Time{})
	if err != nil || !t.IsZero() || done.IsZero() {
		return t, err
	}
	// The newest rolled-up hour that saw the other status, then its records.
	other := "failures > 0"
	if status == 0 {
		other = "failures < runs"
	}
	cond, args := "name = ? AND bucket < ? AND "+other, []any{name, s.dialect.time(done)}
	if app != "" {
		cond, args = cond+" AND app_id = ?", append(args, app)
	}
	var bucket any
	q := "SELECT bucket FROM " + RollupTable + " WHERE " + cond + " ORDER BY bucket DESC LIMIT 1"
	err = s.db.QueryRowContext(ctx, s.dialect.rebind(q), args...).Scan(&bucket)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	hour, err := parseTime(bucket)
	if err != nil {
		return time.Time{}, err
	}
	t, err = s.newestOther(ctx, name, app, status, level, hour, hour.Add(time.Hour))
	if err == nil && t.IsZero() {
		t = hour.Add(time.Hour - time.Microsecond) // its records are pruned: the hour's end is as close as it gets
	}
	return t, err
}

// newestOther returns the creation time of the newest record of name and
// app created in [from, to) (zero for open ends) whose status or level is
// not status and level.
func (s *DB) newestOther(ctx context.Context, name, app string, status int, level string, from, to time.Time) (time.Time, error) {
	cond, args := "name = ? AND (status <> ? OR COALESCE(level, '') <> ?)", []any{name, status, level}
	if app != "" {
		cond, args = cond+" AND app_id = ?", append(args, app)
	}
	if !from.IsZero() {
		cond, args = cond+" AND created_at >= ?", append(args, s.dialect.time(from))
	}
	if !to.IsZero() {
		cond, args = cond+" AND created_at < ?", append(args, s.dialect.time(to))
	}
	var created any
	q := "SELECT created_at FROM " + Table + " WHERE " + cond + " ORDER BY created_at DESC, id DESC LIMIT 1"
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(q), args...).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return parseTime(created)
}

// maxSpans bounds the stretches of records History reads; a check that
// changes more often than that is read whole, as Changes reads it.
const maxSpans = 200

// History returns what Changes returns — the first record of the range and
// each one whose status differs from the record before it, newest first —
// reading only the hours in which the status may have changed: the hourly
// roll-ups tell which hours passed, or failed, all through, as the hour
// before them did; their records hold no change. A week of a check that
// runs every 5 seconds is then a few hundred records, not 120,000.
func (s *DB) History(ctx context.Context, name, app string, from, to time.Time, limit int) ([]Record, error) {
	done, err := s.rolledUntil(ctx)
	if err != nil {
		return nil, fmt.Errorf("status history of %s: %w", name, err)
	}
	from = from.UTC()
	if !done.After(from) {
		return s.Changes(ctx, name, app, from, to, limit)
	}
	spans, err := s.changingSpans(ctx, name, app, from, to, done)
	if err != nil {
		return nil, fmt.Errorf("status history of %s: %w", name, err)
	}
	if len(spans) > maxSpans {
		return s.Changes(ctx, name, app, from, to, limit)
	}
	if len(spans) == 0 {
		return nil, nil
	}
	var terms []string
	var args []any
	for _, sp := range spans {
		term := "name = ? AND created_at >= ?"
		args = append(args, name, s.dialect.time(sp[0]))
		if !sp[1].IsZero() {
			term += " AND created_at < ?"
			args = append(args, s.dialect.time(sp[1]))
		}
		terms = append(terms, "("+term+")")
	}
	cond := "(" + strings.Join(terms, " OR ") + ")"
	if app != "" {
		cond, args = "app_id = ? AND "+cond, append([]any{app}, args...)
	}
	// Between two stretches the status held still: the last record of one
	// has the status of the hours that follow it, so LAG over the records
	// of the stretches alone finds every change. The limit comes before the
	// join, so that the planner reads the changes by id, not the table.
	q := `SELECT ` + recordColumns + ` FROM ` + Table + ` JOIN (
		SELECT change_id FROM (
			SELECT id AS change_id, created_at AS changed_at, status AS changed, LAG(status) OVER (ORDER BY created_at, id) AS previous
			FROM ` + Table + ` WHERE ` + cond + `
		) history WHERE previous IS NULL OR previous <> changed
		ORDER BY changed_at DESC, change_id DESC LIMIT ` + strconv.Itoa(limit) + `
	) changes ON id = change_id
	ORDER BY created_at DESC, id DESC`
	recs, err := s.records(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("status history of %s: %w", name, err)
	}
	return recs, nil
}

// changingSpans returns the stretches of [from, to) (to zero: open) whose
// records History reads: each rolled-up hour that is mixed, or whose runs
// all passed or all failed unlike the hour before it (the first one, or
// one after an hour without runs, included), and everything after done,
// which the roll-ups do not hold yet. Adjacent hours make one stretch.
func (s *DB) changingSpans(ctx context.Context, name, app string, from, to, done time.Time) ([][2]time.Time, error) {
	end := done
	if !to.IsZero() && to.Before(done) {
		end = to
	}
	cond, args := s.seriesWhere(name, app, "bucket", from.Truncate(time.Hour), end)
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT bucket, sum(runs), sum(failures) FROM `+RollupTable+
		` WHERE `+cond+` GROUP BY bucket ORDER BY bucket`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var spans [][2]time.Time
	add := func(start, stop time.Time) {
		if start.Before(from) {
			start = from
		}
		if n := len(spans); n > 0 && spans[n-1][1].Equal(start) {
			spans[n-1][1] = stop
			return
		}
		spans = append(spans, [2]time.Time{start, stop})
	}
	var previous string
	var previousEnd time.Time
	for rows.Next() {
		var bucket any
		var runs, failures int64
		if err := rows.Scan(&bucket, &runs, &failures); err != nil {
			return nil, err
		}
		start, err := parseTime(bucket)
		if err != nil {
			return nil, err
		}
		state := "mixed"
		switch failures {
		case 0:
			state = "passed"
		case runs:
			state = "failed"
		}
		if state == "mixed" || state != previous || !start.Equal(previousEnd) {
			add(start, start.Add(time.Hour))
		}
		previous, previousEnd = state, start.Add(time.Hour)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if to.IsZero() || to.After(done) {
		add(done, to)
	}
	return spans, nil
}

// SeriesByName returns the Series of every check of app ("" for every
// application's) from from to to, by check name: what the dashboard shows
// of each check, in two queries rather than two per check.
func (s *DB) SeriesByName(ctx context.Context, app string, from, to time.Time) (map[string][]Bucket, error) {
	done, err := s.rolledUntil(ctx)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	from, to = from.UTC().Truncate(time.Hour), to.UTC()
	out := map[string][]Bucket{}
	if done.After(from) {
		cond, args := s.seriesWhere("", app, "bucket", from, minTime(to, done))
		q := `SELECT name, bucket, sum(runs), sum(failures), min(duration_min), max(duration_max), sum(duration_sum), sum(duration_count)
			FROM ` + RollupTable + ` WHERE ` + cond + ` GROUP BY name, bucket ORDER BY bucket`
		if err := s.namedBuckets(ctx, out, q, args); err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
	}
	if to.After(done) {
		start := from
		if done.After(start) {
			start = done
		}
		cond, args := s.seriesWhere("", app, "created_at", start, to)
		q := `SELECT name, ` + s.dialect.hour + ` AS hour, count(*), sum(CASE WHEN status = 0 THEN 1 ELSE 0 END),
			min(duration_ms), max(duration_ms), COALESCE(sum(duration_ms), 0), count(duration_ms)
			FROM ` + Table + ` WHERE ` + cond + ` GROUP BY name, ` + s.dialect.hour + ` ORDER BY hour`
		if err := s.namedBuckets(ctx, out, q, args); err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
	}
	return out, nil
}

func (s *DB) namedBuckets(ctx context.Context, out map[string][]Bucket, q string, args []any) error {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var b Bucket
		var start any
		var lo, hi sql.NullFloat64
		if err := rows.Scan(&name, &start, &b.Runs, &b.Failures, &lo, &hi, &b.durationSum, &b.durationCount); err != nil {
			return err
		}
		if b.Start, err = parseTime(start); err != nil {
			return err
		}
		b.DurationMin, b.DurationMax = ms(lo.Float64), ms(hi.Float64)
		b.DurationAvg = avg(b.durationSum, b.durationCount)
		out[name] = append(out[name], b)
	}
	return rows.Err()
}

// UptimesByName sums the runs and failures of every check of app ("" for
// every application's) from each of froms, from the start of its hour as
// Uptime does, to to, by check name: the dashboard's uptimes, summed by the
// database in one query over the roll-ups and one over the newer records.
func (s *DB) UptimesByName(ctx context.Context, app string, froms []time.Time, to time.Time) (map[string][]Bucket, error) {
	done, err := s.rolledUntil(ctx)
	if err != nil {
		return nil, fmt.Errorf("uptimes: %w", err)
	}
	to = to.UTC()
	first := to
	starts := make([]any, len(froms))
	for i, f := range froms {
		f = f.UTC().Truncate(time.Hour)
		first = minTime(first, f)
		starts[i] = s.dialect.time(f)
	}
	out := map[string][]Bucket{}
	sums := func(col, runs, failures string) (string, []any) {
		var cols []string
		var args []any
		for _, start := range starts {
			cols = append(cols, "sum(CASE WHEN "+col+" >= ? THEN "+runs+" ELSE 0 END)", "sum(CASE WHEN "+col+" >= ? THEN "+failures+" ELSE 0 END)")
			args = append(args, start, start)
		}
		return strings.Join(cols, ", "), args
	}
	if done.After(first) {
		cols, args := sums("bucket", "runs", "failures")
		cond, condArgs := s.seriesWhere("", app, "bucket", first, minTime(to, done))
		q := "SELECT name, " + cols + " FROM " + RollupTable + " WHERE " + cond + " GROUP BY name"
		if err := s.namedSums(ctx, out, len(froms), q, append(args, condArgs...)); err != nil {
			return nil, fmt.Errorf("uptimes: %w", err)
		}
	}
	if to.After(done) {
		cols, args := sums("created_at", "1", "CASE WHEN status = 0 THEN 1 ELSE 0 END")
		cond, condArgs := s.seriesWhere("", app, "created_at", maxTime(first, done), to)
		q := "SELECT name, " + cols + " FROM " + Table + " WHERE " + cond + " GROUP BY name"
		if err := s.namedSums(ctx, out, len(froms), q, append(args, condArgs...)); err != nil {
			return nil, fmt.Errorf("uptimes: %w", err)
		}
	}
	return out, nil
}

func (s *DB) namedSums(ctx context.Context, out map[string][]Bucket, n int, q string, args []any) error {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		vals := make([]int64, 2*n)
		dest := []any{&name}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if out[name] == nil {
			out[name] = make([]Bucket, n)
		}
		for i := range n {
			out[name][i].Runs += vals[2*i]
			out[name][i].Failures += vals[2*i+1]
		}
	}
	return rows.Err()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
