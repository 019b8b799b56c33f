package cli_test

// End-to-end tests of the fleet: real `healthjob monitor` processes deliver
// through their outbox to real `healthjob serve` processes on loopback
// ports, which store in SQLite or PostgreSQL, while the test breaks things.
// Each fault test asserts that every run a monitor made arrives exactly
// once and in order. Outages last a second or two, not the 30 s:
// with SYNC_BACKOFF_MAX at 200 ms instead of the default minute, a second
// of outage holds as many retries as several minutes do by default.

import (
	"database/sql"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/healthjob/healthjob/internal/testdb"
)

// serveProc is a running `healthjob serve`.
type serveProc struct {
	cmd    *proc
	url    string // http://host:port
	stderr *lineWatcher
}

// startServe runs `healthjob serve --http addr` in dir and waits until it
// listens.
func startServe(t *testing.T, dir string, env []string, addr string) *serveProc {
	t.Helper()
	cmd := start(t, command(dir, env, "serve", "--http", addr))
	s := &serveProc{cmd: cmd, stderr: cmd.stderr}
	s.stderr.waitFor(t, `msg="serving HTTP"`, 1)
	m := regexp.MustCompile(`msg="serving HTTP" addr=(\S+)`).FindStringSubmatch(s.stderr.text())
	if m == nil {
		t.Fatalf("no address in the log:\n%s", s.stderr.text())
	}
	s.url = "http://" + m[1]
	return s
}

// stop sends SIGTERM and expects a clean exit.
func (s *serveProc) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("serve exit: %v\n%s", err, s.stderr.text())
	}
}

// apiKey creates a key for app with `healthjob apikey create` in dir.
func apiKey(t *testing.T, dir string, env []string, app string) string {
	t.Helper()
	r := healthjob(t, dir, env, "apikey", "create", app)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || !strings.HasPrefix(lines[len(lines)-1], "hj_") {
		t.Fatalf("apikey create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return lines[len(lines)-1]
}

// monitorYAML is a monitor's settings for these tests: two checks every
// 100 ms, persisted (to SQLite unless extra says otherwise), synced to url
// with a short timeout and backoff cap. extra comes first, so it may add
// settings.
func monitorYAML(dir, url, key, extra string) string {
	return fmt.Sprintf(`%s
HEALTH_CHECK_INTERVAL: 0.1
SYNC_HEALTH_CHECK_DATA: true
SYNC_SERVER_URL: %s
SYNC_APP_ID: billing
SYNC_API_KEY: %s
SYNC_TIMEOUT: 500ms
SYNC_BACKOFF_MIN: 20ms
SYNC_BACKOFF_MAX: 200ms
checks:
  - {type: exec, name: "True", command: [/bin/true]}
  - {type: storage, path: %s}
`, extra, url, key, dir)
}

const persistSQLite = "PERSIST_HEALTH_CHECK_DATA: true"

// openDB opens a database URL for the test to read.
func openDB(t *testing.T, raw string) *sql.DB {
	t.Helper()
	driver, dsn, err := sqldb.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// runsIn lists the runs of app's records in db ("" for every app's), in
// the order they were written, and how many records each has.
func runsIn(t *testing.T, db *sql.DB, app string) (runs []string, records []int) {
	t.Helper()
	q := `SELECT run_uuid, count(*) FROM django_health_check_job_heathcheckjob`
	var args []any
	if app != "" {
		q += ` WHERE app_id = $1`
		args = append(args, app)
	}
	rows, err := db.Query(q+` GROUP BY run_uuid ORDER BY min(id)`, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var n int
		if err := rows.Scan(&u, &n); err != nil {
			t.Fatal(err)
		}
		runs, records = append(runs, u), append(records, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return runs, records
}

// assertDelivered checks that nothing the monitor made was lost: serve's
// database holds the runs of app that the monitor made, in order, each once
// with its two records, but for the ones still queued in the monitor's
// outbox (outboxDB), which must be the last ones made. A monitor at exit
// delivers for a bounded time; what is left waits for its next start.
func assertDelivered(t *testing.T, serveDB, outboxDB *sql.DB, app string, made []string) {
	t.Helper()
	queued := queuedRuns(t, outboxDB)
	if len(queued) > len(made) || !slices.Equal(queued, made[len(made)-len(queued):]) {
		t.Fatalf("the monitor's outbox holds runs it did not make last:\nqueued: %v\nmade:   %v", queued, made)
	}
	if len(queued) > 0 {
		t.Logf("%d runs wait in the monitor's outbox for its next start", len(queued))
	}
	want := made[:len(made)-len(queued)]
	got, records := runsIn(t, serveDB, app)
	if !slices.Equal(got, want) {
		t.Errorf("serve holds %d runs of %s, the monitor delivered %d; first difference at %d\nserve:   %v\nmonitor: %v",
			len(got), app, len(want), firstDiff(got, want), got, want)
	}
	for i, n := range records {
		if n != 2 {
			t.Errorf("run %s: %d records in serve, want 2: stored more than once", got[i], n)
		}
	}
	var runs int
	if err := serveDB.QueryRow(`SELECT count(*) FROM healthjob_run WHERE app_id = $1`, app).Scan(&runs); err != nil || runs != len(want) {
		t.Errorf("%d rows in healthjob_run for %s (%v), want %d", runs, app, err, len(want))
	}
}

// queuedRuns returns the uuids of the payloads waiting in an outbox for
// the monitoring server, oldest first.
func queuedRuns(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT run_uuid FROM healthjob_outbox WHERE kind = 'sync' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var uuids []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		uuids = append(uuids, u)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return uuids
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// caughtUp waits until serve holds at least the runs the monitor's
// database holds now.
func caughtUp(t *testing.T, serveDB, monitorDB *sql.DB, app string) {
	t.Helper()
	made, _ := runsIn(t, monitorDB, "")
	eventually(t, fmt.Sprintf("serve to hold the %d runs made so far", len(made)), func() bool {
		got, _ := runsIn(t, serveDB, app)
		return len(got) >= len(made)
	})
}

// stopMonitor sends SIGTERM and expects a clean exit: the outbox delivers
// what it holds before the monitor exits.
func stopMonitor(t *testing.T, cmd *proc, stderr *lineWatcher) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("monitor exit: %v\n%s", err, stderr.text())
	}
}

// TestFleetServerOutage: serve (SQLite, then PostgreSQL) goes away for a
// while and comes back on the same address; the monitor keeps every run
// in its outbox meanwhile and delivers them all, in order, each once.
func TestFleetServerOutage(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			srvDir, monDir := t.TempDir(), t.TempDir()
			serveURL := "sqlite:" + filepath.Join(srvDir, "serve.db")
			if engine == "postgres" {
				serveURL = testdb.Postgres(t, postgresURL, "healthjob_serve_", "PostgreSQL for serve")
			}
			env := []string{"DATABASE_URL=" + serveURL}
			key := apiKey(t, srvDir, env, "billing")
			srv := startServe(t, srvDir, env, "127.0.0.1:0")
			writeConfig(t, monDir, monitorYAML(monDir, srv.url, key, persistSQLite))
			mon, stdout, stderr := startMonitor(t, monDir, nil)
			stdout.waitFor(t, "True ", 1)
			serveDB, monitorDB := openDB(t, serveURL), openDB(t, "sqlite:"+filepath.Join(monDir, "healthjob.db"))

			caughtUp(t, serveDB, monitorDB, "billing")
			srv.stop(t)
			before := strings.Count(stdout.text(), "True ")
			stderr.waitFor(t, "connection refused", 3)
			stdout.waitFor(t, "True ", before+10) // a second of cycles while serve is away
			srv = startServe(t, srvDir, env, strings.TrimPrefix(srv.url, "http://"))
			stderr.waitFor(t, `msg="outbox: delivering again" outbox=sync`, 1)
			caughtUp(t, serveDB, monitorDB, "billing")
			stopMonitor(t, mon, stderr)

			made, _ := runsIn(t, monitorDB, "")
			assertDelivered(t, serveDB, monitorDB, "billing", made)
			srv.stop(t)
		})
	}
}

// TestMonitorExitServerDown: the monitoring server is down when the
// monitor stops. It tries for a bounded time, exits 0, says how many
// payloads wait for its next start, and keeps every one of them.
func TestMonitorExitServerDown(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, monitorYAML(dir, "http://127.0.0.1:1", "key", persistSQLite))
	mon, stdout, stderr := startMonitor(t, dir, nil)
	stdout.waitFor(t, "True ", 3)
	stopMonitor(t, mon, stderr)
	db := openDB(t, "sqlite:"+filepath.Join(dir, "healthjob.db"))
	made, _ := runsIn(t, db, "")
	if queued := queuedRuns(t, db); !slices.Equal(queued, made) {
		t.Errorf("queued %v, want every run made %v", queued, made)
	}
	want := fmt.Sprintf(`level=WARN msg="outbox: not all delivered before exit; the rest goes at the next start" outbox=sync queued=%d`, len(made))
	if !strings.Contains(stderr.text(), want) {
		t.Errorf("stderr lacks %s:\n%s", want, stderr.text())
	}
}

// TestHeartbeatSilence: a monitor with no checks sends heartbeats, which
// serve stores as runs without records; when they stop for three of the
// app's intervals serve notifies that the app is silent, and when they
// come back, that it is resolved.
func TestHeartbeatSilence(t *testing.T) {
	hook := newReceiver(t, http.StatusOK)
	srvDir, monDir := t.TempDir(), t.TempDir()
	writeConfig(t, srvDir, "HEALTH_CHECK_INTERVAL: 0.2\nNOTIFICATIONS:\n  - {url: \""+hook.URL+"/hook\"}\n")
	key := apiKey(t, srvDir, nil, "cron")
	srv := startServe(t, srvDir, nil, "127.0.0.1:0")
	writeConfig(t, monDir, "HEALTH_CHECK_INTERVAL: 0.2\nSYNC_HEALTH_CHECK_DATA: true\nSYNC_SERVER_URL: "+srv.url+
		"\nSYNC_APP_ID: cron\nSYNC_API_KEY: "+key+"\nchecks: []\n")
	serveDB := openDB(t, "sqlite:"+filepath.Join(srvDir, "healthjob.db"))
	beats := func() (runs, checks int) {
		if err := serveDB.QueryRow(`SELECT count(*), coalesce(sum(checks), 0) FROM healthjob_run WHERE app_id = 'cron'`).Scan(&runs, &checks); err != nil {
			t.Fatal(err)
		}
		return runs, checks
	}
	mon, _, stderr := startMonitor(t, monDir, nil)
	eventually(t, "three heartbeats", func() bool { runs, _ := beats(); return runs >= 3 })
	stopMonitor(t, mon, stderr)
	if strings.Contains(stderr.text(), "level=WARN") || strings.Contains(stderr.text(), "level=ERROR") {
		t.Errorf("the monitor complained:\n%s", stderr.text())
	}
	if _, checks := beats(); checks != 0 {
		t.Errorf("heartbeats stored with %d checks", checks)
	}
	var records int
	if err := serveDB.QueryRow(`SELECT count(*) FROM django_health_check_job_heathcheckjob`).Scan(&records); err != nil || records != 0 {
		t.Errorf("%d records (%v), want none", records, err)
	}

	<-hook.got
	silent := hook.message(t, 0)
	if !regexp.MustCompile(`^unavailable: no payload for \d+s; it reports every 1s$`).MatchString(silent.Message) ||
		silent != (message{"triggered", "cron", "heartbeat", "failing", silent.Message}) {
		t.Errorf("when the heartbeats stopped, the hook got %+v", silent)
	}
	mon, _, stderr = startMonitor(t, monDir, nil)
	<-hook.got
	if back := hook.message(t, 1); back != (message{"resolved", "cron", "heartbeat", "ok", "working"}) {
		t.Errorf("when the heartbeats came back, the hook got %+v", back)
	}
	stopMonitor(t, mon, stderr)
	srv.stop(t)
}

// proxy stands between monitors and serve and breaks what fault says for
// each request: "" forwards it; "500" answers 500 without forwarding;
// "503 after" forwards, then answers 503 (stored, but the monitor cannot
// know); "slow" waits until the monitor gives up, then forwards (stored
// after the timeout); "hold" waits for release, then forwards.
type proxy struct {
	*httptest.Server
	target  string
	release chan struct{}
	held    chan struct{} // a request is held
	settled chan struct{} // a held request was forwarded
	mu      sync.Mutex
	answers map[int]int // serve's answers by status
}

func newProxy(t *testing.T, target string, fault func(n int) string) *proxy {
	p := &proxy{target: target, release: make(chan struct{}), held: make(chan struct{}, 100), settled: make(chan struct{}, 100), answers: map[int]int{}}
	n := 0
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		n++
		f := fault(n)
		p.mu.Unlock()
		switch f {
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
			return
		case "slow":
			<-r.Context().Done()
		case "hold":
			p.held <- struct{}{}
			<-p.release
		}
		code := p.forward(t, r, body)
		switch f {
		case "hold":
			p.settled <- struct{}{}
		case "503 after":
			code = http.StatusServiceUnavailable
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(p.Close)
	return p
}

// forward posts the request to serve, whether the monitor still waits or
// not, and returns serve's status.
func (p *proxy) forward(t *testing.T, r *http.Request, body []byte) int {
	req, err := http.NewRequest(r.Method, p.target+r.URL.Path, strings.NewReader(string(body)))
	if err != nil {
		t.Error(err)
		return http.StatusBadGateway
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return http.StatusBadGateway
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	p.mu.Lock()
	p.answers[resp.StatusCode]++
	p.mu.Unlock()
	return resp.StatusCode
}

func (p *proxy) answered(code int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answers[code]
}

// TestFleetFlakyServer: half the requests fail at random (seeded): 500
// before serve sees them, or 503 after serve stored them. Every run
// arrives once, in order; the ones stored behind a 503 come back as
// duplicates, answered 200 and not stored again.
func TestFleetFlakyServer(t *testing.T) {
	srvDir, monDir := t.TempDir(), t.TempDir()
	key := apiKey(t, srvDir, nil, "billing")
	srv := startServe(t, srvDir, nil, "127.0.0.1:0")
	rnd := mrand.New(mrand.NewPCG(7, 11))
	p := newProxy(t, srv.url, func(int) string {
		switch rnd.IntN(4) {
		case 0:
			return "500"
		case 1:
			return "503 after"
		}
		return ""
	})
	writeConfig(t, monDir, monitorYAML(monDir, p.URL, key, persistSQLite))
	mon, stdout, stderr := startMonitor(t, monDir, nil)
	serveDB, monitorDB := openDB(t, "sqlite:"+filepath.Join(srvDir, "healthjob.db")), openDB(t, "sqlite:"+filepath.Join(monDir, "healthjob.db"))
	stdout.waitFor(t, "True ", 30)
	eventually(t, "a duplicate", func() bool { return p.answered(http.StatusOK) > 0 })
	caughtUp(t, serveDB, monitorDB, "billing")
	stopMonitor(t, mon, stderr)
	made, _ := runsIn(t, monitorDB, "")
	assertDelivered(t, serveDB, monitorDB, "billing", made)
	if !strings.Contains(stderr.text(), ": 500 Internal Server Error") || !strings.Contains(stderr.text(), ": 503 Service Unavailable") {
		t.Errorf("no failed delivery logged:\n%s", stderr.text())
	}
}

// TestFleetSlowServer: for a while, serve answers one request in three
// only after the monitor's SYNC_TIMEOUT, and stores it; the monitor
// retries, and each run is stored once.
func TestFleetSlowServer(t *testing.T) {
	srvDir, monDir := t.TempDir(), t.TempDir()
	key := apiKey(t, srvDir, nil, "billing")
	srv := startServe(t, srvDir, nil, "127.0.0.1:0")
	p := newProxy(t, srv.url, func(n int) string {
		if n%3 == 0 && n <= 30 {
			return "slow"
		}
		return ""
	})
	writeConfig(t, monDir, monitorYAML(monDir, p.URL, key, persistSQLite))
	mon, stdout, stderr := startMonitor(t, monDir, nil)
	serveDB, monitorDB := openDB(t, "sqlite:"+filepath.Join(srvDir, "healthjob.db")), openDB(t, "sqlite:"+filepath.Join(monDir, "healthjob.db"))
	stdout.waitFor(t, "True ", 20)
	stderr.waitFor(t, "Client.Timeout exceeded", 2)
	eventually(t, "a duplicate", func() bool { return p.answered(http.StatusOK) > 0 })
	caughtUp(t, serveDB, monitorDB, "billing")
	stopMonitor(t, mon, stderr)
	made, _ := runsIn(t, monitorDB, "")
	assertDelivered(t, serveDB, monitorDB, "billing", made)
}

// TestMonitorKill9: the monitor is killed with SIGKILL while a delivery is
// in flight, then started again: the run in flight, and every run queued
// behind it, is delivered once, in order.
func TestMonitorKill9(t *testing.T) {
	srvDir, monDir := t.TempDir(), t.TempDir()
	key := apiKey(t, srvDir, nil, "billing")
	srv := startServe(t, srvDir, nil, "127.0.0.1:0")
	p := newProxy(t, srv.url, func(n int) string {
		if n == 5 {
			return "hold"
		}
		return ""
	})
	writeConfig(t, monDir, monitorYAML(monDir, p.URL, key, persistSQLite))
	mon, stdout, _ := startMonitor(t, monDir, nil)
	<-p.held
	before := strings.Count(stdout.text(), "True ")
	stdout.waitFor(t, "True ", before+5) // runs queue behind the one in flight
	mon.Process.Kill()
	mon.Wait()
	close(p.release)
	<-p.settled // serve stored the run the monitor never heard of
	serveDB, monitorDB := openDB(t, "sqlite:"+filepath.Join(srvDir, "healthjob.db")), openDB(t, "sqlite:"+filepath.Join(monDir, "healthjob.db"))

	mon, stdout, stderr := startMonitor(t, monDir, nil)
	stdout.waitFor(t, "True ", 5)
	caughtUp(t, serveDB, monitorDB, "billing")
	stopMonitor(t, mon, stderr)
	made, _ := runsIn(t, monitorDB, "")
	assertDelivered(t, serveDB, monitorDB, "billing", made)
	if p.answered(http.StatusOK) == 0 {
		t.Error("the run in flight at the kill was not delivered again")
	}
}

// faultsCluster is the PostgreSQL cluster that TestMonitorDatabaseRestart
// stops and starts: never the machine's own (see .ci/setup.d/pg-faults.sh).
var faultsCluster = healthjobtest.Env("HEALTHJOB_PG_FAULTS_URL", "postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable")

// pgctl runs pg_ctlcluster on the faults cluster: start or stop.
func pgctl(t *testing.T, action string) {
	t.Helper()
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		healthjobtest.Missing(t, "no PostgreSQL cluster tools (/etc/postgresql)")
	}
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", versions[len(versions)-1].Name(), "healthjob", action).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "already running") {
		t.Fatalf("pg_ctlcluster %s: %v\n%s", action, err, out)
	}
}

// TestMonitorDatabaseRestart: the monitor's records database (PostgreSQL)
// is stopped and started again. Meanwhile the runs wait in the local
// outbox file; then they are written, in order, and delivered to serve
// after the ones before them. Nothing is lost.
func TestMonitorDatabaseRestart(t *testing.T) {
	u, _ := url.Parse(faultsCluster)
	healthjobtest.NeedService(t, u.Host, "the pg-faults cluster of .ci/setup.d/pg-faults.sh")
	dbURL := testdb.Postgres(t, faultsCluster, "healthjob_faults_", "PostgreSQL for serve")
	t.Cleanup(func() { pgctl(t, "start") }) // leave it as found, before the database is dropped
	srvDir, monDir := t.TempDir(), t.TempDir()
	key := apiKey(t, srvDir, nil, "billing")
	srv := startServe(t, srvDir, nil, "127.0.0.1:0")
	writeConfig(t, monDir, monitorYAML(monDir, srv.url, key, "PERSIST_HEALTH_CHECK_DATA: true\nDATABASE_URL: "+dbURL))
	mon, stdout, stderr := startMonitor(t, monDir, nil)
	serveDB, monitorDB := openDB(t, "sqlite:"+filepath.Join(srvDir, "healthjob.db")), openDB(t, dbURL)
	stdout.waitFor(t, "True ", 5)

	pgctl(t, "stop")
	stderr.waitFor(t, `msg="records database unavailable: runs wait in the outbox until it is back"`, 1)
	before := strings.Count(stdout.text(), "True ")
	stdout.waitFor(t, "True ", before+10)
	pgctl(t, "start")
	stderr.waitFor(t, `msg="outbox: delivering again" outbox=persist`, 1)
	caughtUp(t, serveDB, monitorDB, "billing")
	stopMonitor(t, mon, stderr)

	made, _ := runsIn(t, monitorDB, "")
	if cycles := strings.Count(stdout.text(), "True "); len(made) != cycles {
		t.Errorf("%d runs in PostgreSQL, %d cycles printed: runs were lost", len(made), cycles)
	}
	var disorder int
	if err := monitorDB.QueryRow(`SELECT count(*) FROM (SELECT created_at < lag(created_at) OVER (ORDER BY id) AS back
		FROM django_health_check_job_heathcheckjob) r WHERE back`).Scan(&disorder); err != nil || disorder != 0 {
		t.Errorf("%d records written out of order (%v)", disorder, err)
	}
	assertDelivered(t, serveDB, monitorDB, "billing", made)
	var waiting int
	if err := openDB(t, "sqlite:"+filepath.Join(monDir, "healthjob-outbox.db")).QueryRow(`SELECT count(*) FROM healthjob_outbox`).Scan(&waiting); err != nil || waiting != 0 {
		t.Errorf("%d runs left in the local outbox (%v)", waiting, err)
	}
}

// TestOutboxFull: with serve away and SYNC_OUTBOX_MAX 3, the outbox file
// keeps the 3 newest payloads; each one dropped is logged and counted.
// When serve is back, it receives every run that was not dropped, once.
func TestOutboxFull(t *testing.T) {
	srvDir, monDir := t.TempDir(), t.TempDir()
	key := apiKey(t, srvDir, nil, "billing")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // serve is away: refused
	writeConfig(t, monDir, monitorYAML(monDir, "http://"+addr, key, "SYNC_OUTBOX_MAX: 3"))
	const token = "t0ken"
	base, stop, stderr := monitorHTTP(t, monDir, []string{"METRICS_TOKEN=" + token})
	stderr.waitFor(t, `msg="outbox full: the oldest payloads were dropped" outbox=sync dropped=1`, 5)
	srv := startServe(t, srvDir, nil, addr)
	serveDB := openDB(t, "sqlite:"+filepath.Join(srvDir, "healthjob.db"))
	eventually(t, "serve to receive the runs", func() bool { got, _ := runsIn(t, serveDB, ""); return len(got) > 5 })
	m := scrapeMetrics(t, base+"/metrics", token)
	if err := stop(); err != nil {
		t.Errorf("monitor exit: %v\n%s", err, stderr.text())
	}

	dropped := regexp.MustCompile(`msg="outbox full: the oldest payloads were dropped" outbox=sync dropped=1 first=(\S+) last=(\S+)`).FindAllStringSubmatch(stderr.text(), -1)
	if got := m[`healthjob_outbox_dropped_total{reason="full"}`]; got != float64(len(dropped)) {
		t.Errorf("healthjob_outbox_dropped_total{reason=\"full\"} = %g, %d logged", got, len(dropped))
	}
	delivered, records := runsIn(t, serveDB, "billing")
	for _, d := range dropped {
		if d[1] != d[2] || slices.Contains(delivered, d[1]) {
			t.Errorf("dropped %s (to %s) yet delivered", d[1], d[2])
		}
	}
	cycles := regexp.MustCompile(`msg="monitor stopped" cycles=(\d+)`).FindStringSubmatch(stderr.text())
	if cycles == nil || fmt.Sprint(len(delivered)+len(dropped)) != cycles[1] {
		t.Errorf("%d delivered + %d dropped, want every cycle: %v", len(delivered), len(dropped), cycles)
	}
	for i, n := range records {
		if n != 2 {
			t.Errorf("run %s stored %d times", delivered[i], n/2)
		}
	}
	var disorder int
	if err := serveDB.QueryRow(`SELECT count(*) FROM (SELECT created_at < lag(created_at) OVER (ORDER BY id) AS back
		FROM django_health_check_job_heathcheckjob) r WHERE back`).Scan(&disorder); err != nil || disorder != 0 {
		t.Errorf("%d records arrived out of order (%v)", disorder, err)
	}
	srv.stop(t)
}

// TestFleetPostgres: three applications report through a round-robin load
// balancer to two serve replicas on one PostgreSQL database, with one key
// for every app; a replica stops midway. Each app's runs arrive once, in
// order.
func TestFleetPostgres(t *testing.T) {
	dbURL := testdb.Postgres(t, postgresURL, "healthjob_fleet_", "PostgreSQL for serve")
	env := []string{"DATABASE_URL=" + dbURL}
	srvDir := t.TempDir()
	a, b := startServe(t, srvDir, env, "127.0.0.1:0"), startServe(t, srvDir, env, "127.0.0.1:0")
	key := apiKey(t, srvDir, env, "*")
	var mu sync.Mutex
	n := 0
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		backend := []string{a.url, b.url}[n%2]
		mu.Unlock()
		target, _ := url.Parse(backend)
		(&httpProxy{target}).ServeHTTP(w, r)
	}))
	defer lb.Close()

	type monitor struct {
		cmd            *proc
		stdout, stderr *lineWatcher
		db             *sql.DB
	}
	var monitors []monitor
	for _, app := range []string{"billing", "payroll", "search"} {
		dir := t.TempDir()
		writeConfig(t, dir, strings.Replace(monitorYAML(dir, lb.URL, key, persistSQLite), "SYNC_APP_ID: billing", "SYNC_APP_ID: "+app, 1))
		cmd, stdout, stderr := startMonitor(t, dir, nil)
		monitors = append(monitors, monitor{cmd, stdout, stderr, openDB(t, "sqlite:"+filepath.Join(dir, "healthjob.db"))})
	}
	for _, m := range monitors {
		m.stdout.waitFor(t, "True ", 10)
	}
	a.stop(t) // one replica goes: half the requests fail until retried
	for _, m := range monitors {
		before := strings.Count(m.stdout.text(), "True ")
		m.stdout.waitFor(t, "True ", before+10)
	}
	serveDB := openDB(t, dbURL)
	for i, app := range []string{"billing", "payroll", "search"} {
		m := monitors[i]
		caughtUp(t, serveDB, m.db, app)
		stopMonitor(t, m.cmd, m.stderr)
		made, _ := runsIn(t, m.db, "")
		assertDelivered(t, serveDB, m.db, app, made)
	}
	b.stop(t)
}

// httpProxy forwards a request to target and copies the answer; a target
// that is down answers 502.
type httpProxy struct{ target *url.URL }

func (p *httpProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target.String()+r.URL.RequestURI(), r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// TestLegacyPythonClient: the original monitor's sync, in Python with
// requests, reports to serve unchanged for an app of SERVE_OPEN_APPS,
// with every timestamp form isoformat() writes; a retried payload is a
// duplicate, and an app that is not open needs a key.
func TestLegacyPythonClient(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil || exec.Command(python, "-c", "import requests").Run() != nil {
		healthjobtest.Missing(t, "python3 with requests, the original monitor's HTTP client")
	}
	srvDir := t.TempDir()
	srv := startServe(t, srvDir, []string{"SERVE_OPEN_APPS=legacy-billing, legacy-search"}, "127.0.0.1:0")
	// django_health_check_job.utils.sync_health_check_data_to_monitoring_server, as the spec describes it.
	script := `
import datetime, sys, uuid, requests

def sync(payload, app):
    payload["sync_app_id"] = app
    r = requests.post(f"{sys.argv[1]}/v1/metrics", json=payload, timeout=5)
    return r

for ts in (datetime.datetime(2023, 11, 20, 12, 0, 0), datetime.datetime.utcnow(), datetime.datetime.now(datetime.timezone.utc)):
    payload = {"uuid": str(uuid.uuid4()), "timestamp": ts.isoformat(),
               "checks": [{"name": "DatabaseBackend", "status": 1, "message": "working"},
                          {"name": "Cache backend: default", "status": 0, "message": "unavailable: Cache key does not match"}]}
    r = sync(payload, "legacy-billing")
    r.raise_for_status()
    print(r.status_code, r.json()["uuid"] == payload["uuid"], sync(payload, "legacy-billing").status_code)
r = sync(payload, "billing")
print(r.status_code, r.json()["field"])
`
	var stderr strings.Builder
	py := exec.Command(python, "-c", script, srv.url)
	py.Stderr = &stderr // utcnow() is deprecated in Python 3.12, and says so
	out, err := py.Output()
	if want := "202 True 200\n202 True 200\n202 True 200\n401 Authorization\n"; err != nil || string(out) != want {
		t.Errorf("python: %v\n%s%s\nwant\n%s", err, out, stderr.String(), want)
	}
	serveDB := openDB(t, "sqlite:"+filepath.Join(srvDir, "healthjob.db"))
	var first string
	if err := serveDB.QueryRow(`SELECT created_at || '' FROM django_health_check_job_heathcheckjob ORDER BY id LIMIT 1`).Scan(&first); err != nil || first != "2023-11-20 12:00:00.000000" {
		t.Errorf("the first record's created_at: %q (%v)", first, err)
	}
	runs, _ := runsIn(t, serveDB, "legacy-billing")
	if len(runs) != 3 {
		t.Errorf("%d runs stored, want 3", len(runs))
	}
	srv.stop(t)
}

// TestOutboxSettings: each bad setting of the outbox and of serve is one
// line naming it, exit 2; the keys are masked by `healthjob config`.
func TestOutboxSettings(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tt := range []struct {
		env    []string
		args   []string
		code   int
		stderr string
	}{
		{[]string{"SYNC_OUTBOX_MAX=0"}, []string{"monitor"}, 2, "healthjob monitor: SYNC_OUTBOX_MAX (environment): must be 1 payload or more, got 0\n"},
		{[]string{"SYNC_OUTBOX_MAX_MB=-1"}, []string{"check"}, 2, "healthjob check: SYNC_OUTBOX_MAX_MB (environment): must be more than 0 MB, got -1\n"},
		{[]string{"SYNC_BACKOFF_MIN=0"}, []string{"monitor"}, 2, "healthjob monitor: SYNC_BACKOFF_MIN (environment): must be more than 0, got 0s\n"},
		{[]string{"SYNC_BACKOFF_MIN=2s", "SYNC_BACKOFF_MAX=1s"}, []string{"monitor"}, 2, "healthjob monitor: SYNC_BACKOFF_MAX (environment): must be SYNC_BACKOFF_MIN (2s) or more, got 1s\n"},
		{[]string{"SERVE_HTTP=8000"}, []string{"serve"}, 2, `healthjob serve: SERVE_HTTP (environment): want a listen address host:port such as 127.0.0.1:8000 or :8000, got "8000"` + "\n"},
		{[]string{"SERVE_SIGNATURE_MAX_AGE=0"}, []string{"serve"}, 2, "healthjob serve: SERVE_SIGNATURE_MAX_AGE (environment): must be more than 0, got 0s\n"},
		{nil, []string{"serve", "--http", "localhost"}, 2, `healthjob serve: --http: want a listen address host:port such as 127.0.0.1:8000 or :8000, got "localhost"` + "\n"},
		{nil, []string{"serve", "--http", busy.Addr().String()}, 1, "healthjob serve: cannot serve HTTP: listen tcp " + busy.Addr().String() + ": bind: address already in use\n"},
	} {
		if r := healthjob(t, dir, tt.env, tt.args...); r.code != tt.code || !strings.HasSuffix(r.stderr, tt.stderr) {
			t.Errorf("%v %v: exit %d, %q; want %d, %q", tt.env, tt.args, r.code, r.stderr, tt.code, tt.stderr)
		}
	}
	r := healthjob(t, dir, []string{"SYNC_API_KEY=hj_secret1", "SYNC_SIGNING_KEY=secret2", "SERVE_SIGNING_KEY=secret3", "SERVE_OPEN_APPS=legacy,other"}, "config")
	if r.code != 0 || strings.Contains(r.stdout, "secret") ||
		!strings.Contains(r.stdout, "SYNC_API_KEY: '*****'\nSYNC_SIGNING_KEY: '*****'\nSERVE_HTTP: :8000\nSERVE_OPEN_APPS:\n    - legacy\n    - other\nSERVE_SIGNING_KEY: '*****'\n") ||
		!strings.Contains(r.stdout, "SYNC_OUTBOX_PATH: \"\"\nSYNC_OUTBOX_MAX: 100000\nSYNC_OUTBOX_MAX_MB: 256\nSYNC_BACKOFF_MIN: 1s\nSYNC_BACKOFF_MAX: 1m0s\n") {
		t.Errorf("config: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestCheckSyncs: `healthjob check` delivers its run before it exits,
// through an outbox file beside the SQLite records, with the API key.
func TestCheckSyncs(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var auth []string
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization")+" "+r.Header.Get("User-Agent")[:10])
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sink.Close()
	os.Mkdir(filepath.Join(dir, "data"), 0o755)
	writeConfig(t, dir, "SYNC_HEALTH_CHECK_DATA: true\nSYNC_SERVER_URL: "+sink.URL+"\nSYNC_APP_ID: billing\nSYNC_API_KEY: hj_k\nDATABASE_URL: sqlite:data/records.db\nchecks:\n  - {type: exec, name: \"True\", command: [/bin/true]}\n")
	if r := healthjob(t, dir, nil, "check"); r.code != 0 {
		t.Fatalf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 1 || auth[0] != "Bearer hj_k healthjob/" {
		t.Errorf("requests: %q", auth)
	}
	var waiting int
	if err := openDB(t, "sqlite:"+filepath.Join(dir, "data", "healthjob-outbox.db")).QueryRow(`SELECT count(*) FROM healthjob_outbox`).Scan(&waiting); err != nil || waiting != 0 {
		t.Errorf("%d payloads left in data/healthjob-outbox.db (%v)", waiting, err)
	}
}

// TestFleetSigned: a monitor signs its payloads with SYNC_SIGNING_KEY and
// serve, with the same SERVE_SIGNING_KEY, takes them; a monitor with
// another key is refused (401), keeps its runs and says why.
func TestFleetSigned(t *testing.T) {
	srvDir, good, bad := t.TempDir(), t.TempDir(), t.TempDir()
	env := []string{"SERVE_SIGNING_KEY=s3cret"}
	key := apiKey(t, srvDir, env, "billing")
	srv := startServe(t, srvDir, env, "127.0.0.1:0")
	writeConfig(t, good, monitorYAML(good, srv.url, key, persistSQLite+"\nSYNC_SIGNING_KEY: s3cret"))
	writeConfig(t, bad, monitorYAML(bad, srv.url, key, "SYNC_SIGNING_KEY: guess"))
	mon, stdout, stderr := startMonitor(t, good, nil)
	other, _, otherErr := startMonitor(t, bad, nil)
	stdout.waitFor(t, "True ", 5)
	otherErr.waitFor(t, `error="POST `+srv.url+`/v1/metrics: 401 Unauthorized: {\"error\":\"X-Healthjob-Signature: the signature does not match the body\",\"field\":\"X-Healthjob-Signature\"}"`, 2)
	serveDB, monitorDB := openDB(t, "sqlite:"+filepath.Join(srvDir, "healthjob.db")), openDB(t, "sqlite:"+filepath.Join(good, "healthjob.db"))
	caughtUp(t, serveDB, monitorDB, "billing")
	stopMonitor(t, mon, stderr)
	made, _ := runsIn(t, monitorDB, "")
	assertDelivered(t, serveDB, monitorDB, "billing", made)
	other.Process.Kill()
	other.Wait()
	var waiting int
	if err := openDB(t, "sqlite:"+filepath.Join(bad, "healthjob-outbox.db")).QueryRow(`SELECT count(*) FROM healthjob_outbox`).Scan(&waiting); err != nil || waiting < 2 {
		t.Errorf("%d runs kept by the refused monitor (%v), want 2 or more", waiting, err)
	}
	srv.stop(t)
}
