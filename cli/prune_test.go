package cli_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPruneCommand(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "healthjob.db")
	saveOld(t, dbURL, time.Now().Add(-40*24*time.Hour), 30)
	saveOld(t, dbURL, time.Now().Add(-10*24*time.Hour), 20)
	r := healthjob(t, dir, nil, "prune", "--older-than", "30d")
	want := "sqlite:healthjob.db: pruned 30 records created before " + time.Now().Add(-30*24*time.Hour).UTC().Format("2006-01-02T15") // minutes may tick
	if r.code != 0 || !strings.HasPrefix(r.stdout, want) ||
		!strings.HasSuffix(r.stdout, "; rolled up 2 hours, pruned 0 hourly roll-ups older than 400d\n") {
		t.Errorf("prune: exit %d, %q %q; want %s…", r.code, r.stdout, r.stderr, want)
	}
	if left := listRecords(t, dir, nil, "--limit", "100"); len(left) != 20 {
		t.Errorf("%d records left, want the 20 of ten days ago", len(left))
	}
	// HEALTH_CHECK_RETENTION is the default; the roll-ups keep their own.
	r = healthjob(t, dir, []string{"HEALTH_CHECK_RETENTION=7d", "HEALTH_CHECK_ROLLUP_RETENTION=20d"}, "prune")
	if r.code != 0 || !strings.Contains(r.stdout, ": pruned 20 records created before ") ||
		!strings.HasSuffix(r.stdout, "; rolled up 0 hours, pruned 30 hourly roll-ups older than 20d\n") {
		t.Errorf("prune by the settings: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

// TestMonitorRetention: the monitor prunes on its own as it starts.
func TestMonitorRetention(t *testing.T) {
	dir := t.TempDir()
	saveOld(t, "sqlite:"+filepath.Join(dir, "healthjob.db"), time.Now().Add(-3*24*time.Hour), 25)
	writeConfig(t, dir, "PERSIST_HEALTH_CHECK_DATA: true\nHEALTH_CHECK_RETENTION: 2d\nchecks:\n  - {type: storage, path: "+dir+"}\n")
	cmd, stdout, stderr := startMonitor(t, dir, nil)
	stderr.waitFor(t, "msg=retention rolled_up_hours=1 pruned_records=25 pruned_runs=0 pruned_rollups=0", 1)
	stdout.waitFor(t, "working", 1)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("monitor: %v\n%s", err, stderr.text())
	}
	if got := summary(listRecords(t, dir, nil, "--search", "Old")); got != "" {
		t.Errorf("old records left: %s", got)
	}
}

// TestServeRetention: `prune` on serve's database and serve itself, as it
// starts, prune the runs that serve keeps by uuid with their records.
func TestServeRetention(t *testing.T) {
	dir := t.TempDir()
	env := []string{"SERVE_OPEN_APPS=billing"}
	srv := startServe(t, dir, env, "127.0.0.1:0")
	now := time.Now().UTC()
	for i, at := range []time.Time{now.Add(-5 * 24 * time.Hour), now.Add(-3 * 24 * time.Hour), now.Add(-3*24*time.Hour + time.Minute), now} {
		body := fmt.Sprintf(`{"uuid": "00000000-0000-4000-8000-%012d", "timestamp": %q, "sync_app_id": "billing",
			"checks": [{"name": "DatabaseBackend", "status": 1, "message": "working"}]}`, i, at.Format("2006-01-02T15:04:05.000000"))
		resp, err := http.Post(srv.url+"/v1/metrics", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST: %s", resp.Status)
		}
	}
	srv.stop(t)

	r := healthjob(t, dir, nil, "prune", "--older-than", "4d")
	if want := "sqlite:healthjob.db: pruned 1 record and 1 run created before "; r.code != 0 || !strings.HasPrefix(r.stdout, want) {
		t.Errorf("prune 4d: exit %d, %q %q; want %s…", r.code, r.stdout, r.stderr, want)
	}
	srv = startServe(t, dir, append(env, "HEALTH_CHECK_RETENTION=2d"), "127.0.0.1:0")
	srv.stderr.waitFor(t, "msg=retention rolled_up_hours=0 pruned_records=2 pruned_runs=2 pruned_rollups=0", 1)
	srv.stop(t)
	db := openDB(t, "sqlite:"+filepath.Join(dir, "healthjob.db"))
	if runs, _ := runsIn(t, db, "billing"); !slices.Equal(runs, []string{"00000000-0000-4000-8000-000000000003"}) {
		t.Errorf("runs left: %v, want the fresh one", runs)
	}
	var uuids int
	if err := db.QueryRow(`SELECT count(*) FROM healthjob_run`).Scan(&uuids); err != nil || uuids != 1 {
		t.Errorf("%d uuids kept (%v), want 1", uuids, err)
	}
}
