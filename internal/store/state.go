package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
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

// Alerts is what UpdateAlerts reads: the states and marks of the checks
// it was given.
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

// namesPerQuery bounds the check names one statement reads, below every
// engine's limit on bound parameters.
const namesPerQuery = 500

// UpdateAlerts reads the alert states and marks of app's checks (those of
// a run), hands them to decide, and writes what it returns that differs
// from what was read, all in one transaction: a state, what the notifiers
// were told and the notifications queued for them commit together or not
// at all. decide may return states and marks of those checks only, so
// that a cycle costs what it changes, not every check the store knows.
// The rows read are locked against another writer (a second serve
// replica); two that both add a row for the same check conflict, and one
// of them writes nothing.
func (s *DB) UpdateAlerts(ctx context.Context, app string, checks []string, decide func(Alerts) (AlertChange, error)) error {
	names := slices.Clone(checks)
	slices.Sort(names) // replicas lock rows in one order
	names = slices.Compact(names)
	var changes []queueChange
	var queues []*Queue
	err := s.inTx(ctx, func(_ *sql.Conn, tx *sql.Tx) error {
		changes, queues = nil, nil
		states, marks, err := s.readAlerts(ctx, tx, app, names)
		if err != nil {
			return err
		}
		change, err := decide(Alerts{States: states, Marks: marks})
		if err != nil {
			return err
		}
		if err := s.writeStates(ctx, tx, app, names, states, change.States); err != nil {
			return err
		}
		if err := s.writeMarks(ctx, tx, app, names, marks, change.Marks); err != nil {
			return err
		}
		if err := s.insertEvents(ctx, tx, change.Events); err != nil {
			return err
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

// readAlerts reads, and locks, the states and marks of app's checks names
// (sorted): all the states, then all the marks, each by name, so that two
// writers lock rows in one order.
func (s *DB) readAlerts(ctx context.Context, tx *sql.Tx, app string, names []string) ([]AlertState, []AlertMark, error) {
	lock := ""
	if s.dialect != sqliteDialect { // SQLite's write transaction locks the whole database already
		lock = " FOR UPDATE"
	}
	var states []AlertState
	var marks []AlertMark
	for where, args := range namedChecks(app, names) {
		st, err := s.alertStates(ctx, tx, where+` ORDER BY name`+lock, args...)
		if err != nil {
			return nil, nil, err
		}
		states = append(states, st...)
	}
	for where, args := range namedChecks(app, names) {
		m, err := s.alertMarks(ctx, tx, app, where+` ORDER BY name, route`+lock, args...)
		if err != nil {
			return nil, nil, err
		}
		marks = append(marks, m...)
	}
	return states, marks, nil
}

// namedChecks yields the conditions, and their arguments, that select the
// rows of app's checks names, namesPerQuery at a time.
func namedChecks(app string, names []string) iter.Seq2[string, []any] {
	return func(yield func(string, []any) bool) {
		for batch := range slices.Chunk(names, namesPerQuery) {
			args := make([]any, 0, 1+len(batch))
			args = append(args, app)
			for _, n := range batch {
				args = append(args, n)
			}
			if !yield(` WHERE app_id = ? AND name IN (`+params(len(batch))+`)`, args) {
				return
			}
		}
	}
}

// writeStates updates the states that were read and changed, and inserts
// the others: an insert that meets a row another writer added fails the
// transaction. A check written twice counts once, the last time.
func (s *DB) writeStates(ctx context.Context, tx *sql.Tx, app string, names []string, read, write []AlertState) error {
	had := map[string]AlertState{}
	for _, st := range read {
		had[st.Check] = st
	}
	latest := map[string]AlertState{}
	for _, st := range write {
		if _, ok := slices.BinarySearch(names, st.Check); !ok || st.App != app {
			return fmt.Errorf("state of check %q of %q: not among the checks read; name every check decide writes", st.Check, st.App)
		}
		latest[st.Check] = st
	}
	var inserts, updates [][]any
	for _, name := range slices.Sorted(maps.Keys(latest)) {
		st := latest[name]
		old, ok := had[name]
		if ok && sameState(old, st) {
			continue
		}
		row := []any{st.App, st.Check, st.State, st.Fails, st.Passes, s.dialect.time(st.Since), st.Message, st.RunUUID, s.dialect.time(st.CheckedAt)}
		if ok {
			updates = append(updates, row)
		} else {
			inserts = append(inserts, row)
		}
	}
	insert := `INSERT INTO ` + AlertStateTable + ` (` + alertStateColumns + `) VALUES `
	if err := s.insertValues(ctx, tx, insert, inserts, ""); err != nil {
		return err
	}
	// The rows updated were read and are locked: the conflict is certain,
	// and makes the insert one update of them all.
	return s.insertValues(ctx, tx, insert, updates,
		s.onConflict("app_id, name", "state", "fails", "passes", "since", "message", "run_uuid", "checked_at"))
}

func sameState(a, b AlertState) bool {
	return a.App == b.App && a.Check == b.Check && a.State == b.State && a.Fails == b.Fails && a.Passes == b.Passes &&
		a.Since.Equal(b.Since) && a.Message == b.Message && a.RunUUID == b.RunUUID && a.CheckedAt.Equal(b.CheckedAt)
}

// writeMarks is writeStates for the marks.
func (s *DB) writeMarks(ctx context.Context, tx *sql.Tx, app string, names []string, read, write []AlertMark) error {
	type key struct{ check, route string }
	had := map[key]AlertMark{}
	for _, m := range read {
		had[key{m.Check, m.Route}] = m
	}
	latest := map[key]AlertMark{}
	for _, m := range write {
		if _, ok := slices.BinarySearch(names, m.Check); !ok || m.App != app {
			return fmt.Errorf("mark of check %q of %q: not among the checks read; name every check decide writes", m.Check, m.App)
		}
		latest[key{m.Check, m.Route}] = m
	}
	keys := slices.SortedFunc(maps.Keys(latest), func(a, b key) int {
		return cmp.Or(strings.Compare(a.check, b.check), strings.Compare(a.route, b.route))
	})
	var inserts, updates [][]any
	for _, k := range keys {
		m := latest[k]
		old, ok := had[k]
		if ok && old.State == m.State && old.At.Equal(m.At) {
			continue
		}
		row := []any{m.App, m.Check, m.Route, m.State, s.dialect.time(m.At)}
		if ok {
			updates = append(updates, row)
		} else {
			inserts = append(inserts, row)
		}
	}
	insert := `INSERT INTO ` + AlertNotifiedTable + ` (app_id, name, route, state, notified_at) VALUES `
	if err := s.insertValues(ctx, tx, insert, inserts, ""); err != nil {
		return err
	}
	return s.insertValues(ctx, tx, insert, updates, s.onConflict("app_id, name, route", "state", "notified_at"))
}

func (s *DB) insertEvents(ctx context.Context, tx *sql.Tx, events []AlertEvent) error {
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = []any{e.App, e.Check, e.State, e.Previous, e.Message, e.RunUUID, s.dialect.time(e.At), e.Silenced}
	}
	return s.insertValues(ctx, tx, `INSERT INTO `+AlertEventTable+
		` (app_id, name, state, previous, message, run_uuid, created_at, silenced) VALUES `, rows, "")
}

// insertValues runs insert (ending in VALUES) with rows, rowsPerInsert at
// a time, each statement followed by suffix.
func (s *DB) insertValues(ctx context.Context, tx *sql.Tx, insert string, rows [][]any, suffix string) error {
	for batch := range slices.Chunk(rows, rowsPerInsert) {
		var q strings.Builder
		q.WriteString(insert)
		args := make([]any, 0, len(batch)*len(batch[0]))
		for i, r := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + params(len(r)) + ")")
			args = append(args, r...)
		}
		q.WriteString(suffix)
		if _, err := tx.ExecContext(ctx, s.dialect.rebind(q.String()), args...); err != nil {
			return err
		}
	}
	return nil
}

// onConflict ends an INSERT so that a row whose key exists gets the
// inserted values of columns instead.
func (s *DB) onConflict(key string, columns ...string) string {
	set := make([]string, len(columns))
	for i, c := range columns {
		set[i] = c + " = excluded." + c
		if s.dialect == mysqlDialect {
			set[i] = c + " = VALUES(" + c + ")"
		}
	}
	if s.dialect == mysqlDialect {
		return " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
	}
	return " ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(set, ", ")
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

// AlertStatesOf returns the alert states of check in every application,
// by application: serve's heartbeats, without the states of every check.
func (s *DB) AlertStatesOf(ctx context.Context, check string) ([]AlertState, error) {
	states, err := s.alertStates(ctx, s.db, ` WHERE name = ? ORDER BY app_id`, check)
	if err != nil {
		return nil, fmt.Errorf("read alert states of %q: %w", check, err)
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

func (s *DB) alertMarks(ctx context.Context, db querier, app, where string, args ...any) ([]AlertMark, error) {
	rows, err := db.QueryContext(ctx, s.dialect.rebind(`SELECT name, route, state, notified_at FROM `+AlertNotifiedTable+where), args...)
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
