package celery_test

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/celery"
	"github.com/healthjob/healthjob/checks/celery/amqp"
	"github.com/healthjob/healthjob/checks/celery/redis"
	"github.com/healthjob/healthjob/healthjobtest"
	amqp091 "github.com/rabbitmq/amqp091-go"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// The brokers. The AMQP tests use a vhost of their own (made by
// .ci/setup.d/celery.sh) and the Redis tests databases 10 to 14, so that no
// other worker answers their broadcasts.
var (
	amqpURL   = healthjobtest.Env("HEALTHJOB_CELERY_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/healthjob-celery")
	redisAddr = healthjobtest.Env("HEALTHJOB_CELERY_REDIS_ADDR", "127.0.0.1:6379")
)

func redisURL(db int) string { return fmt.Sprintf("redis://%s/%d", redisAddr, db) }

// Redis databases: brokers of one worker each, one without a worker, and the
// result backend.
const (
	dbNoWorker = 10
	dbRedis    = 11 // worker r1: redis:// results in dbResults
	dbResults  = 12
	dbRPC      = 13 // worker r2: rpc:// results
	dbPrefixed = 14 // worker r3: key prefix "hj:", rpc:// results
)

const (
	fast   = 500 * time.Millisecond        // an answer with no waiting, on a busy machine
	window = time.Second                   // the default ping timeout
	late   = window + 300*time.Millisecond // a full window, and not more
)

func newAMQP(t *testing.T, rawURL string) celery.Broker {
	t.Helper()
	b, err := amqp.New(amqp.Config{URL: rawURL})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newRedis(t *testing.T, rawURL, prefix string) celery.Broker {
	t.Helper()
	b, err := redis.New(redis.Config{URL: rawURL, KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func redisBackend(t *testing.T) celery.Backend {
	t.Helper()
	b, err := redis.NewBackend(redisURL(dbResults))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newPing(t *testing.T, cfg celery.PingConfig) *celery.PingCheck {
	t.Helper()
	c, err := celery.NewPing(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newTask(t *testing.T, cfg celery.Config) *celery.Check {
	t.Helper()
	c, err := celery.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// expect runs c as the runner does, under a deadline of 10 s, and asserts
// its status text and that it took from least to most.
func expect(t *testing.T, c healthjob.Check, want string, least, most time.Duration) {
	t.Helper()
	got, elapsed := healthjobtest.Result(c, 10*time.Second)
	if got != want {
		t.Errorf("%s: status = %q, want %q", c.Name(), got, want)
	}
	if elapsed < least || elapsed > most {
		t.Errorf("%s: took %s, want %s to %s", c.Name(), elapsed, least, most)
	}
}

// needBroker skips the test (fails under HEALTHJOB_REQUIRE_SERVICES=1) when
// the broker cannot be reached.
func needBroker(t *testing.T, b celery.Broker, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := b.Open(ctx)
	if err != nil {
		healthjobtest.Missing(t, why+": "+err.Error())
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
}

// taskCases are the task check's cases against a live worker, for each
// transport and result backend.
func taskCases(t *testing.T, broker celery.Broker, queue string, backend celery.Backend) {
	for _, tc := range []struct {
		name       string
		cfg        celery.Config
		want       string
		least, max time.Duration
	}{
		{"round trip", celery.Config{}, "working", 0, fast},
		{"priority", celery.Config{Priority: 5}, "working", 0, fast},
		{"wrong result", celery.Config{Task: "healthjob.tests.wrong_add"},
			"unexpected result: Celery returned wrong result", 0, fast},
		{"unregistered task", celery.Config{Task: "healthjob.tests.nope"},
			"unavailable: Unknown error: NotRegistered: healthjob.tests.nope", 0, fast},
		{"expired in the queue", celery.Config{QueueTimeout: time.Microsecond},
			"unavailable: TaskRevokedError: The task was revoked, likely because it spent too long in the queue", 0, fast},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Broker, tc.cfg.Backend, tc.cfg.Queue = broker, backend, queue
			expect(t, newTask(t, tc.cfg), tc.want, tc.least, tc.max)
		})
	}
}

func TestAMQP(t *testing.T) {
	broker := newAMQP(t, amqpURL)
	needBroker(t, broker, "RabbitMQ with the vhost healthjob-celery (run .ci/setup.d/celery.sh)")
	w := startWorkers(t,
		workerSpec{name: "a1", broker: amqpURL, backend: "rpc://", queues: "celery"},
		workerSpec{name: "a2", broker: amqpURL, backend: redisURL(dbResults), queues: "hj-redis-results"},
	)
	a1, a2 := w[0], w[1]

	t.Run("ping", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			cfg         celery.PingConfig
			want        string
			least, most time.Duration
		}{
			// RabbitMQ cannot tell how many workers a broadcast reached.
			{"all workers", celery.PingConfig{}, "working", window, late},
			{"named worker", celery.PingConfig{Workers: []string{a1.Name}}, "working", 0, fast},
			{"queues consumed", celery.PingConfig{Workers: []string{a1.Name, a2.Name}, Queues: []string{"celery", "hj-redis-results"}},
				"working", 0, fast},
			{"queue not consumed", celery.PingConfig{Queues: []string{"celery", "hj-nobody"}},
				"unavailable: No worker for Celery task queue hj-nobody", window, late},
			{"unknown worker", celery.PingConfig{Workers: []string{"nobody@healthjob"}},
				"unavailable: Celery workers unavailable", window, late},
			{"one worker missing", celery.PingConfig{Workers: []string{a1.Name, "nobody@healthjob"}},
				"unavailable: Celery worker nobody@healthjob did not answer", window, late},
			// The default vhost, where no worker runs: no celery.pidbox
			// exchange, or one that no pidbox queue is bound to.
			{"no worker", celery.PingConfig{Broker: newAMQP(t, defaultVhost(t))}, "unavailable: Celery workers unavailable", 0, fast},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.cfg.Broker = cmp.Or(tc.cfg.Broker, broker)
				expect(t, newPing(t, tc.cfg), tc.want, tc.least, tc.most)
			})
		}
	})

	t.Run("task rpc", func(t *testing.T) { taskCases(t, broker, "celery", celery.RPC{}) })
	t.Run("task redis results", func(t *testing.T) { taskCases(t, broker, "hj-redis-results", redisBackend(t)) })

	t.Run("task default name", func(t *testing.T) {
		c := newTask(t, celery.Config{Broker: broker, Backend: celery.RPC{}})
		if c.Name() != "CeleryHealthCheckCelery" {
			t.Errorf("Name() = %q, want CeleryHealthCheckCelery", c.Name())
		}
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	})

	t.Run("task nobody consumes", func(t *testing.T) {
		idle := declareQueue(t, "hj-idle")
		c := newTask(t, celery.Config{Broker: broker, Backend: celery.RPC{}, Queue: idle, ResultTimeout: 500 * time.Millisecond})
		expect(t, c, "unavailable: TimeoutError: The task took too long to return a result", 500*time.Millisecond, 800*time.Millisecond)
	})

	t.Run("task queue missing", func(t *testing.T) {
		c := newTask(t, celery.Config{Broker: broker, Backend: celery.RPC{}, Queue: "hj-missing"})
		expect(t, c, "unavailable: Celery task queue hj-missing does not exist", 0, fast)
	})

	t.Run("task without result backend", func(t *testing.T) {
		c := newTask(t, celery.Config{Broker: broker})
		expect(t, c, "unavailable: NotImplementedError: Make sure CELERY_RESULT_BACKEND is set", 0, fast)
	})

	healthjobtest.Conformance(t, newPing(t, celery.PingConfig{Broker: broker, Workers: []string{a1.Name}}))
	healthjobtest.Conformance(t, newTask(t, celery.Config{Broker: broker, Backend: celery.RPC{}}))

	t.Run("worker killed", func(t *testing.T) {
		a1.kill9(t)
		// a2 still gets the broadcast: only the window's end tells.
		expect(t, newPing(t, celery.PingConfig{Broker: broker, Workers: []string{a1.Name}}),
			"unavailable: Celery workers unavailable", window, late)
		a2.kill9(t)
		// No pidbox queue left: RabbitMQ returns the request at once.
		expect(t, newPing(t, celery.PingConfig{Broker: broker}), "unavailable: Celery workers unavailable", 0, fast)
	})
}

// defaultVhost is amqpURL with the vhost "/".
func defaultVhost(t *testing.T) string {
	u, err := url.Parse(amqpURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "//"
	return u.String()
}

// declareQueue declares a queue no worker consumes, deleted when the test ends.
func declareQueue(t *testing.T, name string) string {
	t.Helper()
	conn, err := amqp091.Dial(amqpURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(name, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := ch.QueueDelete(name, false, false, false); err != nil {
			t.Error(err)
		}
	})
	return name
}

func TestRedis(t *testing.T) {
	broker := newRedis(t, redisURL(dbRedis), "")
	needBroker(t, broker, "Redis")
	rpcBroker := newRedis(t, redisURL(dbRPC), "")
	prefixed := newRedis(t, redisURL(dbPrefixed), "hj:")
	w := startWorkers(t,
		workerSpec{name: "r1", broker: redisURL(dbRedis), backend: redisURL(dbResults), queues: "celery"},
		workerSpec{name: "r2", broker: redisURL(dbRPC), backend: "rpc://", queues: "celery"},
		workerSpec{name: "r3", broker: redisURL(dbPrefixed), backend: "rpc://", queues: "celery", keyPrefix: "hj:"},
	)
	r1, r2 := w[0], w[1]

	t.Run("ping", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			cfg         celery.PingConfig
			want        string
			least, most time.Duration
		}{
			// PUBLISH counts the workers reached: all answered, no waiting.
			{"all workers", celery.PingConfig{Broker: broker}, "working", 0, fast},
			{"named worker", celery.PingConfig{Broker: broker, Workers: []string{r1.Name}}, "working", 0, fast},
			{"queues consumed", celery.PingConfig{Broker: broker, Queues: []string{"celery"}}, "working", 0, fast},
			{"queue not consumed", celery.PingConfig{Broker: broker, Queues: []string{"celery", "hj-nobody"}},
				"unavailable: No worker for Celery task queue hj-nobody", 0, fast},
			{"unknown worker", celery.PingConfig{Broker: broker, Workers: []string{"nobody@healthjob"}},
				"unavailable: Celery workers unavailable", window, late},
			// PUBLISH reached one worker: the other cannot answer.
			{"one worker missing", celery.PingConfig{Broker: broker, Workers: []string{r1.Name, "nobody@healthjob"}},
				"unavailable: Celery worker nobody@healthjob did not answer", 0, fast},
			{"no worker", celery.PingConfig{Broker: newRedis(t, redisURL(dbNoWorker), "")},
				"unavailable: Celery workers unavailable", 0, fast},
			{"key prefix", celery.PingConfig{Broker: prefixed}, "working", 0, fast},
			{"key prefix missing", celery.PingConfig{Broker: newRedis(t, redisURL(dbPrefixed), "")},
				"unavailable: Celery workers unavailable", 0, fast},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expect(t, newPing(t, tc.cfg), tc.want, tc.least, tc.most)
			})
		}
	})

	t.Run("task redis results", func(t *testing.T) { taskCases(t, broker, "celery", redisBackend(t)) })
	t.Run("task rpc", func(t *testing.T) { taskCases(t, rpcBroker, "celery", celery.RPC{}) })
	t.Run("task key prefix", func(t *testing.T) {
		healthjobtest.AssertStatus(t, newTask(t, celery.Config{Broker: prefixed, Backend: celery.RPC{}}), 5*time.Second, "working")
	})

	t.Run("task nobody consumes", func(t *testing.T) {
		c := newTask(t, celery.Config{Broker: broker, Backend: redisBackend(t), Queue: "hj-idle", ResultTimeout: 500 * time.Millisecond})
		expect(t, c, "unavailable: TimeoutError: The task took too long to return a result", 500*time.Millisecond, 800*time.Millisecond)
		// The check took its message back.
		if n := redisClient(t, dbRedis).LLen(context.Background(), "hj-idle").Val(); n != 0 {
			t.Errorf("hj-idle holds %d messages after the check, want 0", n)
		}
	})

	healthjobtest.Conformance(t, newPing(t, celery.PingConfig{Broker: broker}))
	healthjobtest.Conformance(t, newTask(t, celery.Config{Broker: rpcBroker, Backend: celery.RPC{}}))

	t.Run("leaves nothing behind", func(t *testing.T) {
		for _, db := range []int{dbRedis, dbRPC, dbPrefixed} {
			keys := redisClient(t, db).Keys(context.Background(), "*").Val()
			for _, k := range keys {
				if k != "_kombu.binding.celery" && k != "_kombu.binding.celery.pidbox" &&
					k != "hj:_kombu.binding.celery" && k != "hj:_kombu.binding.celery.pidbox" {
					t.Errorf("db %d: key %q left behind", db, k)
				}
			}
		}
	})

	t.Run("worker killed", func(t *testing.T) {
		r1.kill9(t)
		r2.kill9(t)
		// PUBLISH reaches no subscriber: unavailable at once.
		expect(t, newPing(t, celery.PingConfig{Broker: broker}), "unavailable: Celery workers unavailable", 0, fast)
		expect(t, newPing(t, celery.PingConfig{Broker: rpcBroker, Workers: []string{r2.Name}}),
			"unavailable: Celery workers unavailable", 0, fast)
	})
}

func redisClient(t *testing.T, db int) *goredis.Client {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr, DB: db})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestBrokerFailures covers the broker failures an operator meets, for both
// checks: server down, bad login, unknown vhost or database, a server that
// never answers, and a result backend that is down.
func TestBrokerFailures(t *testing.T) {
	amqpHost := must(url.Parse(amqpURL)).Host
	healthjobtest.NeedService(t, amqpHost, "RabbitMQ")
	healthjobtest.NeedService(t, redisAddr, "Redis")
	// Once every case has ended, their connections and goroutines must be gone.
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
	down, hung := healthjobtest.ClosedPort(t), healthjobtest.Blackhole(t)
	refused := "unavailable: IOError: broker: dial tcp " + down + ": connect: connection refused"

	for _, tc := range []struct {
		name     string
		broker   celery.Broker
		backend  celery.Backend
		deadline time.Duration
		want     string
		most     time.Duration
	}{
		{"amqp down", newAMQP(t, "amqp://guest:guest@"+down+"/"), nil, 5 * time.Second, refused, fast},
		// RabbitMQ holds a failed login for 3 s before it closes the connection.
		{"amqp wrong password", newAMQP(t, "amqp://guest:wrong@"+amqpHost+"/healthjob-celery"), nil, 5 * time.Second,
			"unavailable: IOError: broker: username or password not allowed (AMQP 403)", 3*time.Second + fast},
		{"amqp unknown vhost", newAMQP(t, "amqp://guest:guest@"+amqpHost+"/healthjob-nope"), nil, 5 * time.Second,
			"unavailable: IOError: broker: NOT_ALLOWED - vhost healthjob-nope not found (AMQP 530)", fast},
		{"amqp hangs", newAMQP(t, "amqp://guest:guest@"+hung+"/"), nil, time.Second,
			"unavailable: check timed out after 1s", time.Second + fast},
		{"redis down", newRedis(t, "redis://"+down+"/0", ""), nil, 5 * time.Second, refused, fast},
		{"redis wrong password", newRedis(t, "redis://nobody:wrong@"+redisAddr+"/0", ""), nil, 5 * time.Second,
			"unavailable: IOError: broker: WRONGPASS invalid username-password pair or user is disabled.", fast},
		{"redis unknown database", newRedis(t, "redis://"+redisAddr+"/99", ""), nil, 5 * time.Second,
			"unavailable: IOError: broker: ERR DB index is out of range", fast},
		{"redis hangs", newRedis(t, "redis://"+hung+"/0", ""), nil, time.Second,
			"unavailable: check timed out after 1s", time.Second + fast},
		{"result backend down", newRedis(t, redisURL(dbNoWorker), ""), must(redis.NewBackend("redis://" + down + "/0")), 5 * time.Second,
			"unavailable: IOError: result backend: dial tcp " + down + ": connect: connection refused", fast},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checks := []healthjob.Check{newTask(t, celery.Config{Broker: tc.broker, Backend: celery.RPC{}})}
			if tc.backend != nil {
				checks = []healthjob.Check{newTask(t, celery.Config{Broker: tc.broker, Backend: tc.backend})}
			} else {
				checks = append(checks, newPing(t, celery.PingConfig{Broker: tc.broker}))
			}
			for _, c := range checks {
				got, elapsed := healthjobtest.Result(c, tc.deadline)
				if got != tc.want {
					t.Errorf("%s: status = %q, want %q", c.Name(), got, tc.want)
				}
				if elapsed > tc.most {
					t.Errorf("%s: took %s, want at most %s", c.Name(), elapsed, tc.most)
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
