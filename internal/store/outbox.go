package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/outbox"
)

// The kinds of outbox items.
const (
	KindSync    = "sync"    // a payload for the monitoring server
	KindPersist = "persist" // a run waiting for a records database that was down
)

// OutboxTable holds the queued items of every kind.
const OutboxTable = "healthjob_outbox"

// Queue is the outbox items of one kind and application in a database: a
// durable FIFO for an outbox.Relay, bounded in items and bytes. When a new
// item would pass a bound, the oldest items are dropped in the same
// transaction and reported to OnDrop; never the new item, nor one that
// Next handed out (it is being delivered, or was) and that is not removed.
type Queue struct {
	db        *DB
	kind, app string
	maxItems  int
	maxBytes  int64

	// OnDrop, when set, is told of the items dropped for room, oldest
	// first, once their removal is committed.
	OnDrop func(dropped []outbox.Item)
	// OnEnqueue, when set, is called once an item is committed: the
	// relay's Wake.
	OnEnqueue func()

	// The depth is kept in memory and counted again from the table when it
	// is older than recount, for other processes sharing the queue.
	mu      sync.Mutex
	items   int
	bytes   int64
	counted time.Time
	handed  int64 // the largest ID Next handed out
}

var _ outbox.Queue = (*Queue)(nil)

// recount is how long the in-memory depth of a queue is trusted.
const recount = time.Minute

// Queue opens the queue of kind and app, bounded to maxItems items and
// maxBytes bytes of payload (0: no bound), and counts what it holds.
func (s *DB) Queue(ctx context.Context, kind, app string, maxItems int, maxBytes int64) (*Queue, error) {
	q := &Queue{db: s, kind: kind, app: app, maxItems: maxItems, maxBytes: maxBytes}
	items, bytes, err := q.count(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("outbox %s: %w", kind, err)
	}
	q.items, q.bytes, q.counted = items, bytes, time.Now()
	return q, nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// count reads the depth from the table, within a transaction or not.
func (q *Queue) count(ctx context.Context, db querier) (int, int64, error) {
	var items int
	var bytes int64
	err := db.QueryRowContext(ctx, q.db.dialect.rebind(`SELECT count(*), coalesce(sum(length(payload)), 0) FROM `+OutboxTable+
		` WHERE kind = ? AND app_id = ?`), q.kind, q.app).Scan(&items, &bytes)
	return items, bytes, err
}

// QueueDepths returns how many items wait in each queue of kind, by the
// queue's application (a notifier's key for the notifications).
func (s *DB) QueueDepths(ctx context.Context, kind string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT app_id, count(*) FROM `+OutboxTable+` WHERE kind = ? GROUP BY app_id`), kind)
	if err != nil {
		return nil, fmt.Errorf("outbox %s: depths: %w", kind, err)
	}
	defer rows.Close()
	depths := map[string]int{}
	for rows.Next() {
		var app string
		var n int
		if err := rows.Scan(&app, &n); err != nil {
			return nil, fmt.Errorf("outbox %s: depths: %w", kind, err)
		}
		depths[app] = n
	}
	return depths, rows.Err()
}

// Len is how many items wait, as last known.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.items
}

// Enqueue commits an item at the tail.
func (q *Queue) Enqueue(ctx context.Context, uuid string, payload []byte) error {
	var change queueChange
	err := q.db.inTx(ctx, func(_ *sql.Conn, tx *sql.Tx) error {
		var err error
		change, err = q.enqueue(ctx, tx, uuid, payload)
		return err
	})
	if err != nil {
		return fmt.Errorf("outbox %s: enqueue: %w", q.kind, err)
	}
	q.committed(change)
	return nil
}

// queueChange is what an enqueue did, applied to the in-memory depth once
// it is committed.
type queueChange struct {
	recounted    bool // items and bytes are the depth counted before it
	items        int
	bytes        int64
	added        int64 // the new item's bytes
	dropped      []outbox.Item
	droppedBytes int64
}

// enqueue drops the oldest items that the new one would push beyond the
// bounds, then inserts it, within tx.
func (q *Queue) enqueue(ctx context.Context, tx *sql.Tx, uuid string, payload []byte) (queueChange, error) {
	c := queueChange{added: int64(len(payload))}
	q.mu.Lock()
	items, bytes, stale, handed := q.items, q.bytes, time.Since(q.counted) > recount, q.handed
	q.mu.Unlock()
	if stale {
		var err error
		if items, bytes, err = q.count(ctx, tx); err != nil {
			return c, err
		}
		c.recounted, c.items, c.bytes = true, items, bytes
	}
	items, bytes = items+1, bytes+c.added // as it will be
	over := func() bool {
		return items > 1 && ((q.maxItems > 0 && items > q.maxItems) || (q.maxBytes > 0 && bytes > q.maxBytes))
	}
	for over() {
		rows, err := tx.QueryContext(ctx, q.db.dialect.rebind(`SELECT id, run_uuid, length(payload), created_at FROM `+OutboxTable+
			` WHERE kind = ? AND app_id = ? AND id > ? ORDER BY id LIMIT 500`), q.kind, q.app, handed)
		if err != nil {
			return c, err
		}
		var ids []any
		for over() && rows.Next() {
			var it outbox.Item
			var size int64
			var created any
			if err := rows.Scan(&it.ID, &it.UUID, &size, &created); err != nil {
				rows.Close()
				return c, err
			}
			it.Enqueued, _ = parseTime(created) // only for the log line
			c.dropped = append(c.dropped, it)
			c.droppedBytes += size
			ids = append(ids, it.ID)
			items, bytes = items-1, bytes-size
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return c, err
		}
		if len(ids) == 0 {
			break // the count was stale: nothing is left to drop
		}
		if _, err := tx.ExecContext(ctx, q.db.dialect.rebind(`DELETE FROM `+OutboxTable+` WHERE id IN (`+params(len(ids))+`)`), ids...); err != nil {
			return c, err
		}
	}
	_, err := tx.ExecContext(ctx, q.db.dialect.rebind(`INSERT INTO `+OutboxTable+
		` (kind, app_id, run_uuid, payload, created_at) VALUES (?, ?, ?, ?, ?)`),
		q.kind, q.app, uuid, payload, q.db.dialect.time(q.db.Now()))
	return c, err
}

// committed applies a committed enqueue to the in-memory depth, then tells
// OnDrop and OnEnqueue.
func (q *Queue) committed(c queueChange) {
	q.mu.Lock()
	if c.recounted {
		q.items, q.bytes, q.counted = c.items, c.bytes, time.Now()
	}
	q.items += 1 - len(c.dropped)
	q.bytes += c.added - c.droppedBytes
	q.mu.Unlock()
	if len(c.dropped) > 0 && q.OnDrop != nil {
		q.OnDrop(c.dropped)
	}
	if q.OnEnqueue != nil {
		q.OnEnqueue()
	}
}

// Peek returns up to n items from the head, oldest first, without handing
// them out: to look, not to deliver.
func (q *Queue) Peek(ctx context.Context, n int) ([]outbox.Item, error) {
	rows, err := q.db.db.QueryContext(ctx, q.db.dialect.rebind(`SELECT id, run_uuid, payload, created_at FROM `+OutboxTable+
		` WHERE kind = ? AND app_id = ? ORDER BY id LIMIT ?`), q.kind, q.app, n)
	if err != nil {
		return nil, fmt.Errorf("outbox %s: peek: %w", q.kind, err)
	}
	defer rows.Close()
	var items []outbox.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("outbox %s: peek: %w", q.kind, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox %s: peek: %w", q.kind, err)
	}
	return items, nil
}

func scanItem(row interface{ Scan(...any) error }) (outbox.Item, error) {
	var it outbox.Item
	var created any
	if err := row.Scan(&it.ID, &it.UUID, &it.Payload, &created); err != nil {
		return it, err
	}
	var err error
	it.Enqueued, err = parseTime(created)
	return it, err
}

// Next returns the oldest item after the one of ID after (0: the head),
// and hands it out: no bound drops it until it is removed.
func (q *Queue) Next(ctx context.Context, after int64) (outbox.Item, bool, error) {
	it, err := scanItem(q.db.db.QueryRowContext(ctx, q.db.dialect.rebind(`SELECT id, run_uuid, payload, created_at FROM `+OutboxTable+
		` WHERE kind = ? AND app_id = ? AND id > ? ORDER BY id LIMIT 1`), q.kind, q.app, after))
	if errors.Is(err, sql.ErrNoRows) {
		return it, false, nil
	}
	if err != nil {
		return it, false, fmt.Errorf("outbox %s: next: %w", q.kind, err)
	}
	q.mu.Lock()
	q.handed = max(q.handed, it.ID)
	q.mu.Unlock()
	return it, true, nil
}

// Remove deletes items, delivered or dropped.
func (q *Queue) Remove(ctx context.Context, items []outbox.Item) error {
	for start := 0; start < len(items); start += 500 {
		batch := items[start:min(start+500, len(items))]
		ids := make([]any, len(batch))
		var bytes int64
		for i, it := range batch {
			ids[i] = it.ID
			bytes += int64(len(it.Payload))
		}
		res, err := q.db.db.ExecContext(ctx, q.db.dialect.rebind(`DELETE FROM `+OutboxTable+` WHERE id IN (`+params(len(ids))+`)`), ids...)
		if err != nil {
			return fmt.Errorf("outbox %s: remove: %w", q.kind, err)
		}
		n, err := res.RowsAffected()
		q.mu.Lock()
		if err != nil || n != int64(len(batch)) {
			q.counted = time.Time{} // some were gone already: count again
		}
		q.items = max(q.items-int(n), 0)
		q.bytes = max(q.bytes-bytes, 0)
		q.mu.Unlock()
	}
	return nil
}

// params is n comma-separated placeholders.
func params(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// inTx runs f in a transaction on one connection, the one COPY needs too.
func (s *DB) inTx(ctx context.Context, f func(conn *sql.Conn, tx *sql.Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := f(conn, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// insertRows writes records within tx: COPY for a large batch on
// PostgreSQL, else multi-row INSERTs.
func (s *DB) insertRows(ctx context.Context, conn *sql.Conn, tx *sql.Tx, rows [][]any) error {
	if s.dialect.copy != nil && len(rows) >= copyFrom {
		return s.dialect.copy(ctx, conn, rows)
	}
	return s.insert(ctx, tx, rows)
}

// Outbox is where a monitor's runs go through job.Processor, so that
// nothing leaves the process but through a queue. As the Processor's Store
// (PERSIST_HEALTH_CHECK_DATA) it writes a run's records and, when syncing,
// its payload to Sync in one transaction. As its Sender (syncing without
// persisting) it queues the payload in Sync.
//
// When Records is a remote database and a save fails, the run waits in
// Pending, a queue in a local file, and every later run queues behind it
// until the Pending relay, whose Sender is Write, has written them all in
// order. A run's payload then reaches Sync when its records are written, so
// that the server receives the runs in the order of the records.
type Outbox struct {
	Records *DB    // where the records go; nil when not persisting
	Sync    *Queue // the payloads for the server: in Records when persisting; nil when not syncing
	Pending *Queue // runs waiting for Records; nil when Records is local
	AppID   string // SYNC_APP_ID, set in the payloads

	// Timeout bounds a save to Records before the run goes to Pending
	// instead: a database that hangs must not stop the monitor. 0 means
	// DefaultSaveTimeout.
	Timeout time.Duration
	// OnPending, when set, is told of each run queued in Pending, with the
	// error of Records, or nil when it queues behind earlier runs.
	OnPending func(run *healthjob.Run, err error)
}

// DefaultSaveTimeout bounds a save to a remote records database.
const DefaultSaveTimeout = 10 * time.Second

// SaveRun writes run's records and its payload for the server, or queues
// the run in Pending.
func (o *Outbox) SaveRun(ctx context.Context, run *healthjob.Run) error {
	if o.Pending == nil {
		return o.save(ctx, run, false)
	}
	if o.Pending.Len() > 0 {
		return o.pend(ctx, run, nil)
	}
	save, cancel := context.WithTimeout(ctx, cmp.Or(o.Timeout, DefaultSaveTimeout))
	err := o.save(save, run, false)
	cancel()
	if err == nil {
		return nil
	}
	return o.pend(ctx, run, err)
}

// save writes run's records and payload to Records in one transaction. With
// once, it writes nothing when records of the run are there already: a
// pending run written before a crash removed it from Pending.
func (o *Outbox) save(ctx context.Context, run *healthjob.Run, once bool) error {
	var payload []byte
	if o.Sync != nil {
		var err error
		if payload, err = o.payload(run); err != nil {
			return err
		}
	}
	var change queueChange
	err := o.Records.inTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		if once {
			var one int
			err := tx.QueryRowContext(ctx, o.Records.dialect.rebind(`SELECT 1 FROM `+Table+` WHERE run_uuid = ? LIMIT 1`), run.UUID).Scan(&one)
			if err == nil {
				return errWritten
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if err := o.Records.insertRows(ctx, conn, tx, o.Records.rows(run)); err != nil {
			return err
		}
		if o.Sync == nil {
			return nil
		}
		var err error
		change, err = o.Sync.enqueue(ctx, tx, run.UUID, payload)
		return err
	})
	switch {
	case errors.Is(err, errWritten):
		return nil
	case err != nil:
		return fmt.Errorf("save run: %w", err)
	case o.Sync != nil:
		o.Sync.committed(change)
	}
	return nil
}

// errWritten rolls back the save of a run whose records are there already.
var errWritten = errors.New("run written already")

// Send queues run's payload for the server.
func (o *Outbox) Send(ctx context.Context, run *healthjob.Run) error {
	payload, err := o.payload(run)
	if err != nil {
		return err
	}
	return o.Sync.Enqueue(ctx, run.UUID, payload)
}

// payload is the spec's payload of run, with sync_app_id.
func (o *Outbox) payload(run *healthjob.Run) ([]byte, error) {
	p := *run
	p.SyncAppID = o.AppID
	return json.Marshal(&p)
}

// pendingRun is a run in Pending: the payload and what the records keep
// beyond it.
type pendingRun struct {
	Run     *healthjob.Run `json:"run"`
	Details []detail       `json:"details"`
}

type detail struct {
	Level    healthjob.Level `json:"level"`
	Critical bool            `json:"critical"`
	Duration time.Duration   `json:"duration"`
}

func (o *Outbox) pend(ctx context.Context, run *healthjob.Run, cause error) error {
	p := pendingRun{Run: run, Details: make([]detail, len(run.Checks))}
	for i, c := range run.Checks {
		p.Details[i] = detail{Level: c.Level, Critical: c.Critical, Duration: c.Duration}
	}
	b, err := json.Marshal(&p)
	if err != nil {
		return err
	}
	if err := o.Pending.Enqueue(ctx, run.UUID, b); err != nil {
		if cause != nil {
			return fmt.Errorf("%w; and cannot queue the run: %w", cause, err)
		}
		return err
	}
	if o.OnPending != nil {
		o.OnPending(run, cause)
	}
	return nil
}

// Write writes a run of Pending to Records, with its payload for the
// server; the Pending relay's Sender.
func (o *Outbox) Write(ctx context.Context, item outbox.Item) error {
	var p pendingRun
	if err := json.Unmarshal(item.Payload, &p); err != nil || p.Run == nil || len(p.Details) != len(p.Run.Checks) {
		return outbox.Permanent(fmt.Errorf("pending run %s: unreadable: %v", item.UUID, err))
	}
	for i, d := range p.Details {
		p.Run.Checks[i].Level, p.Run.Checks[i].Critical, p.Run.Checks[i].Duration = d.Level, d.Critical, d.Duration
	}
	return o.save(ctx, p.Run, true)
}
