#!/usr/bin/env bash
# A second PostgreSQL cluster, "healthjob" on 127.0.0.1:5433 (trust), for the
# outbox's fault test, which stops and starts it (cli,
# TestMonitorDatabaseRestart): the machine's own cluster on 5432 is shared
# and never stopped. Debian's cluster tools create it beside the main one.
set -euo pipefail

version=$(ls /etc/postgresql | sort -n | tail -1)
port=5433

if ! pg_lsclusters -h | awk '{print $2}' | grep -qx healthjob; then
	pg_createcluster "$version" healthjob -p "$port" -- --auth=trust >/dev/null
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if ! listening; then
	pg_ctlcluster --skip-systemctl-redirect "$version" healthjob start
	for _ in $(seq 100); do
		listening && break
		sleep 0.1
	done
	listening || { echo "pg-faults: the healthjob cluster did not start on port $port" >&2; exit 1; }
fi

echo "pg-faults: PostgreSQL $version cluster healthjob on 127.0.0.1:$port"
