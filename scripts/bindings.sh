#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings of fieldcase-bindings (uniffi library
# mode, with the workspace's own pinned uniffi-bindgen) into target/bindings/<language>/,
# with the library beside the Python module so Python can load it.
#   bash scripts/bindings.sh            # debug library
#   bash scripts/bindings.sh --release  # release library
# Generated files are build outputs: never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
if [ "${1:-}" = "--release" ]; then profile=release; fi
# The cdylib only: the staticlib (for iOS) is large and no test needs it.
cargo rustc --locked -p fieldcase-bindings --lib --crate-type cdylib ${1:+--release}
lib="${CARGO_TARGET_DIR:-target}/$profile/libfieldcase_bindings.so"
out=target/bindings
rm -rf "$out"
for language in kotlin swift python; do
  cargo run --quiet --locked -p fieldcase-bindings --bin uniffi-bindgen -- \
    generate --library "$lib" --language "$language" --out-dir "$out/$language" --no-format
done
cp "$lib" "$out/python/"
echo "bindings in $out: $(cd "$out" && find . -type f | sort | tr '\n' ' ')"
