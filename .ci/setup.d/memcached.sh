#!/usr/bin/env bash
# memcached: Debian's package on 127.0.0.1:11211 for checks/cache/memcached.
# apt never starts it here (policy-rc.d), so this script does.
set -euo pipefail

addr=127.0.0.1:11211

if ! command -v memcached >/dev/null; then
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends memcached
fi

listening() { (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; }

if ! listening; then
	memcached -d -u nobody -l "${addr%:*}" -p "${addr#*:}" -m 64
	for _ in $(seq 100); do
		listening && break
		sleep 0.1
	done
	listening || { echo "memcached did not start on $addr" >&2; exit 1; }
fi

echo "memcached: $(memcached -V) on $addr"
