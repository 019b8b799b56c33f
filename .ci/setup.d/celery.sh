#!/usr/bin/env bash
# Celery: Debian's python3-celery, so that checks/celery's tests can start
# real workers (/usr/bin/python3 -m celery), and the RabbitMQ vhost
# healthjob-celery those workers use, so that their remote-control
# broadcasts stay apart from anything else on the broker. The tests start
# and stop their workers themselves. RabbitMQ (127.0.0.1:5672, guest/guest)
# and Redis (127.0.0.1:6379) are the machine's own.
set -euo pipefail

vhost=healthjob-celery

if ! /usr/bin/python3 -c 'import celery, kombu, amqp, redis' 2>/dev/null; then
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
		python3-celery python3-kombu python3-amqp python3-redis
fi

listening() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
for _ in $(seq 300); do
	listening && break
	sleep 0.1
done
listening || { echo "celery: RabbitMQ does not listen on 127.0.0.1:5672" >&2; exit 1; }

if ! rabbitmqctl -q list_vhosts | grep -qx "$vhost"; then
	rabbitmqctl -q add_vhost "$vhost"
fi
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*'

echo "celery: $(/usr/bin/python3 -m celery --version) installed; RabbitMQ vhost $vhost for guest"
