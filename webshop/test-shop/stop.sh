#!/usr/bin/env bash
# Stops the test shop started by start.sh (same PORT or RUN_DIR), by its PID, and its PostgreSQL cluster.
#   stop.sh --server-only   stops only the Vendure server; the database stays (start.sh --keep-data).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PORT=${PORT:-3000}
export RUN_DIR=${RUN_DIR:-$here/run-$PORT}
if [ -f "$RUN_DIR/server.pid" ]; then
  pid=$(cat "$RUN_DIR/server.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$RUN_DIR/server.pid"
fi
[ "${1:-}" = --server-only ] && exit 0
PGPORT=${PGPORT:-0} "$here/pg.sh" stop
