#!/usr/bin/env bash
# Celery: Debian's python3-celery, so that checks/celery's tests can start
# real workers (/usr/bin/python3 -m celery). It installs only: the tests start
# and stop their own workers. They also need RabbitMQ on 127.0.0.1:5672 and
# Redis on 127.0.0.1:6379, which this machine already runs.
set -euo pipefail

if ! /usr/bin/python3 -c 'import celery, kombu, amqp, redis' 2>/dev/null; then
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
		python3-celery python3-kombu python3-amqp python3-redis
fi

echo "celery: $(/usr/bin/python3 -m celery --version) installed (tests run /usr/bin/python3 -m celery worker)"
