package celery_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/healthjob/healthjob/healthjobtest"
)

// worker is a real Celery worker (testdata/hjapp.py) that a test started.
type worker struct {
	Name    string // its node name, the key of its replies
	pidfile string
	log     string
	exited  chan struct{}
}

type workerSpec struct {
	name      string // node name before "@"; the test's pid is added
	broker    string
	backend   string // "" for none
	queues    string // comma-separated
	keyPrefix string // kombu's global_keyprefix, for a Redis broker
}

var celeryImport = sync.OnceValue(func() error {
	out, err := exec.Command("/usr/bin/python3", "-c", "import celery").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
})

// startWorkers starts one worker per spec, waits until all are ready and
// stops them when the test ends. It skips the test when Celery is missing
// (fails under HEALTHJOB_REQUIRE_SERVICES=1).
func startWorkers(t *testing.T, specs ...workerSpec) []*worker {
	t.Helper()
	if err := celeryImport(); err != nil {
		healthjobtest.Missing(t, "/usr/bin/python3 cannot import celery (run .ci/setup.d/celery.sh): "+err.Error())
	}
	dir := t.TempDir()
	workers := make([]*worker, len(specs))
	for i, s := range specs {
		workers[i] = startWorker(t, dir, s)
	}
	for _, w := range workers {
		w.waitReady(t)
	}
	return workers
}

func startWorker(t *testing.T, dir string, s workerSpec) *worker {
	t.Helper()
	w := &worker{
		Name:    fmt.Sprintf("%s-%d@healthjob", s.name, os.Getpid()),
		pidfile: filepath.Join(dir, s.name+".pid"),
		log:     filepath.Join(dir, s.name+".log"),
		exited:  make(chan struct{}),
	}
	log, err := os.Create(w.log)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command("/usr/bin/python3", "-m", "celery", "-A", "hjapp", "worker",
		"-n", w.Name, "-P", "solo", "-Q", s.queues, "-l", "info",
		"--without-mingle", "--without-gossip", "--without-heartbeat", "--pidfile", w.pidfile)
	cmd.Dir = "testdata"
	cmd.Env = append(os.Environ(),
		"CELERY_BROKER_URL="+s.broker,
		"CELERY_RESULT_BACKEND="+s.backend,
		"CELERY_KEY_PREFIX="+s.keyPrefix,
		"PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdout, cmd.Stderr = log, log
	// A test binary killed by its timeout takes its workers with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker %s: %v", w.Name, err)
	}
	go func() {
		cmd.Wait() // the exit status of a stopped worker tells nothing
		close(w.exited)
	}()
	t.Cleanup(func() { w.stop(t) })
	return w
}

// waitReady waits until the worker logs " ready.", for at most 30 s.
func (w *worker) waitReady(t *testing.T) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(30 * time.Second)
	for {
		log, err := os.ReadFile(w.log)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(log), " ready.") {
			return
		}
		select {
		case <-w.exited:
			t.Fatalf("worker %s exited before it was ready:\n%s", w.Name, log)
		case <-timeout:
			t.Fatalf("worker %s not ready after 30s:\n%s", w.Name, log)
		case <-tick.C:
		}
	}
}

// pid is the worker's process id, from its pidfile.
func (w *worker) pid(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(w.pidfile)
	if err != nil {
		t.Fatalf("worker %s: %v", w.Name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("worker %s: pidfile: %v", w.Name, err)
	}
	return pid
}

// kill9 kills the worker with SIGKILL, as a crash would, and waits until it is gone.
func (w *worker) kill9(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(w.pid(t), syscall.SIGKILL); err != nil {
		t.Fatalf("kill worker %s: %v", w.Name, err)
	}
	<-w.exited
}

// stop asks the worker to shut down, and kills it when it has not within 10 s.
func (w *worker) stop(t *testing.T) {
	select {
	case <-w.exited:
		return
	default:
	}
	pid := w.pid(t)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Errorf("stop worker %s: %v", w.Name, err)
	}
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("worker %s did not stop within 10s; killing it", w.Name)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Errorf("kill worker %s: %v", w.Name, err)
		}
		<-w.exited
	}
}
