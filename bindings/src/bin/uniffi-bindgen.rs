//! The uniffi generator, pinned to the uniffi version this crate is built with, so the
//! generated Kotlin, Swift and Python always match the library:
//! `cargo run -p fieldcase-bindings --bin uniffi-bindgen -- generate --library <lib> ...`
//! (`scripts/bindings.sh` runs it for every language).

fn main() {
    uniffi::uniffi_bindgen_main()
}
