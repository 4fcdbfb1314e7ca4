//! Sync with the server over the automerge-repo network protocol.
//!
//! [`protocol`] is the wire format (one CBOR map per WebSocket binary frame), shared by
//! the server and the phone. See `docs/sync-protocol.md` for the protocol as the official
//! JavaScript client speaks it.

pub(crate) mod client;
pub mod protocol;

pub use client::{
    CaseSyncError, CaseloadEntry, ServerSession, SyncControl, SyncProgress, SyncReport, POLL,
};
