//! The attachment routes beside `/v1/sync` (issue 17; the phone's side is
//! `fieldcase_core::sync::attachments`):
//!
//! | route | what |
//! | --- | --- |
//! | `GET /v1/cases/{id}/attachments/{hash}/upload` | `{received, chunks, complete}`: how far an upload got |
//! | `PUT /v1/cases/{id}/attachments/{hash}/chunks/{n}` | chunk `n` (at most `fieldcase_core::attachment::CHUNK_BYTES`), in order; answers the status |
//! | `GET /v1/cases/{id}/attachments/{hash}/chunks/{n}` | chunk `n` of a file the server holds whole |
//!
//! Every route checks that the caller may see the case and that the case names the file
//! (a reference in its `attachments`, its hash, size and media type): otherwise `404`,
//! exactly as for a case that does not exist. An upload is held to what the reference
//! says, never to what the phone says of it; a file over `attachments.max_bytes` is
//! refused (`413`), a chunk out of order (`409`, with how many chunks the server holds) or
//! of the wrong length (`400`, a body longer than a chunk too), a whole file whose bytes are not its hash or whose first
//! bytes are not its media type (`422`, and nothing of it is kept). Downloads are audited
//! (once per file and reader, at its first chunk).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::api::Auth;
use crate::db::attachments::{Reference, Refused, UploadStatus};
use crate::db::{self, Db, Session};
use crate::error::{AppError, AppResult};
use crate::{now_ms, AppState};
use fieldcase_core::{attachment, CaseDoc, CaseId};

/// The case and hash of a route, when they are shaped like ones (else `404`).
fn parse(id: &str, hash: &str) -> AppResult<(CaseId, String)> {
    let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
    if !attachment::is_hash(hash) {
        return Err(AppError::NotFound);
    }
    Ok((id, hash.to_string()))
}

/// Whether the caller may see the case (else `404`, as for none).
fn may_see(db: &dyn Db, session: &Session, id: &CaseId) -> AppResult<()> {
    let access = db.case_access(id)?.ok_or(AppError::NotFound)?;
    if !access.visible_to(&session.user) {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// The case's reference to the file `hash`, for a caller who may see the case.
pub fn reference(db: &dyn Db, session: &Session, id: &CaseId, hash: &str) -> AppResult<Reference> {
    may_see(db, session, id)?;
    let bytes = db.case_document(id)?.ok_or(AppError::NotFound)?;
    let file = CaseDoc::load(&bytes)?.read()?;
    file.attachments
        .into_iter()
        .find(|a| a.hash == hash)
        .map(|a| Reference {
            hash: a.hash,
            size: a.size,
            media_type: a.media_type.unwrap_or_default(),
        })
        .ok_or(AppError::NotFound)
}

fn refused(state: &AppState, r: Refused) -> Response {
    state.metrics.attachments_refused.fetch_add(1, Relaxed);
    let status = match r {
        Refused::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Refused::OutOfOrder { .. } => StatusCode::CONFLICT,
        Refused::BadChunk => StatusCode::BAD_REQUEST,
        Refused::HashMismatch | Refused::MediaMismatch => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut body = json!({"error": r.code(), "message": r.message()});
    if let Refused::OutOfOrder { received } = r {
        body["received"] = json!(received);
    }
    (status, Json(body)).into_response()
}

/// `GET /v1/cases/{id}/attachments/{hash}/upload`
pub async fn upload_status(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path((id, hash)): Path<(String, String)>,
) -> AppResult<Json<UploadStatus>> {
    let (id, hash) = parse(&id, &hash)?;
    let status = db::blocking(&state.db, move |db| {
        let r = reference(db, &session, &id, &hash)?;
        db.attachment_upload_status(&id, &r)
    })
    .await?;
    Ok(Json(status))
}

/// `PUT /v1/cases/{id}/attachments/{hash}/chunks/{n}`
pub async fn put_chunk(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path((id, hash, seq)): Path<(String, String, i64)>,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Response> {
    let (id, hash) = parse(&id, &hash)?;
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            // Longer than any chunk (`DefaultBodyLimit` on the route).
            return Ok(refused(&state, Refused::BadChunk));
        }
        Err(e) => return Err(AppError::BadRequest(e.body_text())),
    };
    let max = state.config.attachment_max_bytes;
    let len = body.len() as u64;
    let outcome = db::blocking(&state.db, move |db| {
        let r = reference(db, &session, &id, &hash)?;
        db.put_attachment_chunk(&id, &r, seq, &body, max, &session.user.id, now_ms())
    })
    .await?;
    Ok(match outcome {
        Ok(status) => {
            state.metrics.attachment_bytes_in.fetch_add(len, Relaxed);
            if status.complete {
                state.metrics.attachments_stored.fetch_add(1, Relaxed);
            }
            Json(status).into_response()
        }
        Err(r) => refused(&state, r),
    })
}

/// `GET /v1/cases/{id}/attachments/{hash}/chunks/{n}`
pub async fn get_chunk(
    State(state): State<Arc<AppState>>,
    Auth(session, _): Auth,
    Path((id, hash, seq)): Path<(String, String, i64)>,
) -> AppResult<Response> {
    let (id, hash) = parse(&id, &hash)?;
    let chunk = db::blocking(&state.db, move |db| {
        // A file held whole was named by the case's reference when it was uploaded: its
        // chunks are served without reading the case's document again for each one.
        may_see(db, &session, &id)?;
        let chunk = db
            .attachment_chunk(&id, &hash, seq)?
            .ok_or(AppError::NotFound)?;
        if seq == 0 {
            db.audit(
                &session.user.id,
                &session.device_id,
                &id,
                "attachment downloaded (api)",
                now_ms(),
            )?;
        }
        Ok(chunk)
    })
    .await?;
    state
        .metrics
        .attachment_bytes_out
        .fetch_add(chunk.len() as u64, Relaxed);
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], chunk).into_response())
}
