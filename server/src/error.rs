//! Errors: one enum inside the server, turned into a JSON response at the edge. Internal
//! details are logged, never sent; nothing a client sends is echoed back but the name a
//! problem is about (a username taken, a team that does not exist), shortened.

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
    /// Malformed or invalid input, or input conflicting with what exists, with a
    /// [`Problem`] code apps and the console translate (`code` in the answer, with its
    /// arguments beside it); `message` is our English.
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
    /// A team name that is empty or longer than allowed (`max` characters).
    TeamNameInvalid,
    /// A team name or label another team has (`team`; 409).
    TeamNameTaken,
    /// A team that does not exist (`team`).
    NoSuchTeam,
    /// An area code that is not 1 to `max` letters, digits, `-`, `_` or `.`.
    AreaCodeInvalid,
    /// An area's name that is empty, longer than `max` characters or holds control
    /// characters.
    AreaNameInvalid,
    /// An area code that is not in the agency's list (`area`).
    NoSuchArea,
    /// A new area past the most the server keeps (`max`, `areas.max`; 409).
    TooManyAreas,
    /// A worker or supervisor without a team.
    TeamNeeded,
    /// A role the server does not have.
    NoSuchRole,
    /// A username that is empty, too long (`max`) or of other characters than ours.
    UsernameInvalid,
    /// A username starting with the partners' links' `prefix`.
    UsernameReserved,
    /// A username someone has already (`username`; 409).
    UsernameTaken,
    /// A password shorter than `min` characters.
    PasswordTooShort,
    /// A password longer than `max` characters (or bytes).
    PasswordTooLong,
    /// A password that is easy to guess.
    PasswordTooEasy,
    /// A password change whose current password is not right.
    CurrentPasswordWrong,
    /// A partner's link treated as an account (a password set, enabled again).
    PartnerLinkNotAccount,
    /// An admin disabling their own account.
    DisableSelf,
    /// The last active administrator made something else (409).
    LastAdmin,
    /// A user moved to another team or role with `count` cases still assigned (409).
    CasesAssigned,
    /// A caseload handed over from an administrator, who has none.
    HandoverFromAdmin,
    /// A caseload handed over to its own worker.
    HandoverToSelf,
    /// A hand-over to nobody.
    HandoverNoColleague,
    /// A hand-over to more than `max` colleagues.
    HandoverTooMany,
    /// A hand-over of a caseload `count` of whose cases are restricted and hidden from the one handing over (409).
    HandoverRestricted,
    /// A device the server does not know.
    NoSuchDevice,
    /// A device name that is empty or longer than `max` characters.
    DeviceNameInvalid,
    /// A phone's actor id registered to another device (409).
    ActorElsewhere,
    /// A partner directory with `count` problems, not stored.
    DirectoryInvalid,
    /// A partner directory larger than `max_bytes` as JSON.
    DirectoryTooLarge,
    /// A partner directory changed since it was read (409).
    DirectoryChanged,
    /// A field of a form longer than `max_bytes`.
    FieldTooLong,
    /// A service of the directory without a name.
    ServiceNeedsName,
    /// An age that is not a whole number of years from 0 to `max`.
    AgeInvalid,
    /// A reason that is not one line of 1 to `max` characters.
    ReasonInvalid,
    /// A case erased already (409).
    ErasedAlready,
    /// An erasure asked for already, waiting for an admin (409).
    ErasureAskedAlready,
    /// A number of days to keep a case outside `min` to `max`.
    RetentionDaysInvalid,
    /// A plan or closure returned to the worker without a comment.
    ReturnNeedsComment,
    /// A comment longer than `max` characters.
    CommentTooLong,
    /// An outside authority's name or decision number longer than the form takes.
    AuthorityTooLong,
    /// A link made for a referral whose loop has ended.
    ReferralEnded,
    /// A partner's answer the referral cannot take now.
    AnswerNotNow,
    /// A partner's answer longer than `max` characters.
    AnswerTooLong,
    /// A partner's link revoked already (409).
    LinkRevokedAlready,
    /// A closure letter of a case with no closure approved (409).
    ClosureNotApproved,
    /// Filters of the case list that cannot be read.
    FiltersUnreadable,
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
        Problem::TeamNameInvalid,
        Problem::TeamNameTaken,
        Problem::NoSuchTeam,
        Problem::AreaCodeInvalid,
        Problem::AreaNameInvalid,
        Problem::NoSuchArea,
        Problem::TooManyAreas,
        Problem::TeamNeeded,
        Problem::NoSuchRole,
        Problem::UsernameInvalid,
        Problem::UsernameReserved,
        Problem::UsernameTaken,
        Problem::PasswordTooShort,
        Problem::PasswordTooLong,
        Problem::PasswordTooEasy,
        Problem::CurrentPasswordWrong,
        Problem::PartnerLinkNotAccount,
        Problem::DisableSelf,
        Problem::LastAdmin,
        Problem::CasesAssigned,
        Problem::HandoverFromAdmin,
        Problem::HandoverToSelf,
        Problem::HandoverNoColleague,
        Problem::HandoverTooMany,
        Problem::HandoverRestricted,
        Problem::NoSuchDevice,
        Problem::DeviceNameInvalid,
        Problem::ActorElsewhere,
        Problem::DirectoryInvalid,
        Problem::DirectoryTooLarge,
        Problem::DirectoryChanged,
        Problem::FieldTooLong,
        Problem::ServiceNeedsName,
        Problem::AgeInvalid,
        Problem::ReasonInvalid,
        Problem::ErasedAlready,
        Problem::ErasureAskedAlready,
        Problem::RetentionDaysInvalid,
        Problem::ReturnNeedsComment,
        Problem::CommentTooLong,
        Problem::AuthorityTooLong,
        Problem::ReferralEnded,
        Problem::AnswerNotNow,
        Problem::AnswerTooLong,
        Problem::LinkRevokedAlready,
        Problem::ClosureNotApproved,
        Problem::FiltersUnreadable,
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
            Problem::TeamNameInvalid => "team_name_invalid",
            Problem::TeamNameTaken => "team_name_taken",
            Problem::NoSuchTeam => "no_such_team",
            Problem::AreaCodeInvalid => "area_code_invalid",
            Problem::AreaNameInvalid => "area_name_invalid",
            Problem::NoSuchArea => "no_such_area",
            Problem::TooManyAreas => "too_many_areas",
            Problem::TeamNeeded => "team_needed",
            Problem::NoSuchRole => "no_such_role",
            Problem::UsernameInvalid => "username_invalid",
            Problem::UsernameReserved => "username_reserved",
            Problem::UsernameTaken => "username_taken",
            Problem::PasswordTooShort => "password_too_short",
            Problem::PasswordTooLong => "password_too_long",
            Problem::PasswordTooEasy => "password_too_easy",
            Problem::CurrentPasswordWrong => "current_password_wrong",
            Problem::PartnerLinkNotAccount => "partner_link_not_account",
            Problem::DisableSelf => "disable_self",
            Problem::LastAdmin => "last_admin",
            Problem::CasesAssigned => "cases_assigned",
            Problem::HandoverFromAdmin => "handover_from_admin",
            Problem::HandoverToSelf => "handover_to_self",
            Problem::HandoverNoColleague => "handover_no_colleague",
            Problem::HandoverTooMany => "handover_too_many",
            Problem::HandoverRestricted => "handover_restricted",
            Problem::NoSuchDevice => "no_such_device",
            Problem::DeviceNameInvalid => "device_name_invalid",
            Problem::ActorElsewhere => "actor_elsewhere",
            Problem::DirectoryInvalid => "directory_invalid",
            Problem::DirectoryTooLarge => "directory_too_large",
            Problem::DirectoryChanged => "directory_changed",
            Problem::FieldTooLong => "field_too_long",
            Problem::ServiceNeedsName => "service_needs_name",
            Problem::AgeInvalid => "age_invalid",
            Problem::ReasonInvalid => "reason_invalid",
            Problem::ErasedAlready => "erased_already",
            Problem::ErasureAskedAlready => "erasure_asked_already",
            Problem::RetentionDaysInvalid => "retention_days_invalid",
            Problem::ReturnNeedsComment => "return_needs_comment",
            Problem::CommentTooLong => "comment_too_long",
            Problem::AuthorityTooLong => "authority_too_long",
            Problem::ReferralEnded => "referral_ended",
            Problem::AnswerNotNow => "answer_not_now",
            Problem::AnswerTooLong => "answer_too_long",
            Problem::LinkRevokedAlready => "link_revoked_already",
            Problem::ClosureNotApproved => "closure_not_approved",
            Problem::FiltersUnreadable => "filters_unreadable",
        }
    }

    /// The arguments the code is given (named beside `code` in the API's answers; the
    /// variables of its message).
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Problem::InvalidField => &["path"],
            Problem::InvalidTransition => &["from", "to"],
            Problem::BodyTooLarge | Problem::DirectoryTooLarge | Problem::FieldTooLong => {
                &["max_bytes"]
            }
            Problem::PeriodInvalid => &["max_months"],
            Problem::TeamNameInvalid
            | Problem::AreaCodeInvalid
            | Problem::AreaNameInvalid
            | Problem::TooManyAreas
            | Problem::UsernameInvalid
            | Problem::PasswordTooLong
            | Problem::HandoverTooMany
            | Problem::DeviceNameInvalid
            | Problem::AgeInvalid
            | Problem::ReasonInvalid
            | Problem::CommentTooLong
            | Problem::AnswerTooLong => &["max"],
            Problem::TeamNameTaken | Problem::NoSuchTeam => &["team"],
            Problem::NoSuchArea => &["area"],
            Problem::UsernameReserved => &["prefix"],
            Problem::UsernameTaken => &["username"],
            Problem::PasswordTooShort => &["min"],
            Problem::CasesAssigned | Problem::HandoverRestricted | Problem::DirectoryInvalid => {
                &["count"]
            }
            Problem::RetentionDaysInvalid => &["min", "max"],
            _ => &[],
        }
    }

    /// Whether the input conflicts with what exists (answered 409 `conflict`, as before
    /// the refusal had a code), rather than being invalid in itself (400).
    pub fn conflict(self) -> bool {
        matches!(
            self,
            Problem::TeamNameTaken
                | Problem::TooManyAreas
                | Problem::UsernameTaken
                | Problem::LastAdmin
                | Problem::CasesAssigned
                | Problem::HandoverRestricted
                | Problem::ActorElsewhere
                | Problem::DirectoryChanged
                | Problem::ErasedAlready
                | Problem::ErasureAskedAlready
                | Problem::LinkRevokedAlready
                | Problem::ClosureNotApproved
        )
    }
}

impl AppError {
    /// Invalid input of a known kind, with our English words (400; 409 for a problem that
    /// is a [conflict](Problem::conflict)).
    pub fn invalid(problem: Problem, message: impl Into<String>) -> Self {
        AppError::Invalid {
            problem,
            message: message.into(),
            args: Vec::new(),
        }
    }

    /// The same, with an argument the translation uses (a path, a stage, a bound): one of
    /// the problem's [`Problem::args`].
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        if let AppError::Invalid { problem, args, .. } = &mut self {
            debug_assert!(
                problem.args().contains(&name),
                "{} is not given `{name}`",
                problem.code()
            );
            args.push((name, value.into()));
        }
        self
    }

    /// Whether this is input refused for itself (400), not for conflicting with what exists.
    pub fn is_bad_input(&self) -> bool {
        match self {
            AppError::BadRequest(_) => true,
            AppError::Invalid { problem, .. } => !problem.conflict(),
            _ => false,
        }
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
            AppError::Invalid { problem, .. } if problem.conflict() => {
                (StatusCode::CONFLICT, "conflict")
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenAPI description names every code apps may be answered, each with the
    /// status it comes with, and describes every argument beside it.
    #[test]
    fn the_openapi_description_lists_every_problem_and_its_arguments() {
        let api: serde_json::Value = serde_json::from_str(crate::api::OPENAPI).unwrap();
        let error = &api["components"]["schemas"]["Error"]["properties"];
        let said = error["code"]["description"].as_str().unwrap();
        let (bad, conflict) = said
            .split_once("with `error` conflict:")
            .expect("the codes answered with 409 are listed apart");
        for p in Problem::ALL {
            let listed = if p.conflict() { conflict } else { bad };
            let words: Vec<&str> = listed
                .split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .collect();
            assert!(words.contains(&p.code()), "{} is not listed", p.code());
            for a in p.args() {
                assert!(
                    error[*a].is_object(),
                    "`{a}` of {} is not described",
                    p.code()
                );
            }
        }
    }

    /// A conflict answers 409 `conflict` as before it had a code; any other problem 400.
    #[test]
    fn a_problem_answers_the_status_of_its_kind() {
        let taken = AppError::invalid(Problem::UsernameTaken, "this username is taken")
            .with("username", "anna");
        assert_eq!(taken.code(), (StatusCode::CONFLICT, "conflict"));
        assert!(!taken.is_bad_input());
        let short = AppError::invalid(Problem::PasswordTooShort, "short").with("min", "12");
        assert_eq!(short.code(), (StatusCode::BAD_REQUEST, "bad_request"));
        assert!(short.is_bad_input());
    }
}
