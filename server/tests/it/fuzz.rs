//! The REST API fuzzed: arbitrary bodies, arbitrary JSON and arbitrary bytes to every
//! route that takes a body. Never a 5xx, never a panic, always our JSON error, and nothing
//! is stored.

use axum::body::Body;
use axum::http::Request;
use fieldcase_core::Role;
use fieldcase_server::Db;
use proptest::prelude::*;
use serde_json::Value;

use crate::{Server, ITER};

const PW: &str = "correct horse battery";

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("anna"),
            Just("worker"),
            Just("admin"),
            Just("north"),
            Just("")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("username".to_string()),
                        Just("password".to_string()),
                        Just("device_name".to_string()),
                        Just("actor_id".to_string()),
                        Just("workers".to_string()),
                        Just("role".to_string()),
                        Just("team".to_string()),
                        Just("name".to_string()),
                        "[a-z_]{1,12}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

const ROUTES: &[&str] = &[
    "/v1/login",
    "/v1/logout",
    "/v1/cases/{id}/assignment",
    "/v1/cases/{id}/departure",
    "/v1/admin/teams",
    "/v1/admin/users",
    "/v1/admin/users/anna/disable",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_body_breaks_a_route(
        route in prop::sample::select(ROUTES),
        bytes in body(),
        content_type in prop::sample::select(&["application/json", "text/plain", "application/octet-stream", ""][..]),
        as_admin in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let s = Server::new();
            s.db.add_team("north").unwrap();
            s.db.add_user("anna", "Anna", Role::Worker, Some("north"), PW, ITER).unwrap();
            s.db.add_user("root", "Root", Role::Admin, None, PW, ITER).unwrap();
            let token = s.login(if as_admin { "root" } else { "anna" }, PW).await;
            let users = s.db.users().unwrap();
            let teams = s.db.teams().unwrap();
            let uri = route.replace("{id}", &fieldcase_core::CaseId::random().to_string());
            let mut req = Request::builder()
                .method("POST")
                .uri(&uri)
                .header("authorization", format!("Bearer {token}"));
            if !content_type.is_empty() {
                req = req.header("content-type", content_type);
            }
            let (status, answer) = s.raw(req.body(Body::from(bytes.clone())).unwrap()).await;
            prop_assert!(!status.is_server_error(), "{route}: {status} {answer}");
            if !status.is_success() {
                prop_assert!(answer["error"].is_string(), "{route}: {answer}");
                // Nothing a client sends is echoed in an error.
                if let Ok(text) = std::str::from_utf8(&bytes) {
                    if text.len() > 12 {
                        prop_assert!(!answer.to_string().contains(text), "{route} echoed its input");
                    }
                }
                prop_assert_eq!(s.db.users().unwrap(), users);
                prop_assert_eq!(s.db.teams().unwrap(), teams);
            }
            Ok(())
        })?;
    }
}
