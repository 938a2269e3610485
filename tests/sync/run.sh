#!/usr/bin/env bash
# pos-sync against the real Vendure test shop: starts webshop/test-shop on 127.0.0.1 (SQLite),
# runs `cargo test -p pos-sync --features real-shop --test vendure` with the shop's URL and the
# terminal credential in the environment, and stops the shop by its PID at the end, even on
# failure. Needs Node 20 + npm (the test shop installs its npm packages on first use).
#   PORT=3600 N=120 bash tests/sync/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SHOP="$ROOT/webshop/test-shop"
export PORT=${PORT:-3600} N=${N:-120} DB=sqlite
export RUN_DIR=${RUN_DIR:-$(mktemp -d /tmp/pos-sync-shop.XXXXXX)}
command -v node >/dev/null || { echo "tests/sync/run.sh: node (Node 20) is required for the Vendure test shop" >&2; exit 1; }
t0=$(date +%s)
cleanup() { PORT=$PORT RUN_DIR=$RUN_DIR bash "$SHOP/stop.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT
creds=$(bash "$SHOP/start.sh")
field() { node -e 'const j=JSON.parse(process.argv[1]); process.stdout.write(String(j[process.argv[2]]))' "$creds" "$1"; }
export SHOP_URL=$(field url) SHOP_IDENTIFIER=$(field identifier) SHOP_PASSWORD=$(field password)
export SHOP_PORT=$PORT SHOP_RUN_DIR=$RUN_DIR TEST_SHOP_DIR=$SHOP
echo "### shop up after $(( $(date +%s) - t0 )) s"
cd "$ROOT"
set +e
cargo test -p pos-sync --features real-shop --test vendure -- --test-threads=1 --nocapture 2>&1 | tee "$RUN_DIR/cargo-test.log"
rc=${PIPESTATUS[0]}
set -e
echo "### sync tests took $(( $(date +%s) - t0 )) s in all"
grep -o 'BENCH.*' "$RUN_DIR/cargo-test.log" || true
grep -E '^test result:' "$RUN_DIR/cargo-test.log" | tail -1 || true
exit "$rc"
