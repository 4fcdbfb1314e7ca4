#!/usr/bin/env bash
# Executes the generated bindings, as scripts/test.sh calls it: Python (pytest) and Kotlin
# (on the JVM) against the real library and a real server on 127.0.0.1; Swift is
# generated and checked for presence (no Swift compiler can be installed here).
# Installs, when missing: pytest (pip), the Kotlin compiler (npm), JNA and
# kotlinx-coroutines (apt). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { printf '\n==> %s\n' "$*"; }

if ! python3 -m pytest --version > /dev/null 2>&1; then
  log "installing pytest (pip)"
  python3 -m pip install --quiet --disable-pip-version-check pytest
fi
source scripts/kotlin-env.sh

log "bindings: build and generate (Kotlin, Swift, Python)"
cargo build --quiet --locked -p fieldcase-server
bash scripts/bindings.sh

log "bindings: Swift generated"
for f in fieldcase_bindings.swift fieldcase_bindingsFFI.h fieldcase_bindingsFFI.modulemap \
  fieldcase_core.swift fieldcase_coreFFI.h fieldcase_coreFFI.modulemap; do
  test -s "target/bindings/swift/$f" || { echo "missing target/bindings/swift/$f"; exit 1; }
done
# The surface an iOS app calls is there: waiting calls are `async`, observers protocols.
for api in "class CaseStore" "func createCase(newCase: NewCase)" \
  "func sync(serverUrl: String, token: String) async throws" "func openStore(path: String, key: Data)" \
  "enum FieldcaseError" "protocol SyncObserver" "protocol CaseObserver"; do
  grep -q "$api" target/bindings/swift/fieldcase_bindings.swift || { echo "Swift lacks: $api"; exit 1; }
done
for api in "struct CaseFile" "enum RiskLevel" "case unknown(code: UnknownCode" "enum RefusalKind"; do
  grep -q "$api" target/bindings/swift/fieldcase_core.swift || { echo "Swift lacks: $api"; exit 1; }
done

log "bindings: Python (pytest)"
python3 -m pytest -q bindings/tests/python

log "bindings: Kotlin on the JVM"
out=target/kotlin-tests
mkdir -p "$out"
"$KOTLINC" -nowarn -cp "$JNA:$COROUTINES" -d "$out/tests.jar" \
  target/bindings/kotlin/uniffi/fieldcase_bindings/fieldcase_bindings.kt \
  target/bindings/kotlin/uniffi/fieldcase_core/fieldcase_core.kt "$COROUTINES_SHIM" \
  mobile-demo/src/LocalServer.kt bindings/tests/kotlin/BindingsTest.kt 2> "$out/kotlinc.log" ||
  { cat "$out/kotlinc.log"; exit 1; }
# The library copy beside the Python module: the one in a (maybe shared) target
# directory may be rebuilt by another build meanwhile.
java -Djna.library.path="$PWD/target/bindings/python" \
  -cp "$out/tests.jar:$JNA:$COROUTINES:$KOTLIN_LIB/kotlin-stdlib.jar" \
  BindingsTestKt "$PWD"

log "mobile demo"
bash mobile-demo/run.sh > "$out/demo.txt"
grep -q "conflict at client/address" "$out/demo.txt" || { cat "$out/demo.txt"; exit 1; }
grep -q "syncing: .*/.* cases (sent" "$out/demo.txt" || { cat "$out/demo.txt"; exit 1; }
# The investigation "not enough information" asked for, overdue on the phone, offline.
grep -q "overdue on 2026-12-02 (offline): INVESTIGATION due 2026-11-29" "$out/demo.txt" ||
  { cat "$out/demo.txt"; exit 1; }
