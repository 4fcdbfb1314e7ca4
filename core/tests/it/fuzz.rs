//! Everything that arrives from the network, fuzzed: protocol frames and Automerge sync
//! messages. Each input is a clear error or a value that round-trips (a sync message as the
//! input guard lets it through, `Limits::decode_message`); a mutated sync
//! message brings a document nothing but the case's own changes. Inputs that once caused trouble are kept in `tests/fixtures/fuzz/` and
//! replayed here (proptest also keeps the seeds of any failure in `proptest-regressions/`).

use automerge::sync::{Message, State as SyncState, SyncDoc};
use automerge::ReadDoc;
use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{CaseDoc, CaseId};
use proptest::prelude::*;

use crate::fixtures::*;

/// What the server and the phone run on a sync message before Automerge reads it: the
/// properties below are of what it lets through.
const GUARD: fieldcase_core::limits::Limits = fieldcase_core::limits::Limits {
    max_inflated: fieldcase_core::limits::MAX_INFLATED_BYTES,
};

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

/// The message a case's holder sends to a peer that has nothing: it carries every change
/// (a first message only says what the sender has).
fn message_with_changes(case: &CaseDoc) -> Message {
    let mut holder = case.automerge().clone();
    let mut holder_state = SyncState::new();
    let asking = automerge::Automerge::new()
        .generate_sync_message(&mut SyncState::new())
        .expect("a first message");
    holder
        .receive_sync_message(&mut holder_state, asking)
        .expect("applies");
    let m = holder
        .generate_sync_message(&mut holder_state)
        .expect("an answer");
    assert!(!m.changes.is_empty(), "the answer carries the changes");
    m
}

/// A real frame carrying a real sync message with changes, and the case it is from.
fn real_frame() -> (CaseDoc, Vec<u8>) {
    real_frame_of(NAMES[3])
}

fn real_frame_of(name: &str) -> (CaseDoc, Vec<u8>) {
    let case = new_case(&worker(1), name);
    let msg = message_with_changes(&case);
    let frame = Frame::Sync {
        sender_id: "peer-x".into(),
        target_id: "fieldcase-server".into(),
        document_id: CaseId::random().into(),
        data: msg.encode(),
    }
    .encode();
    (case, frame)
}

/// What must hold of anything a frame decoder accepts: encoding it again and decoding
/// gives the same frame (nothing is read that is not kept, nothing kept that is not read).
fn frame_round_trips(frame: &Frame) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        &Frame::decode(&frame.encode()).expect("our own encoding decodes"),
        frame
    );
    Ok(())
}

/// What must hold of a sync message Automerge accepted: it encodes and decodes to itself.
fn message_round_trips(m: &Message) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        &Message::decode(&m.clone().encode()).expect("its own encoding decodes"),
        m
    );
    Ok(())
}

/// What a fresh document holds after a (mutated) message from `original` was applied:
/// only changes of `original` (every change carries a checksum, so a flipped byte in a
/// change cannot make another valid change), and when it holds all of them it is the
/// case again and passes the schema.
fn only_original_changes(
    doc: &automerge::Automerge,
    original: &automerge::Automerge,
) -> Result<(), TestCaseError> {
    for change in doc.get_changes(&[]) {
        prop_assert!(
            original.get_change_by_hash(&change.hash()).is_some(),
            "a change that is not the case's own"
        );
    }
    let mut heads = doc.get_heads();
    heads.sort();
    let mut theirs = original.get_heads();
    theirs.sort();
    if heads == theirs {
        prop_assert!(fieldcase_core::schema::validate(doc).is_ok());
    } else if doc.get_heads().is_empty() {
        prop_assert!(
            fieldcase_core::schema::validate(doc).is_err(),
            "an empty document is no case"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_are_refused_or_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        if let Ok(frame) = Frame::decode(&bytes) {
            frame_round_trips(&frame)?;
        }
        if let Ok(m) = GUARD.decode_message(&bytes) {
            message_round_trips(&m)?;
        }
        if let Ok(doc) = CaseDoc::load(&bytes) {
            // Whatever loads saves and loads again to the same document.
            let again = CaseDoc::load(&doc.automerge().save()).expect("its own save loads");
            prop_assert_eq!(again.automerge().get_heads(), doc.automerge().get_heads());
        }
    }

    #[test]
    fn mutated_real_frames_decode_to_frames_that_round_trip_and_apply_only_the_cases_changes(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (case, mut bytes) = real_frame();
        for (at, v) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= v | 1;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Ok(frame) = Frame::decode(&bytes) {
            frame_round_trips(&frame)?;
            if let Frame::Sync { data, .. } = frame {
                // What decodes as a message must be safe to apply to a fresh document,
                // and brings nothing but the case's own changes.
                if let Ok(m) = GUARD.decode_message(&data) {
                    message_round_trips(&m)?;
                    let mut doc = automerge::Automerge::new();
                    if doc.receive_sync_message(&mut SyncState::new(), m).is_ok() {
                        only_original_changes(&doc, case.automerge())?;
                    }
                }
            }
        }
    }

    #[test]
    fn mutated_sync_messages_bring_only_the_cases_own_changes(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let case = new_case(&worker(2), NAMES[1]);
        let mut data = message_with_changes(&case).encode();
        for (at, v) in &flips {
            let i = at.index(data.len());
            data[i] ^= v | 1;
        }
        if let Ok(m) = GUARD.decode_message(&data) {
            message_round_trips(&m)?;
            let mut doc = automerge::Automerge::new();
            if doc.receive_sync_message(&mut SyncState::new(), m).is_ok() {
                // Anything accepted is the case's own history, and passes the schema
                // before it is kept only when it is the whole case.
                only_original_changes(&doc, case.automerge())?;
            }
        }
    }

    #[test]
    fn unmutated_frames_and_messages_round_trip(n in 0usize..4) {
        // The properties above are not vacuous: the real frame passes them whole.
        let (case, bytes) = real_frame_of(NAMES[n % NAMES.len()]);
        let frame = Frame::decode(&bytes).expect("a real frame decodes");
        frame_round_trips(&frame)?;
        let Frame::Sync { data, .. } = frame else { panic!("a sync frame") };
        let m = Message::decode(&data).expect("a real message decodes");
        message_round_trips(&m)?;
        let mut doc = automerge::Automerge::new();
        doc.receive_sync_message(&mut SyncState::new(), m).expect("a real message applies");
        prop_assert_eq!(doc.get_heads(), case.automerge().get_heads());
        only_original_changes(&doc, case.automerge())?;
    }
}
