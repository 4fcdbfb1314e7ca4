//! Attachments on the phone (issue 17): the reference in the case, the bytes sealed in
//! chunks beside it, refused files, what they belong to, retraction, purge and the cache.

use fieldcase_core::attachment::{self, CHUNK_BYTES};
use fieldcase_core::case::{AttachmentInput, AttachmentKind, ConsentInput};
use fieldcase_core::store::{AttachmentState, UserContext};
use fieldcase_core::{CaseStore, Error, NewCase, Role};

const KEY: [u8; 32] = [9u8; 32];

fn open(dir: &tempfile::TempDir) -> CaseStore {
    let s = CaseStore::open(dir.path().join("phone.sqlite"), &KEY).unwrap();
    s.sign_in(UserContext {
        user_id: "u-anna".into(),
        name: "Anna".into(),
        role: Role::Worker,
        team: Some("north".into()),
        device_id: "phone-anna".into(),
    })
    .unwrap();
    s
}

fn case(store: &CaseStore) -> fieldcase_core::CaseId {
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Фёдорова Анна".into());
    store.create_case(new).unwrap()
}

/// A PNG of `len` bytes whose body repeats `marker` (to look for it on disk).
pub fn png(len: usize, marker: &str) -> Vec<u8> {
    let mut b = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    while b.len() < len {
        b.extend_from_slice(marker.as_bytes());
    }
    b.truncate(len);
    b
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn disk(dir: &tempfile::TempDir) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir.path()).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    all
}

#[test]
fn a_photo_is_referenced_by_the_case_and_sealed_in_chunks_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let id = case(&store);
    let bytes = png(CHUNK_BYTES * 2 + 1000, "Giấy khai sinh của Lan ");
    let consent = store
        .update(&id, |c, a, now| {
            c.record_consent(
                a,
                now,
                ConsentInput {
                    topic: Some("information_sharing".into()),
                    given_by: Some("Nguyễn Thị Hoa".into()),
                    granted: Some(true),
                    date: Some("2026-12-01".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    let added = store
        .attach(
            &id,
            &bytes[..],
            AttachmentInput {
                kind: Some(AttachmentKind::Signature),
                caption: Some("Chữ ký của mẹ".into()),
                about: Some(format!("consents/{consent}")),
            },
        )
        .unwrap();
    assert_eq!(added.hash, attachment::hash_of(&bytes));
    assert_eq!(added.size, bytes.len() as i64);
    assert_eq!(added.media_type.as_deref(), Some("image/png"));
    assert_eq!(added.kind, Some(AttachmentKind::Signature));
    assert_eq!(added.about, Some(format!("consents/{consent}")));
    assert_eq!(added.recorded_by.as_deref(), Some("u-anna"));
    assert_eq!(
        store.attachment_state(&id, &added.id).unwrap(),
        AttachmentState::ToUpload
    );
    assert_eq!(store.attachment_bytes(&id, &added.id).unwrap(), bytes);
    assert_eq!(store.pending_uploads().unwrap().len(), 1);
    // The case document holds the reference, not the bytes.
    assert!(store.export_case(&id).unwrap().len() < 10_000);

    // Nothing of the file, nor its hash, is readable on disk.
    drop(store);
    let raw = disk(&dir);
    assert!(!contains(&raw, "Giấy khai sinh".as_bytes()));
    assert!(!contains(&raw, added.hash.as_bytes()));
    assert!(!contains(&raw, "Chữ ký".as_bytes()));

    // Reopened: the same bytes; the same file again keeps one copy.
    let store = open(&dir);
    assert_eq!(store.attachment_bytes(&id, &added.id).unwrap(), bytes);
    let again = store
        .attach(&id, &bytes[..], AttachmentInput::default())
        .unwrap();
    assert_ne!(again.id, added.id);
    assert_eq!(again.kind, Some(AttachmentKind::Document));
    assert_eq!(store.pending_uploads().unwrap().len(), 1);
    assert_eq!(store.attachment_bytes(&id, &again.id).unwrap(), bytes);

    // Retracted like any entry.
    store
        .update(&id, |c, a, now| {
            c.retract(a, now, &format!("attachments/{}", again.id), "chụp nhầm")
        })
        .unwrap();
    let file = store.get_case(&id).unwrap();
    assert!(file.attachments[1].retracted.is_some());

    // Purged with its case: no row left.
    store.purge_case(&id).unwrap();
    assert!(store.pending_uploads().unwrap().is_empty());
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("phone.sqlite")).unwrap();
    let rows: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM attachments) + (SELECT count(*) FROM attachment_chunks)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn files_that_are_not_what_an_attachment_may_be_are_refused_and_nothing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let id = case(&store);
    let heads = store.heads(&id).unwrap();
    let refused = |bytes: &[u8], input: AttachmentInput| {
        let e = store.attach(&id, bytes, input).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { .. } | Error::NotFound(_)),
            "{e}"
        );
        e.to_string()
    };
    // A script named .jpg, an empty file, one over the limit.
    assert!(
        refused(b"#!/bin/sh\nrm -rf /", AttachmentInput::default()).contains("none of the kinds")
    );
    assert!(refused(b"", AttachmentInput::default()).contains("empty"));
    let big = png(attachment::MAX_BYTES as usize + 1, "x");
    assert!(refused(&big, AttachmentInput::default()).contains("at most"));
    // Belonging to what cannot hold it, or to nothing.
    let photo = png(5000, "ảnh");
    assert!(refused(
        &photo,
        AttachmentInput {
            about: Some("client/contacts".into()),
            ..Default::default()
        }
    )
    .contains("<list>/<id>"));
    refused(
        &photo,
        AttachmentInput {
            about: Some("visits/no-such-visit".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        store.heads(&id).unwrap(),
        heads,
        "nothing written to the case"
    );
    assert!(store.pending_uploads().unwrap().is_empty(), "no bytes kept");
    assert!(store.get_case(&id).unwrap().attachments.is_empty());
}

#[test]
fn a_reference_is_written_only_by_its_action() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let id = case(&store);
    let a = store
        .attach(&id, &png(3000, "z")[..], AttachmentInput::default())
        .unwrap();
    // The caption is open to edits; the hash is not.
    store
        .update(&id, |c, me, now| {
            c.set_field(
                me,
                now,
                &format!("attachments/{}/caption", a.id),
                &serde_json::json!("Giấy chứng nhận"),
            )
        })
        .unwrap();
    let e = store
        .update(&id, |c, me, now| {
            c.set_field(
                me,
                now,
                &format!("attachments/{}/hash", a.id),
                &serde_json::json!("0".repeat(64)),
            )
        })
        .unwrap_err();
    assert!(e.to_string().contains("action"), "{e}");
    let file = store.get_case(&id).unwrap();
    assert_eq!(
        file.attachments[0].caption.as_deref(),
        Some("Giấy chứng nhận")
    );
    assert_eq!(file.attachments[0].hash, a.hash);
}
