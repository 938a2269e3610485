#!/usr/bin/env bash
# Runs every test of the Vendure POS plugin against a real Vendure shop: first on SQLite, then on
# PostgreSQL (a throwaway cluster started and stopped by the tests; needs Debian's `postgresql`).
# From a clean checkout it installs the npm dependencies with `npm ci` (skipped when
# node_modules already matches package-lock.json) and builds the plugin with tsc.
# Last line: "N passed, N failed"; exit status non-zero if anything failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/vendure-plugin"
export VENDURE_DISABLE_TELEMETRY=true
export JOBS=${JOBS:-max}   # node-gyp: compile better-sqlite3 on all cores
# node-gyp must build better-sqlite3 against the installed Node headers (it cannot download them).
[ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ] && export npm_config_nodedir=/usr
t0=$(date +%s)

stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund --loglevel=error || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
  echo "$want" > "$stamp"
fi
echo "== tsc ($(( $(date +%s) - t0 )) s so far)"
node_modules/.bin/tsc -p tsconfig.json || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
for db in ${TEST_DBS:-sqlite postgres}; do
  echo "== tests on $db"
  log=$(mktemp)
  DB=$db node --test --test-concurrency=1 --test-reporter=tap test/*.test.js 2>&1 | tee "$log"
  p=$(grep -E '^# pass [0-9]+' "$log" | tail -1 | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+' "$log" | tail -1 | awk '{print $3}')
  c=$(grep -E '^# cancelled [0-9]+' "$log" | tail -1 | awk '{print $3}')
  if [ -z "$p" ]; then p=0; f=1; fi
  passed=$((passed + p)); failed=$((failed + ${f:-0} + ${c:-0}))
  rm -f "$log"
done
echo "== done in $(( $(date +%s) - t0 )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
