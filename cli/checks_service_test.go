package cli

import (
	"net/url"
	"testing"

	"github.com/healthjob/healthjob/healthjobtest"
)

func TestServiceCheckTypes(t *testing.T) {
	down := healthjobtest.ClosedPort(t)
	testEntries(t, serviceCheckTypes, []checkEntry{
		{entry: `{type: redis}`, name: "RedisHealthCheck"},
		{entry: `{type: redis, url: "redis://` + down + `/0", name: Sessions}`, name: "Sessions", status: "unavailable: Unable to connect to Redis: Connection was refused."},
		{entry: `{type: redis, url: "redis://` + down + `", cluster: true}`, name: "RedisHealthCheck", status: "unavailable: Unable to connect to Redis: Connection was refused."},
		{entry: `{type: redis, url: "http://u:s3cret@cache:6379"}`, err: "2: checks[1] (redis): url: redis: invalid URL scheme: http"},
		{entry: `{type: redis, url: "redis://u:s3cret@cache:6379/x"}`, err: `2: checks[1] (redis): url: redis: invalid database number: "x"`},
		{entry: `{type: redis, cluster: maybe}`, err: `2: checks[1] (redis): cluster: want true or false, got "maybe"`},
		{entry: `{type: redis, db: 1}`, err: "2: checks[1] (redis): unknown option db"},

		{entry: `{type: cache, url: "redis://` + down + `"}`, name: "Cache backend: default", status: "unexpected result: Connection Error: connection refused"},
		{entry: `{type: cache, url: "memcached://` + down + `", alias: sessions}`, name: "Cache backend: sessions", status: "unexpected result: Connection Error: connection refused"},
		{entry: `{type: cache, url: "unix:///run/redis.sock", alias: sessions, name: Sessions}`, name: "Sessions"},
		{entry: `{type: cache}`, err: "2: checks[1] (cache): url is missing; want redis://host:6379/1 or memcached://host:11211"},
		{entry: `{type: cache, url: "mongodb://u:s3cret@db"}`, err: `2: checks[1] (cache): url: "mongodb://u:*****@db": want redis://, rediss://, unix:// or memcached://`},
		{entry: `{type: cache, url: "memcached://cache:port"}`, err: `2: checks[1] (cache): url: server "cache:port": want host or host:port`},
		{entry: `{type: cache, url: "redis://:s3cret@cache/x"}`, err: `2: checks[1] (cache): url: redis: invalid database number: "x"`},

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
			testEntries(t, serviceCheckTypes, []checkEntry{{entry: s.entry, name: s.name, status: "working"}})
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
