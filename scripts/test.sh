#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine and runs all of it:
# the Python package with its test extras, Debian's Chromium, PHP, WordPress and MariaDB, the
# tracker's npm dev dependencies and its node unit tests, the dashboard's npm dependencies (its
# browser tests inject axe-core from them), then pytest (SQLite and PostgreSQL).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Debian packages: Chromium for the browser tests; PHP, WordPress and MariaDB for the
# WordPress plugin's tests (tests/wordpress/ start their own MariaDB when none answers on 3306).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v php >/dev/null 2>&1 || missing+=(php-cli)
{ command -v php >/dev/null 2>&1 && php -m | grep -qx mysqli; } || missing+=(php-mysql)
[ -f /usr/share/wordpress/wp-settings.php ] || missing+=(wordpress)
{ command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; } || missing+=(mariadb-server)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

(cd adapters/js && npm ci --no-audit --no-fund --silent && node --test test/)
(cd dashboard && npm ci --no-audit --no-fund --silent)

python3 -m pytest "$@"
