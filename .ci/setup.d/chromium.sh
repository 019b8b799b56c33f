#!/usr/bin/env bash
# Chromium: Debian's package, driven headless by the admin's browser tests
# (internal/admin, chromedp). Nothing to start: each test launches its own.
set -euo pipefail

if ! command -v chromium >/dev/null; then
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium fonts-dejavu-core
fi

echo "chromium: $(chromium --version 2>/dev/null | grep -m1 -i chromium) at $(command -v chromium)"
