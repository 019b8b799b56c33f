package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"

	_ "modernc.org/sqlite"
)

func mustOpen(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustMigrate(t *testing.T, db *store.DB) int {
	t.Helper()
	n, err := db.Migrate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sampleRun(n int) *healthjob.Run {
	run := &healthjob.Run{
		UUID:      healthjob.NewUUID(),
		Timestamp: healthjob.Timestamp{time.Date(2023, 11, 20, 12, 0, 0, 123456000, time.UTC)},
	}
	for i := range n {
		run.Checks = append(run.Checks, healthjob.Result{
			Name: fmt.Sprintf("Check%04d", i), Status: i % 2, Message: "working",
			Level: healthjob.LevelOK, Critical: true, Duration: 1500 * time.Microsecond,
		})
	}
	return run
}

func TestSaveRun(t *testing.T) {
	db := mustOpen(t, "sqlite:"+filepath.Join(t.TempDir(), "h.db"))
	if n := mustMigrate(t, db); n != 2 {
		t.Errorf("first migrate applied %d, want 2", n)
	}
	if n := mustMigrate(t, db); n != 0 {
		t.Errorf("second migrate applied %d, want 0", n)
	}
	db.Now = func() time.Time { return time.Date(2023, 11, 20, 12, 0, 1, 0, time.UTC) }
	run := sampleRun(1201) // three INSERT statements
	run.SyncAppID = "billing"
	if err := db.SaveRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	recs, err := db.Latest(context.Background(), 2000)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1201 {
		t.Fatalf("%d records, want 1201", len(recs))
	}
	r := recs[0] // newest first
	if r.Name != "Check1200" || r.Status != 0 || r.Message != "working" || r.RunUUID != run.UUID || r.AppID != "billing" ||
		r.Level != "ok" || !r.Critical || r.Duration != 1500*time.Microsecond ||
		!r.CreatedAt.Equal(run.Timestamp.Time) || !r.UpdatedAt.Equal(db.Now()) {
		t.Errorf("record = %+v", r)
	}
}

// TestDjangoTable starts from the table as Django's migration creates it,
// with a row Django wrote, and checks that healthjob adopts it and that
// Django's own insert (which knows none of healthjob's columns) still works.
func TestDjangoTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "django.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, stmt := range []string{
		`CREATE TABLE "django_health_check_job_heathcheckjob" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(50) NOT NULL, "status" integer NOT NULL, "message" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`,
		`INSERT INTO "django_health_check_job_heathcheckjob" ("name", "status", "message", "created_at", "updated_at") VALUES ('DatabaseBackend', 1, 'working', '2023-11-20 11:00:00.000000', '2023-11-20 11:00:00.000000')`,
	} {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db := mustOpen(t, "sqlite:"+path)
	mustMigrate(t, db)
	if err := db.SaveRun(context.Background(), sampleRun(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO "django_health_check_job_heathcheckjob" ("name", "status", "message", "created_at", "updated_at") VALUES ('CacheBackend', 0, 'unavailable', '2023-11-20 12:30:00.000000', '2023-11-20 12:30:00.000000')`); err != nil {
		t.Fatalf("Django's insert after migration: %v", err)
	}
	recs, err := db.Latest(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[2].Name != "DatabaseBackend" || recs[0].Name != "CacheBackend" || recs[0].RunUUID != "" {
		t.Errorf("records = %+v", recs)
	}
	// Django's filter(status=0) and created_at__gte, as the spec's example queries.
	var failed int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM django_health_check_job_heathcheckjob WHERE status = 0 AND created_at >= '2023-11-20 11:30:00'`).Scan(&failed); err != nil || failed != 2 {
		t.Errorf("failed since 11:30 = %d, %v; want 2 (healthjob's Check0000 and Django's CacheBackend)", failed, err)
	}
}

func TestSchemaVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db := mustOpen(t, "sqlite:"+path)
	if err := db.CheckSchema(context.Background()); !errors.Is(err, store.ErrSchemaBehind) {
		t.Errorf("CheckSchema on an empty database = %v, want ErrSchemaBehind", err)
	}
	mustMigrate(t, db)
	if err := db.CheckSchema(context.Background()); err != nil {
		t.Errorf("CheckSchema after Migrate = %v", err)
	}
	if _, err := db.SQL().Exec(`INSERT INTO healthjob_schema_version (version_id, is_applied) VALUES (99, 1)`); err != nil {
		t.Fatal(err)
	}
	want := "the database schema is at version 99, newer than this healthjob knows (2): upgrade healthjob"
	if err := db.CheckSchema(context.Background()); err == nil || err.Error() != want {
		t.Errorf("CheckSchema on a newer schema = %v, want %q", err, want)
	}
	if _, err := db.Migrate(context.Background()); err == nil || err.Error() != want {
		t.Errorf("Migrate on a newer schema = %v, want %q", err, want)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"sqlite:" + filepath.Join(t.TempDir(), "missing-dir", "h.db"), "unable to open database file"},
		{"oracle://u:pw@h/db", `database URL "oracle://u:*****@h/db": unknown scheme "oracle"; want sqlite, postgres or mysql`},
		{"healthjob.db", `database URL "healthjob.db" has no scheme; want sqlite:PATH, postgres://… or mysql://…`},
	}
	for _, tt := range tests {
		_, err := store.Open(context.Background(), tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q) = %v, want %q", tt.url, err, tt.want)
		}
	}
}
