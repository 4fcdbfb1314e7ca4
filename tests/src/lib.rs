//! Helpers for end-to-end tests: a real `fieldcase-server` on a loopback port with its own
//! SQLite file, and phones (encrypted `CaseStore`s) that log in and sync to it.

pub mod console;
pub mod pg;
pub mod proxy;
pub mod raw;
pub mod release;
pub mod soak;

use std::sync::Arc;

use fieldcase_core::{CaseStore, Role};
use fieldcase_server::{AppState, Config, Db, SqliteDb};

/// PBKDF2 rounds for test accounts (stored per user; production uses 600,000).
pub const ITERATIONS: u32 = 1_000;
/// The password of every test account.
pub const PASSWORD: &str = "a long test password";
/// The bearer token that reads a test server's `/metrics`.
pub const METRICS_TOKEN: &str = "test metrics token 0123456789";

/// A server running on 127.0.0.1 on a free port, stopped when dropped.
#[derive(Debug)]
pub struct TestServer {
    pub url: String,
    pub db: Arc<SqliteDb>,
    pub state: Arc<AppState>,
    /// The test authority that signed the server's certificate (HTTPS servers only).
    pub ca_pem: Option<String>,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with team `north` (workers anna and bao, supervisor malee) and team
    /// `south` (worker sam).
    pub fn start() -> Self {
        Self::launch(false, Config::default())
    }

    /// The same server with settings of the caller's (PBKDF2 rounds and TLS are the
    /// test's own).
    pub fn start_with(config: Config) -> Self {
        Self::launch(false, config)
    }

    /// The same server over HTTPS, with a certificate from a test authority of its own
    /// ([`TestServer::ca_pem`]); phones must be told to trust it.
    pub fn start_tls() -> Self {
        Self::launch(true, Config::default())
    }

    /// An HTTPS server with settings of the caller's (as [`TestServer::start_with`]).
    pub fn start_tls_with(config: Config) -> Self {
        Self::launch(true, config)
    }

    fn launch(tls: bool, config: Config) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(SqliteDb::open(dir.path().join("server.sqlite")).expect("database"));
        for team in ["north", "south"] {
            db.add_team(team).expect("team");
        }
        for (user, role, team) in [
            ("anna", Role::Worker, "north"),
            ("bao", Role::Worker, "north"),
            ("malee", Role::Supervisor, "north"),
            ("sam", Role::Worker, "south"),
        ] {
            db.add_user(user, user, role, Some(team), PASSWORD, ITERATIONS)
                .expect("user");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let config = Config {
            password_iterations: ITERATIONS,
            tls,
            metrics_token: config
                .metrics_token
                .clone()
                .or_else(|| Some(METRICS_TOKEN.to_string())),
            ..config
        };
        let state = AppState::new(db.clone() as Arc<dyn Db>, config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async {
            let _ = stopped.await;
        };
        let (url, ca_pem, served) = if tls {
            let (ca_pem, cert, key) = test_certificates(dir.path());
            let tls = fieldcase_server::tls_config(&cert, &key).expect("TLS settings");
            let served = runtime.spawn(fieldcase_server::serve_tls(
                listener,
                state.clone(),
                tls,
                stopped,
            ));
            (format!("https://{addr}"), Some(ca_pem), served)
        } else {
            let listener = {
                let _guard = runtime.enter();
                listener.set_nonblocking(true).expect("non-blocking");
                tokio::net::TcpListener::from_std(listener).expect("listener")
            };
            let served = runtime.spawn(fieldcase_server::serve(listener, state.clone(), stopped));
            (format!("http://{addr}"), None, served)
        };
        TestServer {
            url,
            db,
            state,
            ca_pem,
            runtime: Some(runtime),
            stop: Some(stop),
            served: Some(served),
            dir,
        }
    }

    /// Stops the server as SIGTERM does (gracefully) and waits until it has stopped.
    pub fn stop_gracefully(&mut self) {
        self.begin_stop();
        if let (Some(rt), Some(served)) = (&self.runtime, self.served.take()) {
            rt.block_on(served).expect("server task").expect("server");
        }
    }

    /// Two phones on one case: Anna's phone records a case for `client` in team north and
    /// syncs; the supervisor (Malee) assigns Bảo as well; Bảo's phone syncs and has it.
    /// Returns the case and both phones, each with its token and folder.
    pub fn shared_case(
        &self,
        client: &str,
    ) -> (
        fieldcase_core::CaseId,
        (CaseStore, String, tempfile::TempDir),
        (CaseStore, String, tempfile::TempDir),
    ) {
        let anna = self.phone("anna");
        let mut new = fieldcase_core::NewCase {
            team: "north".into(),
            ..Default::default()
        };
        new.client.name = Some(client.into());
        let id = anna.0.create_case(new).expect("a case");
        assert!(anna
            .0
            .sync(&self.url, &anna.1)
            .expect("sync")
            .errors
            .is_empty());
        let (_malee, malee_token, _m) = self.phone("malee");
        let (status, answer) = self.rest(
            "POST",
            &format!("/v1/cases/{id}/assignment"),
            Some(&malee_token),
            Some(serde_json::json!({"workers": ["anna", "bao"]})),
        );
        assert_eq!(status, 200, "{answer}");
        let bao = self.phone("bao");
        assert_eq!(bao.0.sync(&self.url, &bao.1).expect("sync").new_cases, 1);
        assert!(anna
            .0
            .sync(&self.url, &anna.1)
            .expect("sync")
            .errors
            .is_empty());
        (id, anna, bao)
    }

    /// Stops the server gracefully and starts it again on the same database, with the
    /// same settings, on a new port ([`TestServer::url`] changes): nothing it kept in
    /// memory is kept, as after a restart. Plain HTTP servers only.
    pub fn restart(&mut self) {
        assert!(self.ca_pem.is_none(), "restarts plain HTTP servers only");
        self.stop_gracefully();
        let rt = self.runtime.as_ref().expect("runtime");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let listener = {
            let _guard = rt.enter();
            listener.set_nonblocking(true).expect("non-blocking");
            tokio::net::TcpListener::from_std(listener).expect("listener")
        };
        let state = AppState::new(self.db.clone() as Arc<dyn Db>, self.state.config.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async {
            let _ = stopped.await;
        };
        let served = rt.spawn(fieldcase_server::serve(listener, state.clone(), stopped));
        self.url = format!("http://{addr}");
        self.state = state;
        self.stop = Some(stop);
        self.served = Some(served);
    }

    /// Asks the server to stop, as SIGTERM does, without waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Syncs `phone` with this server, which must answer every case without an error.
    pub fn synced(&self, phone: &CaseStore, token: &str) {
        let report = phone.sync(&self.url, token).expect("sync");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    /// A new phone: an encrypted store in its own folder, logged in as `user`. Returns the
    /// store, its token and the folder (keep it alive).
    pub fn phone(&self, user: &str) -> (CaseStore, String, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = [user.len() as u8; 32];
        let store = CaseStore::open(dir.path().join("phone.sqlite"), &key).expect("store");
        if let Some(ca) = &self.ca_pem {
            store.set_trusted_roots(ca).expect("trusted roots");
        }
        let session = store
            .login(&self.url, user, PASSWORD, &format!("{user}'s phone"))
            .expect("login");
        (store, session.token, dir)
    }
}

impl TestServer {
    /// A REST call to the server: its status and JSON answer.
    pub fn rest(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", self.url);
        let auth = token.map(|t| format!("Bearer {t}"));
        // As an app of this version: it says which case schema it writes.
        let schema = fieldcase_core::schema::SCHEMA_REVISION.to_string();
        let mut res = match method {
            "GET" => {
                let mut req = agent
                    .get(&url)
                    .header(fieldcase_core::sync::protocol::SCHEMA_HEADER, &schema);
                if let Some(a) = &auth {
                    req = req.header("authorization", a);
                }
                req.call()
            }
            _ => {
                let mut req = agent
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(fieldcase_core::sync::protocol::SCHEMA_HEADER, &schema);
                if let Some(a) = &auth {
                    req = req.header("authorization", a);
                }
                req.send(body.unwrap_or(serde_json::Value::Null).to_string())
            }
        }
        .expect("request");
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }
}

impl TestServer {
    /// The text of `/metrics` (read with [`METRICS_TOKEN`]).
    pub fn metrics(&self) -> String {
        let (status, v) = self.rest("GET", "/metrics", Some(METRICS_TOKEN), None);
        assert_eq!(status, 200, "{v}");
        v.as_str().expect("text").to_string()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}

/// A new case of team `north` for a client named `name`, made on `phone`.
pub fn new_case(phone: &CaseStore, name: &str) -> fieldcase_core::CaseId {
    let mut new = fieldcase_core::NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some(name.into());
    phone.create_case(new).expect("a case")
}

/// A home visit with `note`, recorded on `phone` in case `id`.
pub fn visit(phone: &CaseStore, id: &fieldcase_core::CaseId, note: &str) {
    phone
        .update(id, |c, me, now| {
            c.add_visit(
                me,
                now,
                fieldcase_core::case::VisitInput {
                    date: Some("2026-12-01".into()),
                    kind: Some("home".into()),
                    note: Some(note.into()),
                    ..Default::default()
                },
            )
        })
        .expect("a visit");
}

/// A test certificate authority and a server certificate it signed for 127.0.0.1 and
/// localhost, written as PEM files in `dir`: (authority PEM, certificate path, key path).
fn test_certificates(dir: &std::path::Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "fieldcase test authority");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key"))
        .expect("authority");
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("params")
        .signed_by(&key, &ca)
        .expect("certificate");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.pem()).expect("write");
    std::fs::write(&key_path, key.serialize_pem()).expect("write");
    (ca.pem(), cert_path, key_path)
}
