#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test of the project.
# Usage: bash scripts/test.sh            (what CI runs, through .ci/run)
#        SKIP_E2E=1 bash scripts/test.sh (skip the real-app end-to-end test)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
T0=$(date +%s)
declare -a SUITES=()
FAILED=0
lap() { echo "### $1 ($(( $(date +%s) - T0 )) s since start)"; }
suite() { # suite NAME COMMAND... : runs a suite, records pass/fail, keeps going
  local name=$1; shift
  lap "start: $name"
  if "$@"; then SUITES+=("PASS $name"); else SUITES+=("FAIL $name"); FAILED=$((FAILED + 1)); fi
  lap "end: $name"
}

bash scripts/install-deps.sh
lap "debian packages"
export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0

suite "rustfmt" cargo fmt --all -- --check
# The UI first: its build (ui/dist) is what the desktop shell embeds.
suite "ui tests (svelte-check, vitest + headless chromium)" bash -c "cd ui && npm ci --no-audit --no-fund && npm run check && npm test"
# The Rust crates that are not the desktop shell build and test without WebKit.
suite "rust unit+integration tests" cargo test --locked --workspace --exclude pos-app
suite "clippy (all crates, the shell included)" cargo clippy --locked --workspace --all-targets -- -D warnings
# Our real USB printer driver and evdev scanner driver against a USB printer gadget and a
# uinput scanner in a QEMU guest (this machine's own kernel has neither USB nor uinput).
suite "usb printer + hid scanner drivers in a qemu guest" bash hardware/tests/qemu/run.sh
if [ -x webshop/test.sh ]; then
  suite "vendure plugin tests (sqlite + postgres)" bash webshop/test.sh
fi
if [ -x tests/sync/run.sh ]; then
  suite "sync against the real vendure" bash tests/sync/run.sh
fi
if [ -z "${SKIP_E2E:-}" ] && [ -x tests/e2e/run.sh ]; then
  suite "real app end-to-end (tauri-driver)" bash tests/e2e/run.sh
fi

lap "all done"
printf '%s\n' "${SUITES[@]}"
echo "suites: $(( ${#SUITES[@]} - FAILED )) passed, $FAILED failed"
[ "$FAILED" = 0 ]
