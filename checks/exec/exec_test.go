package exec_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/exec"
	"github.com/healthjob/healthjob/healthjobtest"
)

const timeout = 2 * time.Second

func mustNew(t *testing.T, cfg exec.Config) *exec.Check {
	t.Helper()
	c, err := exec.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// script writes a shell script to a temporary directory and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "check_test")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"ok", `echo "OK - 3 connections | conns=3;10;20"`, "working"},
		{"ok with output on stderr", `echo "deprecated option" >&2`, "working"},
		{"warning", `echo "DISK WARNING - free space: / 900 MB (9%) | /=9100MB;9000;9500"; exit 1`,
			"warning: DISK WARNING - free space: / 900 MB (9%)"},
		{"critical, long output", `printf '\n  CRITICAL - connection refused  \nsecond line\n'; exit 2`,
			"unavailable: CRITICAL - connection refused"},
		{"unknown", `echo "UNKNOWN - invalid option -x"; exit 3`, "unexpected result: UNKNOWN: UNKNOWN - invalid option -x"},
		{"warning without output", `exit 1`, "warning: exit status 1"},
		{"critical without output", `echo "| conns=0"; exit 2`, "unavailable: exit status 2"},
		{"unknown without output", `exit 3`, "unexpected result: UNKNOWN: exit status 3"},
		{"other code", `echo oops; exit 4`, "unexpected result: exit status 4: oops"},
		{"other code without output", `exit 127`, "unexpected result: exit status 127"},
		{"message on stderr", `echo "psql: connection refused" >&2; exit 2`, "unavailable: psql: connection refused"},
		{"stdout first", `echo "CRITICAL - down"; echo "noise" >&2; exit 2`, "unavailable: CRITICAL - down"},
		{"killed by a signal", `kill -9 $$`, "unexpected result: signal: killed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, exec.Config{Command: []string{script(t, tc.body)}}), timeout, tc.want)
		})
	}
}

func TestCommands(t *testing.T) {
	notExecutable := filepath.Join(t.TempDir(), "check_plain")
	if err := os.WriteFile(notExecutable, []byte("exit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  exec.Config
		want string
	}{
		{"arguments as given", exec.Config{Command: []string{script(t, `echo "$1/$2"; exit 1`), "a b", "c"}}, "warning: a b/c"},
		{"shell", exec.Config{Command: []string{"echo hello | tr a-z A-Z; exit 1"}, Shell: true}, "warning: HELLO"},
		{"from PATH", exec.Config{Command: []string{"true"}}, "working"},
		{"not found", exec.Config{Command: []string{"healthjob-no-such-command"}},
			"unavailable: healthjob-no-such-command: executable file not found in $PATH"},
		{"no such file", exec.Config{Command: []string{"/nonexistent/check_db"}}, "unavailable: /nonexistent/check_db: no such file or directory"},
		{"not executable", exec.Config{Command: []string{notExecutable}}, "unavailable: " + notExecutable + ": permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, tc.cfg), timeout, tc.want)
		})
	}
	healthjobtest.Conformance(t, mustNew(t, exec.Config{Command: []string{"true"}}))
}

// A command that ignores SIGTERM and starts a child is killed at the
// deadline, child and all.
func TestDeadlineKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	c := mustNew(t, exec.Config{Command: []string{script(t, `trap '' TERM; sleep 60 & echo $! > "$1"; wait`), pidFile}})
	healthjobtest.AssertStatus(t, c, 500*time.Millisecond, "unavailable: check timed out after 500ms")
	waitGone(t, readPID(t, pidFile))

	// The check itself, not only the runner, returns at the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Check(ctx); err != context.DeadlineExceeded {
		t.Errorf("Check = %v, want %v", err, context.DeadlineExceeded)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Check returned %s after it started, want soon after the 300ms deadline", d)
	}
	waitGone(t, readPID(t, pidFile))
}

// A child left running by a command that has exited is killed too.
func TestLeftoverChildKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	c := mustNew(t, exec.Config{Command: []string{script(t, `sleep 60 & echo $! > "$1"; echo OK`), pidFile}})
	healthjobtest.AssertStatus(t, c, timeout, "working")
	waitGone(t, readPID(t, pidFile))
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// waitGone waits until process pid has exited (a zombie counts: nothing
// reaps orphans in some containers), failing after a few seconds.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		// The state follows the command name in parentheses: "123 (sleep) Z ...".
		if _, after, ok := strings.Cut(string(stat), ") "); ok && strings.HasPrefix(after, "Z") {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("process %d still runs: %s", pid, stat)
		}
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		cfg  exec.Config
		want string
	}{
		{exec.Config{Command: []string{"/usr/lib/nagios/plugins/check_disk", "-w", "10%"}}, "Exec check_disk"},
		{exec.Config{Command: []string{"pg_isready -h db | grep accepting"}, Shell: true}, "Exec pg_isready"},
		{exec.Config{Command: []string{"check_disk"}, Name: "Disk (nagios)"}, "Disk (nagios)"},
		{exec.Config{Command: []string{strings.Repeat("x", 60)}}, "Exec " + strings.Repeat("x", 44) + "…"},
	} {
		if got := mustNew(t, tc.cfg).Name(); got != tc.want {
			t.Errorf("New(%+v).Name() = %q, want %q", tc.cfg, got, tc.want)
		}
	}
	for _, tc := range []struct {
		cfg  exec.Config
		want string
	}{
		{exec.Config{}, "command is missing; give the program and its arguments as a list"},
		{exec.Config{Command: []string{" "}, Shell: true}, "command is missing; give the program and its arguments as a list"},
		{exec.Config{Command: []string{"echo", "hi"}, Shell: true}, "command: with shell, give one string, the script for /bin/sh -c"},
	} {
		_, err := exec.New(tc.cfg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
