#!/usr/bin/env bash
# Django: Debian's python3-django with the PostgreSQL driver, so that the
# records store's interop test can run the spec's HeathCheckJob queries with
# the real ORM (/usr/bin/python3) against rows healthjob wrote, and write rows
# healthjob lists. PostgreSQL (127.0.0.1:5432) is the machine's own.
set -euo pipefail

if ! /usr/bin/python3 -c 'import django, psycopg2' 2>/dev/null; then
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends python3-django python3-psycopg2
fi

echo "django: Django $(/usr/bin/python3 -c 'import django; print(django.get_version())') with psycopg2 for /usr/bin/python3"
