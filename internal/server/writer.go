package server

import (
	"context"
	"sync"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"
)

// writer stores the payloads that arrive together in one transaction: a
// commit, an insert of records and an update of the state per batch rather
// than per payload, which is what lets one database keep up with a fleet.
// A payload waits for no timer: a writer takes what is queued when it is
// free, so a lone payload is written at once.
type writer struct {
	db    *store.DB
	max   int // payloads per transaction
	queue chan *pending
	wg    sync.WaitGroup
}

type pending struct {
	run  *healthjob.Run
	done chan written
}

type written struct {
	stored bool
	err    error
}

// writeTimeout bounds one batch's transaction.
const writeTimeout = 30 * time.Second

// startWriter starts n goroutines that write batches of at most max.
func startWriter(db *store.DB, n, max int) *writer {
	w := &writer{db: db, max: max, queue: make(chan *pending)}
	for range n {
		w.wg.Go(w.loop)
	}
	return w
}

// loop writes batches until the queue is closed.
func (w *writer) loop() {
	for p := range w.queue {
		batch := []*pending{p}
	more:
		for len(batch) < w.max {
			select {
			case p, ok := <-w.queue:
				if !ok {
					break more
				}
				batch = append(batch, p)
			default:
				break more
			}
		}
		w.write(batch)
	}
}

func (w *writer) write(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	runs := make([]*healthjob.Run, len(batch))
	for i, p := range batch {
		runs[i] = p.run
	}
	stored, err := w.db.IngestBatch(ctx, runs)
	if err != nil && len(batch) > 1 {
		// One payload the database refuses must not fail the others.
		for _, p := range batch {
			s, err := w.db.Ingest(ctx, p.run)
			p.done <- written{s, err}
		}
		return
	}
	for i, p := range batch {
		if err != nil {
			p.done <- written{err: err}
		} else {
			p.done <- written{stored: stored[i]}
		}
	}
}

// ingest stores run in the next batch and tells whether it was new.
func (w *writer) ingest(ctx context.Context, run *healthjob.Run) (bool, error) {
	p := &pending{run: run, done: make(chan written, 1)}
	select {
	case w.queue <- p:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	r := <-p.done
	return r.stored, r.err
}

// close stops the writer once the batches in hand are written; no ingest
// may follow.
func (w *writer) close() {
	close(w.queue)
	w.wg.Wait()
}
