package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/healthjob/healthjob/healthjobtest"

	_ "modernc.org/sqlite"
)

// binary is the healthjob command built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "healthjob-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "healthjob")
	build := exec.Command("go", "build", "-o", binary, "../cmd/healthjob")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // the binary must build static
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build healthjob: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

// healthjob runs the binary in dir with a clean environment plus env.
func healthjob(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := command(dir, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func command(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "DISK_USAGE_MAX=100", "MEMORY_MIN=1"}, env...)
	return cmd
}

func writeConfig(t *testing.T, dir, yaml string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "healthjob.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheckDefaultSet(t *testing.T) {
	dir := t.TempDir()
	r := healthjob(t, dir, nil, "check")
	want := "DatabaseBackend          ... working\n" +
		"DatabaseHeartBeatCheck   ... working\n" +
		"DefaultFileStorageHealthCheck ... working\n" +
		"DiskUsage                ... working\n" +
		"MemoryUsage              ... working\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and\n%s", r.code, r.stdout, r.stderr, want)
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("colour codes on a pipe")
	}
}

func TestColor(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "checks:\n  - {type: storage, path: "+dir+"}\n  - {type: storage, name: Broken, path: "+dir+"/missing}\n")
	r := healthjob(t, dir, nil, "check", "--color", "always")
	if !strings.Contains(r.stdout, "DefaultFileStorageHealthCheck ... \x1b[32;1mworking\x1b[0m\n") ||
		!strings.Contains(r.stdout, "Broken                   ... \x1b[31;1munavailable: Unknown exception") {
		t.Errorf("--color always: %q", r.stdout)
	}
	for _, args := range [][]string{{"check"}, {"check", "--color", "never"}} {
		if r := healthjob(t, dir, nil, args...); strings.Contains(r.stdout, "\x1b[") {
			t.Errorf("%v: colour codes in %q", args, r.stdout)
		}
	}
	if r := healthjob(t, dir, nil, "check", "--color", "sometimes"); r.code != 2 ||
		!strings.Contains(r.stderr, `invalid value "sometimes" for flag -color: want auto, always or never`) {
		t.Errorf("bad --color: exit %d, %q", r.code, r.stderr)
	}
}

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, yaml string
		code       int
	}{
		{"AllPass", "checks:\n  - {type: storage, path: " + dir + "}\n", 0},
		{"CriticalFails", "checks:\n  - {type: storage, path: " + dir + "/missing}\n", 1},
		{"NonCriticalFails", "checks:\n  - {type: storage, path: " + dir + "/missing, critical: false}\n", 0},
		{"WarningIsError", "checks:\n  - {type: disk, max: 0.001}\n", 1},
		{"WarningNotError", "WARNINGS_AS_ERRORS: false\nchecks:\n  - {type: disk, max: 0.001}\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeConfig(t, dir, tt.yaml)
			if r := healthjob(t, dir, nil, "check"); r.code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestCheckJSONAndSubset(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "SUBSETS: {startup: [Files]}\nchecks:\n  - {type: storage, name: Files, path: "+dir+"}\n  - {type: disk}\n")
	r := healthjob(t, dir, nil, "check", "--subset", "startup", "--format", "json")
	var run struct {
		UUID      string `json:"uuid"`
		Timestamp string `json:"timestamp"`
		Checks    []struct {
			Name    string `json:"name"`
			Status  int    `json:"status"`
			Message string `json:"message"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatalf("stdout is not the payload: %v\n%s", err, r.stdout)
	}
	if r.code != 0 || len(run.UUID) != 36 || len(run.Timestamp) != 26 || len(run.Checks) != 1 || run.Checks[0].Name != "Files" || run.Checks[0].Status != 1 {
		t.Errorf("exit %d, payload %+v", r.code, run)
	}
	r = healthjob(t, dir, nil, "check", "--subset", "nope")
	if r.code != 2 || r.stderr != "healthjob check: --subset: unknown subset \"nope\"; known subsets: startup\n" {
		t.Errorf("unknown subset: exit %d, %q", r.code, r.stderr)
	}
}

func TestBadConfiguration(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        []string
		args       []string
		stderr     string
	}{
		{"UnknownSetting", "HEALTH_CHECK_INTERVALL: 5\n", nil, []string{"check"},
			"healthjob check: healthjob.yaml:1: unknown setting HEALTH_CHECK_INTERVALL\n"},
		{"WrongType", "PERSIST_HEALTH_CHECK_DATA: sometimes\n", nil, []string{"monitor"},
			"healthjob monitor: healthjob.yaml:1: PERSIST_HEALTH_CHECK_DATA: want true or false, got \"sometimes\"\n"},
		{"OutOfRangeEnv", "", []string{"HEALTH_CHECK_INTERVAL=-1"}, []string{"monitor"},
			"healthjob monitor: HEALTH_CHECK_INTERVAL (environment): must be more than 0 seconds, got -1s\n"},
		{"SyncWithoutURL", "SYNC_HEALTH_CHECK_DATA: true\n", nil, []string{"monitor"},
			"healthjob monitor: SYNC_SERVER_URL: setting is not set; SYNC_HEALTH_CHECK_DATA is on and needs the monitoring server's base URL\n"},
		{"UnknownCheckType", "checks:\n  - {type: oracle}\n", nil, []string{"check"},
			"healthjob check: healthjob.yaml:2: checks[1] (oracle): unknown check type \"oracle\"; known types: "},
		{"UnknownOption", "checks:\n  - type: disk\n    paht: /\n", nil, []string{"check"},
			"healthjob check: healthjob.yaml:3: checks[1] (disk): unknown option paht\n"},
		{"NameTooLong", "checks:\n  - {type: disk, name: " + strings.Repeat("n", 51) + "}\n", nil, []string{"check"},
			"healthjob check: healthjob.yaml:2: checks[1] (disk): name \"" + strings.Repeat("n", 51) + "\" is 51 characters; at most 50 fit the records table\n"},
		{"DuplicateDefaultName", "checks:\n  - {type: disk}\n  - {type: disk}\n", nil, []string{"check"},
			"healthjob check: healthjob.yaml:3: checks[2] (disk): \"DiskUsage\": a check of that name is already registered\n"},
		{"UnknownFlag", "", nil, []string{"check", "--verbose"}, "flag provided but not defined: -verbose\n"},
		{"StrayArgument", "", nil, []string{"check", "now"},
			"healthjob check: unexpected argument \"now\"; flags go before it? see --help\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, tt.yaml)
			r := healthjob(t, dir, tt.env, tt.args...)
			if r.code != 2 || !strings.HasPrefix(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and\n%s", r.code, r.stderr, tt.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("a stack trace reached the user: %s", r.stderr)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	r := healthjob(t, t.TempDir(), nil, "moniter")
	if r.code != 2 || r.stderr != "healthjob: unknown command \"moniter\"; run `healthjob help` for the list\n" {
		t.Errorf("exit %d, %q", r.code, r.stderr)
	}
	r = healthjob(t, t.TempDir(), nil, "help")
	if r.code != 0 || !strings.Contains(r.stdout, "monitor    run the checks every HEALTH_CHECK_INTERVAL seconds until stopped") {
		t.Errorf("help: exit %d, %q", r.code, r.stdout)
	}
	r = healthjob(t, t.TempDir(), nil, "check", "--help")
	if r.code != 0 || !strings.Contains(r.stderr, "Usage: healthjob check [--config FILE] [--subset NAME] [--format text|json]") {
		t.Errorf("check --help: exit %d, %q", r.code, r.stderr)
	}
}

func TestRecordsInSQLite(t *testing.T) {
	dir := t.TempDir()
	r := healthjob(t, dir, []string{"PERSIST_HEALTH_CHECK_DATA=true"}, "check")
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "healthjob.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, status, message, run_uuid, level FROM django_health_check_job_heathcheckjob ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	uuids := map[string]bool{}
	for rows.Next() {
		var name, message, uuid, level string
		var status int
		if err := rows.Scan(&name, &status, &message, &uuid, &level); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %d %s %s", name, status, message, level))
		uuids[uuid] = true
	}
	want := "DatabaseBackend 1 working ok,DatabaseHeartBeatCheck 1 working ok,DefaultFileStorageHealthCheck 1 working ok,DiskUsage 1 working ok,MemoryUsage 1 working ok"
	if strings.Join(got, ",") != want || len(uuids) != 1 {
		t.Errorf("records = %v (%d run uuids), want %s in one run", got, len(uuids), want)
	}
	if r := healthjob(t, dir, nil, "check"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM django_health_check_job_heathcheckjob`).Scan(&n)
	if n != 5 {
		t.Errorf("%d rows after a run with PERSIST_HEALTH_CHECK_DATA off, want still 5", n)
	}
}

func TestMigrateConfigVersion(t *testing.T) {
	dir := t.TempDir()
	sqliteMigrations, err := filepath.Glob("../internal/store/migrations/sqlite/*.sql")
	if err != nil || len(sqliteMigrations) == 0 {
		t.Fatalf("migration files: %v", err)
	}
	r := healthjob(t, dir, nil, "migrate")
	if want := fmt.Sprintf("sqlite:healthjob.db: %d migrations applied; the schema is up to date\n", len(sqliteMigrations)); r.code != 0 || r.stdout != want {
		t.Errorf("migrate: exit %d, %q %q, want %q", r.code, r.stdout, r.stderr, want)
	}
	r = healthjob(t, dir, nil, "migrate")
	if r.code != 0 || r.stdout != "sqlite:healthjob.db: 0 migrations applied; the schema is up to date\n" {
		t.Errorf("second migrate: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	writeConfig(t, dir, "SYNC_SERVER_URL: https://user:hunter2@monitor.example.com\nDATABASE_URL: postgres://app:hunter2@db:5432/app\nchecks:\n  - {type: disk, path: /, failure_threshold: 4}\n")
	r = healthjob(t, dir, []string{"SYNC_APP_ID=billing"}, "config")
	if r.code != 0 || strings.Contains(r.stdout, "hunter2") ||
		!strings.Contains(r.stdout, "SYNC_SERVER_URL: https://user:*****@monitor.example.com\n") ||
		!strings.Contains(r.stdout, "SYNC_APP_ID: billing\n") ||
		!strings.Contains(r.stdout, "HEALTH_CHECK_INTERVAL: 5s\n") ||
		!strings.Contains(r.stdout, "checks:\n    - type: disk\n      failure_threshold: 4\n      path: /\n") {
		t.Errorf("config: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = healthjob(t, dir, nil, "config", "--validate")
	if r.code != 0 || r.stdout != "healthjob.yaml: valid, 1 checks\n" {
		t.Errorf("config --validate: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = healthjob(t, dir, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "healthjob ") {
		t.Errorf("version: %q", r.stdout)
	}
}

func TestStoreCannotOpen(t *testing.T) {
	dir := t.TempDir()
	r := healthjob(t, dir, []string{"PERSIST_HEALTH_CHECK_DATA=1", "DATABASE_URL=sqlite:" + dir + "/no/such/dir/h.db"}, "monitor")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "healthjob monitor: DATABASE_URL: open sqlite:"+dir+"/no/such/dir/h.db: unable to open database file") {
		t.Errorf("exit %d, %q", r.code, r.stderr)
	}
}

// lineWatcher collects a process's output lines and lets a test wait for one.
// It is the process's stdout or stderr, so that exec.Cmd.Wait returns only
// once every byte the process wrote has been seen.
type lineWatcher struct {
	mu      sync.Mutex
	cond    *sync.Cond
	lines   []string
	partial []byte
	done    bool
}

func newWatcher() *lineWatcher {
	w := &lineWatcher{}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *lineWatcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.lines = append(w.lines, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	w.cond.Broadcast()
	return len(b), nil
}

// close marks the end of the output.
func (w *lineWatcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.lines = append(w.lines, string(w.partial))
		w.partial = nil
	}
	w.done = true
	w.cond.Broadcast()
}

// waitLimit bounds a waitFor, so that a line that never comes fails the
// test with the output so far instead of hanging it.
const waitLimit = 2 * time.Minute

// waitFor blocks until n lines containing sub have been seen, or the
// stream ends, or waitLimit passes.
func (w *lineWatcher) waitFor(t *testing.T, sub string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	timer := time.AfterFunc(waitLimit, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.cond.Broadcast()
	})
	defer timer.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		count := 0
		for _, l := range w.lines {
			if strings.Contains(l, sub) {
				count++
			}
		}
		if count >= n {
			return
		}
		if w.done {
			t.Fatalf("output ended before %d lines with %q:\n%s", n, sub, strings.Join(w.lines, "\n"))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d lines with %q within %s:\n%s", n, sub, waitLimit, strings.Join(w.lines, "\n"))
		}
		w.cond.Wait()
	}
}

func (w *lineWatcher) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// proc is a started process whose output the test watches. Wait may be
// called any number of times; it returns once the process has exited and
// all of its output has been seen.
type proc struct {
	*exec.Cmd
	stdout, stderr *lineWatcher
	exited         chan struct{}
	err            error
}

// start starts cmd with watched output; the process is killed when the test ends.
func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{Cmd: cmd, stdout: newWatcher(), stderr: newWatcher(), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		p.stdout.close()
		p.stderr.close()
		close(p.exited)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-p.exited })
	return p
}

// Wait waits for the process to exit and returns its exit error.
func (p *proc) Wait() error {
	<-p.exited
	return p.err
}

// startMonitor starts `healthjob monitor` and watches its stdout and stderr.
func startMonitor(t *testing.T, dir string, env []string) (*proc, *lineWatcher, *lineWatcher) {
	t.Helper()
	p := start(t, command(dir, env, "monitor"))
	return p, p.stdout, p.stderr
}

// TestMonitorSIGTERM stops the monitor while a check runs: the cycle in
// flight completes and is printed, and the monitor exits 0.
func TestMonitorSIGTERM(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, dir, "checks:\n  - {type: exec, name: Slow, command: [sh, -c, 'echo > "+fifo+"; sleep 1']}\n")
	cmd, stdout, stderr := startMonitor(t, dir, nil)
	started, err := os.ReadFile(fifo) // returns once the check has written: it is running
	if err != nil || string(started) != "\n" {
		t.Fatalf("read %s: %q, %v", fifo, started, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("monitor after SIGTERM: %v, want exit 0\n%s", err, stderr.text())
	}
	if got := stdout.text(); got != "Slow                     ... working" {
		t.Errorf("stdout = %q, want the cycle in flight finished", got)
	}
	stderr.waitFor(t, "monitor stopped", 1)
}

// sink is a monitoring server whose answers the test scripts.
type sink struct {
	*httptest.Server
	mu       sync.Mutex
	payloads [][]byte
	answer   func(n int) int // status for the nth payload; 0 means hang up
	got      chan struct{}
}

func newSink(t *testing.T, answer func(n int) int) *sink {
	s := &sink{answer: answer, got: make(chan struct{}, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.payloads = append(s.payloads, body)
		n := len(s.payloads)
		s.mu.Unlock()
		s.got <- struct{}{}
		status := s.answer(n)
		if status == 0 {
			<-r.Context().Done() // slower than the sync timeout
			return
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestMonitorSync(t *testing.T) {
	dir := t.TempDir()
	// 1: accepted; 2: 500; 3: slower than the timeout; then the server is gone.
	s := newSink(t, func(n int) int { return map[int]int{1: 202, 2: 500, 3: 0}[n] })
	writeConfig(t, dir, fmt.Sprintf(`HEALTH_CHECK_INTERVAL: 0.3
SYNC_HEALTH_CHECK_DATA: true
SYNC_SERVER_URL: %s/
SYNC_APP_ID: billing
SYNC_TIMEOUT: 500ms
checks:
  - {type: storage, path: %s}
`, s.URL, dir))
	cmd, stdout, stderr := startMonitor(t, dir, nil)
	for range 3 {
		<-s.got
	}
	stderr.waitFor(t, "POST "+s.URL+"/v1/metrics: 500 Internal Server Error: answer 500", 1)
	stderr.waitFor(t, "Client.Timeout exceeded", 1)
	s.CloseClientConnections()
	s.Listener.Close() // refused from now on
	stderr.waitFor(t, "connection refused", 1)
	before := strings.Count(stdout.text(), "working")
	stdout.waitFor(t, "working", before+2) // still monitoring
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, stderr.text())
	}

	var p struct {
		UUID      string `json:"uuid"`
		Timestamp string `json:"timestamp"`
		SyncAppID string `json:"sync_app_id"`
		Checks    []struct {
			Name    string `json:"name"`
			Status  int    `json:"status"`
			Message string `json:"message"`
		} `json:"checks"`
	}
	s.mu.Lock()
	first := s.payloads[0]
	s.mu.Unlock()
	if err := json.Unmarshal(first, &p); err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse("2006-01-02T15:04:05.000000", p.Timestamp)
	if err != nil || time.Since(ts) > time.Minute || len(p.UUID) != 36 || p.SyncAppID != "billing" ||
		len(p.Checks) != 1 || p.Checks[0].Name != "DefaultFileStorageHealthCheck" || p.Checks[0].Status != 1 || p.Checks[0].Message != "working" {
		t.Errorf("payload = %s", first)
	}
}

// TestMonitorPersists writes one record per check per cycle into SQLite.
func TestMonitorPersists(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "HEALTH_CHECK_INTERVAL: 0.2\nPERSIST_HEALTH_CHECK_DATA: true\nchecks:\n  - {type: storage, path: "+dir+"}\n")
	cmd, stdout, stderr := startMonitor(t, dir, nil)
	stdout.waitFor(t, "working", 3)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.text())
	}
	cycles := strings.Count(stdout.text(), "working")
	db, err := sql.Open("sqlite", filepath.Join(dir, "healthjob.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM django_health_check_job_heathcheckjob`).Scan(&n); err != nil || n != cycles {
		t.Errorf("%d rows (%v), want one per printed cycle: %d", n, err, cycles)
	}
}

// TestCustomCheckExample builds examples/custom, a program of its own module
// that runs this command line with a check written in Go, and runs it.
func TestCustomCheckExample(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "mymonitor")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = "../examples/custom"
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build examples/custom: %v\n%s", err, out)
	}
	dir := t.TempDir()
	writeConfig(t, dir, "SUBSETS: {mine: [MyService]}\nchecks:\n  - {type: storage, path: "+dir+"}\n")
	run := func(env []string, args ...string) result {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, append([]string{"PATH=" + os.Getenv("PATH")}, env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		}
		return result{stdout.String(), stderr.String(), code}
	}
	r := run(nil, "check")
	if want := "DefaultFileStorageHealthCheck ... working\nMyService                ... working\n"; r.code != 0 || r.stdout != want {
		t.Errorf("check: exit %d\n%s%s\nwant\n%s", r.code, r.stdout, r.stderr, want)
	}
	r = run([]string{"MY_SERVICE_ADDR=" + healthjobtest.ClosedPort(t)}, "check", "--subset", "mine")
	if want := "MyService                ... unavailable: Service is not responding\n"; r.code != 1 || r.stdout != want {
		t.Errorf("check --subset mine, service down: exit %d\n%s%s\nwant exit 1 and\n%s", r.code, r.stdout, r.stderr, want)
	}
}
