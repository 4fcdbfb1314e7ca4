//! Route tests of fieldcase-server: the router driven directly, on a real SQLite file.
#![allow(unreachable_pub)]

mod accounts;
mod admin;
mod caseload;
mod console;
mod fuzz;
mod seed_words;
mod storage;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fieldcase_server::{app, AppState, Config, Db, SqliteDb};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

/// PBKDF2 rounds for tests (stored per user; production uses 600,000).
pub const ITER: u32 = 1_000;

#[derive(Debug)]
pub struct Server {
    pub db: Arc<SqliteDb>,
    pub state: Arc<AppState>,
    _dir: tempfile::TempDir,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    pub fn new() -> Self {
        Self::with_config(Config {
            password_iterations: ITER,
            ..Config::default()
        })
    }

    pub fn with_config(config: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(SqliteDb::open(dir.path().join("server.sqlite")).unwrap());
        let state = AppState::new(db.clone() as Arc<dyn Db>, config);
        Server {
            db,
            state,
            _dir: dir,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        self.raw(req).await
    }

    /// Sends a request as an app of this version: it says which case schema it writes
    /// unless the request says otherwise (tests of earlier apps are in the tests crate).
    pub async fn raw(&self, mut req: Request<Body>) -> (StatusCode, Value) {
        req.headers_mut()
            .entry(fieldcase_core::sync::protocol::SCHEMA_HEADER)
            .or_insert(fieldcase_core::schema::SCHEMA_REVISION.into());
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, v)
    }

    /// Logs in and returns the token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let actor = automerge::ActorId::random().to_hex_string();
        let (s, v) = self
            .call("POST", "/v1/login", None, Some(json!({"username": username, "password": password, "device_name": "test phone", "actor_id": actor})))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_string()
    }
}
