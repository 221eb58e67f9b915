#!/usr/bin/env bash
# Create .venv (once) and install the locked requirements into it.
#   scripts/setup.sh            runtime only (the dashboard): requirements.txt
#   scripts/setup.sh --dev      the dev lock requirements-dev.txt (runtime + tests, benchmarks),
#                               plus Chromium for browser tests and nginx for the serving tests
# The locks pin every package exactly (regenerate them with scripts/lock.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# pip itself is pinned too (the version the locks were tested with), not "latest".
PIP_VERSION=26.3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet "pip==$PIP_VERSION"
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
  # Browser tests drive Debian's Chromium; Playwright cannot download a browser here.
  # The serving tests (tests/serve) put Debian's nginx in front of the replicas (scripts/serve.sh).
  MISSING=""
  command -v chromium >/dev/null 2>&1 || MISSING+=" chromium"
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || MISSING+=" nginx"
  if [ -n "$MISSING" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086 -- one word per package
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
  fi
else
  .venv/bin/python -m pip install --quiet -r requirements.txt
fi
