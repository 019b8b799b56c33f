package cli_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/twmb/franz-go/pkg/kfake"
)

// smtpServer serves SMTP on a loopback port until the test ends.
func smtpServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return noMail{}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

type noMail struct{}

func (noMail) Reset()                                 {}
func (noMail) Logout() error                          { return nil }
func (noMail) Mail(string, *gosmtp.MailOptions) error { return errors.New("no mail") }
func (noMail) Rcpt(string, *gosmtp.RcptOptions) error { return errors.New("no mail") }
func (noMail) Data(io.Reader) error                   { return errors.New("no mail") }

// celeryWorker starts a real Celery worker on a Redis broker (db 9) consuming
// queue, and stops it when the test ends.
func celeryWorker(t *testing.T, queue string) {
	if out, err := exec.Command("/usr/bin/python3", "-c", "import celery").CombinedOutput(); err != nil {
		healthjobtest.Missing(t, fmt.Sprintf("/usr/bin/python3 cannot import celery (run .ci/setup.d/celery.sh): %v: %s", err, out))
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command("/usr/bin/python3", "-m", "celery", "-A", "hjapp", "worker",
		"-n", fmt.Sprintf("e2e-%d@healthjob", os.Getpid()), "-P", "solo", "-Q", queue, "-l", "info",
		"--without-mingle", "--without-gossip", "--without-heartbeat", "--pidfile", filepath.Join(dir, "worker.pid"))
	cmd.Dir = "../checks/celery/testdata"
	cmd.Env = append(os.Environ(), "CELERY_BROKER_URL=redis://127.0.0.1:6379/9",
		"CELERY_RESULT_BACKEND=redis://127.0.0.1:6379/8", "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		out, _ := os.ReadFile(logPath)
		if strings.Contains(string(out), " ready.") {
			return
		}
		select {
		case <-exited:
			t.Fatalf("celery worker exited:\n%s", out)
		case <-deadline:
			t.Fatalf("celery worker not ready after 30s:\n%s", out)
		case <-tick.C:
		}
	}
}

// TestEveryCheckType declares one check of every type against the real
// servers of this machine (and small real ones the test starts: HTTP, SMTP,
// Kafka protocol, a Celery worker) and expects every line to read working.
func TestEveryCheckType(t *testing.T) {
	for addr, why := range map[string]string{
		"127.0.0.1:5432":  "PostgreSQL",
		"127.0.0.1:3306":  "MariaDB",
		"127.0.0.1:6379":  "Redis",
		"127.0.0.1:5672":  "RabbitMQ",
		"127.0.0.1:4222":  "NATS",
		"127.0.0.1:11211": "memcached (.ci/setup.d/memcached.sh)",
		"127.0.0.1:7070":  "versitygw (.ci/setup.d/versitygw.sh)",
	} {
		healthjobtest.NeedService(t, addr, why)
	}
	dir := t.TempDir()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer web.Close()
	kafka, err := kfake.NewCluster(kfake.SeedTopics(1, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer kafka.Close()
	celeryWorker(t, "e2e")
	if r := healthjob(t, dir, nil, "migrate"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	migrations, err := filepath.Abs("../internal/store/migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	writeConfig(t, dir, fmt.Sprintf(`checks:
  - {type: db}
  - {type: db, alias: pg, url: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"}
  - {type: db_heartbeat, alias: maria, url: "mysql://root@127.0.0.1:3306/test"}
  - {type: migrations, format: goose, dir: %s, table: healthjob_schema_version}
  - {type: cache, url: "redis://127.0.0.1:6379/0"}
  - {type: cache, alias: memcached, url: "memcached://127.0.0.1:11211"}
  - {type: redis, url: "redis://127.0.0.1:6379/0"}
  - {type: rabbitmq, url: "amqp://guest:guest@127.0.0.1:5672/"}
  - {type: celery_ping, url: "redis://127.0.0.1:6379/9", queues: [e2e]}
  - {type: celery, url: "redis://127.0.0.1:6379/9", backend: "redis://127.0.0.1:6379/8", queue: e2e}
  - {type: storage, path: %s}
  - {type: s3, url: "s3://healthjob-test/e2e", endpoint: "127.0.0.1:7070", insecure: true, path_style: true, access_key: healthjob, secret_key: healthjob-secret}
  - {type: mail, url: "smtp://%s"}
  - {type: disk}
  - {type: memory}
  - {type: cpu, max: 100, interval: 200ms}
  - {type: load, max1: 100000}
  - {type: http, url: "%s", contains: ok}
  - {type: tcp, url: "tcp://127.0.0.1:5432"}
  - {type: dns, host: localhost}
  - {type: exec, command: [/bin/true]}
  - {type: nats, url: "nats://127.0.0.1:4222"}
  - {type: kafka, brokers: [%s], topic: events}
`, migrations, dir, smtpServer(t), web.URL, strings.Join(kafka.ListenAddrs(), ", ")))
	r := healthjob(t, dir, nil, "check")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 23 {
		t.Errorf("exit %d, %d lines, want exit 0 and 23 lines\n%s\n%s", r.code, len(lines), r.stdout, r.stderr)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, " ... working") {
			t.Errorf("not working: %s", l)
		}
	}
	for _, name := range []string{"DatabaseBackend[pg]", "DatabaseHeartBeatCheck[maria]", "MigrationsHealthCheck", "Cache backend: memcached",
		"CeleryPingHealthCheck", "CeleryHealthCheckE2E", "S3Boto3StorageHealthCheck", "MailHealthCheck", "KafkaHealthCheck", "NATSHealthCheck"} {
		if !strings.Contains(r.stdout, name+" ") {
			t.Errorf("no line for %s", name)
		}
	}
}

// TestRedisGoesAway stops a Redis server under a running monitor: exactly
// the Redis-backed lines turn to their failure texts within one cycle, and
// the monitor keeps running.
func TestRedisGoesAway(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		healthjobtest.Missing(t, "redis-server is not installed")
	}
	addr := healthjobtest.ClosedPort(t)
	_, port, _ := net.SplitHostPort(addr)
	redis := exec.Command(server, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
	redis.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := redis.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { redis.Wait(); close(exited) }()
	t.Cleanup(func() { redis.Process.Kill(); <-exited })
	for start := time.Now(); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond) // polling a port that has no event to wait on
	}

	dir := t.TempDir()
	writeConfig(t, dir, fmt.Sprintf(`HEALTH_CHECK_INTERVAL: 0.3
checks:
  - {type: redis, url: "redis://%[1]s/0"}
  - {type: cache, url: "redis://%[1]s/0"}
  - {type: storage, path: %[2]s}
`, addr, dir))
	cmd, stdout, stderr := startMonitor(t, dir, nil)
	stdout.waitFor(t, "RedisHealthCheck         ... working", 1)
	working := strings.Count(stdout.text(), "RedisHealthCheck         ... working")
	redis.Process.Kill()
	<-exited
	stdout.waitFor(t, "RedisHealthCheck         ... unavailable: Unable to connect to Redis: Connection was refused.", 1)
	if n := strings.Count(stdout.text(), "RedisHealthCheck         ... working"); n > working+1 {
		t.Errorf("%d cycles read working after Redis stopped, want at most the one in flight", n-working)
	}
	stdout.waitFor(t, "Cache backend: default   ... unexpected result: Connection Error: connection refused", 1)
	// The cycle after the failure goes on as well, and the storage check never failed.
	stdout.waitFor(t, "RedisHealthCheck         ... unavailable", 2)
	if got := stdout.text(); strings.Contains(got, "DefaultFileStorageHealthCheck ... u") {
		t.Errorf("the storage line failed too:\n%s", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("monitor: %v\n%s", err, stderr.text())
	}
}
