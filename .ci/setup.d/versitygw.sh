#!/usr/bin/env bash
# versitygw: a real S3 server (posix backend) on 127.0.0.1:7070 for checks/s3.
set -euo pipefail

cache="${HEALTHJOB_CACHE:-$HOME/.cache/healthjob}"
bin="$cache/bin/versitygw"
data="$cache/versitygw"
addr=127.0.0.1:7070

if [[ ! -x "$bin" ]]; then
	# The build takes a few minutes; it runs once per cache.
	GOTOOLCHAIN=go1.27.3 GOFLAGS=-buildvcs=false GOBIN="$cache/bin" \
		go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

# With the posix backend a bucket is a directory.
mkdir -p "$data/healthjob-test"

listening() { (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; }

if ! listening; then
	nohup "$bin" --access healthjob --secret healthjob-secret --port "$addr" posix "$data" \
		>"$cache/versitygw.log" 2>&1 &
	for _ in $(seq 100); do
		listening && break
		sleep 0.1
	done
	listening || { echo "versitygw did not start; see $cache/versitygw.log" >&2; exit 1; }
fi

echo "versitygw: S3 on $addr (access healthjob, bucket healthjob-test, data $data)"
