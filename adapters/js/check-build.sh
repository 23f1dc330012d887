#!/usr/bin/env bash
# CI: rebuild the tracker from a clean install and fail when the committed
# server/static/goalpost.js differs from what the sources build into.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
npm ci --no-audit --no-fund
npm run build
cd "$root"
if ! git diff --exit-code -- server/static/goalpost.js; then
  echo "server/static/goalpost.js is stale: run 'npm run build' in adapters/js and commit it" >&2
  exit 1
fi
echo "server/static/goalpost.js is up to date"
