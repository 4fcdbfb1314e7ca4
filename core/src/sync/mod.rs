//! Sync with the server: the wire format and the phone's client.
//!
//! [`protocol`] is the wire format (one CBOR map per WebSocket binary frame), shared by
//! the server and the phone. See `docs/sync-protocol.md` for the protocol as the official
//! JavaScript client speaks it.
//!
//! The phone's client is blocking (the app calls it from a background thread; the
//! bindings put it on a blocking pool) and split by what each part does:
//! - [`control`]: cancelling a sync or a login from another thread, its progress, and what
//!   it did ([`SyncReport`]);
//! - `http`: the JSON requests beside the WebSocket (login, caseload, settings,
//!   departures), the certificate authorities an agency's server may use, and the answers
//!   shared with the server ([`ServerSession`], [`CaseloadEntry`]);
//! - `account`: `CaseStore::login` and `CaseStore::logout`;
//! - `socket`: the WebSocket (`/v1/sync`), its frames and its cancellable reads;
//! - `exchange`: `CaseStore::sync`, in phases: plan (which cases differ), offer (the
//!   phone's own changes checked with the same admission rules as the server's), exchange
//!   (frames until every case is done), finish (new cases validated, states saved);
//! - `departure`: cases that left the user's caseload hand in what the server lacks;
//! - `directory`: the partner directory, fetched after the cases when the server holds a
//!   newer version.

mod account;
mod attachments;
pub mod control;
mod departure;
mod directory;
mod exchange;
mod http;
mod matches;
mod partner;
pub mod protocol;
pub use partner::PartnerLink;
mod socket;

use std::time::Duration;

pub use control::{CaseSyncError, SyncControl, SyncProgress, SyncReport};
pub use departure::ErasedAnswer;
pub(crate) use http::TlsRoots;
pub use http::{CaseloadEntry, ServerSession};

/// How this phone names its version to the server (shown to administrators beside the
/// device): the fieldcase core it runs.
const APP_VERSION: &str = concat!("fieldcase ", env!("CARGO_PKG_VERSION"));

/// How long the client waits for the server before giving up on a request or a sync.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How often a sync or a login waiting for the server looks whether it was cancelled.
pub const POLL: Duration = Duration::from_millis(50);
