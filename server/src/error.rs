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
    /// Malformed or invalid input with a [`Problem`] code apps and the console translate
    /// (`code` in the answer, with its arguments beside it); `message` is our English.
    #[error("{message}")]
    Invalid {
        problem: Problem,
        message: String,
        args: Vec<(&'static str, String)>,
    },
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

/// Why input was refused, as a code an app or the console says in the user's language
/// (`problem-<code>` in the console's messages; the same `code` in the API's answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A value of the case the schema or a rule refuses (`path`).
    InvalidField,
    /// A stage change the workflow does not allow (`from`, `to`).
    InvalidTransition,
    /// A request body larger than the server reads (`max_bytes`).
    BodyTooLarge,
    /// A body that is not JSON, or not of the expected shape.
    BodyNotJson,
    /// A body sent as something other than `application/json`.
    BodyNotJsonType,
    /// A console form that cannot be read, or lacks a field.
    FormUnreadable,
    /// A console form larger than the server reads.
    FormTooLarge,
    /// A language the console does not have.
    NoSuchLanguage,
    /// A time zone the IANA database does not have.
    NoSuchTimeZone,
    /// A report's period that is not two dates, ends before it starts, or is too long.
    PeriodInvalid,
    /// A kind of supervision entry the schema does not have.
    NoSuchSupervisionKind,
    /// A value chosen for a conflict that cannot be read.
    ValueUnreadable,
}

impl Problem {
    /// Every problem, in order.
    pub const ALL: &'static [Problem] = &[
        Problem::InvalidField,
        Problem::InvalidTransition,
        Problem::BodyTooLarge,
        Problem::BodyNotJson,
        Problem::BodyNotJsonType,
        Problem::FormUnreadable,
        Problem::FormTooLarge,
        Problem::NoSuchLanguage,
        Problem::NoSuchTimeZone,
        Problem::PeriodInvalid,
        Problem::NoSuchSupervisionKind,
        Problem::ValueUnreadable,
    ];

    /// The code in answers and message ids.
    pub fn code(self) -> &'static str {
        match self {
            Problem::InvalidField => "invalid_field",
            Problem::InvalidTransition => "invalid_transition",
            Problem::BodyTooLarge => "body_too_large",
            Problem::BodyNotJson => "body_not_json",
            Problem::BodyNotJsonType => "body_not_json_type",
            Problem::FormUnreadable => "form_unreadable",
            Problem::FormTooLarge => "form_too_large",
            Problem::NoSuchLanguage => "no_such_language",
            Problem::NoSuchTimeZone => "no_such_time_zone",
            Problem::PeriodInvalid => "period_invalid",
            Problem::NoSuchSupervisionKind => "no_such_supervision_kind",
            Problem::ValueUnreadable => "value_unreadable",
        }
    }
}

impl AppError {
    /// Invalid input of a known kind, with our English words (400).
    pub fn invalid(problem: Problem, message: impl Into<String>) -> Self {
        AppError::Invalid {
            problem,
            message: message.into(),
            args: Vec::new(),
        }
    }

    /// The same, with an argument the translation uses (a path, a stage, a bound).
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        if let AppError::Invalid { args, .. } = &mut self {
            args.push((name, value.into()));
        }
        self
    }

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
            AppError::BadRequest(_) | AppError::Invalid { .. } => {
                (StatusCode::BAD_REQUEST, "bad_request")
            }
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
        // `code` says more than `error` for apps to translate: a refusal's kind, a
        // problem's code (its arguments beside it), else `error` again.
        let body = match (&self, self.refusal()) {
            (_, Some(r)) => json!({ "error": code, "message": message, "code": r.kind.code() }),
            (AppError::UpdateApp { needed }, None) => {
                json!({ "error": code, "message": message, "code": code, "needed": needed })
            }
            (AppError::Invalid { problem, args, .. }, None) => {
                let mut body = json!({ "error": code, "message": message, "code": problem.code() });
                for (k, v) in args {
                    body[*k] = json!(v);
                }
                body
            }
            _ => json!({ "error": code, "message": message, "code": code }),
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
            E::InvalidInput { ref path, .. } => {
                let path = path.clone();
                AppError::invalid(Problem::InvalidField, e.to_string()).with("path", path)
            }
            E::InvalidTransition { from, to, .. } => {
                AppError::invalid(Problem::InvalidTransition, e.to_string())
                    .with("from", from.code())
                    .with("to", to.code())
            }
            E::NotFound(_) => AppError::NotFound,
            E::Unauthorized(_) => AppError::Forbidden,
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Result with [`AppError`].
pub type AppResult<T> = Result<T, AppError>;
