//! Attachments over a real server (issue 17): a photo attached offline on Anna's phone is
//! uploaded by her next sync, Bao's phone fetches it when it is opened; an upload cut off
//! resumes with only what is missing; every bad upload is refused with its reason and
//! leaves nothing; a case the user may not see answers as one that does not exist; the
//! server stores only sealed chunks.

use fieldcase_core::attachment::{self, CHUNK_BYTES};
use fieldcase_core::case::{AttachmentInput, AttachmentKind};
use fieldcase_core::store::AttachmentState;
use fieldcase_core::{CaseId, CaseStore, NewCase};
use fieldcase_server::{Config, Db};
use fieldcase_tests::TestServer;

/// A PNG of `len` bytes whose body repeats `marker`.
fn png(len: usize, marker: &str) -> Vec<u8> {
    let mut b = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    while b.len() < len {
        b.extend_from_slice(marker.as_bytes());
    }
    b.truncate(len);
    b
}

fn shared_case(anna: &CaseStore, name: &str) -> CaseId {
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some(name.into());
    anna.create_case(new).unwrap()
}

/// A raw request to an attachment route: its status and body.
fn call(
    server: &TestServer,
    _method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", server.url);
    let schema = fieldcase_core::schema::SCHEMA_REVISION.to_string();
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut res = match body {
        Some(b) => {
            let mut req = agent
                .put(&url)
                .header(fieldcase_core::sync::protocol::SCHEMA_HEADER, &schema);
            if let Some(a) = &auth {
                req = req.header("authorization", a);
            }
            req.send(b)
        }
        None => {
            let mut req = agent
                .get(&url)
                .header(fieldcase_core::sync::protocol::SCHEMA_HEADER, &schema);
            if let Some(a) = &auth {
                req = req.header("authorization", a);
            }
            req.call()
        }
    }
    .expect("request");
    let status = res.status().as_u16();
    let body = res
        .body_mut()
        .with_config()
        .limit(4 * CHUNK_BYTES as u64)
        .read_to_vec()
        .unwrap();
    (status, body)
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
}

fn metric(server: &TestServer, name: &str) -> u64 {
    server
        .metrics()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("fieldcase_{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn stored_rows(server: &TestServer) -> (i64, i64) {
    let conn = rusqlite::Connection::open(server.dir.path().join("server.sqlite")).unwrap();
    conn.query_row(
        "SELECT (SELECT count(*) FROM attachments), (SELECT count(*) FROM attachment_chunks)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn a_photo_attached_offline_reaches_a_colleague_who_opens_it() {
    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let id = shared_case(&anna, "Nguyễn Thị Lan");
    let photo = png(3 * CHUNK_BYTES + 123, "Biên bản khám thương tích ");
    let added = anna
        .attach(
            &id,
            &photo[..],
            AttachmentInput {
                kind: Some(AttachmentKind::Photo),
                caption: Some("Giấy chứng nhận thương tích".into()),
                about: None,
            },
        )
        .unwrap();
    let report = anna.sync(&server.url, &anna_token).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.attachments_uploaded, 1);
    assert_eq!(
        anna.attachment_state(&id, &added.id).unwrap(),
        AttachmentState::Uploaded
    );
    assert_eq!(metric(&server, "attachments_stored_total"), 1);
    // Nothing more to upload at the next sync.
    assert_eq!(
        anna.sync(&server.url, &anna_token)
            .unwrap()
            .attachments_uploaded,
        0
    );

    // The server holds it sealed: no byte of it, nor its hash, in the database file.
    let raw = std::fs::read(server.dir.path().join("server.sqlite")).unwrap();
    let wal = std::fs::read(server.dir.path().join("server.sqlite-wal")).unwrap_or_default();
    for hay in [&raw, &wal] {
        assert!(!hay.windows(20).any(|w| w == &photo[200..220]));
        assert!(!hay.windows(64).any(|w| w == added.hash.as_bytes()));
    }

    // Bao, assigned too, sees the reference after his sync; the bytes when he opens it.
    let (status, _) = server.rest(
        "POST",
        &format!("/v1/cases/{id}/assignment"),
        Some(&server.phone("malee").1),
        Some(serde_json::json!({"workers": ["anna", "bao"]})),
    );
    assert_eq!(status, 200);
    let (bao, bao_token, _b) = server.phone("bao");
    bao.sync(&server.url, &bao_token).unwrap();
    let reference = bao.attachment(&id, &added.id).unwrap();
    assert_eq!(
        reference.caption.as_deref(),
        Some("Giấy chứng nhận thương tích")
    );
    assert_eq!(
        bao.attachment_state(&id, &added.id).unwrap(),
        AttachmentState::NotHere
    );
    assert!(bao.attachment_bytes(&id, &added.id).is_err());
    assert_eq!(
        bao.fetch_attachment(&server.url, &bao_token, &id, &added.id)
            .unwrap(),
        AttachmentState::Downloaded
    );
    assert_eq!(bao.attachment_bytes(&id, &added.id).unwrap(), photo);
    // The download is on the record.
    let trail = server.db.audit_trail(Some(&id), 100).unwrap();
    assert!(trail
        .iter()
        .any(|e| e.action == "attachment downloaded (api)"));

    // Sam, of another team, learns nothing: the same answer as for a case that does not
    // exist, for the status and the bytes.
    let (sam, sam_token, _s) = server.phone("sam");
    drop(sam);
    let hidden = call(
        &server,
        "GET",
        &format!("/v1/cases/{id}/attachments/{}/chunks/0", added.hash),
        Some(&sam_token),
        None,
    );
    let unknown = call(
        &server,
        "GET",
        &format!(
            "/v1/cases/{}/attachments/{}/chunks/0",
            CaseId::random(),
            added.hash
        ),
        Some(&sam_token),
        None,
    );
    assert_eq!(hidden.0, 404);
    assert_eq!(hidden, unknown);
    let (status, _) = call(
        &server,
        "GET",
        &format!("/v1/cases/{id}/attachments/{}/upload", added.hash),
        None,
        None,
    );
    assert_eq!(status, 401);
}

#[test]
fn a_cut_upload_resumes_with_only_what_is_missing() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let id = shared_case(&anna, "Петренко Марія");
    let photo = png(4 * CHUNK_BYTES + 5, "Довідка з лікарні ");
    let added = anna
        .attach(&id, &photo[..], AttachmentInput::default())
        .unwrap();
    // The case reaches the server; the upload is cut after two chunks (sent by hand, as
    // the phone would have before its connection dropped).
    anna.sync(&server.url, &token).unwrap();
    let base = format!("/v1/cases/{id}/attachments/{}", added.hash);
    // Two files were uploaded in that sync already: start again from a server that
    // holds only the first two chunks.
    let conn = rusqlite::Connection::open(server.dir.path().join("server.sqlite")).unwrap();
    conn.execute("DELETE FROM attachment_chunks WHERE seq >= 2", [])
        .unwrap();
    conn.execute("UPDATE attachments SET received = 2, complete = 0", [])
        .unwrap();
    drop(conn);
    let (status, body) = call(
        &server,
        "GET",
        &format!("{base}/upload"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(json(&body)["received"], 2);
    assert_eq!(json(&body)["complete"], false);
    // A chunk sent twice is taken once; one out of order is refused with where to resume.
    let (status, body) = call(
        &server,
        "PUT",
        &format!("{base}/chunks/1"),
        Some(&token),
        Some(&photo[CHUNK_BYTES..2 * CHUNK_BYTES]),
    );
    assert_eq!((status, json(&body)["received"].clone()), (200, 2.into()));
    let (status, body) = call(
        &server,
        "PUT",
        &format!("{base}/chunks/3"),
        Some(&token),
        Some(&photo[3 * CHUNK_BYTES..4 * CHUNK_BYTES]),
    );
    assert_eq!(status, 409);
    assert_eq!(json(&body)["received"], 2);

    // The phone's own resume: it is told the file is still to upload, and sends the rest.
    let g = rusqlite::Connection::open(_a.path().join("phone.sqlite")).unwrap();
    g.execute("UPDATE attachments SET state = 0", []).unwrap();
    drop(g);
    let before = metric(&server, "attachment_bytes_received_total");
    let report = anna.sync(&server.url, &token).unwrap();
    assert_eq!(report.attachments_uploaded, 1, "{:?}", report.errors);
    let sent = metric(&server, "attachment_bytes_received_total") - before;
    assert_eq!(
        sent,
        (photo.len() - 2 * CHUNK_BYTES) as u64,
        "only the missing chunks"
    );
    let (malee, malee_token, _m) = server.phone("malee");
    malee.sync(&server.url, &malee_token).unwrap();
    malee
        .fetch_attachment(&server.url, &malee_token, &id, &added.id)
        .unwrap();
    assert_eq!(malee.attachment_bytes(&id, &added.id).unwrap(), photo);
}

#[test]
fn bad_uploads_are_refused_with_their_reason_and_leave_nothing() {
    let server = TestServer::start_with(Config {
        attachment_max_bytes: 3 * CHUNK_BYTES as u64,
        ..Default::default()
    });
    let (anna, token, _a) = server.phone("anna");
    let id = shared_case(&anna, "Сидоренко Іван");
    let small = png(CHUNK_BYTES + 10, "small ");
    let big = png(3 * CHUNK_BYTES + 1, "big ");
    let small_ref = anna
        .attach(&id, &small[..], AttachmentInput::default())
        .unwrap();
    let big_ref = anna
        .attach(&id, &big[..], AttachmentInput::default())
        .unwrap();
    // The case syncs; the big file is refused by the setting and stays on the phone.
    let report = anna.sync(&server.url, &token).unwrap();
    assert_eq!(report.attachments_uploaded, 1);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(
        report.errors[0].reason.contains("at most"),
        "{:?}",
        report.errors
    );
    assert_eq!(
        anna.attachment_state(&id, &big_ref.id).unwrap(),
        AttachmentState::ToUpload
    );
    let refused_before = metric(&server, "attachments_refused_total");
    assert!(refused_before >= 1);
    let (files, _) = stored_rows(&server);
    assert_eq!(files, 1, "only the small file");

    // Bytes the reference does not name: another file's hash in the route.
    let other = attachment::hash_of(b"not attached anywhere");
    let (status, _) = call(
        &server,
        "PUT",
        &format!("/v1/cases/{id}/attachments/{other}/chunks/0"),
        Some(&token),
        Some(&small[..CHUNK_BYTES]),
    );
    assert_eq!(status, 404);
    // A path that is not a hash.
    let (status, _) = call(
        &server,
        "GET",
        &format!("/v1/cases/{id}/attachments/..%2F..%2Fetc/upload"),
        Some(&token),
        None,
    );
    assert_eq!(status, 404);

    // A third reference whose bytes the test sends by hand, wrongly.
    let photo = png(2 * CHUNK_BYTES, "photo ");
    let r = anna
        .attach(&id, &photo[..], AttachmentInput::default())
        .unwrap();
    // Kept from the upload: sync the reference without its bytes.
    let g = rusqlite::Connection::open(_a.path().join("phone.sqlite")).unwrap();
    g.execute("UPDATE attachments SET state = 1", []).unwrap();
    drop(g);
    anna.sync(&server.url, &token).unwrap();
    let base = format!("/v1/cases/{id}/attachments/{}", r.hash);
    // A PDF under a PNG's reference: refused by its first bytes.
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(CHUNK_BYTES, b' ');
    let (status, body) = call(
        &server,
        "PUT",
        &format!("{base}/chunks/0"),
        Some(&token),
        Some(&pdf),
    );
    assert_eq!(
        (status, json(&body)["error"].clone()),
        (422, "media_type_mismatch".into())
    );
    // A cut chunk (shorter than its place needs), and one too long for any chunk.
    let (status, body) = call(
        &server,
        "PUT",
        &format!("{base}/chunks/0"),
        Some(&token),
        Some(&photo[..1000]),
    );
    assert_eq!(
        (status, json(&body)["error"].clone()),
        (400, "bad_chunk".into())
    );
    let (status, _) = call(
        &server,
        "PUT",
        &format!("{base}/chunks/0"),
        Some(&token),
        Some(&vec![0u8; CHUNK_BYTES + 1]),
    );
    assert_eq!(status, 400);
    // Right length and kind, wrong bytes: refused at the end, and all of it dropped.
    let (status, _) = call(
        &server,
        "PUT",
        &format!("{base}/chunks/0"),
        Some(&token),
        Some(&photo[..CHUNK_BYTES]),
    );
    assert_eq!(status, 200);
    let (status, body) = call(
        &server,
        "PUT",
        &format!("{base}/chunks/1"),
        Some(&token),
        Some(&vec![7u8; CHUNK_BYTES]),
    );
    assert_eq!(
        (status, json(&body)["error"].clone()),
        (422, "hash_mismatch".into())
    );
    let (status, body) = call(
        &server,
        "GET",
        &format!("{base}/upload"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(json(&body)["received"], 0, "nothing kept half-written");
    let (status, _) = call(
        &server,
        "GET",
        &format!("{base}/chunks/0"),
        Some(&token),
        None,
    );
    assert_eq!(status, 404, "no bytes served of a file not whole");
    assert_eq!(stored_rows(&server).0, 1);
    assert!(metric(&server, "attachments_refused_total") >= refused_before + 4);

    // The phone's own upload of that file then goes through.
    let g = rusqlite::Connection::open(_a.path().join("phone.sqlite")).unwrap();
    g.execute("UPDATE attachments SET state = 0", []).unwrap();
    drop(g);
    anna.sync(&server.url, &token).unwrap();
    assert_eq!(
        json(
            &call(
                &server,
                "GET",
                &format!("{base}/upload"),
                Some(&token),
                None
            )
            .1
        )["complete"],
        true
    );
    let _ = small_ref;
}

#[test]
fn the_console_shows_a_photo_inline_to_those_who_may_see_the_case_and_records_each_view() {
    use fieldcase_tests::console::Console;
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let id = shared_case(&anna, "Коваленко Олена");
    let photo = png(CHUNK_BYTES + 77, "Фото синця ");
    let shown = anna
        .attach(
            &id,
            &photo[..],
            AttachmentInput {
                kind: Some(AttachmentKind::Photo),
                caption: Some("Синець на руці".into()),
                about: None,
            },
        )
        .unwrap();
    anna.sync(&server.url, &token).unwrap();
    // A second file whose upload has not happened yet (its phone is offline).
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend_from_slice("Довідка".as_bytes());
    let pending = anna
        .attach(&id, &pdf[..], AttachmentInput::default())
        .unwrap();
    let g = rusqlite::Connection::open(_a.path().join("phone.sqlite")).unwrap();
    g.execute("UPDATE attachments SET state = 1", []).unwrap();
    drop(g);
    anna.sync(&server.url, &token).unwrap();

    let mut malee = Console::sign_in(&server.url, "malee", fieldcase_tests::PASSWORD);
    let (status, page) = malee.get(&format!("/console/cases/{id}"));
    assert_eq!(status, 200);
    let href = format!("/console/cases/{id}/attachments/{}", shown.id);
    assert!(
        page.contains(&format!("<img class=\"attachment\" src=\"{href}\"")),
        "{page}"
    );
    assert!(page.contains("Синець на руці"));
    assert!(
        page.contains("Not at the server yet"),
        "the PDF still on the phone"
    );
    assert!(
        !page.contains(&format!("/attachments/{}\"", pending.id)),
        "no link to it"
    );
    let (status, bytes) = malee.get_bytes(&href);
    assert_eq!(status, 200);
    assert_eq!(bytes, photo);
    let trail = server.db.audit_trail(Some(&id), 100).unwrap();
    assert!(trail
        .iter()
        .any(|e| e.action == "attachment viewed (console)"));
    let (status, _) = malee.get_bytes(&format!("/console/cases/{id}/attachments/{}", pending.id));
    assert_eq!(status, 404);
    // The whole file, printed, lists the papers with their hashes (to check a copy against).
    let (status, printed) = malee.get(&format!("/console/cases/{id}/print/file"));
    assert_eq!(status, 200);
    assert!(printed.contains("Papers and photos"), "{printed}");
    assert!(printed.contains("Синець на руці"));
    assert!(printed.contains(&shown.hash));

    // Sam, a worker of the south team, gets nothing of it.
    let mut sam = Console::sign_in(&server.url, "sam", fieldcase_tests::PASSWORD);
    let (status, _) = sam.get_bytes(&href);
    assert_eq!(status, 404);
}

#[test]
fn the_cache_limit_drops_the_least_recently_opened_files_never_one_still_to_upload() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let id = shared_case(&anna, "สมศรี ใจดี");
    let files: Vec<Vec<u8>> = (0..3)
        .map(|i| png(CHUNK_BYTES + 1000 * (i + 1), &format!("เอกสาร {i} ")))
        .collect();
    let refs: Vec<_> = files
        .iter()
        .map(|f| {
            anna.attach(&id, &f[..], AttachmentInput::default())
                .unwrap()
        })
        .collect();
    assert_eq!(
        anna.sync(&server.url, &token).unwrap().attachments_uploaded,
        3
    );

    let (malee, malee_token, _m) = server.phone("malee");
    malee.sync(&server.url, &malee_token).unwrap();
    // Room for two files (each a little over a chunk, sealed).
    malee
        .set_attachment_cache_limit(2 * CHUNK_BYTES as u64 + 20_000)
        .unwrap();
    let state = |r: &fieldcase_core::case::Attachment| malee.attachment_state(&id, &r.id).unwrap();
    for r in &refs[..2] {
        malee
            .fetch_attachment(&server.url, &malee_token, &id, &r.id)
            .unwrap();
    }
    // The first is opened again: the second is now the least recently opened.
    assert_eq!(malee.attachment_bytes(&id, &refs[0].id).unwrap(), files[0]);
    malee
        .fetch_attachment(&server.url, &malee_token, &id, &refs[2].id)
        .unwrap();
    assert_eq!(state(&refs[0]), AttachmentState::Downloaded);
    assert_eq!(state(&refs[1]), AttachmentState::NotHere, "dropped");
    assert_eq!(state(&refs[2]), AttachmentState::Downloaded);
    assert!(malee.attachment_cache_bytes().unwrap() <= 2 * CHUNK_BYTES as u64 + 20_000);

    // A file Malee attaches offline is never dropped, whatever the limit.
    let own = png(CHUNK_BYTES * 2, "ảnh của Malee ");
    let mine = malee
        .attach(&id, &own[..], AttachmentInput::default())
        .unwrap();
    malee.set_attachment_cache_limit(0).unwrap();
    assert_eq!(state(&mine), AttachmentState::ToUpload);
    assert_eq!(malee.attachment_bytes(&id, &mine.id).unwrap(), own);
    assert_eq!(state(&refs[0]), AttachmentState::NotHere);
    assert_eq!(state(&refs[2]), AttachmentState::NotHere);
    // Dropped files come back when opened again.
    malee
        .set_attachment_cache_limit(10 * CHUNK_BYTES as u64)
        .unwrap();
    malee
        .fetch_attachment(&server.url, &malee_token, &id, &refs[1].id)
        .unwrap();
    assert_eq!(malee.attachment_bytes(&id, &refs[1].id).unwrap(), files[1]);
}
