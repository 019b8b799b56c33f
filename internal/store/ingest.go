package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/healthjob/healthjob"
)

// The tables of serve.
const (
	RunTable   = "healthjob_run"         // the runs stored, by uuid
	StateTable = "healthjob_check_state" // the current status of each check of each application
)

// Ingest stores a payload that serve received, in one transaction: the run
// under its uuid, one record per check with the run's app id, uuid and
// timestamp, and the checks' current state. It returns false, storing
// nothing, when the uuid was stored before: a payload is stored once
// however often, and to however many replicas, it is delivered. The run
// must have been validated (see server's decoder).
func (s *DB) Ingest(ctx context.Context, run *healthjob.Run) (bool, error) {
	stored, err := s.IngestBatch(ctx, []*healthjob.Run{run})
	if err != nil {
		return false, err
	}
	return stored[0], nil
}

// IngestBatch stores payloads as Ingest does, all in one transaction: one
// commit, one insert of their records and one update of the state, however
// many they are. It tells for each whether it was new; on an error, none
// was stored.
func (s *DB) IngestBatch(ctx context.Context, runs []*healthjob.Run) ([]bool, error) {
	stored := make([]bool, len(runs))
	err := s.inTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		if err := s.insertRuns(ctx, tx, runs, stored); err != nil {
			return err
		}
		var rows [][]any
		var fresh []*healthjob.Run
		for i, r := range runs {
			if stored[i] {
				rows = append(rows, s.ingestRows(r)...)
				fresh = append(fresh, r)
			}
		}
		if len(rows) == 0 {
			return nil // nothing new, or heartbeats only: their runs are all there is
		}
		var err error
		if s.dialect.copy != nil {
			err = s.dialect.copy(ctx, conn, rows)
		} else {
			err = s.insert(ctx, tx, rows)
		}
		if err != nil {
			return err
		}
		return s.upsertState(ctx, tx, states(fresh))
	})
	if err != nil {
		return nil, fmt.Errorf("ingest %d runs: %w", len(runs), err)
	}
	return stored, nil
}

// insertRuns inserts the runs' uuids, in uuid order so that concurrent
// batches lock them in one order, and marks in stored the ones that were
// not there before: all in one statement where RETURNING tells which they
// are, else one statement each (MySQL).
func (s *DB) insertRuns(ctx context.Context, tx *sql.Tx, runs []*healthjob.Run, stored []bool) error {
	order := make([]int, len(runs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(runs[a].UUID, runs[b].UUID) })
	now := s.Now()
	const insert = `INSERT INTO ` + RunTable + ` (uuid, app_id, created_at, received_at, checks) `
	var q string
	var args []any
	switch s.dialect {
	case mysqlDialect:
		q = insert + `VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE uuid = uuid`
		for _, i := range order {
			r := runs[i]
			res, err := tx.ExecContext(ctx, q, r.UUID, r.SyncAppID, s.dialect.time(r.Timestamp.Time), s.dialect.time(now), len(r.Checks))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			stored[i] = n > 0 // 0: stored before, or earlier in this batch
		}
		return nil
	case postgresDialect:
		// One statement text whatever the batch's size: prepared once.
		uuids, apps, created, checks := make([]string, len(order)), make([]string, len(order)), make([]time.Time, len(order)), make([]int32, len(order))
		for j, i := range order {
			uuids[j], apps[j], created[j], checks[j] = runs[i].UUID, runs[i].SyncAppID, runs[i].Timestamp.UTC(), int32(len(runs[i].Checks))
		}
		// The uuids go as text[] and are cast in the statement: pgx
		// encodes a Go string as a uuid only after a failed first try.
		q = insert + `SELECT u::uuid, a, c, $4::timestamptz, n FROM unnest($1::text[], $2::text[], $3::timestamptz[], $5::int[]) AS r (u, a, c, n)
			ON CONFLICT (uuid) DO NOTHING RETURNING uuid`
		args = []any{uuids, apps, created, now.UTC(), checks}
	default:
		if len(order) > rowsPerInsert { // below SQLite's bound on parameters
			for start := 0; start < len(order); start += rowsPerInsert {
				part := order[start:min(start+rowsPerInsert, len(order))]
				sub := make([]*healthjob.Run, len(part))
				for j, i := range part {
					sub[j] = runs[i]
				}
				done := make([]bool, len(part))
				if err := s.insertRuns(ctx, tx, sub, done); err != nil {
					return err
				}
				for j, i := range part {
					stored[i] = done[j]
				}
			}
			return nil
		}
		var b strings.Builder
		b.WriteString(insert + `VALUES `)
		for j, i := range order {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			r := runs[i]
			args = append(args, r.UUID, r.SyncAppID, s.dialect.time(r.Timestamp.Time), s.dialect.time(now), len(r.Checks))
		}
		q = b.String() + ` ON CONFLICT (uuid) DO NOTHING RETURNING uuid`
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	inserted := map[string]bool{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return err
		}
		inserted[u] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, i := range order {
		stored[i] = inserted[runs[i].UUID]
		delete(inserted, runs[i].UUID) // a uuid twice in the batch: the first is the one stored
	}
	return nil
}

// ingestRows renders a received run's checks as records. What the payload
// does not carry (duration, critical) stays NULL; the level is read from
// the status and the message.
func (s *DB) ingestRows(run *healthjob.Run) [][]any {
	created := s.dialect.time(run.Timestamp.Time)
	updated := s.dialect.time(s.Now())
	rows := make([][]any, len(run.Checks))
	for i, c := range run.Checks {
		rows[i] = []any{c.Name, c.Status, c.Message, created, updated, run.UUID, nil, run.SyncAppID, string(level(c)), nil}
	}
	return rows
}

// level is a received check's level: a failure when it failed, a warning
// when it passed with django-health-check's warning text.
func level(c healthjob.Result) healthjob.Level {
	switch {
	case !c.Passed():
		return healthjob.LevelFailure
	case strings.HasPrefix(c.Message, "warning"):
		return healthjob.LevelWarning
	}
	return healthjob.LevelOK
}

// stateRow is one check's latest state.
type stateRow struct {
	app, name string
	check     healthjob.Result
	run       *healthjob.Run
}

// states returns the latest state of each check of the runs, one per app
// and name, in that order, so that concurrent batches lock them in one
// order. A name twice counts from the latest run, then the last time.
func states(runs []*healthjob.Run) []stateRow {
	type key struct{ app, name string }
	latest := map[key]stateRow{}
	for _, r := range runs {
		for _, c := range r.Checks {
			k := key{r.SyncAppID, c.Name}
			if old, ok := latest[k]; !ok || !r.Timestamp.Before(old.run.Timestamp.Time) {
				latest[k] = stateRow{k.app, k.name, c, r}
			}
		}
	}
	out := make([]stateRow, 0, len(latest))
	for _, st := range latest {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b stateRow) int { return cmp.Or(strings.Compare(a.app, b.app), strings.Compare(a.name, b.name)) })
	return out
}

// The clauses that update a check's state unless it is newer than the
// row's: changed_at moves when the status does.
const (
	upsertState = ` ON CONFLICT (app_id, name) DO UPDATE SET
		changed_at = CASE WHEN excluded.status <> ` + StateTable + `.status THEN excluded.checked_at ELSE ` + StateTable + `.changed_at END,
		status = excluded.status, message = excluded.message, level = excluded.level,
		run_uuid = excluded.run_uuid, checked_at = excluded.checked_at
		WHERE excluded.checked_at >= ` + StateTable + `.checked_at`
	// MySQL assigns left to right, each seeing the ones before: changed_at
	// reads the old status, checked_at changes last.
	upsertStateMySQL = ` ON DUPLICATE KEY UPDATE
		changed_at = IF(VALUES(checked_at) >= checked_at AND VALUES(status) <> status, VALUES(checked_at), changed_at),
		message = IF(VALUES(checked_at) >= checked_at, VALUES(message), message),
		level = IF(VALUES(checked_at) >= checked_at, VALUES(level), level),
		run_uuid = IF(VALUES(checked_at) >= checked_at, VALUES(run_uuid), run_uuid),
		status = IF(VALUES(checked_at) >= checked_at, VALUES(status), status),
		checked_at = GREATEST(checked_at, VALUES(checked_at))`
)

// upsertState brings the checks' current state up to date.
func (s *DB) upsertState(ctx context.Context, tx *sql.Tx, rows []stateRow) error {
	const insert = `INSERT INTO ` + StateTable + ` (app_id, name, status, message, level, run_uuid, checked_at, changed_at) `
	if s.dialect == postgresDialect {
		n := len(rows)
		apps, names, messages, levels, uuids := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		statuses, at := make([]int32, n), make([]time.Time, n)
		for i, st := range rows {
			apps[i], names[i], statuses[i], messages[i] = st.app, st.name, int32(st.check.Status), st.check.Message
			levels[i], uuids[i], at[i] = string(level(st.check)), st.run.UUID, st.run.Timestamp.UTC()
		}
		_, err := tx.ExecContext(ctx, insert+`SELECT a, n, s, m, l, u::uuid, t, t FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
			AS r (a, n, s, m, l, u, t)`+upsertState, apps, names, statuses, messages, levels, uuids, at)
		return err
	}
	conflict := upsertState
	if s.dialect == mysqlDialect {
		conflict = upsertStateMySQL
	}
	const cols = 8
	for start := 0; start < len(rows); start += rowsPerInsert {
		batch := rows[start:min(start+rowsPerInsert, len(rows))]
		var q strings.Builder
		q.WriteString(insert + `VALUES `)
		args := make([]any, 0, len(batch)*cols)
		for i, st := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + params(cols) + ")")
			at := s.dialect.time(st.run.Timestamp.Time)
			args = append(args, st.app, st.name, st.check.Status, st.check.Message, string(level(st.check)), st.run.UUID, at, at)
		}
		if _, err := tx.ExecContext(ctx, q.String()+conflict, args...); err != nil {
			return err
		}
	}
	return nil
}

// AppStatus sums up the current state of one application's checks.
type AppStatus struct {
	App       string
	Checks    int       // how many checks it reports
	Failing   int       // how many of them failed in their latest run
	CheckedAt time.Time // the timestamp of its latest run
}

// Apps returns every application that has reported, by name; with app
// set, that one only.
func (s *DB) Apps(ctx context.Context, app string) ([]AppStatus, error) {
	q := `SELECT app_id, count(*), sum(CASE WHEN status = 0 THEN 1 ELSE 0 END), max(checked_at) FROM ` + StateTable
	var args []any
	if app != "" {
		q += ` WHERE app_id = ?`
		args = append(args, app)
	}
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(q+` GROUP BY app_id ORDER BY app_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("apps: %w", err)
	}
	defer rows.Close()
	var out []AppStatus
	for rows.Next() {
		var a AppStatus
		var checked any
		if err := rows.Scan(&a.App, &a.Checks, &a.Failing, &checked); err != nil {
			return nil, fmt.Errorf("apps: %w", err)
		}
		if a.CheckedAt, err = parseTime(checked); err != nil {
			return nil, fmt.Errorf("apps: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("apps: %w", err)
	}
	return out, nil
}

// CheckState is the current status of one check of an application.
type CheckState struct {
	Name      string
	Status    int // 1 passed, 0 failed
	Message   string
	Level     string
	RunUUID   string    // the run that reported it
	CheckedAt time.Time // that run's timestamp
	ChangedAt time.Time // when the status last changed, or when it was first reported
}

// CheckStates returns the current state of app's checks, by name; none for
// an app that never reported.
func (s *DB) CheckStates(ctx context.Context, app string) ([]CheckState, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT name, status, message, level, run_uuid, checked_at, changed_at FROM `+
		StateTable+` WHERE app_id = ? ORDER BY name`), app)
	if err != nil {
		return nil, fmt.Errorf("checks of %s: %w", app, err)
	}
	defer rows.Close()
	var out []CheckState
	for rows.Next() {
		var c CheckState
		var checked, changed any
		if err := rows.Scan(&c.Name, &c.Status, &c.Message, &c.Level, &c.RunUUID, &checked, &changed); err != nil {
			return nil, fmt.Errorf("checks of %s: %w", app, err)
		}
		if c.CheckedAt, err = parseTime(checked); err == nil {
			c.ChangedAt, err = parseTime(changed)
		}
		if err != nil {
			return nil, fmt.Errorf("checks of %s: %w", app, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks of %s: %w", app, err)
	}
	return out, nil
}

// PruneRuns forgets the uuids of the runs timestamped before before, in
// batches, so that the runs table keeps pace with the records' retention.
// A payload delivered again after that is stored again.
func (s *DB) PruneRuns(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT uuid FROM `+RunTable+` WHERE created_at < ? LIMIT 1000`), s.dialect.time(before))
		if err != nil {
			return total, fmt.Errorf("prune runs: %w", err)
		}
		var uuids []any
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return total, fmt.Errorf("prune runs: %w", err)
			}
			uuids = append(uuids, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("prune runs: %w", err)
		}
		if len(uuids) == 0 {
			return total, nil
		}
		res, err := s.db.ExecContext(ctx, s.dialect.rebind(`DELETE FROM `+RunTable+` WHERE uuid IN (`+params(len(uuids))+`)`), uuids...)
		if err != nil {
			return total, fmt.Errorf("prune runs: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
}
