//! An attachment opened on the console (issue 17): `GET /console/cases/{id}/attachments/{entry}`
//! for those who may see the case, each view on the record ("attachment viewed (console)").
//! The file is streamed chunk by chunk from the storage (never whole in memory), with its
//! media type, as a sandboxed document the browser may show but not run.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{data, ConsoleUser};
use crate::error::AppError;
use crate::AppState;

/// The chunks of a file as the storage reads them, a few ahead at most.
struct Chunks(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// How many chunks the reader may hold ahead of the connection.
const AHEAD: usize = 2;

pub(crate) async fn file(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    Path((id, entry)): Path<(String, String)>,
) -> Response {
    let loaded = match data::one_case(&state, &u, &id, "attachment viewed (console)").await {
        Ok(l) => l,
        Err(e) => return u.error(e),
    };
    let Some(reference) = loaded
        .file
        .attachments
        .iter()
        .find(|a| a.id == entry && a.retracted.is_none())
        .cloned()
    else {
        return u.error(AppError::NotFound);
    };
    let case = loaded.access.id;
    let (db, hash) = (state.db.clone(), reference.hash.clone());
    let row = match super::blocking(move || db.stored_attachment(&case, &hash)).await {
        Ok(Some(row)) => row,
        Ok(None) => return u.error(AppError::NotFound),
        Err(e) => return u.error(e),
    };
    let chunks = fieldcase_core::attachment::chunk_count(row.size as u64) as i64;
    let (tx, rx) = tokio::sync::mpsc::channel(AHEAD);
    let db = state.db.clone();
    let hash = reference.hash.clone();
    tokio::task::spawn_blocking(move || {
        for seq in 0..chunks {
            let chunk = match db.attachment_chunk(&case, &hash, seq) {
                Ok(Some(c)) => Ok(Bytes::from(c)),
                Ok(None) => Err(std::io::Error::other("a chunk is missing")),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
            let failed = chunk.is_err();
            // The reader stops when the browser went away.
            if tx.blocking_send(chunk).is_err() || failed {
                break;
            }
        }
    });
    let ext = match row.media_type.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/heif" => "heic",
        "application/pdf" => "pdf",
        "audio/mp4" => "m4a",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "audio/x-wav" => "wav",
        _ => "bin",
    };
    (
        [
            (header::CONTENT_TYPE, row.media_type.clone()),
            (header::CONTENT_LENGTH, row.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.{ext}\"", reference.id),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
            (header::CONTENT_SECURITY_POLICY, "sandbox".into()),
            (header::CACHE_CONTROL, "private, no-store".into()),
        ],
        Body::from_stream(Chunks(rx)),
    )
        .into_response()
}
