#!/usr/bin/env bash
# CI: rebuild the trackers from a clean install and fail when the committed
# server/static/goalpost.js or goalpost.plus.js differs from what the sources build into
# (the build itself fails when either is over its gzip budget).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
npm ci --no-audit --no-fund
npm run build
cd "$root"
for built in server/static/goalpost.js server/static/goalpost.plus.js; do
  if ! git ls-files --error-unmatch "$built" >/dev/null 2>&1 || ! git diff --exit-code -- "$built"; then
    echo "$built is stale or not committed: run 'npm run build' in adapters/js and commit it" >&2
    exit 1
  fi
  echo "$built is up to date"
done
