package notify_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/notify"
	"github.com/healthjob/healthjob/internal/notify/routing"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/internal/testdb"

	_ "github.com/go-sql-driver/mysql"
)

// BenchmarkUpdateAlerts observes cycles of 10 checks of an application
// whose store knows 10 or 20,000 check names (a tenth of them failing and
// told to a route): a cycle must cost the same whatever the names it does
// not run.
func BenchmarkUpdateAlerts(b *testing.B) {
	const checks = 10
	for _, engine := range []string{"sqlite", "postgres", "mysql"} {
		b.Run(engine, func(b *testing.B) {
			for _, known := range []int{checks, 20000} {
				b.Run(fmt.Sprintf("known=%d", known), func(b *testing.B) {
					ctx := context.Background()
					db := benchStore(b, engine)
					r, err := routing.ParseRoute(map[string]string{"url": "http://127.0.0.1:1/hook"}) // never started: nothing is sent
					if err != nil {
						b.Fatal(err)
					}
					n, err := notify.New(ctx, notify.Config{Store: db, Thresholds: notify.Thresholds{Failure: 1, Success: 1}, Routes: []routing.Route{r}})
					if err != nil {
						b.Fatal(err)
					}
					at := t0
					seed := &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: at}}
					for i := range known {
						res := healthjob.Result{Name: benchCheck(i), Level: healthjob.LevelOK, Message: "working"}
						if i%10 == 5 {
							res.Level, res.Message = healthjob.LevelFailure, "unavailable: Connection refused"
						}
						seed.Checks = append(seed.Checks, res)
					}
					if err := n.Observe(ctx, "shop", seed); err != nil {
						b.Fatal(err)
					}
					analyze(b, db)
					for b.Loop() {
						at = at.Add(time.Second)
						run := &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: at}}
						for i := range checks {
							run.Checks = append(run.Checks, healthjob.Result{Name: benchCheck(i), Level: healthjob.LevelOK, Message: "working"})
						}
						if err := n.Observe(ctx, "shop", run); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// analyze updates the planner's statistics, as the engine itself would
// soon after the seeding: before, PostgreSQL takes the marks for a few
// rows and reads every mark of the application instead of ten.
func analyze(b *testing.B, db *store.DB) {
	b.Helper()
	q := "ANALYZE"
	if db.Engine() == "mysql" {
		q = "ANALYZE TABLE " + store.AlertStateTable + ", " + store.AlertNotifiedTable
	}
	if _, err := db.SQL().Exec(q); err != nil {
		b.Fatal(err)
	}
}

func benchCheck(i int) string { return fmt.Sprintf("check%05d", i) }

// benchStore opens and migrates a new, empty store of engine.
func benchStore(b *testing.B, engine string) *store.DB {
	b.Helper()
	var dbURL string
	switch engine {
	case "sqlite":
		dbURL = "sqlite:" + filepath.Join(b.TempDir(), "healthjob.db")
	case "postgres":
		dbURL = testdb.Postgres(b, testdb.PostgresURL, "healthjob_notify", "the PostgreSQL benchmark")
	case "mysql":
		dbURL = testdb.MySQL(b, testdb.MySQLURL, "healthjob_notify", "the MySQL benchmark")
	}
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db
}
