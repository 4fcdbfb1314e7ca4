//! Cases this device synced before that are no longer in the user's caseload (the case was
//! transferred or its worker unassigned): the changes made here that the server lacks are
//! handed in (`POST /v1/cases/{id}/departure`), then the case is removed from this device.
//! A case whose changes the server does not take stays, with an error in the report:
//! nothing is dropped unsent.

use std::collections::{HashMap, HashSet};

use automerge::sync::State as SyncState;

use super::control::{CaseSyncError, SyncControl, SyncReport};
use super::http::request;
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
        for id in local.iter().filter(|id| !server_heads.contains_key(id)) {
            control.check()?;
            let shared = match self.load_sync_state(id, peer) {
                Ok(Some(b)) => SyncState::decode(&b)
                    .map(|s| s.shared_heads)
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            if shared.is_empty() {
                continue; // never synced: a new case, offered through the sync
            }
            dealt.insert(*id);
            let (mine, changes) =
                self.with_doc(id, |d| Ok((d.heads(), d.automerge().save_after(&shared))))?;
            if !mine.iter().all(|h| shared.contains(h)) {
                let url = format!("{base}/v1/cases/{id}/departure");
                let body = Some(("application/octet-stream", changes));
                match request(self, &url, Some(token), body) {
                    Ok(_) => report.sent += 1,
                    Err(e @ Error::Wiped) => return Err(e),
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
}
