#!/usr/bin/env bash
# CI: regenerate the GraphQL types and rebuild the dashboard from a clean install; fail when the
# committed src/gql/ or server/static/app/ differ from what the sources build into.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here"
npm ci --no-audit --no-fund
npm run codegen
npm run typecheck
npm run build
cd "$root"
if [ -n "$(git status --porcelain -- dashboard/src/gql server/static/app)" ]; then
  git status --short -- dashboard/src/gql server/static/app >&2
  git diff --stat -- dashboard/src/gql server/static/app >&2
  echo "the dashboard build is stale: run 'npm run codegen && npm run build' in dashboard/ and commit it" >&2
  exit 1
fi
echo "dashboard/src/gql and server/static/app are up to date"
