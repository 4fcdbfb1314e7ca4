//! fieldcase-core: the case file as an Automerge document, the typed edits social workers
//! make, what a merge did (conflicts, history), and the encrypted store on the phone.
//!
//! Layers, bottom up (see ARCHITECTURE.md at the repository root):
//! - [`schema`]: the case document's fields as data; validation and scaffolding;
//! - [`case`]: [`case::CaseDoc`], one case as one Automerge document, its typed edits, the
//!   stage machine, and [`case::inspect`] for conflicts and history;
//! - [`crypto`]: AES-256-GCM sealing and the per-case key hierarchy;
//! - [`store`]: [`store::CaseStore`], the SQLite file on the phone, with the in-memory
//!   caseload index and multilingual search ([`search`]);
//! - [`matching`]: duplicate detection across scripts, for the check at intake.
//!
//! Its only networking is the phone's sync client ([`sync::client`]); it never logs client
//! data.

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub mod attachment;
pub mod case;
pub(crate) mod crypto;
pub mod deadlines;
pub mod directory;
pub mod error;
pub mod ids;
pub mod limits;
pub mod matching;
pub mod packing;
pub mod refusal;
pub mod schema;
pub mod search;
pub mod store;
pub mod sync;

pub use case::inspect::{
    conflicts, history, last_change, Attribution, Bylines, Conflict, FieldChange,
};
pub use case::{Author, CaseDoc, CaseFile, NewCase, Outline, Role, Stage};
pub use error::{Error, Result};
pub use ids::CaseId;
pub use refusal::{Refusal, RefusalKind};
pub use store::CaseStore;
