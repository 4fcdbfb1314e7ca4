//! Attachments over HTTP beside the sync socket (issue 17; the routes are in
//! `docs/sync-protocol.md`). A file travels in the chunks it is stored in
//! ([`crate::attachment::CHUNK_BYTES`]), addressed by case, hash and chunk number:
//! - `GET /v1/cases/{id}/attachments/{hash}/upload` says how many chunks the server holds
//!   (`{received, chunks, complete}`); an upload resumes from there, so a cut connection
//!   costs only the chunk it cut;
//! - `PUT /v1/cases/{id}/attachments/{hash}/chunks/{n}` sends chunk `n` (idempotent: a
//!   chunk the server holds is not written again); the last one makes the server check the
//!   whole file against its hash and its media type against its bytes;
//! - `GET /v1/cases/{id}/attachments/{hash}/chunks/{n}` fetches chunk `n` of a file the
//!   server holds whole.
//!
//! The server answers a case its user may not see, or a hash the case does not name, as
//! it answers one that does not exist (`404`).

use serde::Deserialize;

use super::http::{agent, base, net, refuse};
use super::protocol::SCHEMA_HEADER;
use super::SyncControl;
use crate::attachment::{self, CHUNK_BYTES};
use crate::error::{Error, Result};
use crate::ids::CaseId;
use crate::schema::SCHEMA_REVISION;
use crate::store::{AttachmentState, CaseStore};

/// The server's account of an upload.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct UploadStatus {
    /// Chunks it holds, from the first.
    pub received: u64,
    /// Chunks the file has.
    #[allow(dead_code)]
    pub chunks: u64,
    /// Whether it holds the whole file, checked.
    pub complete: bool,
}

fn path(base: &str, id: &CaseId, hash: &str) -> String {
    format!("{base}/v1/cases/{id}/attachments/{hash}")
}

/// An answer's body as bytes, at most `limit` of them; refused statuses become errors.
fn send(
    store: &CaseStore,
    method: &str,
    url: &str,
    token: &str,
    body: Option<Vec<u8>>,
    limit: u64,
) -> Result<Vec<u8>> {
    let agent = agent(store.tls_roots().as_ref());
    let schema = SCHEMA_REVISION.to_string();
    let auth = format!("Bearer {token}");
    let mut response = match (method, body) {
        ("PUT", Some(bytes)) => agent
            .put(url)
            .header(SCHEMA_HEADER, &schema)
            .header("authorization", &auth)
            .header("content-type", "application/octet-stream")
            .send(&bytes[..])
            .map_err(net)?,
        _ => agent
            .get(url)
            .header(SCHEMA_HEADER, &schema)
            .header("authorization", &auth)
            .call()
            .map_err(net)?,
    };
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(net)?;
    if !(200..300).contains(&status) {
        let text = String::from_utf8_lossy(&bytes);
        if status == 404 {
            return Err(Error::NotFound(
                "the server holds no such attachment for this user".into(),
            ));
        }
        if status == 413 || status == 422 || status == 400 || status == 409 {
            return Err(Error::invalid("attachments", server_message(&text)));
        }
        refuse(store, status, &text)?;
    }
    Ok(bytes)
}

/// The `message` of the server's JSON error, or a generic one.
fn server_message(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "the server refused the attachment".into())
}

fn status_of(bytes: &[u8]) -> Result<UploadStatus> {
    serde_json::from_slice(bytes)
        .map_err(|_| Error::Network("the server's answer was not understood".into()))
}

impl CaseStore {
    /// Uploads the files attached on this phone that the server lacks (after their cases
    /// were synced: the server takes a file only for a case that names it), each resuming
    /// where an earlier upload stopped. Answers how many files the server now holds whole;
    /// a file the server refuses (too large, not what its reference says) is reported in
    /// `errors` and stays here.
    pub fn upload_attachments(
        &self,
        server_url: &str,
        token: &str,
        control: &SyncControl,
        errors: &mut Vec<super::CaseSyncError>,
    ) -> Result<usize> {
        let base = base(server_url);
        let mut done = 0;
        for up in self.pending_uploads()? {
            control.check()?;
            let url = path(&base, &up.case_id, &up.hash);
            let outcome = (|| -> Result<()> {
                let mut status = status_of(&send(
                    self,
                    "GET",
                    &format!("{url}/upload"),
                    token,
                    None,
                    4096,
                )?)?;
                let count = attachment::chunk_count(up.size as u64);
                while !status.complete && status.received < count {
                    control.check()?;
                    let chunk = self.upload_chunk(&up.case_id, &up.hash, status.received)?;
                    status = status_of(&send(
                        self,
                        "PUT",
                        &format!("{url}/chunks/{}", status.received),
                        token,
                        Some(chunk),
                        4096,
                    )?)?;
                }
                if status.complete {
                    self.mark_uploaded(&up.case_id, &up.hash)?;
                    Ok(())
                } else {
                    Err(Error::Network(
                        "the server did not finish the upload".into(),
                    ))
                }
            })();
            match outcome {
                Ok(()) => done += 1,
                Err(e @ (Error::Cancelled | Error::Wiped | Error::UpdateApp { .. })) => {
                    return Err(e)
                }
                Err(Error::Network(reason)) => return Err(Error::Network(reason)),
                Err(e) => errors.push(super::CaseSyncError {
                    case_id: up.case_id.to_string(),
                    reason: e.to_string(),
                    refusal: None,
                }),
            }
        }
        Ok(done)
    }

    /// Fetches the bytes of the attachment `entry` of a case from the server when they are
    /// not on this phone, resuming a download that was cut off. Answers where they are
    /// now (`Downloaded`, or already here).
    pub fn fetch_attachment(
        &self,
        server_url: &str,
        token: &str,
        id: &CaseId,
        entry: &str,
    ) -> Result<AttachmentState> {
        let reference = self.attachment(id, entry)?;
        match self.attachment_state(id, entry)? {
            AttachmentState::NotHere | AttachmentState::Downloading => {}
            here => return Ok(here),
        }
        if !attachment::is_hash(&reference.hash) {
            return Err(Error::invalid("attachments/hash", "not a SHA-256 in hex"));
        }
        let url = path(&base(server_url), id, &reference.hash);
        let count = attachment::chunk_count(reference.size.max(0) as u64);
        let mut seq = self.begin_download(id, &reference)?;
        while seq < count {
            let chunk = send(
                self,
                "GET",
                &format!("{url}/chunks/{seq}"),
                token,
                None,
                // ureq refuses a body as long as its limit: one byte more.
                CHUNK_BYTES as u64 + 1,
            )?;
            self.put_download_chunk(id, &reference.hash, seq, &chunk)?;
            seq += 1;
        }
        self.finish_download(id, &reference.hash)?;
        Ok(AttachmentState::Downloaded)
    }

    /// Fetches every attachment of a case not on this phone (before a visit without
    /// network). Answers how many were fetched.
    pub fn fetch_attachments_of(
        &self,
        server_url: &str,
        token: &str,
        id: &CaseId,
    ) -> Result<usize> {
        let mut n = 0;
        for a in self.get_case(id)?.attachments {
            if a.retracted.is_some() {
                continue;
            }
            if matches!(
                self.attachment_state(id, &a.id)?,
                AttachmentState::NotHere | AttachmentState::Downloading
            ) {
                self.fetch_attachment(server_url, token, id, &a.id)?;
                n += 1;
            }
        }
        Ok(n)
    }
}
