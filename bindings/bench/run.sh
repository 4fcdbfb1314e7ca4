#!/usr/bin/env bash
# FFI cost from Python and Kotlin, and the size of the release library:
#   bash bindings/bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/kotlin-env.sh
# The library is loaded from the copy scripts/bindings.sh puts beside the Python module:
# the one in the (maybe shared) target directory may be rebuilt by another build meanwhile.
target="${CARGO_TARGET_DIR:-$PWD/target}"
bash scripts/bindings.sh --release > /dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
case_id=$(cargo run --quiet --release --locked -p fieldcase-bindings --example bench_store -- "$dir/bench.sqlite")
python3 bindings/bench/bench.py target/bindings/python "$dir/bench.sqlite" "$case_id"
"$KOTLINC" -nowarn -cp "$JNA:$COROUTINES" -d "$dir/bench.jar" \
  target/bindings/kotlin/uniffi/fieldcase_bindings/fieldcase_bindings.kt \
  target/bindings/kotlin/uniffi/fieldcase_core/fieldcase_core.kt "$COROUTINES_SHIM" \
  bindings/bench/Bench.kt 2> /dev/null
java -Djna.library.path="$PWD/target/bindings/python" -cp "$dir/bench.jar:$JNA:$COROUTINES:$KOTLIN_LIB/kotlin-stdlib.jar" \
  BenchKt "$dir/bench.sqlite" "$case_id"
lib="$target/release/libfieldcase_bindings.so"
strip -o "$dir/stripped.so" "$lib"
printf 'release cdylib: %s bytes (%s bytes stripped) for x86_64 Linux\n' \
  "$(stat -c %s "$lib")" "$(stat -c %s "$dir/stripped.so")"
