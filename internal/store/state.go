package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The tables of the alert states, the notifications and the HA cycles.
const (
	AlertStateTable    = "healthjob_alert_state"    // each check's state after the thresholds
	AlertNotifiedTable = "healthjob_alert_notified" // what each notifier was last told
	AlertEventTable    = "healthjob_alert_event"    // the history of the states
	CycleTable         = "healthjob_cycle"          // who ran each cycle under an HA lease
)

// AlertState is a check's alert state: "ok", "warning" or "failing" once
// the failure and success thresholds are applied, the results in a row
// that move it, and its latest result.
type AlertState struct {
	App       string // SYNC_APP_ID, "" for a monitor that does not sync
	Check     string
	State     string
	Fails     int       // results in a row that were not ok
	Passes    int       // results in a row that were ok
	Since     time.Time // when State began
	Message   string    // the latest result's status text
	RunUUID   string    // the latest result's run
	CheckedAt time.Time // the latest result's time
}

// AlertMark is what a notifier (a route, by key) was last told of a check.
type AlertMark struct {
	App, Check, Route string
	State             string // as the route hears it: ok, warning or failing
	At                time.Time
}

// AlertEvent is a change of a check's alert state.
type AlertEvent struct {
	ID              int64
	App, Check      string
	State, Previous string
	Message         string
	RunUUID         string
	At              time.Time
	Silenced        bool // a maintenance window held its notifications back
}

// AlertDelivery is a notification to queue for a notifier's relay.
type AlertDelivery struct {
	Queue   *Queue // the notifier's queue, opened on this store
	UUID    string // the notification's id
	Payload []byte
}

// Alerts is what UpdateAlerts reads: an application's states and marks.
type Alerts struct {
	States []AlertState
	Marks  []AlertMark
}

// AlertChange is what UpdateAlerts writes: states and marks new or changed,
// events, and notifications to queue.
type AlertChange struct {
	States     []AlertState
	Marks      []AlertMark
	Events     []AlertEvent
	Deliveries []AlertDelivery
}

const alertStateColumns = "app_id, name, state, fails, passes, since, message, run_uuid, checked_at"

// UpdateAlerts reads app's alert states and marks, hands them to decide,
// and writes what it returns, all in one transaction: a state, what the
// notifiers were told and the notifications queued for them commit
// together or not at all. The rows read are locked against another writer
// (a second serve replica); two that both add a row for the same check
// conflict, and one of them writes nothing.
func (s *DB) UpdateAlerts(ctx context.Context, app string, decide func(Alerts) (AlertChange, error)) error {
	var changes []queueChange
	var queues []*Queue
	err := s.inTx(ctx, func(_ *sql.Conn, tx *sql.Tx) error {
		changes, queues = nil, nil
		lock := ""
		if s.dialect != sqliteDialect { // SQLite's write transaction locks the whole database already
			lock = " FOR UPDATE"
		}
		states, err := s.alertStates(ctx, tx, ` WHERE app_id = ? ORDER BY name`+lock, app)
		if err != nil {
			return err
		}
		marks, err := s.alertMarks(ctx, tx, app, lock)
		if err != nil {
			return err
		}
		change, err := decide(Alerts{States: states, Marks: marks})
		if err != nil {
			return err
		}
		if err := s.writeStates(ctx, tx, states, change.States); err != nil {
			return err
		}
		if err := s.writeMarks(ctx, tx, marks, change.Marks); err != nil {
			return err
		}
		for _, e := range change.Events {
			if _, err := tx.ExecContext(ctx, s.dialect.rebind(`INSERT INTO `+AlertEventTable+
				` (app_id, name, state, previous, message, run_uuid, created_at, silenced) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				e.App, e.Check, e.State, e.Previous, e.Message, e.RunUUID, s.dialect.time(e.At), e.Silenced); err != nil {
				return err
			}
		}
		for _, d := range change.Deliveries {
			c, err := d.Queue.enqueue(ctx, tx, d.UUID, d.Payload)
			if err != nil {
				return err
			}
			changes, queues = append(changes, c), append(queues, d.Queue)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update alerts of %q: %w", app, err)
	}
	for i, q := range queues {
		q.committed(changes[i])
	}
	return nil
}

// writeStates updates the states that were read and inserts the others:
// an insert that meets a row another writer added fails the transaction.
func (s *DB) writeStates(ctx context.Context, tx *sql.Tx, read, write []AlertState) error {
	had := map[string]bool{}
	for _, st := range read {
		had[st.Check] = true
	}
	for _, st := range write {
		args := []any{st.State, st.Fails, st.Passes, s.dialect.time(st.Since), st.Message, st.RunUUID, s.dialect.time(st.CheckedAt), st.App, st.Check}
		q := `UPDATE ` + AlertStateTable + ` SET state = ?, fails = ?, passes = ?, since = ?, message = ?, run_uuid = ?, checked_at = ?
			WHERE app_id = ? AND name = ?`
		if !had[st.Check] {
			q = `INSERT INTO ` + AlertStateTable + ` (state, fails, passes, since, message, run_uuid, checked_at, app_id, name)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
		}
		if _, err := tx.ExecContext(ctx, s.dialect.rebind(q), args...); err != nil {
			return err
		}
	}
	return nil
}

func (s *DB) writeMarks(ctx context.Context, tx *sql.Tx, read, write []AlertMark) error {
	type key struct{ check, route string }
	had := map[key]bool{}
	for _, m := range read {
		had[key{m.Check, m.Route}] = true
	}
	for _, m := range write {
		args := []any{m.State, s.dialect.time(m.At), m.App, m.Check, m.Route}
		q := `UPDATE ` + AlertNotifiedTable + ` SET state = ?, notified_at = ? WHERE app_id = ? AND name = ? AND route = ?`
		if !had[key{m.Check, m.Route}] {
			q = `INSERT INTO ` + AlertNotifiedTable + ` (state, notified_at, app_id, name, route) VALUES (?, ?, ?, ?, ?)`
		}
		if _, err := tx.ExecContext(ctx, s.dialect.rebind(q), args...); err != nil {
			return err
		}
	}
	return nil
}

// AlertStates returns the alert states of every check of every
// application, by application and check: what the dashboard shows.
func (s *DB) AlertStates(ctx context.Context) ([]AlertState, error) {
	states, err := s.alertStates(ctx, s.db, ` ORDER BY app_id, name`)
	if err != nil {
		return nil, fmt.Errorf("read alert states: %w", err)
	}
	return states, nil
}

func (s *DB) alertStates(ctx context.Context, db querier, where string, args ...any) ([]AlertState, error) {
	rows, err := db.QueryContext(ctx, s.dialect.rebind(`SELECT `+alertStateColumns+` FROM `+AlertStateTable+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AlertState
	for rows.Next() {
		var st AlertState
		var since, checked any
		if err := rows.Scan(&st.App, &st.Check, &st.State, &st.Fails, &st.Passes, &since, &st.Message, &st.RunUUID, &checked); err != nil {
			return nil, err
		}
		if st.Since, err = parseTime(since); err != nil {
			return nil, err
		}
		if st.CheckedAt, err = parseTime(checked); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func (s *DB) alertMarks(ctx context.Context, db querier, app, lock string) ([]AlertMark, error) {
	rows, err := db.QueryContext(ctx, s.dialect.rebind(`SELECT name, route, state, notified_at FROM `+AlertNotifiedTable+
		` WHERE app_id = ? ORDER BY name, route`+lock), app)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AlertMark
	for rows.Next() {
		m := AlertMark{App: app}
		var at any
		if err := rows.Scan(&m.Check, &m.Route, &m.State, &at); err != nil {
			return nil, err
		}
		if m.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// AlertEvents returns the latest changes of app's alert states, newest
// first, at most limit; check "" means every check.
func (s *DB) AlertEvents(ctx context.Context, app, check string, limit int) ([]AlertEvent, error) {
	where, args := ` WHERE app_id = ?`, []any{app}
	if check != "" {
		where, args = where+` AND name = ?`, append(args, check)
	}
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT id, app_id, name, state, previous, message, run_uuid, created_at, silenced FROM `+
		AlertEventTable+where+` ORDER BY created_at DESC, id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("read alert events: %w", err)
	}
	defer rows.Close()
	var out []AlertEvent
	for rows.Next() {
		var e AlertEvent
		var at any
		if err := rows.Scan(&e.ID, &e.App, &e.Check, &e.State, &e.Previous, &e.Message, &e.RunUUID, &at, &e.Silenced); err != nil {
			return nil, fmt.Errorf("read alert events: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("read alert events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read alert events: %w", err)
	}
	return out, nil
}

// RecentRuns returns, for each application with a run stored by serve at
// or after since, and for each of apps, the times of its latest n runs,
// newest first: what tells that an application has gone silent.
func (s *DB) RecentRuns(ctx context.Context, apps []string, since time.Time, n int) (map[string][]time.Time, error) {
	out := map[string][]time.Time{}
	for _, app := range apps {
		out[app] = nil
	}
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT DISTINCT app_id FROM `+RunTable+` WHERE created_at >= `+s.dialect.timeParam),
		s.dialect.time(since))
	if err != nil {
		return nil, fmt.Errorf("read recent runs: %w", err)
	}
	for rows.Next() {
		var app string
		if err := rows.Scan(&app); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read recent runs: %w", err)
		}
		out[app] = nil
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recent runs: %w", err)
	}
	for app := range out {
		times, err := s.latestRuns(ctx, app, n)
		if err != nil {
			return nil, fmt.Errorf("read recent runs of %q: %w", app, err)
		}
		out[app] = times
	}
	return out, nil
}

func (s *DB) latestRuns(ctx context.Context, app string, n int) ([]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT created_at FROM `+RunTable+
		` WHERE app_id = ? ORDER BY created_at DESC LIMIT ?`), app, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		t, err := parseTime(v)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Cycle is a cycle run under an HA lease.
type Cycle struct {
	RunUUID           string
	Lease, Holder     string
	Started, Finished time.Time
	Checks            int
}

// SaveCycle records who ran a cycle.
func (s *DB) SaveCycle(ctx context.Context, c Cycle) error {
	_, err := s.db.ExecContext(ctx, s.dialect.rebind(`INSERT INTO `+CycleTable+
		` (run_uuid, lease, holder, started_at, finished_at, checks) VALUES (?, ?, ?, ?, ?, ?)`),
		c.RunUUID, c.Lease, c.Holder, s.dialect.time(c.Started), s.dialect.time(c.Finished), c.Checks)
	if err != nil {
		return fmt.Errorf("save cycle %s: %w", c.RunUUID, err)
	}
	return nil
}

// Cycles returns the cycles run under lease that started at or after
// since, oldest first.
func (s *DB) Cycles(ctx context.Context, lease string, since time.Time) ([]Cycle, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT run_uuid, holder, started_at, finished_at, checks FROM `+CycleTable+
		` WHERE lease = ? AND started_at >= `+s.dialect.timeParam+` ORDER BY started_at, run_uuid`), lease, s.dialect.time(since))
	if err != nil {
		return nil, fmt.Errorf("read cycles: %w", err)
	}
	defer rows.Close()
	var out []Cycle
	for rows.Next() {
		c := Cycle{Lease: lease}
		var started, finished any
		if err := rows.Scan(&c.RunUUID, &c.Holder, &started, &finished, &c.Checks); err != nil {
			return nil, fmt.Errorf("read cycles: %w", err)
		}
		if c.Started, err = parseTime(started); err == nil {
			c.Finished, err = parseTime(finished)
		}
		if err != nil {
			return nil, fmt.Errorf("read cycles: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cycles: %w", err)
	}
	return out, nil
}

// PruneCycles deletes the cycles that started before before.
func (s *DB) PruneCycles(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.dialect.rebind(`DELETE FROM `+CycleTable+` WHERE started_at < `+s.dialect.timeParam), s.dialect.time(before))
	if err != nil {
		return 0, fmt.Errorf("prune cycles: %w", err)
	}
	return res.RowsAffected()
}
