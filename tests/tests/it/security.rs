//! Security checks as tests: unguessable tokens, password hashes that never leave the
//! database, and another team's cases indistinguishable from cases that do not exist, on
//! every route and on the sync socket.

use automerge::sync::{State as SyncState, SyncDoc};
use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{CaseId, NewCase, Role};
use fieldcase_server::Db;
use fieldcase_tests::raw::{joined, next, open};
use fieldcase_tests::{TestServer, ITERATIONS, PASSWORD};
use serde_json::json;
use tungstenite::Message;

#[test]
fn tokens_are_random_256_bit_and_guesses_fail() {
    let server = TestServer::start();
    let mut tokens = std::collections::HashSet::new();
    let mut digits = std::collections::HashSet::new();
    for i in 0..40 {
        let actor = format!("{:032x}", i + 1);
        let (status, v) = server.rest(
            "POST",
            "/v1/login",
            None,
            Some(json!({"username": "anna", "password": PASSWORD, "device_name": "p", "actor_id": actor})),
        );
        assert_eq!(status, 200, "{v}");
        let t = v["token"].as_str().unwrap().to_string();
        assert_eq!(t.len(), 64);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit()));
        digits.extend(t.chars());
        assert!(tokens.insert(t), "tokens never repeat");
    }
    assert_eq!(digits.len(), 16, "every hex digit appears");
    // Guesses: random tokens, a real token changed in one place, empty and overlong ones.
    let real = tokens.iter().next().unwrap().clone();
    let mut guesses: Vec<String> = (0..100).map(|_| CaseId::random().to_string()).collect();
    guesses.extend((0..100).map(|i| format!("{:064x}", (i as u128) * 0x9e37_79b9_7f4a_7c15)));
    for i in [0, 31, 63] {
        let mut g: Vec<char> = real.chars().collect();
        g[i] = if g[i] == '0' { '1' } else { '0' };
        guesses.push(g.into_iter().collect());
    }
    guesses.extend([
        String::new(),
        "0".repeat(64),
        format!("{real}0"),
        real.to_uppercase(),
    ]);
    for g in &guesses {
        let (status, v) = server.rest("GET", "/v1/me", Some(g), None);
        assert_eq!(status, 401, "{g}: {v}");
        assert_eq!(
            v,
            json!({"error": "unauthenticated", "message": "not authenticated", "code": "unauthenticated"})
        );
        match open(&server, g) {
            Err(tungstenite::Error::Http(r)) => assert_eq!(r.status().as_u16(), 401),
            other => panic!("the sync socket took a guessed token: {other:?}"),
        }
    }
}

#[test]
fn password_hashes_and_salts_never_leave_the_database() {
    let server = TestServer::start();
    server
        .db
        .add_user("root", "Root", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();
    let secrets: Vec<Vec<u8>> = {
        let conn = rusqlite::Connection::open(server.dir.path().join("server.sqlite")).unwrap();
        let mut stmt = conn.prepare("SELECT pw_hash, pw_salt FROM users").unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .unwrap();
        rows.flat_map(|r| {
            let (h, s) = r.unwrap();
            [h, s]
        })
        .collect()
    };
    assert!(secrets.len() >= 10 && secrets.iter().all(|s| s.len() >= 16));
    let (_, root_token, _r) = server.phone("root");
    let (_, anna_token, _a) = server.phone("anna");
    let mut answers = Vec::new();
    for (path, token) in [
        ("/v1/me", &anna_token),
        ("/v1/me", &root_token),
        ("/v1/caseload", &anna_token),
        ("/v1/admin/users", &root_token),
        ("/v1/admin/teams", &root_token),
        ("/v1/openapi.json", &anna_token),
        ("/metrics", &root_token),
    ] {
        let (status, v) = server.rest("GET", path, Some(token), None);
        assert_eq!(status, 200, "{path}");
        answers.push(v.to_string());
    }
    let (_, login) = server.rest(
        "POST",
        "/v1/login",
        None,
        Some(json!({"username": "anna", "password": PASSWORD, "device_name": "p", "actor_id": "abcd"})),
    );
    answers.push(login.to_string());
    let all = answers.join("\n");
    assert!(
        all.contains("anna") && all.contains("root"),
        "the answers are real"
    );
    for secret in &secrets {
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!all.contains(&hex), "a hash or salt in hex");
        assert!(
            !all.to_lowercase().contains(&hex[..16]),
            "part of a hash or salt"
        );
        let b64 = base64_of(secret);
        assert!(!all.contains(&b64[..16]), "a hash or salt in base64");
    }
    for word in ["pw_hash", "pw_salt", "password", "iterations"] {
        let admin_users = &answers[3];
        assert!(!admin_users.contains(word), "{word} in {admin_users}");
    }
}

fn base64_of(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// What a client learns about a case id from every route and the sync socket.
fn observe(server: &TestServer, token: &str, id: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for (method, path, body) in [
        ("GET", format!("/v1/cases/{id}"), None),
        (
            "POST",
            format!("/v1/cases/{id}/assignment"),
            Some(json!({"workers": ["sam"]})),
        ),
    ] {
        let (status, v) = server.rest(method, &path, Some(token), body);
        seen.push(format!("{method} {status} {v}"));
    }
    // The write-only route, with real changes.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut res = agent
        .post(format!("{}/v1/cases/{id}/departure", server.url))
        .header("authorization", format!("Bearer {token}"))
        .send(
            &fieldcase_core::CaseDoc::create(
                CaseId::random(),
                automerge::ActorId::random(),
                &fieldcase_core::Author::new("x", "x", Role::Worker, "d"),
                NewCase {
                    team: "south".into(),
                    ..Default::default()
                },
                1,
            )
            .unwrap()
            .automerge()
            .save()[..],
        )
        .unwrap();
    seen.push(format!(
        "departure {} {}",
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap()
    ));
    // The socket: a request, then a sync of an empty document.
    let message = automerge::Automerge::new()
        .generate_sync_message(&mut SyncState::new())
        .unwrap()
        .encode();
    for request in [true, false] {
        let mut s = joined(server, token);
        let frame = if request {
            Frame::Request {
                sender_id: "raw".into(),
                target_id: String::new(),
                document_id: id.into(),
                data: message.clone(),
            }
        } else {
            Frame::Sync {
                sender_id: "raw".into(),
                target_id: String::new(),
                document_id: id.into(),
                data: message.clone(),
            }
        };
        s.send(Message::Binary(frame.encode().into())).unwrap();
        let answer = next(&mut s).map(|f| {
            // The answer names the id asked about; compare the rest.
            format!("{f:?}").replace(id, "<id>")
        });
        seen.push(format!("socket {request}: {answer:?}"));
    }
    seen
}

#[test]
fn another_teams_case_and_a_restricted_one_look_exactly_like_missing_cases() {
    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Hoàng Thị Mai".into());
    let open_case = anna.create_case(new.clone()).unwrap();
    new.client.name = Some("زهرا احمدی".into());
    new.restricted = true;
    let restricted = anna.create_case(new).unwrap();
    assert_eq!(anna.sync(&server.url, &anna_token).unwrap().sent, 2);

    let (_s, sam_token, _sd) = server.phone("sam");
    let (_b, bao_token, _bd) = server.phone("bao");
    for (who, token, hidden) in [
        ("sam, another team", &sam_token, open_case),
        ("sam, another team", &sam_token, restricted),
        ("bao, unassigned, restricted", &bao_token, restricted),
    ] {
        let missing = CaseId::random().to_string();
        let a = observe(&server, token, &hidden.to_string());
        let b = observe(&server, token, &missing);
        assert_eq!(a, b, "{who}");
        let (_, caseload) = server.rest("GET", "/v1/caseload", Some(token), None);
        assert!(!caseload.to_string().contains(&hidden.to_string()), "{who}");
    }
    // Bảo may see the open case of his team? Not unless assigned: workers see their own.
    let (_, caseload) = server.rest("GET", "/v1/caseload", Some(&bao_token), None);
    assert_eq!(caseload, json!([]));
    // Nothing of the hidden cases appears in what the server tells anyone else.
    let metrics = server.metrics();
    for id in [open_case, restricted] {
        assert!(!metrics.contains(&id.to_string()));
    }
}
