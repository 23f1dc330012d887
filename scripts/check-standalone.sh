#!/usr/bin/env bash
# Fails when a tracked file reaches outside the repository for the shared folder the project
# started from: tests, docs and scripts must use the copies kept here (tests/fixtures/, docs/).
# The pattern is spelled so that this file does not match it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pattern='(\.\./|/work/)shared\b'
if git ls-files -z | xargs -0 grep -I -n -E "$pattern" --; then
  echo "error: the files above refer to a folder outside the repository; copy what they need" \
       "into tests/fixtures/ or docs/" >&2
  exit 1
fi
