//! Errors: one enum inside the server, turned into a JSON response at the edge. Internal
//! details are logged, never sent; nothing a client sends is echoed back.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fieldcase_core::{Refusal, RefusalKind};
use serde_json::json;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed or invalid input; the reason is ours.
    #[error("{0}")]
    BadRequest(String),
    /// Missing, wrong, expired or revoked credentials.
    #[error("not authenticated")]
    Unauthenticated,
    /// Authenticated but not allowed.
    #[error("not allowed")]
    Forbidden,
    /// No such thing, or the caller may not know it exists (the same answer for both).
    #[error("not found")]
    NotFound,
    /// The request conflicts with what exists (e.g. an actor bound to another device).
    #[error("{0}")]
    Conflict(String),
    /// Too many failed attempts; try again later.
    #[error("too many attempts")]
    TooManyRequests,
    /// A write refused by a rule (the admission check, a departure's terms): the answer
    /// carries the refusal's kind as `code` beside our words. `conflict` answers 409 (a
    /// one-time thing already done), otherwise 400.
    #[error("{refusal}")]
    Refused { refusal: Refusal, conflict: bool },
    /// The account or device was disabled: the phone must wipe its cases.
    #[error("disabled")]
    Disabled,
    /// The app writes an earlier revision of the case schema than this server accepts
    /// (426, `update_app`, with the revision `needed`): nothing is exchanged, and the
    /// phone keeps its changes until it is updated.
    #[error("update the app: this server accepts case schema revision {needed} or later")]
    UpdateApp { needed: u32 },
    /// A bug or an unavailable dependency; details are logged only.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// A refused write (400).
    pub fn refused(kind: RefusalKind, message: impl Into<String>) -> Self {
        AppError::Refused {
            refusal: Refusal::new(kind, message),
            conflict: false,
        }
    }

    /// The refusal, if this is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            AppError::Refused { refusal, .. } => Some(refusal),
            _ => None,
        }
    }

    pub(crate) fn code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::Refused { conflict: true, .. } => (StatusCode::CONFLICT, "conflict"),
            AppError::Refused { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            AppError::Disabled => (StatusCode::FORBIDDEN, "wipe"),
            AppError::UpdateApp { .. } => (StatusCode::UPGRADE_REQUIRED, "update_app"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.code();
        if let AppError::Internal(detail) = &self {
            tracing::error!(detail = %fieldcase_core::error::printable(detail), "internal error");
        }
        let message = match &self {
            AppError::Disabled => {
                "this account or device was disabled; remove its cases".to_string()
            }
            other => other.to_string(),
        };
        let body = match (&self, self.refusal()) {
            (_, Some(r)) => json!({ "error": code, "message": message, "code": r.kind.code() }),
            (AppError::UpdateApp { needed }, None) => {
                json!({ "error": code, "message": message, "needed": needed })
            }
            _ => json!({ "error": code, "message": message }),
        };
        (status, Json(body)).into_response()
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Refused {
            refusal,
            conflict: false,
        }
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Internal(format!("database: {e}"))
    }
}

impl From<fieldcase_core::Error> for AppError {
    fn from(e: fieldcase_core::Error) -> Self {
        use fieldcase_core::Error as E;
        match e {
            E::InvalidInput { .. } | E::InvalidTransition { .. } => {
                AppError::BadRequest(e.to_string())
            }
            E::NotFound(_) => AppError::NotFound,
            E::Unauthorized(_) => AppError::Forbidden,
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Result with [`AppError`].
pub type AppResult<T> = Result<T, AppError>;
