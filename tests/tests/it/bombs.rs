//! Issue 13, finding 1: compressed Automerge data that inflates to half a gigabyte, and bloom
//! filters asking for billions of probes, sent by any signed-in account to the departure
//! route and the sync socket. Each is refused unread, with our own text; nothing is stored,
//! the refusal is counted, and the server's memory stays bounded.
//!
//! The memory checks read this process's peak resident size (the server runs in-process);
//! `cargo nextest` runs each test in a process of its own, so the peak is this test's.

use std::io::Read;

use automerge::sync::{Message as SyncMessage, MessageVersion, State as SyncState, SyncDoc};
use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{CaseId, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::raw::{joined, next};
use fieldcase_tests::TestServer;
use tungstenite::Message;

/// What each bomb inflates to: eight times the server's cap.
const INFLATES_TO: u64 = 512 << 20;

/// A raw DEFLATE stream of [`INFLATES_TO`] zero bytes (about 500 KB), made once.
fn deflated_zeros() -> &'static [u8] {
    static ZEROS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ZEROS.get_or_init(|| {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::copy(&mut std::io::repeat(0).take(INFLATES_TO), &mut e).unwrap();
        e.finish().unwrap()
    })
}

fn leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn chunk(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, kind];
    leb(&mut out, data.len() as u64);
    out.extend(data);
    out
}

/// A compressed change chunk (type 2) whose payload inflates to 512 MiB.
fn change_bomb() -> Vec<u8> {
    chunk(2, deflated_zeros())
}

/// A document chunk (type 0) with one deflated column that inflates to 512 MiB.
fn document_bomb() -> Vec<u8> {
    let col = deflated_zeros();
    let mut data = vec![0, 0, 1]; // no actors, no heads, one change column
    leb(&mut data, 0x10 | 0b1000); // its specification, deflate bit set
    leb(&mut data, col.len() as u64);
    data.push(0); // no op columns
    data.extend(col);
    chunk(0, &data)
}

/// A sync message carrying `changes`.
fn message_with(changes: Vec<u8>) -> Vec<u8> {
    SyncMessage {
        heads: vec![],
        need: vec![],
        have: vec![],
        changes: vec![changes].into(),
        flags: None,
        version: MessageVersion::V1,
    }
    .encode()
}

/// This process's peak and current resident size, in bytes.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
            * 1024
    };
    (kb("VmHWM:"), kb("VmRSS:"))
}

fn post(server: &TestServer, token: &str, id: &str, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut res = agent
        .post(format!("{}/v1/cases/{id}/departure", server.url))
        .header("authorization", format!("Bearer {token}"))
        .header(
            fieldcase_core::sync::protocol::SCHEMA_HEADER,
            &fieldcase_core::schema::SCHEMA_REVISION.to_string(),
        )
        .send(body)
        .unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

/// Sends one sync frame and returns the server's answer and whether it then closed.
fn sync_frame(server: &TestServer, token: &str, id: &str, data: Vec<u8>) -> (Frame, bool) {
    let mut s = joined(server, token);
    let frame = Frame::Sync {
        sender_id: "raw".into(),
        target_id: "fieldcase-server".into(),
        document_id: id.into(),
        data,
    };
    s.send(Message::Binary(frame.encode().into())).unwrap();
    let answer = next(&mut s).expect("an answer");
    let closed = next(&mut s).is_none();
    (answer, closed)
}

fn refused(server: &TestServer) -> u64 {
    server
        .state
        .metrics
        .input_refused
        .load(std::sync::atomic::Ordering::Relaxed)
}

#[test]
fn deflate_bombs_are_refused_unread_by_departure_and_sync() {
    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let visible = anna
        .create_case(NewCase {
            team: "north".into(),
            ..Default::default()
        })
        .unwrap();
    anna.sync(&server.url, &anna_token).unwrap();
    let (_s, sam_token, _sd) = server.phone("sam");
    let stored_before = server.db.case_document(&visible).unwrap().unwrap();
    let bombs = [change_bomb(), document_bomb()];
    for b in &bombs {
        assert!(b.len() < 1 << 20, "a bomb is under a megabyte: {}", b.len());
    }
    let (peak_before, rss_before) = memory();
    let unknown = CaseId::random();

    let mut count = 0;
    for bomb in &bombs {
        // The departure route: the case visible to the caller, one hidden from her, and
        // one that does not exist get the same answer, before any lookup.
        let mut answers = Vec::new();
        for (token, id) in [
            (&anna_token, visible),
            (&sam_token, visible),
            (&anna_token, unknown),
        ] {
            let (status, body) = post(&server, token, &id.to_string(), bomb);
            assert_eq!(status, 400, "{body}");
            assert!(body.contains("refused unread"), "{body}");
            assert!(body.contains("nothing was stored"), "{body}");
            answers.push(body);
            count += 1;
        }
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
        // The sync socket: a visible case and an unknown id.
        for id in [visible, unknown] {
            let (answer, closed) = sync_frame(
                &server,
                &anna_token,
                &id.to_string(),
                message_with(bomb.clone()),
            );
            match answer {
                Frame::Error {
                    message,
                    document_id,
                    code,
                    ..
                } => {
                    assert!(message.contains("refused unread"), "{message}");
                    assert_eq!(code.as_deref(), Some("limit"), "{message}");
                    assert_eq!(document_id, Some(id.to_string().into()));
                }
                other => panic!("expected an error frame: {other:?}"),
            }
            assert!(closed, "the connection closes after a refusal");
            count += 1;
        }
    }

    let (peak_after, rss_after) = memory();
    let grown = peak_after.saturating_sub(rss_before);
    println!(
        "memory: peak {} -> {} MiB, resident {} -> {} MiB",
        peak_before >> 20,
        peak_after >> 20,
        rss_before >> 20,
        rss_after >> 20
    );
    assert!(
        grown < 100 << 20,
        "the peak grew by {} MiB while bombs were refused",
        grown >> 20
    );
    // Nothing stored: the visible case is as it was, the unknown id still unknown.
    assert_eq!(
        server.db.case_document(&visible).unwrap().unwrap(),
        stored_before
    );
    assert!(server.db.case_document(&unknown).unwrap().is_none());
    assert!(server.db.case_access(&unknown).unwrap().is_none());
    // Counted, and rendered at /metrics.
    assert_eq!(refused(&server), count);
    let metrics = server.metrics();
    assert!(
        metrics.contains(&format!("fieldcase_input_refused_total {count}\n")),
        "{metrics}"
    );
    // The phone still syncs.
    anna.sync(&server.url, &anna_token).unwrap();
}

#[test]
fn a_bloom_filter_asking_for_billions_of_probes_is_refused() {
    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let visible = anna
        .create_case(NewCase {
            team: "north".into(),
            ..Default::default()
        })
        .unwrap();
    anna.sync(&server.url, &anna_token).unwrap();
    // version, no heads, no needs, one have: no last sync, a bloom filter of one entry,
    // 10 bits per entry, 2^32 - 1 probes (Automerge would allocate 16 GiB per lookup).
    let mut data = vec![0x42, 0, 0, 1, 0];
    let mut bloom = vec![1, 10];
    leb(&mut bloom, u64::from(u32::MAX));
    bloom.extend([0xff, 0xff]);
    leb(&mut data, bloom.len() as u64);
    data.extend(bloom);
    data.push(0); // no changes
    let (_, rss_before) = memory();
    let (answer, closed) = sync_frame(&server, &anna_token, &visible.to_string(), data);
    assert!(
        matches!(&answer, Frame::Error { message, .. } if message.contains("bloom filter")),
        "{answer:?}"
    );
    assert!(closed);
    assert_eq!(refused(&server), 1);
    let (peak_after, _) = memory();
    assert!(peak_after.saturating_sub(rss_before) < 100 << 20);
    // A real message still works on a new connection.
    let real = automerge::Automerge::new()
        .generate_sync_message(&mut SyncState::new())
        .unwrap()
        .encode();
    let mut s = joined(&server, &anna_token);
    s.send(Message::Binary(
        Frame::Sync {
            sender_id: "raw".into(),
            target_id: "fieldcase-server".into(),
            document_id: visible.to_string().into(),
            data: real,
        }
        .encode()
        .into(),
    ))
    .unwrap();
    assert!(matches!(next(&mut s), Some(Frame::Sync { .. })));
}

/// A hostile "server" on loopback: it lists `case` in the caseload with no heads, sends the
/// default deadlines, answers `join` with `peer`, and every sync or request with a sync
/// message carrying `bomb`.
fn hostile_server(case: CaseId, bomb: Vec<u8>) -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = std::thread::spawn(move || {
        for stream in listener.incoming().take(3) {
            let mut stream = stream.unwrap();
            let mut head = [0u8; 64];
            let n = stream.peek(&mut head).unwrap();
            let rest = if head[..n].starts_with(b"GET /v1/caseload") {
                Some(format!(r#"[{{"id":"{case}","heads":[]}}]"#))
            } else if head[..n].starts_with(b"GET /v1/settings") {
                Some("{}".to_string())
            } else {
                None
            };
            if let Some(body) = rest {
                let mut request = [0u8; 4096];
                let _ = std::io::Read::read(&mut stream, &mut request);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                std::io::Write::write_all(&mut stream, answer.as_bytes()).unwrap();
                continue;
            }
            let mut ws = tungstenite::accept(stream).unwrap();
            while let Ok(m) = ws.read() {
                let Message::Binary(b) = m else { continue };
                let answer = match Frame::decode(&b).unwrap() {
                    Frame::Join { sender_id, .. } => Frame::Peer {
                        sender_id: "fieldcase-server".into(),
                        target_id: sender_id,
                        metadata: Default::default(),
                        version: "1".into(),
                    },
                    Frame::Sync {
                        sender_id,
                        document_id,
                        ..
                    }
                    | Frame::Request {
                        sender_id,
                        document_id,
                        ..
                    } => Frame::Sync {
                        sender_id: "fieldcase-server".into(),
                        target_id: sender_id,
                        document_id,
                        data: message_with(bomb.clone()),
                    },
                    _ => continue,
                };
                if ws.send(Message::Binary(answer.encode().into())).is_err() {
                    break;
                }
            }
        }
    });
    (url, served)
}

#[test]
fn the_phone_refuses_a_bomb_from_its_server() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let case = anna
        .create_case(NewCase {
            team: "north".into(),
            ..Default::default()
        })
        .unwrap();
    let heads = anna.heads(&case).unwrap();
    for bomb in [change_bomb(), document_bomb()] {
        let (url, served) = hostile_server(case, bomb);
        let (_, rss_before) = memory();
        let err = anna.sync(&url, &token).unwrap_err();
        let (peak_after, _) = memory();
        assert!(err.to_string().contains("refused"), "{err}");
        assert!(err.to_string().contains("inflate"), "{err}");
        assert!(peak_after.saturating_sub(rss_before) < 100 << 20);
        assert_eq!(anna.heads(&case).unwrap(), heads, "nothing applied");
        served.join().unwrap();
    }
    // An imported document is checked the same way.
    let err = anna.import_case(&document_bomb()).unwrap_err();
    assert!(err.to_string().contains("inflate"), "{err}");
}
