// Package celery checks Celery workers from Go, speaking Celery's own wire
// protocol to the broker: django-health-check's celery_ping and celery
// checks, with no Python involved. This package holds the protocol (message
// bodies, headers, replies) and the checks; the transports live in
// checks/celery/amqp (RabbitMQ, amqp091-go) and checks/celery/redis (Redis,
// go-redis, also the redis:// result backend), so a program that uses one
// broker compiles only that broker's client.
//
// # PingCheck (CeleryPingHealthCheck)
//
//  1. Connect to the broker.
//  2. Publish a remote-control "ping" to the fanout exchange celery.pidbox,
//     which every worker's pidbox queue is bound to, addressed to all
//     workers or to PingConfig.Workers, with replies routed through the
//     exchange reply.celery.pidbox to a queue of this check's own.
//  3. Collect the replies that carry the request's ticket until
//     PingConfig.Timeout has passed, or at once when every addressed worker
//     answered (the Redis broker counts the workers it reached, and RabbitMQ
//     returns a request that reached none).
//  4. With PingConfig.Queues set, ask the workers that answered for their
//     active queues the same way, and report each queue no worker consumes.
//
// Status texts:
//
//	unavailable: Celery workers unavailable                  (no reply)
//	unavailable: Celery worker <name> response was incorrect (a reply other than {"ok": "pong"})
//	unavailable: Celery worker <name> did not answer         (a worker of PingConfig.Workers)
//	unavailable: No worker for Celery task queue <queue>
//	unavailable: IOError: broker: <reason>                   (connection refused, bad login, unknown vhost…)
//
// # Check (CeleryHealthCheck<Queue>)
//
//  1. Connect to the broker; with the redis:// result backend, subscribe to
//     the task's result first, so that none is missed.
//  2. Send the task health_check.contrib.celery.tasks.add with args [4, 4]
//     (Celery message protocol 2) to Config.Queue through the anonymous
//     exchange, expiring after Config.QueueTimeout, with Config.Priority and
//     reply_to naming this check's reply queue (where rpc:// results come).
//     RabbitMQ drops the message once nobody can use it any more; on Redis the
//     check takes back a message no worker has taken when it ends.
//  3. Wait up to Config.ResultTimeout for the task's final state and expect
//     SUCCESS with the result 8.
//
// Status texts:
//
//	unexpected result: Celery returned wrong result
//	unavailable: TimeoutError: The task took too long to return a result
//	unavailable: TaskRevokedError: The task was revoked, likely because it spent too long in the queue
//	unavailable: NotImplementedError: Make sure CELERY_RESULT_BACKEND is set
//	unavailable: Celery task queue <queue> does not exist   (RabbitMQ has no such queue)
//	unavailable: Unknown error: <exception>                 (the task failed, e.g. NotRegistered)
//	unavailable: IOError: broker: <reason>
//	unavailable: IOError: result backend: <reason>
//
// Both checks end within their context's deadline and leave nothing behind:
// reply queues are exclusive to the connection (RabbitMQ) or deleted with
// their binding (Redis).
package celery
