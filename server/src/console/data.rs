//! What the console pages read: the cases a user may see, one case, the people of the
//! server. Reads come from storage, which holds every accepted change (the hub stores a
//! change before it acknowledges it); writes go through the hub, never here.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::ReadDoc;
use fieldcase_core::store::CaseSummary;
use fieldcase_core::{CaseDoc, CaseFile, CaseId};

use super::blocking;
use crate::db::{CaseAccess, User};
use crate::error::{AppError, AppResult};
use crate::AppState;

/// One case as the console shows it.
pub(crate) struct Loaded {
    pub access: CaseAccess,
    pub doc: CaseDoc,
    pub file: CaseFile,
    pub summary: CaseSummary,
}

/// When the case last changed (ms): the latest of its heads.
pub(crate) fn last_change_ms(doc: &CaseDoc) -> i64 {
    let am = doc.automerge();
    am.get_heads()
        .iter()
        .filter_map(|h| am.get_change_by_hash(h))
        .map(|c| c.timestamp().saturating_mul(1000))
        .max()
        .unwrap_or(0)
}

fn load(access: CaseAccess, bytes: &[u8]) -> AppResult<Loaded> {
    let doc = CaseDoc::load(bytes)?;
    let file = doc.read()?;
    let summary = CaseSummary::of(&doc, last_change_ms(&doc))?;
    Ok(Loaded {
        access,
        doc,
        file,
        summary,
    })
}

/// Every case `user` may see, loaded.
pub(crate) async fn visible_cases(state: &Arc<AppState>, user: &User) -> AppResult<Vec<Loaded>> {
    let db = state.db.clone();
    let user = user.clone();
    blocking(move || {
        let mut out = Vec::new();
        for (access, _) in db.cases()? {
            if !access.visible_to(&user) {
                continue;
            }
            let Some(bytes) = db.case_document(&access.id)? else {
                continue;
            };
            match load(access, &bytes) {
                Ok(l) => out.push(l),
                // One unreadable case must not hide the caseload; it is logged.
                Err(e) => tracing::error!(error = %e, "a stored case could not be read"),
            }
        }
        Ok(out)
    })
    .await
}

/// One case `user` may see; a case they may not see is [`AppError::NotFound`], as one that
/// does not exist. Reads of restricted cases are audited (ids only).
pub(crate) async fn one_case(state: &Arc<AppState>, user: &User, id: &str) -> AppResult<Loaded> {
    let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
    let db = state.db.clone();
    let user = user.clone();
    blocking(move || {
        let access = db.case_access(&id)?.ok_or(AppError::NotFound)?;
        if !access.visible_to(&user) {
            return Err(AppError::NotFound);
        }
        if access.restricted {
            tracing::info!(case = %id, user = %user.id, "restricted case read (console)");
        }
        let bytes = db.case_document(&id)?.ok_or(AppError::NotFound)?;
        load(access, &bytes)
    })
    .await
}

/// The server's users by id, for names.
pub(crate) struct People(HashMap<String, User>);

impl People {
    pub(crate) async fn load(state: &Arc<AppState>) -> AppResult<People> {
        let db = state.db.clone();
        let users = blocking(move || db.users()).await?;
        Ok(People(
            users.into_iter().map(|u| (u.id.clone(), u)).collect(),
        ))
    }

    /// A user's display name (or their id, for one this server does not know).
    pub(crate) fn name(&self, id: &str) -> String {
        self.0
            .get(id)
            .map(|u| {
                if u.display_name.is_empty() {
                    u.username.clone()
                } else {
                    u.display_name.clone()
                }
            })
            .unwrap_or_else(|| id.to_string())
    }

    /// The active workers and supervisors of a team, by name.
    pub(crate) fn of_team(&self, team: &str) -> Vec<&User> {
        let mut v: Vec<&User> = self
            .0
            .values()
            .filter(|u| {
                !u.disabled
                    && u.role != fieldcase_core::Role::Admin
                    && u.team.as_deref() == Some(team)
            })
            .collect();
        v.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        v
    }
}

/// One change of a case, for the recent-activity list.
pub(crate) struct Activity {
    pub case_id: String,
    pub client: String,
    pub at_ms: i64,
    pub who: String,
    pub what: String,
}

/// The last `n` changes of a case.
pub(crate) fn recent_changes(l: &Loaded, n: usize) -> Vec<Activity> {
    let am = l.doc.automerge();
    let changes = am.get_changes(&[]);
    changes
        .iter()
        .rev()
        .take(n)
        .map(|c| {
            let actor = c.actor_id().to_hex_string();
            Activity {
                case_id: l.access.id.to_string(),
                client: l.file.client.name.clone().unwrap_or_default(),
                at_ms: c.timestamp().saturating_mul(1000),
                who: l
                    .file
                    .actors
                    .get(&actor)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                what: c.message().map(str::to_string).unwrap_or_default(),
            }
        })
        .collect()
}

/// Today (UTC) as `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
