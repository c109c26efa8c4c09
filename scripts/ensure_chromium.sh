#!/usr/bin/env bash
# Installs Debian's headless Chromium (and its driver) for the browser tests, when missing.
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (CI and sessions run as root).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "chromium missing and not root: the browser tests will be skipped" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
echo "chromium installed: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)"
