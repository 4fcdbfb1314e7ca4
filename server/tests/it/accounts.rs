//! Login, tokens, devices and actors, rate limiting, disabling.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fieldcase_core::Role;
use fieldcase_server::{Config, Db};
use serde_json::{json, Value};

use crate::{Server, ITER};

const PW: &str = "correct horse battery";

fn setup() -> Server {
    let s = Server::new();
    s.db.add_team("north").unwrap();
    s.db.add_user("anna", "Anna", Role::Worker, Some("north"), PW, ITER)
        .unwrap();
    s
}

#[tokio::test]
async fn login_returns_a_token_that_works_and_logout_ends_it() {
    let s = setup();
    let actor = automerge::ActorId::random().to_hex_string();
    let (st, v) = s.call("POST", "/v1/login", None, Some(json!({"username": "anna", "password": PW, "device_name": "Pixel", "actor_id": actor}))).await;
    assert_eq!(st, StatusCode::OK);
    let token = v["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert!(v["user_id"].as_str().unwrap().starts_with("u-"));
    assert!(v["device_id"].as_str().unwrap().starts_with("d-"));
    assert!(v["expires_at"].as_i64().unwrap() > chrono::Utc::now().timestamp_millis());
    assert_eq!(
        s.db.actor_device(&actor).unwrap().as_deref(),
        v["device_id"].as_str()
    );
    let (st, me) = s.call("GET", "/v1/me", Some(token), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["username"], "anna");
    assert_eq!(me["role"], "worker");
    let (st, _) = s.call("POST", "/v1/logout", Some(token), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = s.call("GET", "/v1/me", Some(token), None).await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "a token is not reusable after logout"
    );
    assert_eq!(v["error"], "unauthenticated");
}

#[tokio::test]
async fn wrong_credentials_and_bad_tokens_are_refused_alike() {
    let s = setup();
    let actor = automerge::ActorId::random().to_hex_string();
    for (user, pw) in [("anna", "wrong password!"), ("nobody", PW), ("", "")] {
        let (st, v) = s.call("POST", "/v1/login", None, Some(json!({"username": user, "password": pw, "device_name": "x", "actor_id": actor}))).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(
            v,
            json!({"error": "unauthenticated", "message": "not authenticated", "code": "unauthenticated"}),
            "no hint which part was wrong"
        );
    }
    for token in ["", "abc", &"0".repeat(64), &"z".repeat(200)] {
        let (st, _) = s.call("GET", "/v1/me", Some(token), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let (st, _) = s.call("GET", "/v1/caseload", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_our_error_and_no_echo() {
    let s = setup();
    let cases = [
        Request::post("/v1/login")
            .header("content-type", "application/json")
            .body(Body::from("{not json"))
            .unwrap(),
        Request::post("/v1/login")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"username":"anna","secret-probe":"XYZZY"}"#))
            .unwrap(),
        Request::post("/v1/login")
            .header("content-type", "text/plain")
            .body(Body::from("{}"))
            .unwrap(),
        Request::post("/v1/login")
            .header("content-type", "application/json")
            .body(Body::from(vec![b' '; 200_000]))
            .unwrap(),
    ];
    for req in cases {
        let (st, v) = s.raw(req).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["error"], "bad_request");
        assert!(!v.to_string().contains("XYZZY"));
    }
    let (st, v) = s.call("POST", "/v1/login", None, Some(json!({"username": "anna", "password": PW, "device_name": "x", "actor_id": "not-hex"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = s.call("GET", "/v1/nowhere", None, None).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn an_actor_belongs_to_one_device() {
    let s = setup();
    s.db.add_user("bao", "Bao", Role::Worker, Some("north"), PW, ITER)
        .unwrap();
    let actor = automerge::ActorId::random().to_hex_string();
    let (st, _) = s
        .call(
            "POST",
            "/v1/login",
            None,
            Some(
                json!({"username": "anna", "password": PW, "device_name": "a", "actor_id": actor}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = s
        .call(
            "POST",
            "/v1/login",
            None,
            Some(json!({"username": "bao", "password": PW, "device_name": "b", "actor_id": actor})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
}

fn login_body(user: &str, pw: &str) -> Value {
    let actor = automerge::ActorId::random().to_hex_string();
    json!({"username": user, "password": pw, "device_name": "x", "actor_id": actor})
}

fn delayed(s: &Server) -> u64 {
    s.state
        .metrics
        .logins_delayed
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// A stranger's wrong guesses slow an account down; they never lock its owner out: after
/// them the right password still signs in (after the wait), and clears the count.
#[tokio::test]
async fn wrong_guesses_slow_an_account_but_never_lock_it() {
    let s = Server::with_config(Config {
        password_iterations: ITER,
        login_max_failures: 3,
        login_max_delay_ms: 1_000,
        ..Config::default()
    });
    s.db.add_team("north").unwrap();
    s.db.add_user("anna", "Anna", Role::Worker, Some("north"), PW, ITER)
        .unwrap();
    for _ in 0..3 {
        let (st, _) = s
            .call(
                "POST",
                "/v1/login",
                None,
                Some(login_body("anna", "guess guess")),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(delayed(&s), 0, "the first guesses are not slowed");
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let (st, _) = s
            .call(
                "POST",
                "/v1/login",
                None,
                Some(login_body("anna", "guess guess")),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert!(started.elapsed() >= std::time::Duration::from_millis(1_000));
    }
    assert_eq!(delayed(&s), 3);
    let started = std::time::Instant::now();
    let (st, v) = s
        .call("POST", "/v1/login", None, Some(login_body("anna", PW)))
        .await;
    assert_eq!(st, StatusCode::OK, "the right password signs in: {v}");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1_000),
        "after the wait"
    );
    assert_eq!(delayed(&s), 4);
    // Signed in, the count starts again.
    s.call(
        "POST",
        "/v1/login",
        None,
        Some(login_body("anna", "guess guess")),
    )
    .await;
    assert_eq!(delayed(&s), 4);
}

/// Guesses sent at once: each counts before its password is checked, so all but the
/// allowed number wait, however many arrive together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_cannot_pass_the_limit_together() {
    let s = std::sync::Arc::new(Server::with_config(Config {
        password_iterations: ITER,
        login_max_failures: 3,
        login_max_delay_ms: 200,
        ..Config::default()
    }));
    s.db.add_team("north").unwrap();
    // A slow hash, so that every guess is in flight while the others arrive.
    s.db.add_user("anna", "Anna", Role::Worker, Some("north"), PW, 200_000)
        .unwrap();
    let guesses: Vec<_> = (0..12)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let body = login_body("anna", &format!("guess {i}"));
                s.call("POST", "/v1/login", None, Some(body)).await.0
            })
        })
        .collect();
    for g in guesses {
        assert_eq!(g.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(delayed(&s), 9, "every guess past the third waited");
}

/// Many usernames from one address: past the address's limit, every attempt from it waits
/// (the accounts it guessed at are not slowed by it), and the right password still signs
/// in; an office signing in through one address is never slowed; an IPv6 /64 counts as
/// one address; behind a trusted proxy, `X-Forwarded-For` names the client.
#[tokio::test]
async fn one_address_guessing_many_usernames_is_slowed_but_never_locks_anyone_out() {
    let s = Server::with_config(Config {
        password_iterations: ITER,
        login_max_failures_per_address: 10,
        login_max_delay_ms: 400,
        trusted_proxies: vec!["10.0.0.2".parse().unwrap()],
        ..Config::default()
    });
    s.db.add_team("north").unwrap();
    s.db.add_user("anna", "Anna", Role::Worker, Some("north"), PW, ITER)
        .unwrap();
    let from = |ip: std::net::IpAddr, forwarded: Option<&str>, body: Value| {
        let mut req = Request::builder()
            .method("POST")
            .uri("/v1/login")
            .header("content-type", "application/json");
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        let mut req = req.body(Body::from(body.to_string())).unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
                ip, 40000,
            )));
        req
    };
    let slowed = |s: &Server| {
        s.state
            .metrics
            .logins_slowed_address
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let office: std::net::IpAddr = "10.2.2.2".parse().unwrap();
    for _ in 0..25 {
        let (st, v) = s.raw(from(office, None, login_body("anna", PW))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    assert_eq!(slowed(&s), 0, "successes do not count");
    // One IPv6 /64, many addresses in it.
    for i in 0..12 {
        let ip: std::net::IpAddr = format!("2001:db8:1:2::{i:x}").parse().unwrap();
        let (st, _) = s
            .raw(from(
                ip,
                None,
                login_body(&format!("user{i}"), "guess guess"),
            ))
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(slowed(&s), 2, "the /64 is one address");
    // Behind the trusted proxy, the forwarded address is the client's.
    let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
    for i in 0..11 {
        let (st, _) = s
            .raw(from(
                proxy,
                Some("198.51.100.7"),
                login_body(&format!("x{i}"), "guess guess"),
            ))
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(slowed(&s), 3);
    // The right password through the same proxy from another client: not slowed.
    let (st, _) = s
        .raw(from(proxy, Some("198.51.100.8"), login_body("anna", PW)))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(slowed(&s), 3);
    // The right password from the slowed address waits, then signs in.
    let started = std::time::Instant::now();
    let (st, _) = s
        .raw(from(proxy, Some("198.51.100.7"), login_body("anna", PW)))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    assert_eq!(
        s.db.throttle_count(
            "username:user5",
            chrono::Utc::now().timestamp_millis(),
            60_000
        )
        .unwrap(),
        1,
        "each guessed account counted once"
    );
}

#[tokio::test]
async fn disabling_a_user_revokes_tokens_and_says_wipe() {
    let s = setup();
    let token = s.login("anna", PW).await;
    s.db.disable_user("anna").unwrap();
    let (st, v) = s.call("GET", "/v1/caseload", Some(&token), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(v["error"], "wipe");
    let actor = automerge::ActorId::random().to_hex_string();
    let (st, _) = s
        .call(
            "POST",
            "/v1/login",
            None,
            Some(
                json!({"username": "anna", "password": PW, "device_name": "x", "actor_id": actor}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_and_idle_sessions_end() {
    use fieldcase_server::db::SessionPolicy;
    let s = setup();
    let user = s.db.user_by_username("anna").unwrap().unwrap();
    let device = s.db.register_device(&user, None, "phone", "aa11").unwrap();
    let policy = SessionPolicy {
        idle_ms: 1_000,
        absolute_ms: 10_000,
    };
    let (token, _) = s.db.create_session(&user, &device, policy, 0).unwrap();
    assert!(s.db.session(&token, policy, 500).unwrap().is_some());
    assert!(
        s.db.session(&token, policy, 1_400).unwrap().is_some(),
        "used within the idle window"
    );
    assert!(
        s.db.session(&token, policy, 2_500).unwrap().is_none(),
        "idle too long"
    );
    let (token, _) = s.db.create_session(&user, &device, policy, 0).unwrap();
    for t in (900..10_000).step_by(900) {
        assert!(s.db.session(&token, policy, t).unwrap().is_some());
    }
    assert!(
        s.db.session(&token, policy, 10_000).unwrap().is_none(),
        "absolute expiry"
    );
}

#[test]
fn passwords_and_names_are_validated_and_never_stored_plain() {
    let s = setup();
    assert!(s
        .db
        .add_user("short", "", Role::Worker, Some("north"), "2short", ITER)
        .is_err());
    assert!(s
        .db
        .add_user("bad name!", "", Role::Worker, Some("north"), PW, ITER)
        .is_err());
    assert!(s
        .db
        .add_user("noteam", "", Role::Worker, None, PW, ITER)
        .is_err());
    assert!(
        s.db.add_user("anna", "", Role::Worker, Some("north"), PW, ITER)
            .is_err(),
        "taken"
    );
    assert!(
        s.db.add_user("x", "", Role::Worker, Some("south"), PW, ITER)
            .is_err(),
        "no such team"
    );
    assert!(s.db.add_team("north").is_err());
    drop(s.state);
    let path = s._dir.path().join("server.sqlite");
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let bytes = std::fs::read(s._dir.path().join("server.sqlite")).unwrap();
    assert!(!bytes.windows(PW.len()).any(|w| w == PW.as_bytes()));
}

#[tokio::test]
async fn health_and_metrics_are_served_and_count_logins() {
    let s = setup();
    let (st, v) = s.call("GET", "/healthz", None, None).await;
    assert_eq!((st, v), (StatusCode::OK, json!("ok")));
    s.login("anna", PW).await;
    let actor = automerge::ActorId::random().to_hex_string();
    s.call("POST", "/v1/login", None, Some(json!({"username": "anna", "password": "not the password", "device_name": "x", "actor_id": actor}))).await;
    s.db.add_user("root", "Root", Role::Admin, None, PW, ITER)
        .unwrap();
    let root = s.login("root", PW).await;
    let (st, v) = s.call("GET", "/metrics", Some(&root), None).await;
    assert_eq!(st, StatusCode::OK);
    let text = v.as_str().unwrap();
    assert!(text.contains("fieldcase_logins_total 2"), "{text}");
    assert!(text.contains("fieldcase_login_failures_total 1"), "{text}");
    assert!(text.contains("# TYPE fieldcase_sync_connections gauge"));
    assert!(text.contains("fieldcase_connections_refused_total{reason=\"per_address\"} 0"));
}

#[tokio::test]
async fn metrics_answer_only_the_metrics_token_or_an_admin() {
    let s = Server::with_config(Config {
        password_iterations: ITER,
        metrics_token: Some("metrics-token-0123456789".into()),
        ..Config::default()
    });
    s.db.add_team("north").unwrap();
    s.db.add_user("anna", "Anna", Role::Worker, Some("north"), PW, ITER)
        .unwrap();
    s.db.add_user("root", "Root", Role::Admin, None, PW, ITER)
        .unwrap();
    let anna = s.login("anna", PW).await;
    let root = s.login("root", PW).await;
    for token in [
        None,
        Some(anna.as_str()),
        Some("metrics-token-012345678"),
        Some("metrics-token-0123456789x"),
        Some(""),
    ] {
        let (st, v) = s.call("GET", "/metrics", token, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{token:?}");
        assert!(!v.to_string().contains("fieldcase_"), "{token:?}");
    }
    for token in ["metrics-token-0123456789", &root] {
        let (st, v) = s.call("GET", "/metrics", Some(token), None).await;
        assert_eq!(st, StatusCode::OK);
        assert!(v.as_str().unwrap().contains("fieldcase_logins_total 2"));
    }
}

/// Every route the router serves is in the OpenAPI document, and every documented route
/// answers (not the router's 404 for unknown paths).
#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let s = setup();
    let (st, doc) = s.call("GET", "/v1/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let served = [
        "/healthz",
        "/metrics",
        "/v1/openapi.json",
        "/v1/login",
        "/v1/logout",
        "/v1/me",
        "/v1/caseload",
        "/v1/cases/{id}",
        "/v1/cases/{id}/assignment",
        "/v1/cases/{id}/departure",
        "/v1/cases/{id}/matches",
        "/v1/cases/{id}/related",
        "/v1/cases/erased",
        "/v1/cases/{id}/referrals/{rid}/links",
        "/v1/cases/{id}/attachments/{hash}/upload",
        "/v1/cases/{id}/attachments/{hash}/chunks/{n}",
        "/v1/admin/audit",
        "/v1/admin/teams",
        "/v1/admin/teams/{name}/label",
        "/v1/admin/areas",
        "/v1/areas",
        "/v1/admin/users",
        "/v1/admin/users/{username}/disable",
        "/v1/admin/users/{username}/enable",
        "/v1/admin/users/{username}/devices",
        "/v1/admin/devices/{device_id}/revoke",
        "/v1/admin/log",
        "/v1/admin/users/{username}/handover",
        "/v1/admin/users/{username}/role",
        "/v1/me/devices",
        "/v1/me/password",
        "/readyz",
        "/v1/sync",
        "/v1/settings",
        "/v1/directory",
    ];
    // The schema header's description names the revision this version writes.
    let revision = format!(
        "({} for this version)",
        fieldcase_core::schema::SCHEMA_REVISION
    );
    let mut headers = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "fieldcase-schema" {
                    headers += 1;
                    let said = p["description"].as_str().unwrap_or_default();
                    assert!(said.contains(&revision), "{said}");
                }
            }
        }
    }
    assert!(headers >= 8, "{headers}");
    let mut a = paths.clone();
    a.sort();
    let mut b: Vec<String> = served.iter().map(|p| p.to_string()).collect();
    b.sort();
    assert_eq!(a, b);
    let src = include_str!("../../src/api.rs");
    for p in &served {
        assert!(
            src.contains(&format!("\"{p}\"")),
            "{p} is described but not routed"
        );
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let uri = path.replace("{id}", "x").replace("{username}", "x");
            let (st, v) = s.call(&method.to_uppercase(), &uri, None, None).await;
            assert!(
                // /metrics hides itself from anyone without its token.
                !(st == StatusCode::NOT_FOUND
                    && uri != "/v1/cases/x"
                    && uri != "/metrics"
                    && v["error"] == "not_found"),
                "{method} {path} is not served"
            );
        }
    }
}
