package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/healthjob/healthjob/internal/store"
)

var ctx = context.Background()

func sampleRun(n int) *healthjob.Run {
	run := &healthjob.Run{
		UUID:      healthjob.NewUUID(),
		Timestamp: healthjob.Timestamp{Time: time.Date(2023, 11, 20, 12, 0, 0, 123456000, time.UTC)},
	}
	for i := range n {
		run.Checks = append(run.Checks, healthjob.Result{
			Name: fmt.Sprintf("Check%04d", i), Status: i % 2, Message: "working",
			Level: healthjob.LevelOK, Critical: true, Duration: 1500 * time.Microsecond,
		})
	}
	return run
}

// all lists every record, newest id first.
func all(t testing.TB, db *store.DB) []store.Record {
	t.Helper()
	p, err := db.List(ctx, store.Query{Sort: "-id", Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p.Records
}

func TestSaveRun(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := mustOpen(t, url)
		if n, want := mustMigrate(t, db), first(migrations(t, db.Engine())); n != want {
			t.Errorf("first migrate applied %d, want %d", n, want)
		}
		if n := mustMigrate(t, db); n != 0 {
			t.Errorf("second migrate applied %d, want 0", n)
		}
		db.Now = func() time.Time { return time.Date(2023, 11, 20, 12, 0, 1, 0, time.UTC) }
		big := sampleRun(1201) // PostgreSQL: COPY; the others: three INSERT statements
		big.SyncAppID = "billing"
		small := sampleRun(3) // a multi-row INSERT everywhere
		small.Checks[2].Critical = false
		small.Checks[2].Level = healthjob.LevelWarning
		for _, run := range []*healthjob.Run{big, small} {
			if err := db.SaveRun(ctx, run); err != nil {
				t.Fatal(err)
			}
		}
		recs := all(t, db)
		if len(recs) != 1204 {
			t.Fatalf("%d records, want 1204", len(recs))
		}
		want := []store.Record{
			{Name: "Check0002", Status: 0, Message: "working", RunUUID: small.UUID, Level: "warning", Duration: 1500 * time.Microsecond, Critical: false},
			{Name: "Check1200", Status: 0, Message: "working", RunUUID: big.UUID, AppID: "billing", Level: "ok", Duration: 1500 * time.Microsecond, Critical: true},
		}
		for i, r := range []store.Record{recs[0], recs[3]} {
			if !r.CreatedAt.Equal(big.Timestamp.Time) || !r.UpdatedAt.Equal(db.Now()) {
				t.Errorf("record %d: created %s, updated %s; want %s, %s", r.ID, r.CreatedAt, r.UpdatedAt, big.Timestamp.Time, db.Now())
			}
			r.ID, r.CreatedAt, r.UpdatedAt = 0, time.Time{}, time.Time{}
			if got := fmt.Sprintf("%+v", r); got != fmt.Sprintf("%+v", want[i]) {
				t.Errorf("record = %s\nwant     %+v", got, want[i])
			}
		}
	})
}

// djangoTables are the records table as Django 3.2 (Debian 12's) creates
// it on each engine, and a row written by Django.
var djangoTables = map[string][]string{
	"sqlite": {
		`CREATE TABLE "django_health_check_job_heathcheckjob" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(50) NOT NULL, "status" integer NOT NULL, "message" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`,
		`INSERT INTO "django_health_check_job_heathcheckjob" ("name", "status", "message", "created_at", "updated_at") VALUES ('DatabaseBackend', 1, 'working', '2023-11-20 11:00:00', '2023-11-20 11:00:00')`,
	},
	"postgres": {
		`CREATE TABLE "django_health_check_job_heathcheckjob" ("id" serial NOT NULL PRIMARY KEY, "name" varchar(50) NOT NULL, "status" integer NOT NULL, "message" text NOT NULL, "created_at" timestamp with time zone NOT NULL, "updated_at" timestamp with time zone NOT NULL)`,
		`INSERT INTO "django_health_check_job_heathcheckjob" ("name", "status", "message", "created_at", "updated_at") VALUES ('DatabaseBackend', 1, 'working', '2023-11-20 11:00:00+00', '2023-11-20 11:00:00+00')`,
	},
	"mysql": {
		"CREATE TABLE `django_health_check_job_heathcheckjob` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `name` varchar(50) NOT NULL, `status` integer NOT NULL, `message` longtext NOT NULL, `created_at` datetime(6) NOT NULL, `updated_at` datetime(6) NOT NULL)",
		"INSERT INTO `django_health_check_job_heathcheckjob` (`name`, `status`, `message`, `created_at`, `updated_at`) VALUES ('DatabaseBackend', 1, 'working', '2023-11-20 11:00:00', '2023-11-20 11:00:00')",
	},
}

// TestDjangoTable starts from the table as Django's migration creates it,
// with a row Django wrote, and checks that healthjob adopts it and that
// Django's own insert (which knows none of healthjob's columns) still works.
func TestDjangoTable(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := mustOpen(t, url)
		ddl := djangoTables[db.Engine()]
		for _, stmt := range ddl {
			if _, err := db.SQL().Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
		mustMigrate(t, db)
		if err := db.SaveRun(ctx, sampleRun(1)); err != nil {
			t.Fatal(err)
		}
		later := strings.NewReplacer("DatabaseBackend', 1, 'working'", "CacheBackend', 0, 'unavailable'", "11:00:00", "12:30:00").Replace(ddl[1])
		if _, err := db.SQL().Exec(later); err != nil {
			t.Fatalf("Django's insert after migration: %v", err)
		}
		recs := all(t, db)
		if len(recs) != 3 || recs[2].Name != "DatabaseBackend" || recs[0].Name != "CacheBackend" || recs[0].RunUUID != "" ||
			!recs[2].CreatedAt.Equal(time.Date(2023, 11, 20, 11, 0, 0, 0, time.UTC)) {
			t.Errorf("records = %+v", recs)
		}
		// The spec's filter(status=0) and created_at__gte, through the store.
		failed := 0
		p, err := db.List(ctx, store.Query{Filter: store.Filter{Status: ptr(0), CreatedFrom: time.Date(2023, 11, 20, 11, 30, 0, 0, time.UTC)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			if r.Name == "Check0000" || r.Name == "CacheBackend" {
				failed++
			}
		}
		if len(p.Records) != 2 || failed != 2 {
			t.Errorf("failed since 11:30 = %+v; want healthjob's Check0000 and Django's CacheBackend", p.Records)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func first(n, _ int) int { return n }

func TestSchemaVersions(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		db := mustOpen(t, url)
		if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaBehind) {
			t.Errorf("CheckSchema on an empty database = %v, want ErrSchemaBehind", err)
		}
		mustMigrate(t, db)
		if err := db.CheckSchema(ctx); err != nil {
			t.Errorf("CheckSchema after Migrate = %v", err)
		}
		if _, err := db.SQL().Exec(`INSERT INTO healthjob_schema_version (version_id, is_applied) VALUES (99, true)`); err != nil {
			t.Fatal(err)
		}
		_, newest := migrations(t, db.Engine())
		want := fmt.Sprintf("the database schema is at version 99, newer than this healthjob knows (%d): upgrade healthjob", newest)
		if err := db.CheckSchema(ctx); err == nil || err.Error() != want {
			t.Errorf("CheckSchema on a newer schema = %v, want %q", err, want)
		}
		if _, err := db.Migrate(ctx); err == nil || err.Error() != want {
			t.Errorf("Migrate on a newer schema = %v, want %q", err, want)
		}
	})
}

// TestMigrateTogether: processes that open and migrate one new SQLite
// file at once (a monitor and serve started together) take turns: every
// one succeeds and each migration is applied once. The processes are this
// test's binary, run again.
func TestMigrateTogether(t *testing.T) {
	if url := os.Getenv("HEALTHJOB_TEST_MIGRATE"); url != "" {
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		n, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("applied %d\n", n)
		return
	}
	url := "sqlite:" + filepath.Join(t.TempDir(), "healthjob.db")
	var procs []*exec.Cmd
	var outs []*strings.Builder
	for range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMigrateTogether$", "-test.count=1")
		cmd.Env = append(os.Environ(), "HEALTHJOB_TEST_MIGRATE="+url)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs, outs = append(procs, cmd), append(outs, out)
	}
	total := 0
	for i, cmd := range procs {
		err := cmd.Wait()
		var n int
		if _, scanErr := fmt.Sscanf(outs[i].String(), "applied %d", &n); err != nil || scanErr != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i])
		}
		total += n
	}
	if count, _ := migrations(t, "sqlite"); total != count {
		t.Errorf("%d migrations applied in all, want each of the %d once", total, count)
	}
}

func TestOpenErrors(t *testing.T) {
	closed := healthjobtest.ClosedPort(t)
	tests := []struct{ url, want string }{
		{"sqlite:" + filepath.Join(t.TempDir(), "missing-dir", "h.db"), "unable to open database file"},
		{"oracle://u:pw@h/db", `database URL "oracle://u:*****@h/db": unknown scheme "oracle"; want sqlite, postgres or mysql`},
		{"healthjob.db", `database URL "healthjob.db" has no scheme; want sqlite:PATH, postgres://… or mysql://…`},
		{"postgres://app:hunter2@" + closed + "/app?connect_timeout=5", "open postgres://app:*****@" + closed + "/app?connect_timeout=5: "},
		{"mysql://app:hunter2@" + closed + "/app", "open mysql://app:*****@" + closed + "/app: dial tcp " + closed + ": connect: connection refused"},
	}
	for _, tt := range tests {
		_, err := store.Open(ctx, tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) = %v, want %q", tt.url, err, tt.want)
		}
	}
	for engine, want := range map[string]string{
		"postgres": `database "healthjob_no_such_db" does not exist`,
		"mysql":    `Unknown database 'healthjob_no_such_db'`,
	} {
		t.Run(engine, func(t *testing.T) {
			base := postgresURL
			if engine == "mysql" {
				base = mysqlURL
			}
			u := strings.Replace(base, "/test", "/healthjob_no_such_db", 1)
			healthjobtest.NeedService(t, strings.Split(strings.SplitN(base, "@", 2)[1], "/")[0], engine+" store tests")
			if _, err := store.Open(ctx, u); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Open(%q) = %v, want %q", u, err, want)
			}
		})
	}
}
