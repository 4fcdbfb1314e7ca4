//! The admission rules of a write that need no database: what a candidate document (a
//! case after someone's changes) must satisfy against the document it grew from, before
//! anyone stores it.
//!
//! The server runs [`admit`] on every write path (sync, departures, the console, REST),
//! between its own checks that need its records (actors bound to the sending device before;
//! the team exists and the assignees are active members after, with the facts
//! [`Admission`] hands it). A phone can run the same function on its changes before it
//! syncs them. Every refusal is a [`Refusal`]: a kind the phone acts on and a reason in
//! our words (never client data).
//!
//! The rules, in the order they are checked:
//! - the document follows the case schema ([`RefusalKind::InvalidDocument`]), and a
//!   container a later schema revision added was created by the case's creation or by the
//!   revision's upgrade ([`upgrade::created_outside_upgrade`]), never by a writer's edit;
//! - an actor records only itself in `actors`
//!   ([`RefusalKind::ForeignActor`]), and as the signed-in user
//!   ([`RefusalKind::Attribution`]);
//! - stamps (who, when) name the writer and the change's own time, and are written once
//!   ([`RefusalKind::Attribution`], [`authority::stamp_violation`]);
//! - a worker's change is not labelled as a supervisor's action
//!   ([`RefusalKind::NeedsAuthority`], [`authority::claims_authority`]);
//! - each of the writer's changes keeps the case process, judged on the case as the writer
//!   saw it (the document at the change's dependencies), not on the merged result: the
//!   workflow's steps, safety first, conclusions about abuse only in child protection, a
//!   closure approved only once the family was told ([`RefusalKind::Process`],
//!   [`process::violation`]);
//! - the document is the case it was sent as ([`RefusalKind::WrongCase`]);
//! - a change to a known case keeps the authority rules ([`authority::violation`]); a new
//!   case may be created by its sender ([`authority::may_create`]) and its own history
//!   neither rewrites its id nor lifts a restriction
//!   ([`authority::new_case_history_violation`]);
//! - a case keeps at least one assigned worker ([`RefusalKind::Assignment`]).

use automerge::{Automerge, Change};

use crate::case::{authority, inspect, process, upgrade, Outline, Role};
use crate::ids::CaseId;
use crate::refusal::{Refusal, RefusalKind};
use crate::schema;

/// Who writes: the signed-in user the changes are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    pub user_id: &'a str,
    pub role: Role,
    pub team: Option<&'a str>,
}

/// What the server knew of the case before these changes (its stored access facts).
#[derive(Debug, Clone, Copy)]
pub struct Prior<'a> {
    pub team: &'a str,
    pub assigned: &'a [String],
    /// The outline of the document before ([`Outline::of`] `before`), when the caller kept
    /// it from the write that made it (the server keeps it with a case in memory); `None`:
    /// read from `before`.
    pub outline: Option<&'a Outline>,
}

/// What [`admit`] found in an admitted candidate, for the checks that need records.
#[derive(Debug, Clone)]
pub struct Admission {
    /// The candidate's outline (its file, and how many of its fields hold concurrent
    /// values).
    pub outline: Outline,
    /// The case's team (empty when it names none).
    pub team: String,
    /// Whether the team is new to the case (a new case, or a move): it must exist.
    pub team_is_new: bool,
    /// Who must be an active worker or supervisor of the case's team: everyone newly
    /// assigned, and everyone when the case is new or changes team (sorted, once each).
    pub newcomers: Vec<String>,
    /// The cases this change links to that were not linked before (household members'
    /// `case_id`, issue 19): valid ids, never the case itself; the server admits them only
    /// when the writer may see each (sorted, once each).
    pub new_links: Vec<CaseId>,
}

/// The Automerge actors (hex) of `changes`, sorted, once each.
pub fn actors_of(changes: &[Change]) -> Vec<String> {
    actors_of_refs(changes.iter())
}

/// The actors (hex) of the writer's own changes among `changes` (new in `after`): all but
/// a schema upgrade, which is the same change on every replica and belongs to no device
/// ([`upgrade::is_upgrade`]). These are the actors that must be bound to the device.
pub fn writers_actors(after: &Automerge, changes: &[Change]) -> Vec<String> {
    actors_of_refs(upgrade::writers_changes(after, changes).into_iter())
}

fn actors_of_refs<'a>(changes: impl Iterator<Item = &'a Change>) -> Vec<String> {
    let mut actors: Vec<String> = changes.map(|c| c.actor_id().to_hex_string()).collect();
    actors.sort();
    actors.dedup();
    actors
}

/// Checks a candidate document `after`, grown from `before` by `changes` (those of
/// `after` that `before` lacks), written by `writer`, as the case `id`; `prior` is what was
/// known of the case before (`None` for a case new to the server). See the module's doc for
/// the rules.
pub fn admit(
    writer: Writer<'_>,
    before: &Automerge,
    prior: Option<Prior<'_>>,
    id: CaseId,
    after: &Automerge,
    changes: &[Change],
) -> Result<Admission, Refusal> {
    admit_with(writer, before, prior, id, after, changes, false)
}

/// [`admit`] as a phone runs it on its own changes before it offers them: the same rules,
/// except that codes of a newer app, which the phone received from the server, pass
/// ([`schema::validate_from_newer`]); the server still decides with [`admit`] and with the
/// rules that need its records.
pub fn admit_own(
    writer: Writer<'_>,
    before: &Automerge,
    prior: Option<Prior<'_>>,
    id: CaseId,
    after: &Automerge,
    changes: &[Change],
) -> Result<Admission, Refusal> {
    admit_with(writer, before, prior, id, after, changes, true)
}

fn admit_with(
    writer: Writer<'_>,
    before: &Automerge,
    prior: Option<Prior<'_>>,
    id: CaseId,
    after: &Automerge,
    changes: &[Change],
    from_newer: bool,
) -> Result<Admission, Refusal> {
    let invalid = |reason: String| Refusal::new(RefusalKind::InvalidDocument, reason);
    // The checks below read the same changes' operations: decoded once.
    let _admitting = super::decoded::Admitting::begin();
    // The sections the changes write in: the schema checks them, and the outline after is
    // the one before with them read again.
    let sections = schema::changed_sections(after, changes);
    schema::validate_sections(after, sections.as_ref(), from_newer)
        .map_err(|v| invalid(format!("invalid input at `{}`: {}", v.path, v.reason)))?;
    // A container a later schema revision added is created with the case or by the
    // revision's upgrade, which every replica makes alike; never by a writer's own change.
    if let Some(path) = upgrade::created_outside_upgrade(after, changes) {
        return Err(invalid(format!(
            "`{path}` is created by the schema upgrade, not by an edit"
        )));
    }
    // One added inside entries comes with its entry, never onto an older one.
    if let Some(name) = upgrade::added_to_older_entry(after, changes) {
        return Err(invalid(format!(
            "`{name}` comes with its entry; an entry made before has none"
        )));
    }
    // Attribution: an actor records only itself, and only as the signed-in user; the
    // stamps of its entries and decisions name that user and the change's own time.
    let records = inspect::actor_records(after);
    for w in actors_of(changes) {
        if inspect::writes_foreign_actor_entry(after, &w) {
            return Err(Refusal::new(
                RefusalKind::ForeignActor,
                "an actor may record only itself in `actors`",
            ));
        }
        if records.get(&w).is_some_and(|r| r.user_id != writer.user_id) {
            return Err(Refusal::new(
                RefusalKind::Attribution,
                "these changes record their author as another user",
            ));
        }
    }
    if let Some(refusal) = authority::stamp_violation(before, after, changes, writer.user_id) {
        return Err(refusal);
    }
    if authority::claims_authority(changes, writer.role) {
        return Err(Refusal::new(
            RefusalKind::NeedsAuthority,
            "these changes are labelled as an action that needs a supervisor",
        ));
    }
    // The case process, each of the writer's own changes judged on the case as its writer
    // saw it (a schema upgrade is no one's change).
    if let Some(refusal) = process::violation(after, &upgrade::writers_changes(after, changes)) {
        return Err(refusal);
    }
    // The outline before: kept by the caller, else read (the stored document was
    // validated when it was accepted).
    let read_before;
    let was = match prior {
        Some(Prior {
            outline: Some(was), ..
        }) => Some(was),
        Some(_) => {
            read_before = Outline::of(before).map_err(|e| invalid(e.to_string()))?;
            Some(&read_before)
        }
        None => None,
    };
    // The outline after: the one before with the changed sections read again, when the
    // changes are known to write only there and grew `after` from `before`.
    let grown = match (was, &sections) {
        (Some(was), Some(sections)) if grew_from(before, after) => was.grown(after, sections),
        _ => Outline::of(after),
    };
    let outline = grown.map_err(|e| invalid(e.to_string()))?;
    let file = &outline.file;
    // The document must be the case it was sent as: its inner id decides where it is
    // stored and who may see it.
    if file.id != id.to_string() {
        return Err(Refusal::new(
            RefusalKind::WrongCase,
            "the document is not the case it was sent as",
        ));
    }
    let team = file.team.clone().unwrap_or_default();
    let mut was_linked = std::collections::BTreeSet::new();
    let mut newcomers: Vec<String> = match prior {
        Some(p) if p.team == team => file
            .assigned
            .iter()
            .filter(|u| !p.assigned.contains(u))
            .cloned()
            .collect(),
        _ => file.assigned.clone(),
    };
    // `was` is there exactly when the case was known before.
    match was {
        Some(was) => {
            let was = &was.file;
            was_linked = was.linked_cases().into_iter().map(String::from).collect();
            if let Some(refusal) = authority::violation(was, file, writer.role) {
                return Err(refusal);
            }
            if was.case_manager != file.case_manager || was.team != file.team {
                newcomers.extend(file.case_manager.clone());
            }
        }
        None => {
            authority::may_create(file, writer.user_id, writer.team, writer.role)?;
            if let Some(refusal) = authority::review_violation(&[], &file.supervision, writer.role)
                .or_else(|| authority::new_case_history_violation(changes, writer.role))
            {
                return Err(refusal);
            }
            newcomers.extend(file.case_manager.clone());
        }
    }
    if file.assigned.is_empty() && prior.is_none_or(|p| !p.assigned.is_empty()) {
        return Err(Refusal::new(
            RefusalKind::Assignment,
            "a case needs at least one assigned worker",
        ));
    }
    newcomers.sort();
    newcomers.dedup();
    let mut new_links = Vec::new();
    for l in file.linked_cases() {
        if was_linked.contains(l) {
            continue;
        }
        match l.parse::<CaseId>() {
            Ok(c) if c != id => new_links.push(c),
            _ => {
                return Err(invalid(
                    "a household member or a duplicate links to a case by its id, never to the case itself".into(),
                ))
            }
        }
    }
    Ok(Admission {
        team_is_new: prior.is_none_or(|p| p.team != team),
        team,
        newcomers,
        new_links,
        outline,
    })
}

/// Whether `after` holds everything of `before` (it grew from it): only then is the outline
/// after the one before with the changed sections read again.
fn grew_from(before: &Automerge, after: &Automerge) -> bool {
    before
        .get_heads()
        .iter()
        .all(|h| after.get_change_meta_by_hash(h).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Author, CaseDoc, NewCase};

    fn worker() -> Writer<'static> {
        Writer {
            user_id: "u-anna",
            role: Role::Worker,
            team: Some("north"),
        }
    }

    /// A new case of team north opened by `user_id` (its manager and assignee).
    fn new_case(user_id: &str) -> (CaseId, Automerge) {
        let id = CaseId::random();
        let author = Author::new(user_id, "Anna", Role::Worker, "d-1");
        let new = NewCase {
            team: "north".into(),
            ..NewCase::default()
        };
        let doc = CaseDoc::create(
            id,
            automerge::ActorId::random(),
            &author,
            new,
            1_700_000_000_000,
        )
        .unwrap();
        (id, doc.automerge().clone())
    }

    #[test]
    fn a_new_case_of_its_sender_is_admitted_and_names_who_must_be_members() {
        let (id, after) = new_case("u-anna");
        let changes = after.get_changes(&[]);
        let a = admit(worker(), &Automerge::new(), None, id, &after, &changes).unwrap();
        assert_eq!((a.team.as_str(), a.team_is_new), ("north", true));
        assert_eq!(a.newcomers, ["u-anna"]);
    }

    #[test]
    fn each_rule_refuses_with_its_kind() {
        let (id, after) = new_case("u-bao");
        let changes = after.get_changes(&[]);
        let empty = Automerge::new();
        // Sent by Anna, but its actor records Bao.
        let e = admit(worker(), &empty, None, id, &after, &changes).unwrap_err();
        assert_eq!(e.kind, RefusalKind::Attribution, "{e}");
        let bao = Writer {
            user_id: "u-bao",
            ..worker()
        };
        // Sent as another case.
        let e = admit(bao, &empty, None, CaseId::random(), &after, &changes).unwrap_err();
        assert_eq!(e.kind, RefusalKind::WrongCase, "{e}");
        // For another team than its sender's.
        let elsewhere = Writer {
            team: Some("south"),
            ..bao
        };
        let e = admit(elsewhere, &empty, None, id, &after, &changes).unwrap_err();
        assert_eq!(e.kind, RefusalKind::Team, "{e}");
        // A worker's change labelled as a supervisor's action.
        let mut later = after.clone();
        later
            .transact_with::<_, _, automerge::AutomergeError, _>(
                |_| {
                    automerge::transaction::CommitOptions::default()
                        .with_message("Approve-Plan".to_string())
                        .with_time(1_700_000_000)
                },
                |tx| {
                    use automerge::transaction::Transactable;
                    tx.put(automerge::ROOT, "priority", "high")
                },
            )
            .unwrap();
        let more = later.get_changes(&after.get_heads());
        let assigned = ["u-bao".to_string()];
        let prior = Prior {
            team: "north",
            assigned: &assigned,
            outline: None,
        };
        let e = admit(bao, &after, Some(prior), id, &later, &more).unwrap_err();
        assert_eq!(e.kind, RefusalKind::NeedsAuthority, "{e}");
        // Not a case at all.
        let mut junk = Automerge::new();
        junk.transact::<_, _, automerge::AutomergeError>(|tx| {
            use automerge::transaction::Transactable;
            tx.put(automerge::ROOT, "nonsense", 1)?;
            Ok(())
        })
        .unwrap();
        let changes = junk.get_changes(&[]);
        let e = admit(bao, &empty, None, id, &junk, &changes).unwrap_err();
        assert_eq!(e.kind, RefusalKind::InvalidDocument, "{e}");
    }
}
