//! Who made a case's changes and when, as the server knows it. A change's actor is bound
//! to a device when the server accepts it, so the console names the device's user and the
//! device from the server's own records, never from the names a document gives itself; and
//! a change whose own time (a phone's clock) is far from its receipt shows the receipt as
//! its time, with the claim beside it, marked.

use std::collections::HashMap;
use std::sync::Arc;

use fieldcase_core::case::inspect::actor_records;
use fieldcase_core::{Attribution, CaseDoc, CaseId};

use super::blocking;
use crate::db::TimeMark;
use crate::error::AppResult;
use crate::AppState;

/// A change's author and time, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shown {
    /// The user's display name from the server's records. For an actor the server never
    /// registered, what the document says: only the server writes under such actors (the
    /// command line, the demo caseload), since it refuses them from every client.
    pub(crate) name: Option<String>,
    /// The device's name from the server's records.
    pub(crate) device: Option<String>,
    /// When (RFC 3339): the change's own time, or its receipt where that is far off.
    pub(crate) at: String,
    /// The change's own time where it is far from its receipt (then `at` is the receipt).
    pub(crate) claimed: Option<String>,
}

/// The registered authors and the marked times of one case.
#[derive(Debug, Default)]
pub(crate) struct Roster {
    /// Actor (hex) → user display name and device name.
    actors: HashMap<String, (String, String)>,
    /// Change hash (hex) → its mark.
    marks: HashMap<String, TimeMark>,
}

impl Roster {
    /// Reads the server's records of the actors a case names and its marked changes.
    pub(crate) async fn load(state: &Arc<AppState>, id: CaseId, doc: &CaseDoc) -> AppResult<Self> {
        let actors: Vec<String> = actor_records(doc.automerge()).into_keys().collect();
        let db = state.db.clone();
        blocking(move || {
            let mut known = HashMap::new();
            let mut names: HashMap<String, String> = HashMap::new();
            for a in actors {
                let Some(device) = db.actor_owner(&a)? else {
                    continue;
                };
                let name = match names.get(&device.user_id) {
                    Some(n) => n.clone(),
                    None => {
                        let n = db
                            .user_by_id(&device.user_id)?
                            .map(|u| {
                                if u.display_name.is_empty() {
                                    u.username
                                } else {
                                    u.display_name
                                }
                            })
                            .unwrap_or_else(|| device.user_id.clone());
                        names.insert(device.user_id.clone(), n.clone());
                        n
                    }
                };
                known.insert(a, (name, device.name));
            }
            let marks = db
                .time_marks(&id)?
                .into_iter()
                .map(|m| (m.change.to_string(), m))
                .collect();
            Ok(Roster {
                actors: known,
                marks,
            })
        })
        .await
    }

    /// An attribution as the server vouches for it.
    pub(crate) fn show(&self, a: &Attribution) -> Shown {
        let (name, device) = match self.actors.get(&a.actor) {
            Some((n, d)) => (Some(n.clone()), Some(d.clone())),
            None => (a.user_name.clone(), a.device_id.clone()),
        };
        match self.marks.get(&a.change) {
            Some(m) => Shown {
                name,
                device,
                at: fieldcase_core::case::rfc3339(m.received),
                claimed: Some(a.at.clone()),
            },
            None => Shown {
                name,
                device,
                at: a.at.clone(),
                claimed: None,
            },
        }
    }
}
