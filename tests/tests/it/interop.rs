//! Interoperability with a client nobody here wrote: the official JavaScript
//! `@automerge/automerge-repo` (Repo with its WebSocket network adapter, versions pinned in
//! `tests/js/package-lock.json`) under Node, against a real server on loopback. The Node
//! side is `tests/js/interop.mjs`; `scripts/test.sh` installs its packages (`npm ci`).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fieldcase_core::{CaseId, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::{TestServer, PASSWORD};
use serde_json::{json, Value};

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Runs `interop.mjs` with `vars`; its JSON report (the last line of its output).
fn run_node(vars: &[(&str, String)]) -> Value {
    let dir = js_dir();
    assert!(
        dir.join("node_modules/@automerge/automerge-repo").is_dir(),
        "the JavaScript packages are missing: run `npm ci` in tests/js (scripts/test.sh does)"
    );
    let mut child = Command::new("node")
        .arg("interop.mjs")
        .current_dir(&dir)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (Node.js 20 or later) must be installed");
    // Bounded: the script has its own timeouts; this is the backstop.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the JavaScript client did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        status.success(),
        "the JavaScript client failed ({status}):\n{out}\n{err}"
    );
    let last = out.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not a JSON report ({e}): {out}\n{err}"))
}

fn heads_hex(server: &TestServer, id: &CaseId) -> Vec<String> {
    let mut heads: Vec<String> = server
        .db
        .case_heads(id)
        .unwrap()
        .expect("the case is on the server")
        .iter()
        .map(|h| h.to_string())
        .collect();
    heads.sort();
    heads
}

fn sorted(v: &Value) -> Vec<String> {
    let mut heads: Vec<String> = v
        .as_array()
        .expect("heads")
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    heads.sort();
    heads
}

#[test]
fn the_javascript_automerge_repo_client_reads_edits_and_is_refused_like_a_phone() {
    let server = TestServer::start();

    // Anna's phone records an intake and syncs it.
    let (anna, token, _a) = server.phone("anna");
    let mut n = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some("Nguyễn Thị Mai".into());
    let id = anna.create_case(n).unwrap();
    anna.update(&id, |c, a, now| {
        c.set_field(a, now, "intake/reason", &json!("ครอบครัวขาดรายได้"))
    })
    .unwrap();
    assert_eq!(anna.sync(&server.url, &token).unwrap().sent, 1);
    // Another team's case, which Anna may not see.
    let (sam, sam_token, _s) = server.phone("sam");
    let mut other = NewCase {
        team: "south".into(),
        ..Default::default()
    };
    other.client.name = Some("Сергій Мельник".into());
    let forbidden = sam.create_case(other).unwrap();
    sam.sync(&server.url, &sam_token).unwrap();
    let before_js = heads_hex(&server, &id);

    let edit = "Từ JavaScript: ";
    let report = run_node(&[
        ("FIELDCASE_URL", server.url.clone()),
        ("FIELDCASE_USER", "anna".into()),
        ("FIELDCASE_PASSWORD", PASSWORD.into()),
        (
            "FIELDCASE_SCHEMA",
            fieldcase_core::schema::SCHEMA_REVISION.to_string(),
        ),
        ("CASE_ID", id.to_string()),
        ("FORBIDDEN_ID", forbidden.to_string()),
        ("UNKNOWN_ID", CaseId::random().to_string()),
        ("EDIT", edit.into()),
    ]);

    eprintln!("the JavaScript client reported: {report:#}");

    // A wrong token is refused at the upgrade.
    assert_eq!(report["wrong_token_status"], 401, "{report}");

    // The client fetched the case and read it as the server holds it.
    assert_eq!(report["read"]["id"], id.to_string(), "{report}");
    assert_eq!(report["read"]["name"], "Nguyễn Thị Mai", "{report}");
    assert_eq!(report["read"]["reason"], "ครอบครัวขาดรายได้", "{report}");
    assert_eq!(sorted(&report["read"]["heads"]), before_js, "{report}");

    // Its edit is on the server (the script waited for it), with the heads it made.
    assert_eq!(report["edit_reached_server"], true, "{report}");
    let after_js = heads_hex(&server, &id);
    assert_eq!(sorted(&report["edited_heads"]), after_js, "{report}");

    // ... and reaches the phone at its next sync.
    let r = anna.sync(&server.url, &token).unwrap();
    assert_eq!(r.received, 1, "{r:?}");
    assert_eq!(
        anna.get_case(&id).unwrap().intake.reason,
        format!("{edit}ครอบครัวขาดรายได้")
    );

    // Another team's case fails exactly like one that does not exist.
    let forbidden_error = report["forbidden_error"].as_str().expect("find failed");
    assert_eq!(
        Some(forbidden_error),
        report["unknown_error"].as_str(),
        "{report}"
    );
    assert_eq!(report["frames_refusing"], 0, "no error frame for either");

    // Changes under an unregistered actor: an error frame, nothing stored.
    let errors = report["forged_errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("not registered")),
        "{report}"
    );
    assert_eq!(report["forged_on_server"], false, "{report}");
    assert_eq!(heads_hex(&server, &id), after_js, "the server is unchanged");
    let r = anna.sync(&server.url, &token).unwrap();
    assert_eq!((r.received, r.errors.len()), (0, 0), "{r:?}");
    assert!(!anna.get_case(&id).unwrap().intake.reason.contains("FORGED"));
}

#[test]
fn a_token_in_the_query_string_is_taken_on_the_sync_upgrade_only() {
    let server = TestServer::start();
    let (_anna, token, _a) = server.phone("anna");
    // Valid as a header ...
    assert_eq!(
        server.rest("GET", "/v1/caseload", Some(&token), None).0,
        200
    );
    // ... but a URL may end up in a proxy's log, so no other route takes it from there.
    for path in ["/v1/caseload", "/v1/me", "/v1/admin/users"] {
        let (status, body) = server.rest("GET", &format!("{path}?token={token}"), None, None);
        assert_eq!(status, 401, "{path}: {body}");
    }
    // The upgrade takes it (a real WebSocket handshake over loopback).
    let schema = fieldcase_core::schema::SCHEMA_REVISION;
    let url = format!(
        "{}/v1/sync?token={token}&schema={schema}",
        server.url.replace("http", "ws")
    );
    let (_socket, response) = tungstenite::connect(url).expect("upgrade with a query token");
    assert_eq!(response.status().as_u16(), 101);
    let wrong = format!(
        "{}/v1/sync?token={}&schema={schema}",
        server.url.replace("http", "ws"),
        "ab".repeat(32)
    );
    match tungstenite::connect(wrong) {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status().as_u16(), 401),
        other => panic!("a wrong query token was not refused: {other:?}"),
    }
}
