//! The crate's error type. Messages never contain client data: only ids, field paths and
//! reasons written by us, so an error can be logged or shown without breaching
//! confidentiality.

use crate::case::stage::Stage;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key given to open a store is not the key it was created with.
    #[error("the store cannot be opened with this key")]
    WrongKey,
    /// A stored record failed authentication: the file was altered or is corrupt.
    #[error("stored data is corrupt or was tampered with ({0})")]
    Corrupt(String),
    /// No case (or list entry) with this id.
    #[error("not found: {}", printable(.0))]
    NotFound(String),
    /// The input breaks the case schema or a rule of the case file.
    #[error("invalid input at `{}`: {reason}", printable(.path))]
    InvalidInput { path: String, reason: String },
    /// A stage change the case workflow does not allow.
    #[error("cannot move a case from {from} to {to}: {reason}")]
    InvalidTransition {
        from: Stage,
        to: Stage,
        reason: String,
    },
    /// The acting user's role does not allow this action.
    #[error("not allowed: {0}")]
    Unauthorized(String),
    /// No user is set on the store, so an edit could not be attributed.
    #[error("no user is signed in on this store; edits must be attributed")]
    NoUser,
    /// Automerge refused an operation or could not load bytes.
    #[error("document error: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// SQLite failed.
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store file is newer than this version of the app understands.
    #[error("the store was written by a newer version (schema {found}, this app knows {known})")]
    NewerStore { found: i64, known: i64 },
    /// The server could not be reached, or the connection failed.
    #[error("network: {0}")]
    Network(String),

    /// The server needs a newer app: this one writes an earlier revision of the case schema
    /// than the server accepts. Nothing was sent; the changes stay on the phone.
    #[error("update the app: the server accepts case schema revision {needed} or later, this app writes {this}")]
    UpdateApp { needed: u32, this: u32 },
    /// The server disabled this user or device: its cases were removed from the device.
    #[error("this device was disabled by the server; its cases were removed")]
    Wiped,
    /// The call was cancelled (a sync stops between frames; what it received is kept).
    #[error("cancelled")]
    Cancelled,
    /// Serialising an internal record failed (a bug, not user input).
    #[error("encoding error: {0}")]
    Encoding(String),
}

impl Error {
    pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        // serde's message can quote the value: keep only its position and category.
        Error::Encoding(format!(
            "a record could not be read ({:?} at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    }
}

/// The most characters of client text [`printable`] keeps.
pub const PRINTABLE_MAX: usize = 256;

/// Client text (a map key, a path, a device name) made safe to log or show: control and
/// invisible formatting characters (newlines, escape sequences, bidirectional overrides)
/// are written as escapes (so applying it twice changes nothing more), and text beyond [`PRINTABLE_MAX`]
/// characters is cut with `…`. A log line can then neither be split nor recoloured by it.
///
/// ```
/// use fieldcase_core::error::printable;
/// assert_eq!(printable("visits/3/note"), "visits/3/note");
/// assert_eq!(printable("a\n\u{1b}[31mb"), "a\\n\\u{1b}[31mb");
/// ```
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
    };
    if text.chars().count() <= PRINTABLE_MAX && !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == PRINTABLE_MAX {
            out.push('…');
            break;
        }
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_text_cannot_split_or_colour_a_log_line() {
        let key = "evil\n\u{1b}[31mred\r\u{202e}";
        let shown = printable(key);
        assert!(
            !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{shown}"
        );
        assert_eq!(shown, "evil\\n\\u{1b}[31mred\\r\\u{202e}");
        assert_eq!(printable(&shown), shown);
        assert_eq!(
            printable("Thăm hộ gia đình / زهرا"),
            "Thăm hộ gia đình / زهرا"
        );
        let long = "x".repeat(10_000);
        let long = printable(&long);
        assert_eq!(long.chars().count(), PRINTABLE_MAX + 1);
        let e = Error::invalid(key, "unknown field").to_string();
        assert!(!e.contains('\n') && !e.contains('\u{1b}'), "{e}");
        assert!(!Error::NotFound(key.into()).to_string().contains('\n'));
    }
}
