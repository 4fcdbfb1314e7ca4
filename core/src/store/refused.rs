//! Cases whose changes were refused (by the server, or by this phone's own admission
//! check before sending): held back from syncs, with the refusal's kind, until retried.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{now_ms, CaseStore};
use crate::crypto::RecordKind;
use crate::error::{Error, Result};
use crate::ids::CaseId;
use crate::{Refusal, RefusalKind};

/// Why and when the server refused a case's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedCase {
    /// The kind of rule the changes broke; records kept before kinds existed read as
    /// [`RefusalKind::Other`].
    #[serde(default = "other_kind")]
    pub kind: RefusalKind,
    pub reason: String,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
}

fn other_kind() -> RefusalKind {
    RefusalKind::Other
}

impl CaseStore {
    /// Marks a case as refused by the server: it is left out of later syncs (so the same
    /// refused change is not offered again and again) until [`CaseStore::retry_refused`].
    pub fn mark_refused(&self, id: &CaseId, refusal: &Refusal) -> Result<()> {
        let mut g = self.lock();
        let key = g
            .keys
            .get(id)
            .ok_or_else(|| Error::NotFound(format!("case {id}")))?;
        let refusal = RefusedCase {
            kind: refusal.kind,
            reason: refusal.message.clone(),
            at: now_ms(),
        };
        let sealed = key.seal(
            RecordKind::Refused,
            id.as_bytes(),
            &serde_json::to_vec(&refusal)?,
        );
        g.conn.execute(
            "UPDATE cases SET refused = ?2 WHERE id = ?1",
            params![&id.as_bytes()[..], sealed],
        )?;
        g.refused.insert(*id, refusal);
        Ok(())
    }

    /// Cases the server refused, with the reasons.
    pub fn refused_cases(&self) -> Vec<(CaseId, RefusedCase)> {
        let mut out: Vec<(CaseId, RefusedCase)> = self
            .lock()
            .refused
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        out.sort_by_key(|(id, _)| *id);
        out
    }

    /// Lets a refused case sync again (after what caused the refusal was repaired).
    pub fn retry_refused(&self, id: &CaseId) -> Result<()> {
        let mut g = self.lock();
        g.conn.execute(
            "UPDATE cases SET refused = NULL WHERE id = ?1",
            params![&id.as_bytes()[..]],
        )?;
        g.refused.remove(id);
        Ok(())
    }

    /// Lets the cases refused for `kind` sync again (a server that now knows this app's
    /// schema revision takes what it refused as [`RefusalKind::NewerSchema`]).
    pub fn retry_refused_of(&self, kind: RefusalKind) -> Result<()> {
        for (id, _) in self
            .refused_cases()
            .into_iter()
            .filter(|(_, r)| r.kind == kind)
        {
            self.retry_refused(&id)?;
        }
        Ok(())
    }

    /// Lets every refused case sync again (a new login registers this device's actor anew).
    pub fn retry_all_refused(&self) -> Result<()> {
        for (id, _) in self.refused_cases() {
            self.retry_refused(&id)?;
        }
        Ok(())
    }
}
