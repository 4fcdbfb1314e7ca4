#!/usr/bin/env bash
# The one command that runs all of fieldcase's tests on a fresh machine.
# It first installs what the tests need (idempotently), then checks formatting and lints,
# then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

# --- What the tests need -----------------------------------------------------------------
# The Rust toolchain comes with the machine (rustup). Components used below:
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  log "installing rustfmt and clippy"
  rustup component add rustfmt clippy
fi
# The console's browser test (tests/tests/it/console_browser.rs) drives headless Debian
# Chromium through chromedriver; it fails without them, so they are installed here.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  log "installing chromium and chromium-driver (the console's browser test)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
fi
# The PostgreSQL storage tests (tests/tests/it/postgres.rs) start throwaway clusters with
# Debian's PostgreSQL server binaries (/usr/lib/postgresql/*/bin); they fail without them.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  log "installing postgresql (the PostgreSQL storage tests)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql
fi
# The print test (tests/tests/it/console_print.rs) reads the text of the PDFs Chromium prints
# with poppler's pdftotext; it fails without it.
if ! command -v pdftotext >/dev/null 2>&1; then
  log "installing poppler-utils (pdftotext, the print test)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q poppler-utils
fi
# The interoperability test (tests/tests/it/interop.rs) runs the official JavaScript
# automerge-repo client under Node; its packages are pinned in tests/js/package-lock.json.
log "installing the JavaScript automerge-repo client (npm ci, tests/js)"
npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
# cargo-nextest runs the tests in parallel processes; fall back to cargo test without it.
if cargo nextest --version >/dev/null 2>&1; then RUNNER=nextest; else RUNNER=cargo-test; fi

# cargo-deny checks the dependency graph against deny.toml (licences, bans, sources).
DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q "$DENY_VERSION"; then
  log "installing cargo-deny $DENY_VERSION (the dependency policy, deny.toml)"
  cargo install cargo-deny --locked --version "$DENY_VERSION"
fi

# --- Checks ------------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo deny: licences, bans, sources (deny.toml; advisories need network access)"
cargo deny -L error check licenses bans sources

log "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

# --- Tests -------------------------------------------------------------------------------
log "tests ($RUNNER)"
# Libraries, binaries and integration tests; benchmarks are measured with `cargo bench`
# (clippy above still compiles them).
if [ "$RUNNER" = nextest ]; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
log "bindings: generated Python and Kotlin executed, Swift generated; the mobile demo"
bash bindings/tests/run.sh

log "doc tests"
cargo test --workspace --doc --locked

log "smoke: the two-phones example runs"
cargo run --quiet --locked -p fieldcase-core --example two_phones > /dev/null
