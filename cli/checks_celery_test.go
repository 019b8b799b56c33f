package cli

import "testing"

// TestCeleryCheckTypes builds celery and celery_ping checks from entries and
// settings. Their brokers are down (port 1): checks/celery tests the checks
// against real workers.
func TestCeleryCheckTypes(t *testing.T) {
	const (
		amqpDown  = "amqp://guest:s3cret@127.0.0.1:1//"
		redisDown = "redis://127.0.0.1:1/0"
		refused   = "unavailable: IOError: broker: dial tcp 127.0.0.1:1: connect: connection refused"
	)
	testEntries(t, celeryCheckTypes, []checkEntry{
		{entry: `{type: celery_ping, url: "` + amqpDown + `"}`, name: "CeleryPingHealthCheck", status: refused},
		{entry: `{type: celery_ping, url: "pyamqp://127.0.0.1:1//", workers: [w1@host], queues: [celery], ping_timeout: 500ms}`,
			name: "CeleryPingHealthCheck", status: refused},
		{settings: "CELERY_BROKER_URL: " + redisDown + "\n", entry: `{type: celery_ping, name: Workers}`, name: "Workers", status: refused},
		{settings: "BROKER_URL: " + redisDown + "\n", entry: `{type: celery_ping, key_prefix: "app:"}`, name: "CeleryPingHealthCheck", status: refused},
		{entry: `{type: celery_ping}`,
			err: "2: checks[1] (celery_ping): url: missing; set url or CELERY_BROKER_URL to the broker, e.g. amqp://guest:guest@localhost:5672//"},
		{entry: `{type: celery_ping, url: "sqs://key:s3cret@"}`,
			err: `2: checks[1] (celery_ping): url: broker URL "sqs://key:*****@": want amqp://, amqps://, redis:// or rediss://`},
		{entry: `{type: celery_ping, url: "amqp://guest:s3cret@host:port//"}`, err: "2: checks[1] (celery_ping): url: broker URL is not a valid URL"},
		{entry: `{type: celery_ping, url: "redis://:s3cret@host/db"}`,
			err: `2: checks[1] (celery_ping): url: broker URL "redis://:*****@host/db": redis: invalid database number: "db"`},
		{entry: `{type: celery_ping, url: "` + amqpDown + `", key_prefix: "app:"}`,
			err: "2: checks[1] (celery_ping): key_prefix: only a Redis broker has a key prefix"},
		{entry: `{type: celery_ping, url: "` + amqpDown + `", ping_timeout: 0}`,
			err: "2: checks[1] (celery_ping): ping_timeout (or HEALTHCHECK_CELERY_PING_TIMEOUT): must be more than 0, got 0s"},
		{entry: `{type: celery_ping, url: "` + amqpDown + `", workers: [""]}`, err: "2: checks[1] (celery_ping): workers: empty name"},
		{entry: `{type: celery_ping, url: "` + amqpDown + `", ping_timeout: soon}`,
			err: "2: checks[1] (celery_ping): ping_timeout: want a duration such as 30, 10s, 500ms or 30d, got \"soon\""},
		{entry: `{type: celery_ping, url: "` + amqpDown + `", queue: celery}`, err: "2: checks[1] (celery_ping): unknown option queue"},

		{entry: `{type: celery, url: "` + redisDown + `"}`, name: "CeleryHealthCheckCelery",
			status: "unavailable: NotImplementedError: Make sure CELERY_RESULT_BACKEND is set"},
		{entry: `{type: celery, url: "` + amqpDown + `", backend: "rpc://", queue: high_priority, priority: 9}`,
			name: "CeleryHealthCheckHigh_Priority", status: refused},
		{settings: "CELERY_BROKER_URL: " + redisDown + "\nCELERY_RESULT_BACKEND: redis://127.0.0.1:1/1\nHEALTHCHECK_CELERY_PRIORITY: 3\n",
			entry: `{type: celery, task: app.tasks.add, result_timeout: 1s, queue_timeout: 2}`, name: "CeleryHealthCheckCelery", status: refused},
		{entry: `{type: celery, url: "` + redisDown + `", backend: "db+postgresql://app:s3cret@db/app"}`,
			err: `2: checks[1] (celery): backend: result backend "db+postgresql://app:*****@db/app": want rpc://, redis:// or rediss://`},
		{entry: `{type: celery, url: "` + redisDown + `", backend: "redis://:s3cret@host/db"}`,
			err: `2: checks[1] (celery): backend: result backend URL "redis://:*****@host/db": redis: invalid database number: "db"`},
		{entry: `{type: celery, url: "` + redisDown + `", priority: 256}`,
			err: "2: checks[1] (celery): priority (or HEALTHCHECK_CELERY_PRIORITY): want 0 to 255, got 256"},
		{settings: "HEALTHCHECK_CELERY_TIMEOUT: 0\n", entry: `{type: celery, url: "` + redisDown + `"}`,
			err: "3: checks[1] (celery): result_timeout (or HEALTHCHECK_CELERY_RESULT_TIMEOUT): must be more than 0, got 0s"},
		{entry: `{type: celery, url: "` + redisDown + `", queue_timeout: -1s}`,
			err: "2: checks[1] (celery): queue_timeout (or HEALTHCHECK_CELERY_QUEUE_TIMEOUT): must be more than 0, got -1s"},
		{entry: `{type: celery, url: "` + redisDown + `", queue: ""}`, err: "2: checks[1] (celery): queue: empty name"},
		{entry: `{type: celery, url: "` + redisDown + `", queue: orders-for-the-warehouse-in-the-north}`,
			err: `2: checks[1] (celery): queue: "orders-for-the-warehouse-in-the-north" makes the name CeleryHealthCheckOrders-For-The-Warehouse-In-The-North longer than 50 characters; shorten it or set name`},
		{entry: `{type: celery, url: "` + redisDown + `", queue: orders-for-the-warehouse-in-the-north, name: Orders}`, name: "Orders"},
		{entry: `{type: celery, url: "` + redisDown + `", workers: [w1]}`, err: "2: checks[1] (celery): unknown option workers"},
	})
}
