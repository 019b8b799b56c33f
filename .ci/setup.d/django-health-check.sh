#!/usr/bin/env bash
# django-health-check: Debian's Django 3.2 and django-health-check 3.17, the
# Python peer that `go run ./bench` measures healthjob against (bench/peer/).
# Beside them: psutil (the disk and memory plugins), redis (the Redis
# plugin), django-redis (Django 3.2 has no Redis cache backend of its own)
# and psycopg2 (the PostgreSQL database). The peer runs under
# /usr/bin/python3: the python3 on PATH may be a pyenv without these.
# PostgreSQL and Redis are the machine's own.
set -euo pipefail

if ! /usr/bin/python3 -c 'import django, health_check, psutil, redis, django_redis, psycopg2' 2>/dev/null; then
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
		python3-django python3-django-health-check python3-psutil python3-redis \
		python3-django-redis python3-psycopg2
fi

echo "django-health-check: Django $(/usr/bin/python3 -c 'import django; print(django.get_version())')," \
	"django-health-check $(dpkg-query -W -f='${Version}' python3-django-health-check) for /usr/bin/python3"
