#!/usr/bin/env bash
# Runs the mobile demo: two phones through the generated Kotlin bindings, on the JVM, with
# a fieldcase-server on 127.0.0.1. Installs what it needs when missing: the Kotlin compiler
# (npm kotlin-compiler, pinned) and JNA (Debian libjna-java).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/kotlin-env.sh
cargo build --quiet --locked -p fieldcase-server
bash scripts/bindings.sh > /dev/null
out=target/mobile-demo
mkdir -p "$out"
"$KOTLINC" -nowarn -cp "$JNA" -d "$out/demo.jar" \
  target/bindings/kotlin/uniffi/fieldcase_bindings/fieldcase_bindings.kt \
  mobile-demo/src/LocalServer.kt mobile-demo/src/Demo.kt 2> "$out/kotlinc.log" ||
  { cat "$out/kotlinc.log"; exit 1; }
java -Djna.library.path=target/debug -cp "$out/demo.jar:$JNA:$KOTLIN_LIB/kotlin-stdlib.jar" \
  fieldcase.demo.DemoKt "$PWD"
