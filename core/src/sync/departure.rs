//! Cases this device synced before that are no longer in the user's caseload (the case was
//! transferred or its worker unassigned): the changes made here that the server lacks are
//! handed in (`POST /v1/cases/{id}/departure`), then the case is removed from this device.
//! A case whose changes the server does not take stays, with an error in the report:
//! nothing is dropped unsent.

use std::collections::{HashMap, HashSet};

use automerge::sync::State as SyncState;

use super::control::{CaseSyncError, SyncControl, SyncReport};
use super::http::{call, request};
use crate::error::{Error, Result};
use crate::ids::CaseId;
use crate::store::CaseStore;

impl CaseStore {
    /// Hands in and removes the cases of `local` that `server_heads` (the caseload) no
    /// longer lists and that synced before. Returns the cases dealt with.
    pub(super) fn leave_cases(
        &self,
        base: &str,
        token: &str,
        local: &HashSet<CaseId>,
        server_heads: &HashMap<CaseId, Vec<String>>,
        report: &mut SyncReport,
        control: &SyncControl,
    ) -> Result<HashSet<CaseId>> {
        let peer = &super::exchange::peer_name(base);
        let mut dealt = HashSet::new();
        let mut leaving = Vec::new();
        for id in local.iter().filter(|id| !server_heads.contains_key(id)) {
            let shared = match self.load_sync_state(id, peer) {
                Ok(Some(b)) => SyncState::decode(&b)
                    .map(|s| s.shared_heads)
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            if shared.is_empty() {
                continue; // never synced: a new case, offered through the sync
            }
            leaving.push((*id, shared));
        }
        // Cases erased on the server go without a hand-in: there is nothing left to hand
        // in to, and nothing of them stays here.
        let erased = self.erased_of(base, token, &leaving)?;
        for (id, shared) in &leaving {
            control.check()?;
            dealt.insert(*id);
            if erased.contains(id) {
                self.purge_case(id)?;
                report.removed += 1;
                report.changed.push(id.to_string());
                continue;
            }
            let shared = shared.as_slice();
            let (mine, changes) =
                self.with_doc(id, |d| Ok((d.heads(), d.automerge().save_after(shared))))?;
            if !mine.iter().all(|h| shared.contains(h)) {
                let url = format!("{base}/v1/cases/{id}/departure");
                let body = Some(("application/octet-stream", changes));
                match request(self, &url, Some(token), body) {
                    Ok(_) => report.sent += 1,
                    Err(e @ Error::Wiped) => return Err(e),
                    // Erased between the question and the hand-in (the server refuses it
                    // as `erased`): there is nothing to hand in to.
                    Err(_)
                        if self
                            .erased_of(base, token, &[(*id, Vec::new())])?
                            .contains(id) =>
                    {
                        self.purge_case(id)?;
                        report.removed += 1;
                        report.changed.push(id.to_string());
                        continue;
                    }
                    Err(e) => {
                        report.errors.push(CaseSyncError {
                            case_id: id.to_string(),
                            reason: format!(
                                "no longer in your caseload; its unsent changes stay on this device ({e})"
                            ),
                            refusal: None,
                        });
                        continue;
                    }
                }
            }
            self.purge_case(id)?;
            report.removed += 1;
            report.changed.push(id.to_string());
        }
        Ok(dealt)
    }

    /// Which of the cases `leaving` the server erased (`POST /v1/cases/erased`). A server
    /// that does not answer it (an earlier version) erased none.
    fn erased_of(
        &self,
        base: &str,
        token: &str,
        leaving: &[(CaseId, Vec<automerge::ChangeHash>)],
    ) -> Result<HashSet<CaseId>> {
        if leaving.is_empty() {
            return Ok(HashSet::new());
        }
        let ids: Vec<String> = leaving.iter().map(|(id, _)| id.to_string()).collect();
        let url = format!("{base}/v1/cases/erased");
        let answer: Result<ErasedAnswer> = call(
            self,
            &url,
            Some(token),
            Some(serde_json::json!({ "ids": ids })),
        );
        match answer {
            Ok(a) => Ok(a.erased.iter().filter_map(|s| s.parse().ok()).collect()),
            Err(e @ Error::Wiped) => Err(e),
            Err(_) => Ok(HashSet::new()),
        }
    }
}

/// The server's answer to `POST /v1/cases/erased`: which of the ids asked about were
/// erased (one definition for both sides: the server sends this type).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErasedAnswer {
    pub erased: Vec<String>,
}
