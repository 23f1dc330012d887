#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine and runs all of it:
# the Python package with its test extras, Debian's Chromium for the browser tests, the
# tracker's npm dev dependencies and its node unit tests, the dashboard's npm dependencies (its
# browser tests inject axe-core from them), then pytest (SQLite and PostgreSQL).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

(cd adapters/js && npm ci --no-audit --no-fund --silent && node --test test/)
(cd dashboard && npm ci --no-audit --no-fund --silent)

python3 -m pytest "$@"
