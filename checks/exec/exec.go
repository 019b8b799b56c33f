// Package exec runs a command as a Nagios plugin and reports its verdict.
// Step by step, it:
//
//  1. starts Command (argv, no shell; or one string run by /bin/sh -c when
//     Shell is set) in a process group of its own, with no standard input;
//     a command that cannot start is "unavailable: <cmd>: <reason>", e.g.
//     "unavailable: check_db: executable file not found in $PATH";
//  2. waits for it until the deadline, then kills the whole group, so that
//     its children die too (the runner reports "unavailable: check timed
//     out after 10s"); a group left running by a command that has exited is
//     killed as well;
//  3. turns the exit status into a status, with the first non-empty line of
//     standard output as the message (Nagios performance data after "|" dropped; the
//     first line of standard error when standard output is empty; "exit
//     status N" when both are):
//     0 → "working";
//     1 → "warning: <message>";
//     2 → "unavailable: <message>";
//     3 → "unexpected result: UNKNOWN: <message>";
//     any other → "unexpected result: exit status N: <line>", or
//     "unexpected result: signal: killed" for a command killed by a signal.
package exec

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/healthjob/healthjob"
)

// Config configures a Check.
type Config struct {
	// Name overrides the default, "Exec <base name of the program>".
	Name string
	// Command is the program and its arguments. With Shell, it is one
	// string, a script for /bin/sh -c.
	Command []string
	// Shell runs Command[0] with /bin/sh -c.
	Shell bool
}

// outputLimit bounds how much of each output stream is kept.
const outputLimit = 64 << 10

// waitDelay is how long the output pipes may stay open after the command
// has exited or been killed, held by a process that left its group.
const waitDelay = 100 * time.Millisecond

// Check runs a command.
type Check struct {
	name string
	argv []string
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check. It is an error when Command is empty, or has more
// than one string with Shell.
func New(cfg Config) (*Check, error) {
	argv := cfg.Command
	switch {
	case len(argv) == 0 || strings.TrimSpace(argv[0]) == "":
		return nil, fmt.Errorf("command is missing; give the program and its arguments as a list")
	case cfg.Shell && len(argv) > 1:
		return nil, fmt.Errorf("command: with shell, give one string, the script for /bin/sh -c")
	}
	program := filepath.Base(argv[0])
	if cfg.Shell {
		program = filepath.Base(strings.Fields(argv[0])[0])
		argv = []string{"/bin/sh", "-c", argv[0]}
	}
	c := &Check{name: cfg.Name, argv: argv}
	if c.name == "" {
		c.name = shorten("Exec " + program)
	}
	return c, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check runs the command and reads its verdict.
func (c *Check) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // the runner reports it as a timeout or a cancellation
	}
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		return startError(c.argv[0], err)
	}
	err := cmd.Wait()
	// Whatever the command left behind in its group goes with it. The group
	// is usually gone by now, which is not an error.
	if err := killGroup(cmd.Process.Pid); err != nil && !errors.Is(err, syscall.ESRCH) {
		return healthjob.Unavailable("%s: kill its process group: %v", c.argv[0], err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	state := cmd.ProcessState
	if state == nil {
		return healthjob.Unavailable("%s: %v", c.argv[0], err)
	}
	if !state.Exited() {
		return healthjob.UnexpectedResult("%s", state) // "signal: killed"
	}
	code, line := state.ExitCode(), firstLine(stdout.Bytes())
	if line == "" {
		line = firstLine(stderr.Bytes())
	}
	status := fmt.Sprintf("exit status %d", code)
	msg := cmp.Or(line, status)
	switch code {
	case 0:
		return nil
	case 1:
		return healthjob.Warning("%s", msg)
	case 2:
		return healthjob.Unavailable("%s", msg)
	case 3:
		return healthjob.UnexpectedResult("UNKNOWN: %s", msg)
	}
	if line != "" {
		status += ": " + line
	}
	return healthjob.UnexpectedResult("%s", status)
}

func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }

// startError explains why a command did not start, without repeating Go's
// "exec:" and "fork/exec" prefixes.
func startError(program string, err error) error {
	var ee *exec.Error
	var pe *fs.PathError
	switch {
	case errors.As(err, &ee):
		err = ee.Err
		if errors.As(err, &pe) {
			err = pe.Err
		}
	case errors.As(err, &pe):
		err = pe.Err
	}
	return healthjob.Unavailable("%s: %v", program, err)
}

// firstLine returns the first non-empty line of out, trimmed, without the
// performance data a Nagios plugin writes after "|".
func firstLine(out []byte) string {
	for line := range strings.Lines(string(out)) {
		line, _, _ = strings.Cut(line, "|")
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// limitedBuffer keeps the first outputLimit bytes written to it and
// discards the rest, so a chatty command cannot exhaust memory.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := outputLimit - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// shorten cuts a name to healthjob.MaxNameLength characters.
func shorten(name string) string {
	if r := []rune(name); len(r) > healthjob.MaxNameLength {
		return string(r[:healthjob.MaxNameLength-1]) + "…"
	}
	return name
}
