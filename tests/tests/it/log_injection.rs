//! Issue 13, finding 10: a refused map key holding a newline and a terminal escape
//! sequence reaches neither the error frame nor the server's log raw.

use std::sync::{Arc, Mutex};

use automerge::sync::{Message as SyncMessage, State as SyncState};
use automerge::transaction::Transactable;
use automerge::ROOT;
use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{CaseDoc, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::raw::{joined, next};
use fieldcase_tests::TestServer;
use tungstenite::Message;

/// The log lines written while a test runs (text format, as the server writes them).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures this process's logs (`cargo nextest` gives each test a process).
    fn install() -> Option<Logs> {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .ok()
            .map(|()| logs)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[test]
fn a_refused_key_with_a_newline_and_an_escape_sequence_is_escaped_in_answer_and_log() {
    let logs = Logs::install();
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let id = anna
        .create_case(NewCase {
            team: "north".into(),
            ..Default::default()
        })
        .unwrap();
    anna.sync(&server.url, &token).unwrap();
    let before = server.db.case_document(&id).unwrap().unwrap();

    // Anna's own registered actor adds a key the schema does not know.
    let key = "note\nINFO forged line \u{1b}[31mred";
    let mut doc = CaseDoc::load(&before).unwrap();
    doc.set_actor(anna.actor_id());
    let am = doc.automerge_mut();
    let mut tx = am.transaction();
    tx.put(ROOT, key, "x").unwrap();
    tx.commit();

    let mut s = joined(&server, &token);
    let mut state = SyncState::new();
    let mut refusal = None;
    for _ in 0..10 {
        let Some(m) = doc.generate_sync_message(&mut state) else {
            break;
        };
        let frame = Frame::Sync {
            sender_id: "raw".into(),
            target_id: String::new(),
            document_id: id.to_string().into(),
            data: m.encode(),
        };
        s.send(Message::Binary(frame.encode().into())).unwrap();
        match next(&mut s) {
            Some(Frame::Sync { data, .. }) => doc
                .receive_sync_message(&mut state, SyncMessage::decode(&data).unwrap())
                .unwrap(),
            Some(Frame::Error { message, .. }) => {
                refusal = Some(message);
                break;
            }
            other => panic!("unexpected answer: {other:?}"),
        }
    }
    let refusal = refusal.expect("the change is refused");
    assert!(refusal.contains("changes refused"), "{refusal}");
    assert!(refusal.contains("unknown field"), "{refusal}");
    assert!(
        !refusal.contains('\n') && !refusal.contains('\u{1b}'),
        "{refusal:?}"
    );
    assert!(
        refusal.contains(r"note\nINFO forged line \u{1b}[31mred"),
        "{refusal:?}"
    );
    assert_eq!(server.db.case_document(&id).unwrap().unwrap(), before);

    if let Some(logs) = logs {
        let text = logs.text();
        let line = text
            .lines()
            .find(|l| l.contains("changes refused"))
            .unwrap_or_else(|| panic!("the refusal is logged: {text}"));
        assert!(
            line.contains(r"note\nINFO forged line \u{1b}[31mred"),
            "{line}"
        );
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(
            !text.lines().any(|l| l.starts_with("INFO forged line")),
            "{text}"
        );
    }
}
