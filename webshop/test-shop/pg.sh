#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test shop, on 127.0.0.1:$PGPORT, data in a temp dir.
#   pg.sh start   initdb + start + createdb vendure; writes $RUN_DIR/postgres.pid and pg.dir
#   pg.sh stop    stops it by its PID and removes the data
# Needs Debian's postgresql server binaries (apt-get install postgresql). Runs the server as the
# `postgres` user when started as root (PostgreSQL refuses to run as root).
set -euo pipefail
: "${RUN_DIR:?RUN_DIR must be set}" "${PGPORT:?PGPORT must be set}"
pgbin=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do [ -x "$d/initdb" ] && { pgbin=$d; break; }; done
[ -z "$pgbin" ] && command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ] && pgbin=$(pg_config --bindir)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
start)
  [ -n "$pgbin" ] || { echo "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql" >&2; exit 1; }
  "$0" stop >/dev/null 2>&1 || true
  dir=$(mktemp -d /tmp/pos-test-pg.XXXXXX)
  echo "$dir" > "$RUN_DIR/pg.dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_pg "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale > "$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $PGPORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
    start > /dev/null || { cat "$dir/postgres.log" >&2; exit 1; }
  head -1 "$dir/data/postmaster.pid" > "$RUN_DIR/postgres.pid"
  as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres vendure
  echo "postgres up on 127.0.0.1:$PGPORT pid $(cat "$RUN_DIR/postgres.pid") data $dir"
  ;;
stop)
  if [ -f "$RUN_DIR/postgres.pid" ]; then
    pid=$(cat "$RUN_DIR/postgres.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -INT "$pid"   # fast shutdown
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$RUN_DIR/postgres.pid"
  fi
  if [ -f "$RUN_DIR/pg.dir" ]; then
    dir=$(cat "$RUN_DIR/pg.dir")
    case "$dir" in /tmp/pos-test-pg.*) rm -rf "$dir";; esac
    rm -f "$RUN_DIR/pg.dir"
  fi
  ;;
*) echo "usage: pg.sh start|stop" >&2; exit 2;;
esac
