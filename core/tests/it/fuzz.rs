//! Everything that arrives from the network, fuzzed: protocol frames and Automerge sync
//! messages. No input panics, hangs or allocates without bound; each is a clear error or
//! a valid value. Inputs that once caused trouble are kept in `tests/fixtures/fuzz/` and
//! replayed here (proptest also keeps the seeds of any failure in `proptest-regressions/`).

use automerge::sync::{Message, State as SyncState, SyncDoc};
use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{CaseDoc, CaseId};
use proptest::prelude::*;

use crate::fixtures::*;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 9, "the fixtures are there");
    out
}

#[test]
fn hostile_fixtures_are_clear_errors() {
    for (name, bytes) in fixtures() {
        assert!(Frame::decode(&bytes).is_err(), "{name}");
        assert!(Message::decode(&bytes).is_err(), "{name}");
        assert!(CaseDoc::load(&bytes).is_err(), "{name}");
    }
}

/// A real frame carrying a real sync message with changes.
fn real_frame() -> Vec<u8> {
    let case = new_case(&worker(1), NAMES[3]);
    let mut state = SyncState::new();
    let msg = case
        .automerge()
        .clone()
        .generate_sync_message(&mut state)
        .expect("a first message");
    Frame::Sync {
        sender_id: "peer-x".into(),
        target_id: "fieldcase-server".into(),
        document_id: CaseId::random().into(),
        data: msg.encode(),
    }
    .encode()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = Frame::decode(&bytes);
        let _ = Message::decode(&bytes);
        let _ = CaseDoc::load(&bytes);
    }

    #[test]
    fn mutated_real_frames_decode_or_fail_cleanly(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = real_frame();
        for (at, v) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= v | 1;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Ok(Frame::Sync { data, .. }) = Frame::decode(&bytes) {
            // What decodes as a message must be safe to apply to a fresh document.
            if let Ok(m) = Message::decode(&data) {
                let mut doc = automerge::Automerge::new();
                let _ = doc.receive_sync_message(&mut SyncState::new(), m);
            }
        }
    }

    #[test]
    fn mutated_sync_messages_never_panic_a_document(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let case = new_case(&worker(2), NAMES[1]);
        let mut state = SyncState::new();
        let mut data = case.automerge().clone().generate_sync_message(&mut state).unwrap().encode();
        for (at, v) in &flips {
            let i = at.index(data.len());
            data[i] ^= v | 1;
        }
        if let Ok(m) = Message::decode(&data) {
            let mut doc = automerge::Automerge::new();
            if doc.receive_sync_message(&mut SyncState::new(), m).is_ok() {
                // Anything accepted still has to pass the schema before it is kept.
                let _ = fieldcase_core::schema::validate(&doc);
            }
        }
    }
}
