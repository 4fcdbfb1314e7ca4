#!/usr/bin/env bash
# Runs the mobile demo: two phones through the generated Kotlin bindings, on the JVM.
#   bash mobile-demo/run.sh              # starts a fieldcase-server on 127.0.0.1
#   bash mobile-demo/run.sh SERVER_URL   # or FIELDCASE_SERVER_URL: that server, with a team
#                                        # north (anna, bao, malee; FIELDCASE_DEMO_PASSWORD)
# Installs what it needs when missing: the Kotlin compiler (npm kotlin-compiler, pinned),
# JNA and kotlinx-coroutines (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/kotlin-env.sh
if [ -z "${1:-${FIELDCASE_SERVER_URL:-}}" ]; then
  cargo build --quiet --locked -p fieldcase-server
fi
bash scripts/bindings.sh > /dev/null
out=target/mobile-demo
mkdir -p "$out"
"$KOTLINC" -nowarn -cp "$JNA:$COROUTINES" -d "$out/demo.jar" \
  target/bindings/kotlin/uniffi/fieldcase_bindings/fieldcase_bindings.kt \
  target/bindings/kotlin/uniffi/fieldcase_core/fieldcase_core.kt "$COROUTINES_SHIM" \
  mobile-demo/src/LocalServer.kt mobile-demo/src/Demo.kt 2> "$out/kotlinc.log" ||
  { cat "$out/kotlinc.log"; exit 1; }
# The library copy beside the Python module: the one in a (maybe shared) target
# directory may be rebuilt by another build meanwhile.
java -Djna.library.path="$PWD/target/bindings/python" \
  -cp "$out/demo.jar:$JNA:$COROUTINES:$KOTLIN_LIB/kotlin-stdlib.jar" \
  fieldcase.demo.DemoKt "$PWD" ${1:+"$1"}
