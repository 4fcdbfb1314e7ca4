//! Why a write was refused, in kinds an app can act on.
//!
//! The server's admission check (every write path: sync, departures, the console, REST)
//! refuses with a [`Refusal`]: a [`RefusalKind`] that the phone and the app branch on, and a
//! message in our words for people. On the wire the kind travels as `code` beside the
//! `message` of an `error` frame; a phone never parses the message.

use serde::{Deserialize, Serialize};

/// What kind of rule a refused write broke.
///
/// Codes are stable: they are stored on phones (with a refused case) and sent on the wire.
/// A code this version does not know (from a newer server) reads as [`RefusalKind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// A change was made by an Automerge actor that is not registered to this device, or an
    /// actor records someone else in the case's `actors` map.
    ForeignActor,
    /// The changes record their author as another user, or rewrite a stamp (who, when)
    /// written once by its own author.
    Attribution,
    /// The document does not follow the case schema.
    InvalidDocument,
    /// The changes take (or are labelled as) an action that needs a supervisor.
    NeedsAuthority,
    /// The document is not the case it was sent as.
    WrongCase,
    /// Assignment: a case needs an assigned worker, and only active workers and
    /// supervisors of its team may be assigned.
    Assignment,
    /// The case's team does not exist, or the user may not create or move a case there.
    Team,
    /// The changes could not be applied to the case (malformed, or depending on changes
    /// of another device that never arrived).
    Unapplicable,
    /// A limit was reached (size, count, rate); the limit's name is in the message.
    Limit,
    /// A device's departure was refused (already used, too late, or not this device's).
    Departure,
    /// The changes break a rule of the case process, judged on the case as their writer
    /// saw it: a stage step the workflow does not have, an emergency moved on from intake
    /// before its safety is secured, a conclusion about abuse on a case of a kind that has
    /// none, a closure approved before the request says the client or family was told.
    Process,
    /// The changes follow a newer revision of the case schema than the server knows (a
    /// newer app than the server): the phone keeps them and offers them again once the
    /// server says it knows that revision.
    NewerSchema,
    /// The case was erased on the server (its data key destroyed, issue 18): nothing of it
    /// is kept, and it is never made again by a sync. A phone removes it without handing
    /// anything in.
    Erased,
    /// A link (a household member's own case, a duplicate's other file) names a case the
    /// writer may not see, or that the server does not hold: perhaps not yet, when both
    /// were made on the phone offline. The phone offers the changes again at its next sync
    /// (and once more in the same sync when it sent other new cases meanwhile).
    Link,
    /// A kind this version does not know yet.
    #[serde(other)]
    Other,
}

impl RefusalKind {
    /// The code on the wire and in storage.
    pub fn code(self) -> &'static str {
        match self {
            Self::ForeignActor => "foreign_actor",
            Self::Attribution => "attribution",
            Self::InvalidDocument => "invalid_document",
            Self::NeedsAuthority => "needs_authority",
            Self::WrongCase => "wrong_case",
            Self::Assignment => "assignment",
            Self::Team => "team",
            Self::Unapplicable => "unapplicable",
            Self::Limit => "limit",
            Self::Departure => "departure",
            Self::Process => "process",
            Self::NewerSchema => "newer_schema",
            Self::Erased => "erased",
            Self::Link => "link",
            Self::Other => "other",
        }
    }

    /// The kind for a code; unknown codes are [`RefusalKind::Other`].
    pub fn from_code(code: &str) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.code() == code)
            .unwrap_or(Self::Other)
    }

    /// Every kind.
    pub const ALL: &'static [RefusalKind] = &[
        Self::ForeignActor,
        Self::Attribution,
        Self::InvalidDocument,
        Self::NeedsAuthority,
        Self::WrongCase,
        Self::Assignment,
        Self::Team,
        Self::Unapplicable,
        Self::Limit,
        Self::Departure,
        Self::Process,
        Self::NewerSchema,
        Self::Erased,
        Self::Link,
        Self::Other,
    ];
}

impl std::fmt::Display for RefusalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A refused write: its kind and our words for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub kind: RefusalKind,
    pub message: String,
}

impl Refusal {
    pub fn new(kind: RefusalKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_read_as_other() {
        for k in RefusalKind::ALL {
            assert_eq!(RefusalKind::from_code(k.code()), *k);
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.code()));
            assert_eq!(serde_json::from_str::<RefusalKind>(&json).unwrap(), *k);
        }
        assert_eq!(
            RefusalKind::from_code("from_a_newer_server"),
            RefusalKind::Other
        );
        assert_eq!(
            serde_json::from_str::<RefusalKind>("\"from_a_newer_server\"").unwrap(),
            RefusalKind::Other
        );
    }
}
