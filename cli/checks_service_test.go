package cli

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/healthjobtest"
	goredis "github.com/redis/go-redis/v9"
)

func TestServiceCheckTypes(t *testing.T) {
	down := healthjobtest.ClosedPort(t)
	testEntries(t, closing(t, serviceCheckTypes), []checkEntry{
		{entry: `{type: redis}`, name: "RedisHealthCheck"},
		{entry: `{type: redis, url: "redis://` + down + `/0", name: Sessions}`, name: "Sessions", status: "unavailable: Unable to connect to Redis: Connection was refused."},
		{entry: `{type: redis, url: "redis://` + down + `", cluster: true}`, name: "RedisHealthCheck", status: "unavailable: Unable to connect to Redis: Connection was refused."},
		{entry: `{type: redis, url: "http://u:s3cret@cache:6379"}`, err: "2: checks[1] (redis): url: redis: invalid URL scheme: http"},
		{entry: `{type: redis, url: "redis://u:s3cret@cache:6379/x"}`, err: `2: checks[1] (redis): url: redis: invalid database number: "x"`},
		{entry: `{type: redis, cluster: maybe}`, err: `2: checks[1] (redis): cluster: want true or false, got "maybe"`},
		{entry: `{type: redis, db: 1}`, err: "2: checks[1] (redis): unknown option db"},
		{entry: `{type: redis, url: "redis://` + down + `/0", conn_max_age: 0}`, name: "RedisHealthCheck", status: "unavailable: Unable to connect to Redis: Connection was refused."},
		{entry: `{type: redis, url: "redis://` + down + `/0", conn_max_age: 5m}`, name: "RedisHealthCheck", status: "unavailable: Unable to connect to Redis: Connection was refused."},
		{entry: `{type: redis, conn_max_age: -5s}`, err: "2: checks[1] (redis): conn_max_age: must be 0 (a new connection every run) or more, got -5s"},
		{entry: `{type: redis, conn_max_age: soon}`, err: `2: checks[1] (redis): conn_max_age: want a duration such as 30, 10s, 500ms or 30d, got "soon"`},

		{entry: `{type: cache, url: "redis://` + down + `"}`, name: "Cache backend: default", status: "unexpected result: Connection Error: connection refused"},
		{entry: `{type: cache, url: "memcached://` + down + `", alias: sessions}`, name: "Cache backend: sessions", status: "unexpected result: Connection Error: connection refused"},
		{entry: `{type: cache, url: "unix:///run/redis.sock", alias: sessions, name: Sessions}`, name: "Sessions"},
		{entry: `{type: cache}`, err: "2: checks[1] (cache): url is missing; want redis://host:6379/1 or memcached://host:11211"},
		{entry: `{type: cache, url: "mongodb://u:s3cret@db"}`, err: `2: checks[1] (cache): url: "mongodb://u:*****@db": want redis://, rediss://, unix:// or memcached://`},
		{entry: `{type: cache, url: "memcached://cache:port"}`, err: `2: checks[1] (cache): url: server "cache:port": want host or host:port`},
		{entry: `{type: cache, url: "redis://:s3cret@cache/x"}`, err: `2: checks[1] (cache): url: redis: invalid database number: "x"`},
		{entry: `{type: cache, url: "redis://` + down + `", conn_max_age: 0}`, name: "Cache backend: default", status: "unexpected result: Connection Error: connection refused"},
		{entry: `{type: cache, url: "memcached://` + down + `", conn_max_age: 90}`, name: "Cache backend: default", status: "unexpected result: Connection Error: connection refused"},
		{entry: `{type: cache, url: "redis://cache", conn_max_age: -5s}`, err: "2: checks[1] (cache): conn_max_age: must be 0 (a new connection every run) or more, got -5s"},
		{entry: `{type: cache, url: "memcached://cache", conn_max_age: [1]}`, err: "2: checks[1] (cache): conn_max_age: want a duration such as 30, 10s, 500ms or 30d, got a list"},

		{entry: `{type: rabbitmq}`, name: "RabbitMQHealthCheck"},
		{entry: `{type: rabbitmq, url: "amqp://guest:guest@` + down + `/"}`, name: "RabbitMQHealthCheck", status: "unavailable: Unable to connect to RabbitMQ: Connection was refused."},
		{settings: "BROKER_URL: amqp://guest:guest@" + down + "//\n", entry: `{type: rabbitmq}`, name: "RabbitMQHealthCheck", status: "unavailable: Unable to connect to RabbitMQ: Connection was refused."},
		{settings: "CELERY_BROKER_URL: pyamqp://guest:guest@" + down + "//\n", entry: `{type: rabbitmq}`, name: "RabbitMQHealthCheck", status: "unavailable: Unable to connect to RabbitMQ: Connection was refused."},
		{settings: "CELERY_BROKER_URL: redis://:s3cret@cache:6379/0\n", entry: `{type: rabbitmq}`,
			err: "3: checks[1] (rabbitmq): url: AMQP scheme must be either 'amqp://' or 'amqps://' (from CELERY_BROKER_URL; set url to check another broker)"},
		{entry: `{type: rabbitmq, url: "amqp://guest:s3cret@rabbit:port/"}`, err: `2: checks[1] (rabbitmq): url: invalid port ":port" after host`},

		{entry: `{type: nats, url: "nats://` + down + `"}`, name: "NATSHealthCheck", status: "unavailable: Unable to connect to NATS: connection refused"},
		{entry: `{type: nats, url: "http://nats:4222"}`, err: `2: checks[1] (nats): url: unknown scheme "http"; want nats://, tls://, ws:// or wss://`},

		{entry: `{type: kafka, brokers: ["` + down + `"], topic: orders}`, name: "KafkaHealthCheck", status: "unavailable: Unable to connect to Kafka: connection refused"},
		{entry: `{type: kafka, url: "kafka://` + down + `", name: Events}`, name: "Events", status: "unavailable: Unable to connect to Kafka: connection refused"},
		{entry: `{type: kafka, brokers: "a:9092, b:9092"}`, name: "KafkaHealthCheck"},
		{entry: `{type: kafka, url: "kafka://a:9092", brokers: [b:9092]}`, err: "2: checks[1] (kafka): url and brokers both name the brokers; set one"},
		{entry: `{type: kafka, brokers: [a]}`, err: `2: checks[1] (kafka): broker "a": want host:port`},
	})
}

// TestServiceCheckTypesLive builds each type against the real services.
func TestServiceCheckTypesLive(t *testing.T) {
	redisURL := healthjobtest.Env("HEALTHJOB_REDIS_URL", "redis://127.0.0.1:6379/0")
	rabbitURL := healthjobtest.Env("HEALTHJOB_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
	natsURL := healthjobtest.Env("HEALTHJOB_NATS_URL", "nats://127.0.0.1:4222")
	memcached := healthjobtest.Env("HEALTHJOB_MEMCACHED_ADDR", "127.0.0.1:11211")
	for _, s := range []struct{ test, addr, entry, name string }{
		{"redis", hostOf(t, redisURL), `{type: redis, url: "` + redisURL + `"}`, "RedisHealthCheck"},
		{"cache/redis", hostOf(t, redisURL), `{type: cache, url: "` + redisURL + `"}`, "Cache backend: default"},
		{"cache/memcached", memcached, `{type: cache, url: "memcached://` + memcached + `"}`, "Cache backend: default"},
		{"rabbitmq", hostOf(t, rabbitURL), `{type: rabbitmq, url: "` + rabbitURL + `"}`, "RabbitMQHealthCheck"},
		{"nats", hostOf(t, natsURL), `{type: nats, url: "` + natsURL + `"}`, "NATSHealthCheck"},
	} {
		t.Run(s.test, func(t *testing.T) {
			healthjobtest.NeedService(t, s.addr, s.test)
			testEntries(t, closing(t, serviceCheckTypes), []checkEntry{{entry: s.entry, name: s.name, status: "working"}})
		})
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestServiceConnMaxAge: a redis check and a cache check of Redis keep
// their connection between runs, as conn_max_age's default says, until they
// are closed; with conn_max_age 0 none outlives a run. The connection is
// found on the server by the client_name of the URL.
func TestServiceConnMaxAge(t *testing.T) {
	raw := healthjobtest.Env("HEALTHJOB_REDIS_URL", "redis://127.0.0.1:6379/0")
	healthjobtest.NeedService(t, hostOf(t, raw), "Redis (HEALTHJOB_REDIS_URL)")
	opt, err := goredis.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	admin := goredis.NewClient(opt)
	t.Cleanup(func() { admin.Close() })
	connections := func(name string) int {
		list, err := admin.ClientList(context.Background()).Result()
		if err != nil {
			t.Fatalf("CLIENT LIST: %v", err)
		}
		return strings.Count(list, " name="+name+" ")
	}
	for _, typ := range []string{"redis", "cache"} {
		for option, kept := range map[string]int{"": 1, ", conn_max_age: 10m": 1, ", conn_max_age: 0": 0} {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			name := "healthjob_cli_" + strings.ToLower(rand.Text()[:10])
			q := u.Query()
			q.Set("client_name", name)
			u.RawQuery = q.Encode()
			entry := `{type: ` + typ + `, url: "` + u.String() + `"` + option + `}`
			c, errText := buildEntry(t, serviceCheckTypes, "", entry)
			if errText != "" {
				t.Fatalf("%s: %s", entry, errText)
			}
			for range 2 {
				healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
				if n := connections(name); n != kept {
					t.Errorf("%s: %d connections after a run, want %d", entry, n, kept)
				}
			}
			if err := closeCheck(c); err != nil {
				t.Errorf("%s: close: %v", entry, err)
			}
			// The server forgets a closed connection a moment later.
			n := connections(name)
			for deadline := time.Now().Add(5 * time.Second); n != 0 && time.Now().Before(deadline); n = connections(name) {
				time.Sleep(10 * time.Millisecond)
			}
			if n != 0 {
				t.Errorf("%s: %d connections after close, want none", entry, n)
			}
		}
	}
}
