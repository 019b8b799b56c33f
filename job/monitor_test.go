package job_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/job"
)

// TestMonitorSchedule runs the loop on a fake clock: cycles start on a grid
// fixed at the start, a long cycle delays only the next start, and cycles
// never overlap.
func TestMonitorSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var starts []time.Duration
		var running int
		begin := time.Now()
		cycle := 0
		reg := &healthjob.Registry{}
		reg.Register(healthjob.CheckFunc("Work", func(ctx context.Context) error {
			mu.Lock()
			running++
			if running > 1 {
				t.Error("two cycles at once")
			}
			starts = append(starts, time.Since(begin))
			cycle++
			n := cycle
			mu.Unlock()
			d := 300 * time.Millisecond
			if n == 3 {
				d = 12 * time.Second // runs past two slots
			}
			time.Sleep(d)
			mu.Lock()
			running--
			mu.Unlock()
			return nil
		}), healthjob.Timeout(time.Minute))
		ctx, cancel := context.WithCancel(context.Background())
		var logs bytes.Buffer
		stats := &job.Stats{}
		runs := 0
		done := make(chan error)
		go func() {
			done <- job.Monitor(ctx, job.Config{
				Runner: healthjob.NewRunner(reg), Interval: 5 * time.Second, Stats: stats,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				OnRun: func(*healthjob.Run) {
					if runs++; runs == 6 {
						cancel()
					}
				},
			})
		}()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Cycle 3 starts at 10s and ends at 22s: the slots at 15s and 20s are
		// missed, cycle 4 starts at once (late), then the grid resumes at 25s.
		want := []time.Duration{0, 5 * time.Second, 10 * time.Second, 22 * time.Second, 25 * time.Second, 30 * time.Second}
		if len(starts) != len(want) {
			t.Fatalf("starts = %v, want %v", starts, want)
		}
		for i := range want {
			if starts[i] != want[i] {
				t.Errorf("cycle %d started at %s, want %s (all: %v)", i+1, starts[i], want[i], starts)
			}
		}
		if stats.Cycles.Load() != 6 || stats.LateCycles.Load() != 1 {
			t.Errorf("cycles %d, late %d; want 6 and 1", stats.Cycles.Load(), stats.LateCycles.Load())
		}
		if !strings.Contains(logs.String(), "cycle starts late") {
			t.Errorf("logs = %q, want the late start logged", logs.String())
		}
	})
}

// TestMonitorFinishesCycleInFlight cancels the monitor while a check runs:
// the check is not cancelled, and its run is processed before Monitor returns.
func TestMonitorFinishesCycleInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		reg := &healthjob.Registry{}
		reg.Register(healthjob.CheckFunc("Slow", func(checkCtx context.Context) error {
			cancel() // the signal arrives mid-cycle
			select {
			case <-checkCtx.Done():
				return checkCtx.Err()
			case <-time.After(2 * time.Second):
				return nil
			}
		}))
		snd := &recordingSender{}
		var out bytes.Buffer
		err := job.Monitor(ctx, job.Config{
			Runner:    healthjob.NewRunner(reg),
			Processor: &job.Processor{Sync: true, Sender: snd},
			Console:   &out,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(snd.runs) != 1 || snd.runs[0].Checks[0].Message != "working" {
			t.Errorf("synced %d runs, want the one in flight, finished", len(snd.runs))
		}
		if out.String() != "Slow                     ... working\n" {
			t.Errorf("console = %q", out.String())
		}
	})
}

func TestMonitorKeepsGoing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		reg := &healthjob.Registry{}
		reg.Register(healthjob.CheckFunc("Down", func(context.Context) error { return healthjob.Unavailable("Database error") }))
		stats := &job.Stats{}
		runs := 0
		err := job.Monitor(ctx, job.Config{
			Runner:    healthjob.NewRunner(reg),
			Processor: &job.Processor{Persist: true, Store: &failingStore{}, Sync: true, Sender: failingSender{}},
			Logger:    slog.New(slog.DiscardHandler),
			Stats:     stats,
			OnRun: func(*healthjob.Run) {
				if runs++; runs == 3 {
					cancel()
				}
			},
		})
		if err != nil || stats.Cycles.Load() != 3 || stats.FailedChecks.Load() != 3 || stats.PersistErrors.Load() != 3 || stats.SyncErrors.Load() != 3 {
			t.Errorf("err %v, stats cycles %d failed %d persist errors %d sync errors %d; want 3 of each and no error",
				err, stats.Cycles.Load(), stats.FailedChecks.Load(), stats.PersistErrors.Load(), stats.SyncErrors.Load())
		}
	})
}

type failingSender struct{}

func (failingSender) Send(context.Context, *healthjob.Run) error {
	return &job.HTTPError{StatusCode: 503}
}

func TestPrintRun(t *testing.T) {
	run := &healthjob.Run{Checks: []healthjob.Result{
		{Name: "DatabaseBackend", Status: 1, Message: "working"},
		{Name: "A name longer than twenty-four", Status: 0, Message: "unavailable: Database error"},
	}}
	var plain, color bytes.Buffer
	job.PrintRun(&plain, run, false)
	job.PrintRun(&color, run, true)
	wantPlain := "DatabaseBackend          ... working\nA name longer than twenty-four ... unavailable: Database error\n"
	wantColor := "DatabaseBackend          ... \x1b[32;1mworking\x1b[0m\nA name longer than twenty-four ... \x1b[31;1munavailable: Database error\x1b[0m\n"
	if plain.String() != wantPlain {
		t.Errorf("plain =\n%q\nwant\n%q", plain.String(), wantPlain)
	}
	if color.String() != wantColor {
		t.Errorf("color =\n%q\nwant\n%q", color.String(), wantColor)
	}
}
