package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"
)

var alertTime = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestUpdateAlerts(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		q, err := db.Queue(ctx, "notify", "route1", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		failing := store.AlertState{App: "shop", Check: "RedisHealthCheck", State: "failing", Fails: 3, Since: alertTime,
			Message: "unavailable: Connection refused", RunUUID: "5c7e2a9b-1d3f-4e6a-8b0c-2d4f6a8b0c1e", CheckedAt: alertTime.Add(time.Second)}
		mark := store.AlertMark{App: "shop", Check: "RedisHealthCheck", Route: "route1", State: "failing", At: alertTime}
		err = db.UpdateAlerts(ctx, "shop", []string{"RedisHealthCheck"}, func(in store.Alerts) (store.AlertChange, error) {
			if len(in.States) != 0 || len(in.Marks) != 0 {
				t.Errorf("a new store has alerts: %+v", in)
			}
			return store.AlertChange{
				States: []store.AlertState{failing},
				Marks:  []store.AlertMark{mark},
				Events: []store.AlertEvent{{App: "shop", Check: "RedisHealthCheck", State: "failing", Previous: "ok",
					Message: failing.Message, RunUUID: failing.RunUUID, At: alertTime}},
				Deliveries: []store.AlertDelivery{{Queue: q, UUID: "0b9f3c1e-8a4d-4a57-9d1e-3f3c2b1a0e9d", Payload: []byte(`{"event":"triggered"}`)}},
			}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if q.Len() != 1 {
			t.Errorf("queue length %d, want 1", q.Len())
		}
		// The next update reads what the first wrote, and updates it.
		resolved := failing
		resolved.State, resolved.Fails, resolved.Passes, resolved.Since = "ok", 0, 2, alertTime.Add(time.Minute)
		err = db.UpdateAlerts(ctx, "shop", []string{"RedisHealthCheck"}, func(in store.Alerts) (store.AlertChange, error) {
			if !slices.Equal(in.States, []store.AlertState{failing}) || !slices.Equal(in.Marks, []store.AlertMark{mark}) {
				t.Errorf("read %+v, want %+v and %+v", in, failing, mark)
			}
			mark.State = "ok"
			return store.AlertChange{States: []store.AlertState{resolved}, Marks: []store.AlertMark{mark}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A decision that fails writes nothing.
		boom := errors.New("boom")
		err = db.UpdateAlerts(ctx, "shop", []string{"RedisHealthCheck"}, func(store.Alerts) (store.AlertChange, error) {
			return store.AlertChange{Deliveries: []store.AlertDelivery{{Queue: q, UUID: "x", Payload: []byte("{}")}}}, boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("UpdateAlerts = %v, want boom", err)
		}
		states, err := db.AlertStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(states, []store.AlertState{resolved}) {
			t.Errorf("states = %+v, want %+v", states, resolved)
		}
		items, err := q.Peek(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].UUID != "0b9f3c1e-8a4d-4a57-9d1e-3f3c2b1a0e9d" || string(items[0].Payload) != `{"event":"triggered"}` {
			t.Errorf("queued %+v", items)
		}
		events, err := db.AlertEvents(ctx, "shop", "RedisHealthCheck", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].State != "failing" || events[0].Previous != "ok" || !events[0].At.Equal(alertTime) || events[0].Silenced {
			t.Errorf("events = %+v", events)
		}
	})
}

// TestUpdateAlertsConcurrent: two writers that both add the same check's
// state (two serve replicas) conflict, and only one's notification is
// queued.
func TestUpdateAlertsConcurrent(t *testing.T) {
	for _, engine := range []string{"postgres", "mysql"} { // SQLite has one writer at a time
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			db := migrated(t, freshDatabase(t, engine))
			q, err := db.Queue(ctx, "notify", "route1", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var read sync.WaitGroup
			read.Add(2)
			errs := make(chan error, 2)
			for i := range 2 {
				go func() {
					errs <- db.UpdateAlerts(ctx, "shop", []string{"heartbeat"}, func(in store.Alerts) (store.AlertChange, error) {
						read.Done()
						read.Wait() // both have read that there is no state yet
						return store.AlertChange{
							States:     []store.AlertState{{App: "shop", Check: "heartbeat", State: "failing", Since: alertTime, CheckedAt: alertTime}},
							Deliveries: []store.AlertDelivery{{Queue: q, UUID: healthjob.NewUUID(), Payload: []byte{'0' + byte(i)}}},
						}, nil
					})
				}()
			}
			var failed int
			for range 2 {
				if err := <-errs; err != nil {
					failed++
				}
			}
			items, err := q.Peek(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if failed != 1 || len(items) != 1 {
				t.Errorf("%d updates failed and %d notifications are queued, want 1 and 1", failed, len(items))
			}
		})
	}
}

// TestUpdateAlertsOnlyItsChecks: a cycle reads the states and marks of
// the checks it names, and writes those of them it changes, however many
// checks the store knows.
func TestUpdateAlertsOnlyItsChecks(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		var known []string
		var seeded []store.AlertState
		var marks []store.AlertMark
		for i := range 30 {
			known = append(known, fmt.Sprintf("check%02d", i))
		}
		for _, app := range []string{"blog", "shop"} {
			var states []store.AlertState
			var appMarks []store.AlertMark
			for _, name := range known {
				states = append(states, store.AlertState{App: app, Check: name, State: "failing", Fails: 3, Since: alertTime,
					Message: "unavailable: Connection refused", RunUUID: "5c7e2a9b-1d3f-4e6a-8b0c-2d4f6a8b0c1e", CheckedAt: alertTime})
				appMarks = append(appMarks, store.AlertMark{App: app, Check: name, Route: "route1", State: "failing", At: alertTime})
			}
			err := db.UpdateAlerts(ctx, app, known, func(store.Alerts) (store.AlertChange, error) {
				return store.AlertChange{States: states, Marks: appMarks}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			seeded, marks = append(seeded, states...), append(marks, appMarks...)
		}
		written := logWrites(t, db)

		shop := seeded[len(known):]
		changed := shop[3]
		changed.Fails, changed.RunUUID, changed.CheckedAt = 4, "0b9f3c1e-8a4d-4a57-9d1e-3f3c2b1a0e9d", alertTime.Add(time.Second)
		added := store.AlertState{App: "shop", Check: "check99", State: "ok", Passes: 1, Since: alertTime, Message: "working",
			RunUUID: changed.RunUUID, CheckedAt: changed.CheckedAt}
		told := marks[len(known)+3]
		told.State, told.At = "ok", changed.CheckedAt
		err := db.UpdateAlerts(ctx, "shop", []string{"check07", "check03", "check99", "check03"}, func(in store.Alerts) (store.AlertChange, error) {
			wantStates := []store.AlertState{shop[3], shop[7]}
			wantMarks := []store.AlertMark{marks[len(known)+3], marks[len(known)+7]}
			if !slices.Equal(in.States, wantStates) || !slices.Equal(in.Marks, wantMarks) {
				t.Errorf("read\n%+v\n%+v\nwant\n%+v\n%+v", in.States, in.Marks, wantStates, wantMarks)
			}
			return store.AlertChange{
				States: []store.AlertState{shop[7], changed, added}, // check07 as it was
				Marks:  []store.AlertMark{marks[len(known)+7], told, {App: "shop", Check: "check99", Route: "route1", State: "ok", At: alertTime}},
			}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"notified insert shop/check99", "notified update shop/check03", "state insert shop/check99", "state update shop/check03"}
		if got := written(); !slices.Equal(got, want) {
			t.Errorf("rows written %q, want %q", got, want)
		}
		states, err := db.AlertStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantStates := slices.Clone(seeded)
		wantStates[len(known)+3] = changed
		wantStates = append(wantStates, added)
		if !slices.Equal(states, wantStates) {
			t.Errorf("states\n%+v\nwant\n%+v", states, wantStates)
		}
		heartbeats, err := db.AlertStatesOf(ctx, "check03")
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.AlertState{seeded[3], changed}; !slices.Equal(heartbeats, want) {
			t.Errorf("AlertStatesOf(check03) = %+v, want %+v", heartbeats, want)
		}

		// A state or a mark of a check not named is refused: it was
		// neither read nor locked.
		err = db.UpdateAlerts(ctx, "shop", []string{"check03"}, func(store.Alerts) (store.AlertChange, error) {
			return store.AlertChange{States: []store.AlertState{changed, shop[5]}}, nil
		})
		if want := `update alerts of "shop": state of check "check05" of "shop": not among the checks read; name every check decide writes`; err == nil || err.Error() != want {
			t.Errorf("UpdateAlerts = %v, want %s", err, want)
		}
		err = db.UpdateAlerts(ctx, "shop", []string{"check03"}, func(store.Alerts) (store.AlertChange, error) {
			return store.AlertChange{Marks: []store.AlertMark{{App: "blog", Check: "check03", Route: "route1", State: "ok", At: alertTime}}}, nil
		})
		if want := `update alerts of "shop": mark of check "check03" of "blog": not among the checks read; name every check decide writes`; err == nil || err.Error() != want {
			t.Errorf("UpdateAlerts = %v, want %s", err, want)
		}
		if got := written(); len(got) != 0 {
			t.Errorf("refused updates wrote %q", got)
		}
	})
}

// TestUpdateAlertsManyChecks: a run of more checks than one statement
// takes reads and writes them all.
func TestUpdateAlertsManyChecks(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		var names []string
		var states []store.AlertState
		for i := range 1200 {
			names = append(names, fmt.Sprintf("check%04d", i))
			states = append(states, store.AlertState{App: "shop", Check: names[i], State: "ok", Passes: 1, Since: alertTime, CheckedAt: alertTime})
		}
		for pass := range 2 {
			err := db.UpdateAlerts(ctx, "shop", names, func(in store.Alerts) (store.AlertChange, error) {
				if want := states[:len(states)*pass]; !slices.Equal(in.States, want) {
					t.Errorf("pass %d read %d states, want %d", pass, len(in.States), len(want))
				}
				for i := range states {
					states[i].Passes, states[i].CheckedAt = pass+1, alertTime.Add(time.Duration(pass)*time.Second)
				}
				return store.AlertChange{States: states}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.AlertStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, states) {
			t.Errorf("stored %d states, want the %d written", len(got), len(states))
		}
	})
}

// logWrites makes the engine log every row inserted into or updated in
// the states and marks, and returns what reads and clears the log, as
// "<table> <insert|update> <app>/<check>", sorted.
func logWrites(t *testing.T, db *store.DB) func() []string {
	t.Helper()
	tables := map[string]string{"state": store.AlertStateTable, "notified": store.AlertNotifiedTable}
	stmts := []string{`CREATE TABLE written (tbl varchar(10), op varchar(10), app_id varchar(100), name varchar(50))`}
	if db.Engine() == "postgres" {
		stmts = append(stmts, `CREATE FUNCTION log_written() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN INSERT INTO written VALUES (TG_ARGV[0], lower(TG_OP), NEW.app_id, NEW.name); RETURN NULL; END $$`)
		for short, table := range tables {
			stmts = append(stmts, `CREATE TRIGGER `+short+`_written AFTER INSERT OR UPDATE ON `+table+
				` FOR EACH ROW EXECUTE FUNCTION log_written('`+short+`')`)
		}
	} else {
		for short, table := range tables {
			for _, op := range []string{"insert", "update"} {
				stmts = append(stmts, `CREATE TRIGGER `+short+`_`+op+` AFTER `+op+` ON `+table+
					` FOR EACH ROW BEGIN INSERT INTO written VALUES ('`+short+`', '`+op+`', NEW.app_id, NEW.name); END`)
			}
		}
	}
	for _, q := range stmts {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return func() []string {
		t.Helper()
		rows, err := db.SQL().Query(`SELECT tbl, op, app_id, name FROM written`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var table, op, app, name string
			if err := rows.Scan(&table, &op, &app, &name); err != nil {
				t.Fatal(err)
			}
			out = append(out, table+" "+op+" "+app+"/"+name)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(`DELETE FROM written`); err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
}

// TestUpdateAlertsLocksItsChecks: an update locks the rows of its checks
// until it commits, so that a second replica updating the same check
// waits and reads what the first wrote, and only those: a replica
// updating another check goes on.
func TestUpdateAlertsLocksItsChecks(t *testing.T) {
	for _, engine := range []string{"postgres", "mysql"} { // SQLite has one writer at a time
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			db := migrated(t, freshDatabase(t, engine))
			state := func(check string, fails int) store.AlertState {
				return store.AlertState{App: "shop", Check: check, State: "ok", Fails: fails, Since: alertTime, CheckedAt: alertTime.Add(time.Duration(fails) * time.Second)}
			}
			err := db.UpdateAlerts(ctx, "shop", []string{"DiskUsage", "RedisHealthCheck"}, func(store.Alerts) (store.AlertChange, error) {
				return store.AlertChange{States: []store.AlertState{state("DiskUsage", 0), state("RedisHealthCheck", 0)}}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			locked, release := make(chan struct{}), make(chan struct{})
			first := make(chan error, 1)
			go func() {
				first <- db.UpdateAlerts(ctx, "shop", []string{"RedisHealthCheck"}, func(store.Alerts) (store.AlertChange, error) {
					close(locked)
					<-release
					return store.AlertChange{States: []store.AlertState{state("RedisHealthCheck", 1)}}, nil
				})
			}()
			<-locked
			released := false
			defer func() {
				if !released {
					close(release)
					<-first
				}
			}()

			other, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			err = db.UpdateAlerts(other, "shop", []string{"DiskUsage"}, func(store.Alerts) (store.AlertChange, error) {
				return store.AlertChange{States: []store.AlertState{state("DiskUsage", 1)}}, nil
			})
			if err != nil {
				t.Fatalf("an update of another check, while the first holds its locks: %v", err)
			}

			second := make(chan error, 1)
			var read []store.AlertState
			go func() {
				second <- db.UpdateAlerts(ctx, "shop", []string{"RedisHealthCheck"}, func(in store.Alerts) (store.AlertChange, error) {
					read = in.States
					return store.AlertChange{}, nil
				})
			}()
			waitForLockWait(t, db)
			close(release)
			released = true
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if err := <-second; err != nil {
				t.Fatal(err)
			}
			if want := []store.AlertState{state("RedisHealthCheck", 1)}; !slices.Equal(read, want) {
				t.Errorf("the second update read %+v, want %+v", read, want)
			}
		})
	}
}

// waitForLockWait waits until a transaction on db's database waits for a
// row lock.
func waitForLockWait(t *testing.T, db *store.DB) {
	t.Helper()
	q := `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`
	poll := 5 * time.Millisecond
	if db.Engine() == "mysql" {
		q = `SELECT count(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
			WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE()`
		// InnoDB refreshes innodb_trx only when it was not read for 100 ms.
		poll = 150 * time.Millisecond
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(poll) {
		var waiting int
		if err := db.SQL().QueryRow(q).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no update waited for the locked row within 10s")
		}
	}
}

func TestCycles(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		want := []store.Cycle{
			{RunUUID: "a", Lease: "shop", Holder: "host-a:1", Started: alertTime, Finished: alertTime.Add(15 * time.Millisecond), Checks: 3},
			{RunUUID: "b", Lease: "shop", Holder: "host-b:2", Started: alertTime.Add(5 * time.Second), Finished: alertTime.Add(5*time.Second + time.Millisecond), Checks: 0},
		}
		for _, c := range append(want, store.Cycle{RunUUID: "c", Lease: "blog", Holder: "host-a:1", Started: alertTime, Finished: alertTime}) {
			if err := db.SaveCycle(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.Cycles(ctx, "shop", alertTime)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("cycles = %+v, want %+v", got, want)
		}
		if n, err := db.PruneCycles(ctx, alertTime.Add(time.Second)); err != nil || n != 2 {
			t.Errorf("PruneCycles = %d, %v; want 2", n, err)
		}
	})
}
