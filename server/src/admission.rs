//! The one admission check of every write (sync, departures, the console, REST): the
//! server's half of it, around the rules that need no database
//! ([`fieldcase_core::case::admission::admit`], which a phone can run too).
//!
//! In order: a new case is not one that was erased ([`RefusalKind::Erased`]); the actors
//! of the new changes are registered to the sending device
//! ([`RefusalKind::ForeignActor`]), but for a schema upgrade, which every replica makes
//! alike and the check recomputes; then the core's rules (schema, attribution, stamps,
//! labels, authority, ownership of a new case, an assignee); then the case's team exists
//! ([`RefusalKind::Team`]) and everyone newly assigned is an active worker or supervisor of
//! it ([`RefusalKind::Assignment`]). A refusal is [`AppError::Refused`], with its kind; a
//! storage failure on the way is an internal error, never a refusal. Admitted changes whose
//! own time cannot be the time they were made are marked ([`time_marks`]). What the rules
//! ask of storage is asked once the core's rules passed, in one look, on the blocking
//! thread that then stores the write ([`Pending`]): a write's check and store take one
//! trip to storage.

use automerge::sync::Message as SyncMessage;
use automerge::{Automerge, ReadDoc};
use fieldcase_core::case::admission::{self, Prior, Writer};
use fieldcase_core::{CaseId, Refusal, RefusalKind};

use crate::db::{CaseAccess, TimeMark, User};
use crate::error::AppError;
use crate::AppState;

/// How far a device's clock may run from the server's before its changes' times are
/// marked: phones set their own clocks.
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// What [`check`] admits by the rules that need no storage: the access facts of the
/// candidate, the changes whose own time is far from now (their receipt), and what is
/// still to ask of storage ([`Admitted::pending`]): nothing may be stored or shown of the
/// candidate before it is answered ([`crate::hub::Hub`]'s store, or [`Admitted::settle`]).
pub(crate) struct Admitted {
    pub(crate) access: CaseAccess,
    pub(crate) marks: Vec<TimeMark>,
    /// The candidate's outline: the hub keeps it with the case, for the next write's
    /// check (`Prior::outline`).
    pub(crate) outline: fieldcase_core::Outline,
    /// What the check still asks of storage once the core's rules passed: answered on the
    /// blocking thread that stores the write, just before it ([`Pending::answer`]), so that
    /// a write takes one trip to storage, not two. A path that stores nothing answers it
    /// with [`Admitted::settle`].
    pub(crate) pending: Pending,
}

impl Admitted {
    /// Answers what the check still asks of storage (a trip of its own, when there is
    /// anything to ask): for the paths that do not store the candidate through
    /// [`crate::hub::Hub`]'s store, or must know the verdict before something else.
    pub(crate) async fn settle(&mut self, state: &AppState) -> Result<(), AppError> {
        std::mem::take(&mut self.pending).settle(state).await
    }
}

/// The part of a write's check that needs storage, not yet answered ([`Admitted::pending`]).
#[derive(Default)]
pub(crate) struct Pending(Option<Asked>);

impl Pending {
    /// Blocking: the first refusal in [`check`]'s order, or `None` when the write may be
    /// stored. A storage failure is an error, never a refusal.
    pub(crate) fn answer(self, db: &dyn crate::db::Db) -> crate::AppResult<Option<Denial>> {
        match self.0 {
            None => Ok(None),
            Some(asked) => asked.answer(db),
        }
    }

    /// What there is to ask of `asked` (nothing, when it asks nothing).
    fn of(asked: Asked) -> Self {
        Pending((!asked.is_empty()).then_some(asked))
    }

    /// [`Pending::answer`] in a trip of its own to a blocking thread (none when there is
    /// nothing to ask), its refusal as the writer is told it.
    async fn settle(self, state: &AppState) -> Result<(), AppError> {
        if self.0.is_none() {
            return Ok(());
        }
        match crate::db::blocking(&state.db, move |db| self.answer(db)).await? {
            None => Ok(()),
            Some(denial) => Err(denial.into_error(state)),
        }
    }
}

/// A refusal found in storage's answers, in [`check`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denial {
    Erased,
    ForeignActor,
    Team,
    Assignment,
    Link,
    Area,
}

impl Denial {
    /// The refusal as the writer is told it (an unknown area is counted).
    pub(crate) fn into_error(self, state: &AppState) -> AppError {
        match self {
            Denial::Erased => crate::db::erasure::refusal().into(),
            Denial::ForeignActor => foreign_actor().into(),
            Denial::Team => {
                AppError::refused(RefusalKind::Team, "a case belongs to a team that exists")
            }
            Denial::Assignment => AppError::refused(
                RefusalKind::Assignment,
                "a case is assigned only to active workers and supervisors of its team",
            ),
            // A link names a case its writer may see (issue 19): one they may not see
            // answers as one that does not exist, and a link holds only the id and the
            // relation's code.
            Denial::Link => AppError::refused(
                RefusalKind::Link,
                "a link points only to a case its writer may see",
            ),
            Denial::Area => {
                state
                    .metrics
                    .case_area_refused
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                AppError::refused(
                    RefusalKind::InvalidDocument,
                    "client/area: the area code is not in the server's list of areas",
                )
            }
        }
    }
}

/// The refusal of changes by an actor not registered to the sending device.
pub(crate) fn foreign_actor() -> Refusal {
    Refusal::new(
        RefusalKind::ForeignActor,
        "an actor of these changes is not registered to this device",
    )
}

/// Checks a candidate document written by `user` on `device` against the document it grew
/// from (`before`, with its access facts `prior`; `None` for a case new to the server;
/// `before_outline`, its outline when the hub kept it). The one place every write path
/// goes through; see the module's doc for the rules.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn check(
    state: &AppState,
    user: &User,
    device: &str,
    before: &Automerge,
    before_outline: Option<&fieldcase_core::Outline>,
    prior: Option<&CaseAccess>,
    id: CaseId,
    after: &Automerge,
) -> Result<Admitted, AppError> {
    let changes = after.get_changes(&before.get_heads());
    // A schema upgrade among them is the same change on every replica, bound to no device
    // (core's `upgrade::is_upgrade` recomputes it).
    let actors = admission::writers_actors(after, &changes);
    let writer = Writer {
        user_id: &user.id,
        role: user.role,
        team: user.team.as_deref(),
    };
    let prior_facts = prior.map(|p| Prior {
        team: &p.team,
        assigned: &p.assigned,
        outline: before_outline,
    });
    // The core's rules first (no storage), then everything this write asks of storage in
    // one look, answered on the blocking thread that stores the write ([`Pending`]): one
    // trip to storage for the check and the write. The refusals keep their order all the
    // same: an erased case, then a foreign actor, then the core's rules, then the team,
    // the assignees, the links, the areas.
    let admitted = admission::admit(writer, before, prior_facts, id, after, &changes);
    let asked = Asked {
        erased: prior.is_none().then_some(id),
        actors,
        device: device.to_string(),
        team: admitted
            .as_ref()
            .ok()
            .filter(|a| a.team_is_new)
            .map(|a| a.team.clone()),
        newcomers: admitted
            .as_ref()
            .ok()
            .filter(|a| !a.newcomers.is_empty())
            .map(|a| (a.team.clone(), a.newcomers.clone())),
        links: match &admitted {
            Ok(a) => a.new_links.clone(),
            Err(_) => Vec::new(),
        },
        // An area code the client's area is set to is one of the server's list (a phone
        // picks from the list it was sent; codes are never removed from it). Only the
        // values these changes bring are checked: a case stored before keeps what it
        // holds.
        areas: if admitted.is_ok() {
            new_area_codes(before, after)
        } else {
            Vec::new()
        },
        user: user.clone(),
    };
    let pending = Pending::of(asked);
    let admitted = match admitted {
        Ok(a) => a,
        // Refused by the core's rules: an erased case and a foreign actor come first all the
        // same (their answer now; the other questions are asked only of admitted changes).
        Err(refusal) => {
            pending.settle(state).await?;
            return Err(refusal.into());
        }
    };
    Ok(Admitted {
        access: CaseAccess::of_write(
            id,
            &admitted.outline.file,
            admitted.outline.conflicts(),
            after,
            prior,
            &changes,
        ),
        marks: time_marks(state, after, &changes),
        outline: admitted.outline,
        pending,
    })
}

/// What one write's check asks of storage, answered in one blocking call ([`check`]).
struct Asked {
    /// The id of a case new to the server: it must not be one that was erased.
    erased: Option<CaseId>,
    /// The writer's actors, each bound to `device`.
    actors: Vec<String>,
    device: String,
    /// A team new to the case: it must exist.
    team: Option<String>,
    /// Everyone newly assigned, with the case's team: each an active worker or supervisor
    /// of it.
    newcomers: Option<(String, Vec<String>)>,
    /// Cases newly linked to: each one `user` may see.
    links: Vec<CaseId>,
    /// Area codes newly set: each one of the server's list.
    areas: Vec<String>,
    user: User,
}

impl Asked {
    /// Whether there is nothing to ask (an edit of a known case that brings no actor,
    /// team, assignee, link or area to look up).
    fn is_empty(&self) -> bool {
        self.erased.is_none()
            && self.actors.is_empty()
            && self.team.is_none()
            && self.newcomers.is_none()
            && self.links.is_empty()
            && self.areas.is_empty()
    }

    /// The first refusal in [`check`]'s order: stops at the first question whose answer
    /// refuses the write.
    fn answer(self, db: &dyn crate::db::Db) -> crate::AppResult<Option<Denial>> {
        // An erased case is never made again (its tombstone keeps the id).
        if let Some(id) = &self.erased {
            if db.erased_case(id)?.is_some() {
                return Ok(Some(Denial::Erased));
            }
        }
        for a in &self.actors {
            if db.actor_device(a)?.as_deref() != Some(self.device.as_str()) {
                return Ok(Some(Denial::ForeignActor));
            }
        }
        if let Some(t) = &self.team {
            if !db.teams()?.iter().any(|x| &x.name == t) {
                return Ok(Some(Denial::Team));
            }
        }
        if let Some((t, newcomers)) = &self.newcomers {
            for u in newcomers {
                match db.user_by_id(u)? {
                    Some(u)
                        if !u.disabled
                            && u.role != fieldcase_core::Role::Admin
                            && u.team.as_deref() == Some(t.as_str()) => {}
                    _ => return Ok(Some(Denial::Assignment)),
                }
            }
        }
        for c in &self.links {
            match db.case_access(c)? {
                Some(a) if a.visible_to(&self.user) => {}
                _ => return Ok(Some(Denial::Link)),
            }
        }
        if !self.areas.is_empty() {
            let areas = db.areas()?;
            if !self
                .areas
                .iter()
                .all(|c| areas.iter().any(|a| &a.code == c))
            {
                return Ok(Some(Denial::Area));
            }
        }
        Ok(None)
    }
}

/// The client's area codes `after` holds that `before` did not (every concurrent value:
/// one that loses a conflict today may win it once resolved).
fn new_area_codes(before: &Automerge, after: &Automerge) -> Vec<String> {
    fn codes(doc: &Automerge) -> Vec<String> {
        let Some(client) = fieldcase_core::schema::get_obj(doc, &automerge::ROOT, "client") else {
            return Vec::new();
        };
        doc.get_all(&client, "area")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(v, _)| v.as_str().map(str::to_string))
            .collect()
    }
    let old = codes(before);
    let mut new: Vec<String> = codes(after)
        .into_iter()
        .filter(|c| !old.contains(c))
        .collect();
    new.sort();
    new.dedup();
    new
}

/// The changes whose own time (the device's clock, which nothing checks) cannot be the
/// time they were made: later than their receipt now, earlier than their receipt by more
/// than a phone stays offline ([`crate::Config::offline_days`]), or earlier than a change
/// they build on. The console shows the receipt for these, with the claim beside it.
fn time_marks(state: &AppState, doc: &Automerge, changes: &[automerge::Change]) -> Vec<TimeMark> {
    let now = chrono::Utc::now().timestamp_millis();
    let oldest = now - i64::from(state.config.offline_days) * 24 * 3600 * 1000;
    changes
        .iter()
        // A schema upgrade is dated 0 on every replica, by design: it is no one's act.
        .filter(|c| !fieldcase_core::case::upgrade::is_upgrade_actor(c.actor_id()))
        .filter_map(|c| {
            let claimed = c.timestamp().saturating_mul(1000);
            let after_deps = c
                .deps()
                .iter()
                // Its metadata only: the whole change is rebuilt from the document's
                // columns, for one number.
                .filter_map(|d| doc.get_change_meta_by_hash(d))
                // A dependency's own time counts no later than now: one change dated in
                // the future must not mark every honest change built on it.
                .map(|d| d.timestamp.saturating_mul(1000).min(now))
                .max()
                .unwrap_or(i64::MIN);
            let off = claimed > now + CLOCK_SKEW_MS
                || claimed < oldest
                || claimed.saturating_add(CLOCK_SKEW_MS) < after_deps;
            off.then(|| TimeMark {
                change: c.hash(),
                claimed,
                received: now,
            })
        })
        .collect()
}

/// Whether the changes of `message` that Automerge holds back in `doc` for a dependency it
/// lacks (they wait, unchecked, until it arrives) are all of actors registered to `device`:
/// no one leaves changes waiting under a colleague's actor, where they could take the
/// colleague's next sequence number. Free when nothing is held back (the usual case).
pub(crate) async fn held_back_are_own(
    state: &AppState,
    doc: &Automerge,
    message: &SyncMessage,
    device: &str,
) -> bool {
    if doc.get_missing_deps(&[]).is_empty() {
        return true;
    }
    let mut actors: Vec<String> = message
        .changes
        .iter()
        .filter_map(|chunk| automerge::Change::from_bytes(chunk.to_vec()).ok())
        .filter(|c| doc.get_change_by_hash(&c.hash()).is_none())
        .map(|c| c.actor_id().to_hex_string())
        .collect();
    actors.sort();
    actors.dedup();
    let (db, device) = (state.db.clone(), device.to_string());
    tokio::task::spawn_blocking(move || {
        actors
            .iter()
            .all(|a| db.actor_device(a).ok().flatten().as_deref() == Some(device.as_str()))
    })
    .await
    .unwrap_or(false)
}
