#!/usr/bin/env bash
# Side-by-side benchmarks, one command: builds fieldcase-server and the load generator in
# release, installs the JavaScript automerge-repo server's pinned packages, then runs every
# scenario against each server in turn, the server pinned to core 0 and the client to
# core 1 (taskset), and writes bench/RESULTS.md.
#   bash bench/run.sh            # the full run (10,000 cases; S6 waits 5 minutes per server)
#   bash bench/run.sh --quick    # a small run to try the harness (about a minute)
# Extra arguments go to fieldcase-bench (see bench/src/main.rs). Every scenario has a
# deadline (--deadline SECS, 1200 by default): a server that has not finished by then shows
# "did not finish: N of M in T s", and one whose S1 did not finish runs no further scenario
# (samod at full size: docs/benchmarks.md, "samod's stall").
#   bash bench/run.sh --servers samod --docs 500 --conns 32 --fetchers 64 --phones 20 \
#     --per-phone 10 --clients 50 --big-edits 10000 --settle 5 --deadline 120  # ~5 minutes
#   S7=1 bash bench/run.sh ...  # adds S7 (issue 20: 100,000 cases, about ten minutes more),
#                               # fieldcase-caseload-bench's output as its own section
#   bash bench/run.sh --servers fieldcase   # fieldcase alone (no npm, no samod build)
#   bash bench/run.sh --servers fieldcase,fieldcase-pg,fieldcase-pg2   # and on PostgreSQL:
#     one instance, and two on one database with the clients split between them (S1-S3;
#     a cluster of the run's own from Debian's postgresql package, which the full run
#     uses too when /usr/lib/postgresql/*/bin/initdb or FIELDCASE_PG_BIN is there)
# Builds go to CARGO_TARGET_DIR when it is set (else target/). S1 to S3 report the share of
# encryption at rest: the time the server spent sealing and opening cases, as its /metrics
# counts it (fieldcase_case_seal_seconds_total, fieldcase_case_open_seconds_total).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
# The servers the caller chose (--servers a,b), if any: npm and samod only when wanted.
requested=""
prev=""
for a in "$@"; do
  [ "$prev" = "--servers" ] && [ -z "$requested" ] && requested=$a
  prev=$a
done
only_fieldcase=0
case ",$requested," in
  ,,) ;;
  *,js,* | *,samod,*) ;;
  *) only_fieldcase=1 ;;
esac
args=()
if [ "${1:-}" = "--quick" ]; then
  shift
  args=(--docs 1000 --conns 8 --fetchers 16 --phones 20 --per-phone 10 --clients 50
    --big-edits 10000 --settle 5)
fi
cargo build --release --locked -p fieldcase-server -p fieldcase-bench
servers=fieldcase
if [ -n "${FIELDCASE_PG_BIN:-}" ] || ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1; then
  servers=fieldcase,fieldcase-pg,fieldcase-pg2
fi
pg_servers=$servers
servers=$servers,js
samod_note="samod: did not build here (see bench/out/samod-build.txt)."
mkdir -p bench/out
if [ "$only_fieldcase" = 1 ]; then
  samod_note="fieldcase alone (--servers $requested)."
else
  npm ci --prefix bench/js-server --no-audit --no-fund --loglevel=error
fi
# samod, if it builds here (its own crate and lock, outside the workspace).
if [ "$only_fieldcase" = 0 ] && (cd bench/samod-server && CARGO_TARGET_DIR=target cargo build --release --locked) > bench/out/samod-build.txt 2>&1; then
  servers=$pg_servers,js,samod
  samod_note="samod $(grep -A1 'name = "samod"' bench/samod-server/Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p') with its axum feature (bench/samod-server)."
fi
out=bench/out/table.md
client=(taskset -c 1)
command -v taskset > /dev/null || client=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# A --servers of the caller's chooses among them (the first --servers given counts).
case " $* " in *" --servers "*) servers_arg=() ;; *) servers_arg=(--servers "$servers") ;; esac
"${client[@]}" "$target/release/fieldcase-bench" "${servers_arg[@]}" "${args[@]}" "$@" --out "$out"
s7=""
if [ "${S7:-0}" = "1" ]; then
  cargo build --release --locked -p fieldcase-tests --bin fieldcase-caseload-bench
  "$target/release/fieldcase-caseload-bench" > bench/out/s7.txt
  s7=bench/out/s7.txt
fi
{
  echo "# Benchmarks side by side"
  echo
  echo "Written by \`bash bench/run.sh ${args[*]} $*\` (do not edit by hand; the commentary is"
  echo "in docs/benchmarks.md). One client (\`bench/src\`, speaking the automerge-repo protocol"
  echo "over WebSocket) drives each server in turn on 127.0.0.1; the server runs on core 0 and"
  echo "the client on core 1. Versions: fieldcase $(git rev-parse --short HEAD), automerge-repo"
  echo "$(node -p "require('./bench/js-server/node_modules/@automerge/automerge-repo/package.json').version" 2>/dev/null || echo '(not installed)')"
  echo "with @automerge/automerge $(node -p "require('./bench/js-server/node_modules/@automerge/automerge/package.json').version" 2>/dev/null || echo '(not installed)');"
  echo "$samod_note"
  echo "Load average (1, 5, 15 min) before the run: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "(anything else running on the machine shows here)."
  echo
  cat "$out"
  if [ -n "$s7" ]; then
    echo
    echo "## S7: 100,000 cases on one server (target/release/fieldcase-caseload-bench)"
    echo
    echo '```'
    cat "$s7"
    echo '```'
  fi
} > bench/RESULTS.md
echo "wrote bench/RESULTS.md"
