package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a measured child process: its stdout lines with their arrival
// times, its memory read from /proc while it runs, and its CPU time as the
// kernel accounts it at exit (exact, all threads, dead ones included).
type proc struct {
	cmd    *exec.Cmd
	start  time.Time
	stderr *tailBuffer
	exited chan struct{} // closed when stdout reached EOF

	mu    sync.Mutex
	lines []line
	more  chan struct{} // signalled on each new line
}

// line is one stdout line and when it arrived, since the process started.
type line struct {
	at   time.Duration
	text string
}

// usage is what the kernel says of an exited process.
type usage struct {
	wall time.Duration
	cpu  time.Duration // user + system
	code int
}

// startProc starts argv in dir with exactly env (no inherited variables).
func startProc(dir string, env []string, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	p := &proc{cmd: cmd, stderr: &tailBuffer{max: 4096}, exited: make(chan struct{}), more: make(chan struct{}, 1)}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	go p.read(out)
	return p, nil
}

func (p *proc) read(r io.Reader) {
	defer close(p.exited)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		at := time.Since(p.start)
		p.mu.Lock()
		p.lines = append(p.lines, line{at: at, text: sc.Text()})
		p.mu.Unlock()
		select {
		case p.more <- struct{}{}:
		default:
		}
	}
	io.Copy(io.Discard, r) //nolint:errcheck // drain after a too-long line so the child never blocks
}

// waitLines waits until n lines have arrived and returns them all.
func (p *proc) waitLines(n int, timeout time.Duration) ([]line, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		got := p.lines
		p.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-p.more:
		case <-p.exited:
			p.mu.Lock()
			got = p.lines
			p.mu.Unlock()
			if len(got) < n { // no more can come
				p.kill()
				return nil, fmt.Errorf("exited after %d of %d lines: %s", len(got), n, p.stderr)
			}
		case <-deadline.C:
			p.kill()
			return nil, fmt.Errorf("%d of %d lines after %s: %s", len(got), n, timeout, p.stderr)
		}
	}
}

// memory returns the process's resident set now, the anonymous part of it
// (heap, stacks: what is not mapped from files such as the executable and
// its libraries) and its peak so far, in bytes. (The kernel's maxrss of a
// child is no use: it counts the parent's memory when the child was forked.)
func (p *proc) memory() (rss, anon, peak int64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, 0, err
	}
	kb := func(field string) (int64, error) {
		for l := range strings.Lines(string(status)) {
			if v, ok := strings.CutPrefix(l, field+":"); ok {
				n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				return n << 10, err
			}
		}
		return 0, fmt.Errorf("no %s in /proc status", field)
	}
	rss, err1 := kb("VmRSS")
	anon, err2 := kb("RssAnon")
	peak, err3 := kb("VmHWM")
	return rss, anon, max(peak, rss), errors.Join(err1, err2, err3) // the peak is updated lazily
}

// cpuTicks returns the CPU time the process has used so far, all threads,
// dead ones included, as /proc counts it: in ticks of 10 ms (USER_HZ).
func (p *proc) cpuTicks() (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command's name, which ends at the last ')':
	// state is the first of them, utime the 12th and stime the 13th.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat: %q", stat)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * tick, nil
}

// stop asks the process to end (SIGTERM: both systems finish the cycle in
// flight) and waits for it.
func (p *proc) stop(timeout time.Duration) (usage, error) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return usage{}, err
	}
	return p.wait(timeout)
}

// wait waits for the process to exit by itself and reads its usage.
func (p *proc) wait(timeout time.Duration) (usage, error) {
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.kill()
		return usage{}, fmt.Errorf("still running after %s: %s", timeout, p.stderr)
	}
	err := p.cmd.Wait()
	wall := time.Since(p.start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return usage{}, err
	}
	ru := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return usage{
		wall: wall,
		cpu:  time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)),
		code: p.cmd.ProcessState.ExitCode(),
	}, nil
}

// kill ends the process at once, for a run that went wrong.
func (p *proc) kill() {
	p.cmd.Process.Kill() //nolint:errcheck // it may have exited already
	<-p.exited
	p.cmd.Wait() //nolint:errcheck // killed: its status says nothing
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := string(bytes.TrimSpace(b.buf)); s != "" {
		return "stderr: " + s
	}
	return "nothing on stderr"
}
