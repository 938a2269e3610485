#!/usr/bin/env bash
# Starts a throwaway Vendure 3.7 test shop with the POS plugin on 127.0.0.1:$PORT.
#
#   PORT=3000 DB=sqlite|postgres N=200 webshop/test-shop/start.sh
#
# Installs the plugin's npm dependencies if needed (npm ci), builds the plugin (tsc), creates a
# fresh database (SQLite file, or a throwaway PostgreSQL cluster on $PGPORT), imports N generated
# variants (SKUs, EAN-13 barcodes, names, prices, stock, two tax categories), starts the shop,
# links "Pickup in store" to the store's stock location and creates a terminal credential.
# Writes $RUN_DIR/server.pid and $RUN_DIR/terminal.json; prints the credential as JSON last.
# Stop it with stop.sh (same PORT / RUN_DIR).
#
#   SEED=bulk N=100000 start.sh   the same catalog, written straight into the SQLite database by
#                          seed-bulk.js (minutes instead of ~45 min; cached under run-cache/), then
#                          checked through the Admin API: for the import benchmark.
#
#   start.sh --keep-data   restarts only the Vendure server on the existing database (after
#                          `stop.sh --server-only`): for "shop down, then back" tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
plugin=$(cd "$here/../vendure-plugin" && pwd)
export VENDURE_DISABLE_TELEMETRY=true FAST_SQLITE=1 JOBS=${JOBS:-max}
export PORT=${PORT:-3000} DB=${DB:-sqlite} N=${N:-200}
# node-gyp must build better-sqlite3 against the installed Node headers (it cannot download them).
[ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ] && export npm_config_nodedir=/usr
export RUN_DIR=${RUN_DIR:-$here/run-$PORT}
export PGPORT=${PGPORT:-$((PORT + 2000))} POPULATE_PORT=${POPULATE_PORT:-$((PORT + 100))}
mkdir -p "$RUN_DIR"
keep=0; [ "${1:-}" = --keep-data ] && keep=1
# --keep-data reuses the database settings of the first start.
if [ "$keep" = 1 ] && [ -f "$RUN_DIR/shop.env" ]; then . "$RUN_DIR/shop.env"; export DB PGPORT N; fi
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

if [ "$keep" = 1 ]; then
  "$here/stop.sh" --server-only >/dev/null 2>&1 || true
  [ -f "$RUN_DIR/terminal.json" ] || { echo "--keep-data: no test shop data in $RUN_DIR" >&2; exit 1; }
else
  "$here/stop.sh" >/dev/null 2>&1 || true
fi

# On any failure, stop what this script started (the server, and a fresh PostgreSQL cluster).
cleanup_on_failure() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  if [ "$keep" = 1 ]; then "$here/stop.sh" --server-only >/dev/null 2>&1 || true
  else "$here/stop.sh" >/dev/null 2>&1 || true; fi
  exit "$rc"
}
trap cleanup_on_failure EXIT

t=$(now)
if [ ! -d "$plugin/node_modules/@vendure/core" ]; then
  (cd "$plugin" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
t_install=$(since "$t"); t=$(now)
if [ ! -f "$plugin/dist/index.js" ] || [ -n "$(find "$plugin/src" -newer "$plugin/dist/index.js" -name '*.ts' | head -1)" ]; then
  (cd "$plugin" && node_modules/.bin/tsc -p tsconfig.json) >&2
fi
t_build=$(since "$t"); t=$(now)

if [ "$keep" = 0 ]; then
  printf 'DB=%s\nPGPORT=%s\nN=%s\n' "$DB" "$PGPORT" "$N" > "$RUN_DIR/shop.env"
  if [ "$DB" = postgres ]; then
    "$here/pg.sh" start >&2
  else
    rm -f "$RUN_DIR"/vendure.sqlite*
  fi
  if [ "${SEED:-}" = bulk ]; then
    [ "$DB" = sqlite ] || { echo "SEED=bulk needs DB=sqlite" >&2; exit 1; }
    node "$here/seed-bulk.js" "$N" > "$RUN_DIR/populate.log" 2>&1 || { cat "$RUN_DIR/populate.log" >&2; exit 1; }
  else
    node "$here/gen-catalog.js" "$N" > "$RUN_DIR/products.csv"
    node "$here/populate.js" "$RUN_DIR/products.csv" > "$RUN_DIR/populate.log" 2>&1 || { cat "$RUN_DIR/populate.log" >&2; exit 1; }
  fi
fi
t_populate=$(since "$t"); t=$(now)

node "$here/server.js" > "$RUN_DIR/server.log" 2>&1 &
echo $! > "$RUN_DIR/server.pid"
healthy() { node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$PORT/health"; }
for _ in $(seq 1 240); do
  healthy && break
  kill -0 "$(cat "$RUN_DIR/server.pid")" 2>/dev/null || break
  sleep 0.25
done
healthy || { cat "$RUN_DIR/server.log" >&2; exit 1; }
t_start=$(since "$t"); t=$(now)
if [ "$keep" = 0 ]; then
  node "$here/setup.js" --url "http://127.0.0.1:$PORT" > "$RUN_DIR/setup.out" 2>&1 || { cat "$RUN_DIR/setup.out" >&2; exit 1; }
  if [ "${SEED:-}" = bulk ]; then
    node "$here/seed-bulk.js" --check "$N" --url "http://127.0.0.1:$PORT" >> "$RUN_DIR/setup.out" 2>&1 || { cat "$RUN_DIR/setup.out" >&2; exit 1; }
  fi
fi
t_setup=$(since "$t")
echo "vendure ($DB, $N variants) up on 127.0.0.1:$PORT pid $(cat "$RUN_DIR/server.pid"); install ${t_install}s build ${t_build}s populate ${t_populate}s start ${t_start}s setup ${t_setup}s" >&2
cat "$RUN_DIR/terminal.json"; echo
