//! What the console pages read: the cases a user may see, one case, the people of the
//! server. Reads come from storage, which holds every accepted change (the hub stores a
//! change before it acknowledges it); writes go through the hub, never here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use automerge::ChangeHash;
use fieldcase_core::store::CaseSummary;
use fieldcase_core::{CaseDoc, CaseFile, CaseId};

use super::{blocking, now_ms};
use crate::db::{CaseAccess, User};
use crate::error::{AppError, AppResult};
use crate::AppState;

/// One case as the record page shows it: the document, for conflicts and history.
pub(crate) struct Loaded {
    pub access: CaseAccess,
    pub doc: CaseDoc,
    pub file: CaseFile,
    pub summary: CaseSummary,
}

/// One case as the reports use it (no document: it is cached).
pub(crate) struct Summary {
    pub access: CaseAccess,
    pub file: CaseFile,
    pub summary: CaseSummary,
}

/// One case as the dashboard lists it (cached): its summary, read from the facts kept
/// beside it ([`crate::db::ListFacts`]) or, failing those, from its document; its latest
/// changes are read from its document only when the recent activity may show them
/// ([`recent_activity`]).
pub(crate) struct ListedCase {
    pub access: CaseAccess,
    pub summary: CaseSummary,
    /// The latest any change of the case can be shown at in the recent activity (ms): the
    /// latest time a change claims, or a receipt of a change marked as far off.
    latest: i64,
    /// Its latest changes, newest first, once read.
    recent: OnceLock<Vec<Activity>>,
}

impl ListedCase {
    /// From the facts kept beside the case, with the latest receipt of its changes marked
    /// as far off; `None` for facts of another version of the core's summary.
    fn of_facts(
        access: &CaseAccess,
        facts: crate::db::ListFacts,
        marked_receipt: Option<i64>,
    ) -> Option<ListedCase> {
        let latest = facts.latest_claim().max(marked_receipt.unwrap_or(i64::MIN));
        let summary = facts.summary.summary(
            access.id.to_string(),
            &access.team,
            &access.assigned,
            access.restricted,
            facts.heads_at.min(now_ms()),
        )?;
        Some(ListedCase {
            access: access.clone(),
            summary,
            latest,
            recent: OnceLock::new(),
        })
    }

    /// From the case's document (no facts kept, or of another version).
    fn of_document(
        access: &CaseAccess,
        bytes: &[u8],
        marked_receipt: Option<i64>,
    ) -> AppResult<(Vec<ChangeHash>, ListedCase)> {
        let doc = CaseDoc::load(bytes)?;
        let summary = CaseSummary::of(&doc, last_change_ms(&doc))?;
        let latest =
            crate::db::latest_claim(doc.automerge()).max(marked_receipt.unwrap_or(i64::MIN));
        Ok((
            doc.heads(),
            ListedCase {
                access: access.clone(),
                summary,
                latest,
                recent: OnceLock::new(),
            },
        ))
    }

    /// The case's latest changes, newest first ([`recent_changes`]), read from its
    /// document the first time.
    fn recent(&self, st: &AppState) -> AppResult<&[Activity]> {
        if let Some(r) = self.recent.get() {
            return Ok(r);
        }
        let db = st.db.as_ref();
        st.metrics
            .console_documents_read
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let recent = match db.case_document(&self.access.id)? {
            Some(bytes) => match load(self.access.clone(), &bytes) {
                Ok(l) => recent_changes(&l, RECENT_PER_CASE, db)?,
                // One unreadable case must not hide the others; it is logged.
                Err(e) => {
                    tracing::error!(error = %e, "a stored case could not be read");
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        Ok(self.recent.get_or_init(|| recent))
    }
}

/// When the case last changed (ms): the latest of its heads, and never later than now (a
/// device's clock set ahead must not put its case at the top of every list).
pub(crate) fn last_change_ms(doc: &CaseDoc) -> i64 {
    let am = doc.automerge();
    am.get_heads()
        .iter()
        .filter_map(|h| am.get_change_meta_by_hash(h))
        .map(|c| c.timestamp.saturating_mul(1000))
        .max()
        .unwrap_or(0)
        .min(now_ms())
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

/// How many recent changes of each case the dashboard may show.
const RECENT_PER_CASE: usize = 5;

/// The summaries of the cases, by id, with the heads they were made at: a list over an
/// unchanged caseload reads only the heads from storage. Heads name the content exactly,
/// so an entry is either right or replaced.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<CaseId, Cached>>);

/// What is kept of a case, and the heads it was made at: the dashboard's summary, the
/// reports' typed record, or both.
struct Cached {
    heads: Vec<ChangeHash>,
    listed: Option<Arc<ListedCase>>,
    full: Option<Arc<Summary>>,
}

impl Cached {
    /// The entry of `heads` in `map` (an entry of other heads is replaced).
    fn at(map: &mut HashMap<CaseId, Cached>, id: CaseId, heads: Vec<ChangeHash>) -> &mut Cached {
        let e = map.entry(id).or_insert_with(|| Cached {
            heads: heads.clone(),
            listed: None,
            full: None,
        });
        if e.heads != heads {
            *e = Cached {
                heads,
                listed: None,
                full: None,
            };
        }
        e
    }
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

impl Cache {
    fn get(&self, id: &CaseId, heads: &[ChangeHash]) -> Option<Arc<Summary>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id)
            .filter(|c| c.heads.as_slice() == heads)
            .and_then(|c| c.full.clone())
    }

    fn get_listed(&self, id: &CaseId, heads: &[ChangeHash]) -> Option<Arc<ListedCase>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id)
            .filter(|c| c.heads.as_slice() == heads)
            .and_then(|c| c.listed.clone())
    }

    /// Keeps what was made, then holds the cache to
    /// [`crate::Config::console_max_summaries`] entries: `all` are this user's cases only
    /// (read through the indexes): the entries of other users' cases stay, up to the
    /// bound; past it, this user's, up to the bound.
    fn keep(
        &self,
        st: &AppState,
        all: &[(CaseAccess, Vec<ChangeHash>)],
        listed: Vec<(CaseId, Vec<ChangeHash>, Arc<ListedCase>)>,
        full: Vec<(CaseId, Vec<ChangeHash>, Arc<Summary>)>,
    ) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for (id, heads, l) in listed {
            Cached::at(&mut map, id, heads).listed = Some(l);
        }
        for (id, heads, s) in full {
            Cached::at(&mut map, id, heads).full = Some(s);
        }
        let max = st.config.console_max_summaries;
        if map.len() > max {
            let ids: std::collections::HashSet<&CaseId> = all.iter().map(|(a, _)| &a.id).collect();
            map.retain(|id, _| ids.contains(id));
        }
        if map.len() > max {
            let over: Vec<CaseId> = map.keys().skip(max).copied().collect();
            for id in over {
                map.remove(&id);
            }
        }
        st.metrics
            .console_summaries
            .store(map.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Cache {
    /// Forgets an erased case's summary.
    pub(crate) fn forget(&self, id: &CaseId) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

/// The day (UTC, days since the epoch) each user was last shown each unrestricted case in
/// a list. Lists record a restricted case at every view, and any other case once a day per
/// user: "who viewed this case" names everyone who saw it listed, and a caseload of
/// thousands viewed all day writes thousands of entries a day, not at every page.
#[derive(Default)]
pub struct Listed(Mutex<HashMap<(String, CaseId), i64>>);

impl std::fmt::Debug for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listed").finish_non_exhaustive()
    }
}

impl Listed {
    /// Of `ids`, those not yet recorded as listed to `user` on `day`.
    fn unrecorded(&self, user: &str, ids: &[CaseId], day: i64) -> Vec<CaseId> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ids.iter()
            .filter(|id| map.get(&(user.to_string(), **id)) != Some(&day))
            .copied()
            .collect()
    }

    /// Notes `ids` as recorded for `user` on `day`; entries of earlier days go.
    fn recorded(&self, user: &str, ids: &[CaseId], day: i64) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.values().any(|d| *d != day) {
            map.retain(|_, d| *d == day);
        }
        for id in ids {
            map.insert((user.to_string(), *id), day);
        }
    }
}

/// Records that `user` was shown `visible` in a list (see [`Listed`]): lists and reports
/// show names and risk, a read, recorded before anything is shown.
fn record_listed(st: &AppState, user: &User, visible: &[&CaseAccess]) -> AppResult<()> {
    let now = now_ms();
    let day = now.div_euclid(86_400_000);
    let restricted: Vec<CaseId> = visible
        .iter()
        .filter(|a| a.restricted)
        .map(|a| a.id)
        .collect();
    let open: Vec<CaseId> = visible
        .iter()
        .filter(|a| !a.restricted)
        .map(|a| a.id)
        .collect();
    let open = st.listed.unrecorded(&user.id, &open, day);
    let mut listed = restricted;
    listed.extend_from_slice(&open);
    st.db
        .audit_cases(&user.id, "", &listed, "listed (console)", now)?;
    st.listed.recorded(&user.id, &open, day);
    Ok(())
}

/// Every case `user` may see, with its typed record, for the reports. Their being listed
/// is recorded (see [`Listed`]). The summaries are kept for the next list, at most
/// [`crate::Config::console_max_summaries`] (past it, only this user's, up to the bound).
pub(crate) async fn visible_cases(
    state: &Arc<AppState>,
    user: &User,
) -> AppResult<Vec<Arc<Summary>>> {
    let st = state.clone();
    let user = user.clone();
    blocking(move || {
        let all = st.db.visible_cases(&user)?;
        let visible: Vec<&CaseAccess> = all
            .iter()
            .map(|(a, _)| a)
            .filter(|a| a.visible_to(&user))
            .collect();
        record_listed(&st, &user, &visible)?;
        let mut out = Vec::new();
        let mut fresh = Vec::new();
        for (access, heads) in &all {
            if !access.visible_to(&user) {
                continue;
            }
            if let Some(s) = st.console.get(&access.id, heads) {
                out.push(s);
                continue;
            }
            let Some(bytes) = st.db.case_document(&access.id)? else {
                continue;
            };
            match load(access.clone(), &bytes) {
                Ok(l) => {
                    let s = Arc::new(Summary {
                        access: l.access,
                        file: l.file,
                        summary: l.summary,
                    });
                    fresh.push((access.id, l.doc.heads(), s.clone()));
                    out.push(s);
                }
                // One unreadable case must not hide the caseload; it is logged.
                Err(e) => tracing::error!(error = %e, "a stored case could not be read"),
            }
        }
        st.console.keep(&st, &all, Vec::new(), fresh);
        Ok(out)
    })
    .await
}

/// Every case `user` may see, summarised, for the dashboard: from the facts kept beside
/// each case ([`crate::db::ListFacts`]), so that a first view (an empty cache, after a
/// start) opens no document; a case whose facts are missing or of another version is read
/// from its document. Their being listed is recorded (see [`Listed`]); kept for the next
/// list as [`visible_cases`] keeps its own.
pub(crate) async fn listed_cases(
    state: &Arc<AppState>,
    user: &User,
) -> AppResult<Vec<Arc<ListedCase>>> {
    let st = state.clone();
    let user = user.clone();
    blocking(move || {
        let all = st.db.visible_cases(&user)?;
        let visible: Vec<&(CaseAccess, Vec<ChangeHash>)> =
            all.iter().filter(|(a, _)| a.visible_to(&user)).collect();
        let accesses: Vec<&CaseAccess> = visible.iter().map(|(a, _)| a).collect();
        record_listed(&st, &user, &accesses)?;
        let mut out: Vec<Option<Arc<ListedCase>>> = visible
            .iter()
            .map(|(a, heads)| st.console.get_listed(&a.id, heads))
            .collect();
        let missing: Vec<CaseId> = visible
            .iter()
            .zip(&out)
            .filter(|(_, o)| o.is_none())
            .map(|((a, _), _)| a.id)
            .collect();
        let mut fresh = Vec::new();
        if !missing.is_empty() {
            let mut found: HashMap<CaseId, crate::db::Listing> = st
                .db
                .list_facts(&missing)?
                .into_iter()
                .map(|l| (l.id, l))
                .collect();
            for (slot, (access, _)) in out.iter_mut().zip(&visible) {
                if slot.is_some() {
                    continue;
                }
                // Erased meanwhile: not listed.
                let Some(listing) = found.remove(&access.id) else {
                    continue;
                };
                let marked = listing.marked_receipt;
                let made = match listing
                    .facts
                    .and_then(|f| ListedCase::of_facts(access, f, marked))
                {
                    Some(l) => Some((listing.heads, l)),
                    None => {
                        st.metrics
                            .console_documents_read
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        match st.db.case_document(&access.id)? {
                            None => None,
                            Some(bytes) => match ListedCase::of_document(access, &bytes, marked) {
                                Ok(l) => Some(l),
                                // One unreadable case must not hide the caseload; it is logged.
                                Err(e) => {
                                    tracing::error!(error = %e, "a stored case could not be read");
                                    None
                                }
                            },
                        }
                    }
                };
                if let Some((heads, l)) = made {
                    let l = Arc::new(l);
                    fresh.push((access.id, heads, l.clone()));
                    *slot = Some(l);
                }
            }
        }
        st.console.keep(&st, &all, fresh, Vec::new());
        Ok(out.into_iter().flatten().collect())
    })
    .await
}

/// The latest `n` changes of `cases`, newest first: those [`recent_changes`] lists of each
/// case (at most [`RECENT_PER_CASE`]), as if all were read and sorted by time, a tie going
/// to the case listed first. Only the documents of the cases whose changes can be among
/// them are read: the cases by the latest time a change of theirs can be shown at, until
/// the `n`th change found is later than the next case's latest.
pub(crate) async fn recent_activity(
    state: &Arc<AppState>,
    cases: &[Arc<ListedCase>],
    n: usize,
) -> AppResult<Vec<Activity>> {
    let st = state.clone();
    let cases = cases.to_vec();
    blocking(move || {
        let mut order: Vec<usize> = (0..cases.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(cases[i].latest), i));
        // (time, case, place in the case's list), the first `n` in the order shown.
        let mut best: Vec<(i64, usize, usize)> = Vec::new();
        for i in order {
            if n == 0 {
                break;
            }
            if let Some(&(at, case, _)) = best.get(n - 1) {
                let latest = cases[i].latest;
                if at > latest || (at == latest && case < i) {
                    break;
                }
            }
            let recent = cases[i].recent(&st)?;
            best.extend(recent.iter().enumerate().map(|(k, a)| (a.at_ms, i, k)));
            best.sort_by_key(|&(at, case, k)| (std::cmp::Reverse(at), case, k));
            best.truncate(n);
        }
        Ok(best
            .into_iter()
            .filter_map(|(_, case, k)| cases[case].recent.get()?.get(k).cloned())
            .collect())
    })
    .await
}

/// One case the console's user may see; a case they may not see is
/// [`AppError::NotFound`], as one that does not exist. The read is recorded in the audit
/// trail (ids only, `action` saying which page) before anything is shown.
pub(crate) async fn one_case(
    state: &Arc<AppState>,
    u: &super::ConsoleUser,
    id: &str,
    action: &'static str,
) -> AppResult<Loaded> {
    let id: CaseId = id.parse().map_err(|_| AppError::NotFound)?;
    let db = state.db.clone();
    let user = u.user().clone();
    let device = u.session.device_id.clone();
    blocking(move || {
        let access = db.case_access(&id)?.ok_or(AppError::NotFound)?;
        if !access.visible_to(&user) {
            return Err(AppError::NotFound);
        }
        if access.restricted {
            tracing::info!(case = %id, user = %user.id, "restricted case read (console)");
        }
        db.audit(&user.id, &device, &id, action, now_ms())?;
        let bytes = db.case_document(&id)?.ok_or(AppError::NotFound)?;
        load(access, &bytes)
    })
    .await
}

/// The server's users by id, for names, and what its teams are called.
pub(crate) struct People(HashMap<String, User>, Teams);

/// What each team is called now (its label once renamed, else its name), by name.
#[derive(Debug, Default)]
pub(crate) struct Teams(HashMap<String, String>);

impl Teams {
    pub(crate) fn of(teams: &[crate::db::Team]) -> Teams {
        Teams(
            teams
                .iter()
                .map(|t| (t.name.clone(), t.shown().to_string()))
                .collect(),
        )
    }

    /// What a team is called (its name, for one the server does not hold).
    pub(crate) fn shown(&self, name: &str) -> String {
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }
}

impl People {
    pub(crate) async fn load(state: &Arc<AppState>) -> AppResult<People> {
        let db = state.db.clone();
        let (users, teams) = blocking(move || Ok((db.users()?, db.teams()?))).await?;
        Ok(People(
            users.into_iter().map(|u| (u.id.clone(), u)).collect(),
            Teams::of(&teams),
        ))
    }

    /// What a team is called now.
    pub(crate) fn team(&self, name: &str) -> String {
        self.1.shown(name)
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
#[derive(Clone)]
pub(crate) struct Activity {
    pub case_id: String,
    pub client: String,
    pub at_ms: i64,
    pub who: String,
    pub what: String,
}

/// The last `n` changes of a case, newest first: walked back from the heads through the
/// change graph by metadata (no change is decoded). Who made each is the server's record
/// of its device's user (the document's own claim only for actors the server never
/// registered, which only the server itself writes under: the command line, the demo); its
/// time is its receipt where its own time is marked as far off.
pub(crate) fn recent_changes(l: &Loaded, n: usize, db: &dyn crate::Db) -> AppResult<Vec<Activity>> {
    let am = l.doc.automerge();
    let received: HashMap<ChangeHash, i64> = db
        .time_marks(&l.access.id)?
        .into_iter()
        .map(|m| (m.change, m.received))
        .collect();
    let when = |c: &automerge::ChangeMetadata<'_>| {
        received
            .get(&c.hash)
            .copied()
            .unwrap_or_else(|| c.timestamp.saturating_mul(1000))
    };
    let mut frontier: Vec<_> = am
        .get_heads()
        .iter()
        .filter_map(|h| am.get_change_meta_by_hash(h))
        .collect();
    let mut seen: std::collections::HashSet<ChangeHash> = frontier.iter().map(|c| c.hash).collect();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    while out.len() < n {
        let Some(i) = (0..frontier.len()).max_by_key(|&i| when(&frontier[i])) else {
            break;
        };
        let c = frontier.swap_remove(i);
        for d in &c.deps {
            if seen.insert(*d) {
                frontier.extend(am.get_change_meta_by_hash(d));
            }
        }
        // A schema upgrade is no one's act (`docs/adr/0005-*`).
        if fieldcase_core::case::upgrade::is_upgrade_actor(&c.actor) {
            continue;
        }
        let actor = c.actor.to_hex_string();
        let who = match names.get(&actor) {
            Some(n) => n.clone(),
            None => {
                let n = match db.actor_owner(&actor)? {
                    Some(device) => db
                        .user_by_id(&device.user_id)?
                        .map(|u| u.display_name)
                        .unwrap_or(device.user_id),
                    None => l
                        .file
                        .actors
                        .get(&actor)
                        .map(|a| a.name.clone())
                        .unwrap_or_default(),
                };
                names.insert(actor, n.clone());
                n
            }
        };
        out.push(Activity {
            case_id: l.access.id.to_string(),
            client: super::view::listed_name(
                l.file.client.name.as_deref().unwrap_or_default(),
                l.access.restricted,
            ),
            at_ms: when(&c),
            who,
            what: c.message.as_deref().unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}

/// The case a console form writes to, for a supervisor or an admin: a worker gets
/// `Forbidden` for a case they may see and `NotFound` for one they may not (as for a case
/// that does not exist); an id that is not one is `NotFound`. Whether a supervisor may see
/// the case is decided by the hub's write, with the same answer.
pub(crate) async fn writable_case(
    state: &Arc<AppState>,
    user: &super::ConsoleUser,
    id: &str,
) -> AppResult<CaseId> {
    if !user.user().role.has_authority() {
        one_case(state, user, id, "read (console)").await?;
        return Err(AppError::Forbidden);
    }
    id.parse().map_err(|_| AppError::NotFound)
}
