//! The JSON requests beside the sync WebSocket (login, caseload, settings, departures), the
//! certificate authorities an agency's server may use, and the answers both sides share.

use serde::{Deserialize, Serialize};

use super::protocol::SCHEMA_HEADER;
use super::TIMEOUT;
use crate::case::Role;
use crate::error::{Error, Result};
use crate::schema::SCHEMA_REVISION;
use crate::store::CaseStore;

/// What `login` returns: the server's answer to `POST /v1/login`, one definition for
/// both sides (the server sends this type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "Session"))]
pub struct ServerSession {
    pub token: String,
    pub user_id: String,
    pub device_id: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at: i64,
}

/// One case of a caseload, as `GET /v1/caseload` answers: its id and current heads (hex).
/// One definition for both sides (the server sends this type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseloadEntry {
    pub id: String,
    pub heads: Vec<String>,
}

/// The signed-in user, as `GET /v1/me` answers.
#[derive(Deserialize)]
pub(super) struct Me {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub team: Option<String>,
}

/// The server's address without a trailing slash.
pub(super) fn base(server_url: &str) -> String {
    server_url.trim_end_matches('/').to_string()
}

pub(super) fn net(e: impl std::fmt::Display) -> Error {
    Error::Network(e.to_string())
}

/// The server's "update the app" answer: the revision it needs, from its body.
pub(super) fn update_app(body: &str) -> Error {
    let needed = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("needed")?.as_u64())
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(SCHEMA_REVISION + 1);
    Error::UpdateApp {
        needed,
        this: SCHEMA_REVISION,
    }
}

pub(super) fn status_error(status: u16) -> Error {
    match status {
        401 => Error::Unauthorized("the server refused the credentials or token".into()),
        429 => Error::Unauthorized("too many attempts; try again later".into()),
        s => Error::Network(format!("the server answered {s}")),
    }
}

/// Certificate authorities trusted for the server's TLS certificate instead of the public
/// web's (an agency's own server with its own authority).
#[derive(Clone)]
pub(crate) struct TlsRoots {
    http: ureq::tls::TlsConfig,
    pub(super) websocket: std::sync::Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsRoots").finish_non_exhaustive()
    }
}

impl TlsRoots {
    fn from_pem(pem: &str) -> Result<Self> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::CertificateDer;
        let bad = |why: &str| Error::invalid("trusted_roots", why);
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| bad("not PEM certificates"))?;
        if certs.is_empty() {
            return Err(bad("no certificate found"));
        }
        let mut store = rustls::RootCertStore::empty();
        for c in &certs {
            store
                .add(c.clone())
                .map_err(|_| bad("a certificate cannot be a trust anchor"))?;
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let websocket = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| bad("no TLS version available"))?
            .with_root_certificates(store)
            .with_no_client_auth();
        let http_roots: Vec<ureq::tls::Certificate<'static>> = certs
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        let http = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::new_with_certs(&http_roots))
            .build();
        Ok(TlsRoots {
            http,
            websocket: std::sync::Arc::new(websocket),
        })
    }
}

impl CaseStore {
    /// Trusts these certificate authorities (PEM, one or more) for the server's TLS
    /// certificate, instead of the public web's: for an agency whose server has a
    /// certificate from its own authority. Holds until the store is closed.
    pub fn set_trusted_roots(&self, pem: &str) -> Result<()> {
        let roots = TlsRoots::from_pem(pem)?;
        *self.tls_roots.lock().unwrap_or_else(|p| p.into_inner()) = Some(roots);
        Ok(())
    }

    pub(super) fn tls_roots(&self) -> Option<TlsRoots> {
        self.tls_roots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

pub(super) fn agent(roots: Option<&TlsRoots>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false);
    if let Some(r) = roots {
        config = config.tls_config(r.http.clone());
    }
    config.build().into()
}

/// A 200 answer: its text, and the case schema revision the server says it knows (in the
/// `fieldcase-schema` header of the phone's routes; `None` from a server before it said).
pub(super) struct Answer {
    pub(super) text: String,
    pub(super) server_schema: Option<u32>,
}

impl Answer {
    pub(super) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.text)
            .map_err(|_| Error::Network("the server's answer was not understood".into()))
    }
}

/// A JSON GET or POST; 403 `wipe` becomes [`Error::Wiped`] after purging every case.
pub(super) fn call<T: serde::de::DeserializeOwned>(
    store: &CaseStore,
    url: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Result<T> {
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    request(store, url, token, body)?.json()
}

/// What an answer other than a success (`2xx`) means: a wipe (after purging every case), an
/// app to update, or an error of its status.
pub(super) fn refuse(store: &CaseStore, status: u16, text: &str) -> Result<()> {
    if status == 403 && text.contains("\"wipe\"") {
        for id in store.case_ids() {
            store.purge_case(&id)?;
        }
        store.sign_out()?;
        return Err(Error::Wiped);
    }
    if status == 426 {
        return Err(update_app(text));
    }
    if !(200..300).contains(&status) {
        return Err(status_error(status));
    }
    Ok(())
}

/// A GET, or a POST of `(content type, bytes)`; the answer when it is a success.
pub(super) fn request(
    store: &CaseStore,
    url: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> Result<Answer> {
    let agent = agent(store.tls_roots().as_ref());
    let schema = SCHEMA_REVISION.to_string();
    let mut response = match body {
        Some((content_type, bytes)) => {
            let mut req = agent
                .post(url)
                .header("content-type", content_type)
                .header(SCHEMA_HEADER, &schema);
            if let Some(t) = token {
                req = req.header("authorization", &format!("Bearer {t}"));
            }
            req.send(&bytes[..]).map_err(net)?
        }
        None => {
            let mut req = agent.get(url).header(SCHEMA_HEADER, &schema);
            if let Some(t) = token {
                req = req.header("authorization", &format!("Bearer {t}"));
            }
            req.call().map_err(net)?
        }
    };
    let status = response.status().as_u16();
    let server_schema = response
        .headers()
        .get(SCHEMA_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u32>().ok());
    let text = response.body_mut().read_to_string().map_err(net)?;
    refuse(store, status, &text)?;
    Ok(Answer {
        text,
        server_schema,
    })
}
