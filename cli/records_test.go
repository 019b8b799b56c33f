package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	domain "github.com/healthjob/healthjob" // the tests' healthjob runs the binary
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/internal/testdb"

	_ "github.com/jackc/pgx/v5/stdlib"
)

var postgresURL = healthjobtest.Env("HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")

// brokenConfig has two checks: DatabaseBackend passes, Broken fails.
const brokenConfig = "checks:\n  - {type: storage, name: DatabaseBackend, path: %s}\n  - {type: storage, name: Broken, path: /nonexistent}\n"

const brokenMessage = "unavailable: Unknown exception: mkdir /nonexistent/health_check_storage_test: no such file or directory"

// jsonRecord is a record as `records --format json` prints it.
type jsonRecord struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Status     int     `json:"status"`
	Message    string  `json:"message"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
	RunUUID    string  `json:"run_uuid"`
	AppID      string  `json:"app_id"`
	Level      string  `json:"level"`
	DurationMS float64 `json:"duration_ms"`
	Critical   bool    `json:"critical"`
}

// listRecords runs `healthjob records --format json` with args.
func listRecords(t *testing.T, dir string, env []string, args ...string) []jsonRecord {
	t.Helper()
	r := healthjob(t, dir, env, append([]string{"records", "--format", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("records %v: exit %d\n%s", args, r.code, r.stderr)
	}
	var recs []jsonRecord
	if err := json.Unmarshal([]byte(r.stdout), &recs); err != nil {
		t.Fatalf("records %v: %v\n%s", args, err, r.stdout)
	}
	return recs
}

func summary(recs []jsonRecord) string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s %d", r.Name, r.Status))
	}
	return strings.Join(out, ", ")
}

func TestRecordsCommand(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, fmt.Sprintf(brokenConfig, dir))
	for range 3 {
		if r := healthjob(t, dir, []string{"PERSIST_HEALTH_CHECK_DATA=true"}, "check"); r.code != 1 {
			t.Fatalf("check: exit %d, want 1 (Broken fails)\n%s", r.code, r.stderr)
		}
	}
	recs := listRecords(t, dir, nil)
	if got := summary(recs); got != "DatabaseBackend 1, Broken 0, DatabaseBackend 1, Broken 0, DatabaseBackend 1, Broken 0" {
		t.Errorf("records = %s", got)
	}
	r := recs[1]
	created, err := time.Parse("2006-01-02T15:04:05.000000Z", r.CreatedAt)
	if err != nil || time.Since(created) > time.Minute || r.ID != 5 || r.Message != brokenMessage || len(r.RunUUID) != 36 ||
		r.Level != "failure" || !r.Critical || r.AppID != "" || r.DurationMS <= 0 {
		t.Errorf("record = %+v (%v)", r, err)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--status", "0", "--since", "1h"}, "Broken 0, Broken 0, Broken 0"},
		{[]string{"--name", "DatabaseBackend", "--limit", "2"}, "DatabaseBackend 1, DatabaseBackend 1"},
		{[]string{"--search", "NONEXISTENT", "--sort", "id", "--limit", "1"}, "Broken 0"},
		{[]string{"--message", "working", "--sort", "-id", "--limit", "1"}, "DatabaseBackend 1"},
		{[]string{"--latest"}, "Broken 0, DatabaseBackend 1"},
		{[]string{"--until", "1h"}, ""},
		{[]string{"--since", "2000-01-01", "--until", "2000-01-02"}, ""},
	} {
		if got := summary(listRecords(t, dir, nil, tt.args...)); got != tt.want {
			t.Errorf("records %v = %s, want %s", tt.args, got, tt.want)
		}
	}

	// Pages: the cursor printed on stderr continues the list.
	first := healthjob(t, dir, nil, "records", "--sort", "id", "--limit", "4")
	_, cursor, ok := strings.Cut(first.stderr, "more records: add --after ")
	if first.code != 0 || !ok || strings.Count(first.stdout, "\n") != 5 {
		t.Fatalf("first page: exit %d\n%s%s", first.code, first.stdout, first.stderr)
	}
	if got := listRecords(t, dir, nil, "--sort", "id", "--limit", "4", "--after", strings.TrimSpace(cursor)); len(got) != 2 || got[0].ID != 5 || got[1].ID != 6 {
		t.Errorf("second page = %+v, want records 5 and 6", got)
	}

	table := healthjob(t, dir, nil, "records", "--name", "Broken", "--limit", "1")
	lines := strings.Split(table.stdout, "\n")
	if table.code != 0 || len(lines) != 3 ||
		lines[0] != "ID  NAME    STATUS  MESSAGE"+strings.Repeat(" ", len(brokenMessage)-5)+"CREATED_AT            UPDATED_AT" ||
		!strings.HasPrefix(lines[1], "5   Broken  0       "+brokenMessage+"  20") {
		t.Errorf("table: exit %d\n%s", table.code, table.stdout)
	}
	csv := healthjob(t, dir, nil, "records", "--format", "csv", "--sort", "id", "--limit", "1")
	if csv.code != 0 || !strings.HasPrefix(csv.stdout, "id,name,status,message,created_at,updated_at,run_uuid,app_id,level,duration_ms,critical\n1,Broken,0,"+brokenMessage+",20") {
		t.Errorf("csv: exit %d\n%s", csv.code, csv.stdout)
	}
}

func TestRecordsBadFlags(t *testing.T) {
	dir := t.TempDir()
	if r := healthjob(t, dir, nil, "migrate"); r.code != 0 {
		t.Fatalf("migrate: exit %d\n%s", r.code, r.stderr)
	}
	for _, tt := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"records", "--status", "failed"}, `healthjob records: --status: want 0 (failed) or 1 (passed), got "failed"` + "\n"},
		{[]string{"records", "--since", "yesterday"}, `healthjob records: --since: want a time ago (30m, 1h, 7d) or a UTC time (2006-01-02, 2006-01-02T15:04:05Z), got "yesterday"` + "\n"},
		{[]string{"records", "--until", "-1h"}, `healthjob records: --until: want a time ago such as 1h or 7d, got "-1h"` + "\n"},
		{[]string{"records", "--sort", "duration"}, `healthjob records: --sort: want id, name, status, message, created_at or updated_at, with - before it for descending; got "duration"` + "\n"},
		{[]string{"records", "--limit", "0"}, "healthjob records: --limit: want 1 to 10000, got 0\n"},
		{[]string{"records", "--format", "xml"}, `healthjob records: --format: want table, json or csv, got "xml"` + "\n"},
		{[]string{"records", "--latest", "--status", "0"}, "healthjob records: --latest prints one record per check; it combines only with --app and --format\n"},
		{[]string{"records", "--after", "garbage"}, "healthjob records: --after: the cursor does not belong to this list; start from its first page\n"},
		{[]string{"prune"}, "healthjob prune: --older-than: not given, and HEALTH_CHECK_RETENTION is 0 (keep the records forever)\n"},
		{[]string{"prune", "--older-than", "5m"}, `healthjob prune: --older-than: want a duration of 1h or more, such as 30d or 12h; got "5m"` + "\n"},
		{[]string{"prune", "--older-than", "soon"}, `healthjob prune: --older-than: want a duration of 1h or more, such as 30d or 12h; got "soon"` + "\n"},
	} {
		r := healthjob(t, dir, nil, tt.args...)
		if r.code != 2 || r.stderr != tt.stderr {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.stderr)
		}
	}
}

// TestMonitorPostgres runs the monitor on a PostgreSQL store and lists
// what it wrote.
func TestMonitorPostgres(t *testing.T) {
	dbURL := testdb.Postgres(t, postgresURL, "healthjob_e2e_", "records in PostgreSQL")
	dir := t.TempDir()
	writeConfig(t, dir, "HEALTH_CHECK_INTERVAL: 0.2\nPERSIST_HEALTH_CHECK_DATA: true\n"+fmt.Sprintf(brokenConfig, dir))
	env := []string{"DATABASE_URL=" + dbURL}
	cmd, stdout, stderr := startMonitor(t, dir, env)
	stdout.waitFor(t, "Broken", 3)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("monitor: %v\n%s", err, stderr.text())
	}
	cycles := strings.Count(stdout.text(), "Broken")
	recs := listRecords(t, dir, env, "--status", "0", "--since", "1h")
	if len(recs) != cycles || recs[0].Name != "Broken" || recs[0].Message != brokenMessage || recs[0].Level != "failure" {
		t.Errorf("records --status 0 --since 1h = %+v, want %d records of Broken", recs, cycles)
	}
	if latest := summary(listRecords(t, dir, env, "--latest")); latest != "Broken 0, DatabaseBackend 1" {
		t.Errorf("records --latest = %s", latest)
	}
}

func TestStoreURLErrors(t *testing.T) {
	dir := t.TempDir()
	closed := healthjobtest.ClosedPort(t)
	r := healthjob(t, dir, []string{"DATABASE_URL=postgres://app:hunter2@" + closed + "/app"}, "records")
	want := "healthjob records: DATABASE_URL: open postgres://app:*****@" + closed + "/app: "
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Contains(r.stderr, "hunter2") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("unreachable PostgreSQL: exit %d, %q; want 1 and %q…", r.code, r.stderr, want)
	}

	// A schema newer than this binary is refused, on PostgreSQL as on SQLite.
	dbURL := testdb.Postgres(t, postgresURL, "healthjob_e2e_", "records in PostgreSQL")
	if r := healthjob(t, dir, []string{"DATABASE_URL=" + dbURL}, "migrate"); r.code != 0 {
		t.Fatalf("migrate: exit %d, %s", r.code, r.stderr)
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO healthjob_schema_version (version_id, is_applied) VALUES (999, true)`); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"records", "monitor"} {
		r = healthjob(t, dir, []string{"DATABASE_URL=" + dbURL, "PERSIST_HEALTH_CHECK_DATA=1"}, cmd)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "healthjob "+cmd+": DATABASE_URL: the database schema is at version 999, newer than this healthjob knows (") {
			t.Errorf("%s on a newer schema: exit %d, %q", cmd, r.code, r.stderr)
		}
	}
}

// TestDjangoInterop runs the spec's example queries with Django's ORM
// (Debian's python3-django) on rows healthjob wrote, and lists with
// `healthjob records` rows Django wrote: on SQLite and PostgreSQL, with the
// table created by either side first.
func TestDjangoInterop(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import django, psycopg2").Run(); err != nil {
		healthjobtest.Missing(t, "python3-django and python3-psycopg2 (.ci/setup.d/django.sh)")
	}
	script, err := filepath.Abs("testdata/django/spec.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, first := range []string{"healthjob", "django"} {
			t.Run(engine+"/"+first+"-first", func(t *testing.T) {
				dir := t.TempDir()
				dbURL := "sqlite:" + filepath.Join(dir, "interop.db")
				if engine == "postgres" {
					dbURL = testdb.Postgres(t, postgresURL, "healthjob_interop_", "records in PostgreSQL")
				}
				django := func(step string) string {
					t.Helper()
					cmd := exec.Command(python, script, step)
					cmd.Env = append(os.Environ(), "HEALTHJOB_DJANGO_DB="+dbURL)
					out, err := cmd.Output()
					if err != nil {
						stderr := ""
						if exit, ok := err.(*exec.ExitError); ok {
							stderr = string(exit.Stderr)
						}
						t.Fatalf("django %s: %v\n%s%s", step, err, out, stderr)
					}
					return string(out)
				}
				env := []string{"DATABASE_URL=" + dbURL, "PERSIST_HEALTH_CHECK_DATA=true"}
				writeConfig(t, dir, fmt.Sprintf(brokenConfig, dir))
				if first == "django" {
					django("create-table")
					django("write")
				}
				if r := healthjob(t, dir, env, "check"); r.code != 1 {
					t.Fatalf("check: exit %d\n%s", r.code, r.stderr)
				}
				if first == "healthjob" {
					django("write")
				}

				got := django("queries")
				cache := `["CacheBackend", 0, "unavailable: Cache error"]`
				broken := fmt.Sprintf(`["Broken", 0, %q]`, brokenMessage)
				db := `["DatabaseBackend", 1, "working"]`
				all := "[" + broken + ", " + cache + ", " + db + "]"
				want := `{"all": ` + all + `, "failed": [` + broken + ", " + cache + `], "db": [` + db + `], "recent": ` + all + `, "old": [], "str": [true, true, true]}` + "\n"
				if got != want {
					t.Errorf("the spec's queries in Django:\n got %s\nwant %s", got, want)
				}
				recs := listRecords(t, dir, env, "--name", "CacheBackend")
				if len(recs) != 1 || recs[0].Status != 0 || recs[0].Message != "unavailable: Cache error" || recs[0].RunUUID != "" ||
					!recs[0].Critical || !strings.HasPrefix(recs[0].CreatedAt, time.Now().UTC().Format("2006-01-02")) {
					t.Errorf("healthjob records --name CacheBackend = %+v", recs)
				}
				if got := summary(listRecords(t, dir, env, "--status", "0", "--since", "1h", "--sort", "name")); got != "Broken 0, CacheBackend 0" {
					t.Errorf("healthjob records --status 0 --since 1h = %s", got)
				}
			})
		}
	}
}

// saveOld writes n records created at created into the store at dbURL.
func saveOld(t *testing.T, dbURL string, created time.Time, n int) {
	t.Helper()
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	run := &domain.Run{UUID: domain.NewUUID(), Timestamp: domain.Timestamp{Time: created}}
	for i := range n {
		run.Checks = append(run.Checks, domain.Result{Name: fmt.Sprintf("Old%d", i), Status: 1, Message: "working"})
	}
	if err := db.SaveRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
}

// TestReadersNeedADatabase: records and status in a directory without the
// SQLite database say so, and create none.
func TestReadersNeedADatabase(t *testing.T) {
	dir := t.TempDir()
	const why = "DATABASE_URL: no database at healthjob.db; the monitor creates it with PERSIST_HEALTH_CHECK_DATA: true (or run `healthjob migrate`), or set DATABASE_URL to the one it writes\n"
	for _, cmd := range []string{"records", "status"} {
		r := healthjob(t, dir, nil, cmd)
		if r.code != 1 || r.stderr != "healthjob "+cmd+": "+why {
			t.Errorf("%s: exit %d, stderr %q; want 1, %q", cmd, r.code, r.stderr, "healthjob "+cmd+": "+why)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "healthjob.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("healthjob.db: %v, want none created", err)
	}
}
