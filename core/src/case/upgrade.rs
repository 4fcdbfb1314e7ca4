//! Bringing a case written by an earlier schema revision to this one, so that two replicas
//! that do it at once, offline, merge without a conflict (`docs/adr/0005-*`).
//!
//! A revision may add containers (maps, lists, texts) to the maps every case has from its
//! creation (`safety` at the root, `plan/versions`). Had each replica created them by its
//! own first edit, two phones upgrading the same case offline would each `put_object` the
//! same key, and Automerge would keep both objects: one would win, the other's contents
//! would hide behind a conflict. Instead, the containers of revision `r` are created by one
//! *deterministic* change, the same bytes on every replica:
//! - made on the document as it was at its first change (the case's creation), so its
//!   dependency, its operation counters and the objects it refers to are the same
//!   everywhere;
//! - by an actor derived from that first change and the revision ([`upgrade_actor`]), with
//!   sequence number 1, time 0 and a fixed message.
//!
//! Replicas that make it independently make the same change (the same hash): Automerge
//! applies it once, and edits made on top of it, on either side, land in the same objects.
//!
//! Its actor belongs to no device and records no user. The server admits it because it
//! recomputes it ([`is_upgrade`]): a change by such an actor that is not exactly the upgrade
//! is refused like any foreign actor's, and a change of a writer that creates one of these
//! containers itself is refused (`admission::admit`).

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, Change, ChangeHash, ObjId, ObjType, ReadDoc, ROOT};

use crate::error::{Error, Result};
use crate::schema::{self, Field, Kind, CASE, SCHEMA_REVISION};

/// What every upgrade actor starts with (the revision and the case's first change follow).
const ACTOR_PREFIX: &[u8] = b"fieldcase-upgrade";

/// The message of an upgrade change.
pub fn upgrade_message(revision: u32) -> String {
    format!("upgrade to schema revision {revision}")
}

/// The actor of the change that upgrades the case whose first change is `root` to
/// `revision`: the prefix, the revision (4 bytes, big-endian) and the first change's hash.
pub fn upgrade_actor(revision: u32, root: &ChangeHash) -> ActorId {
    let mut bytes = ACTOR_PREFIX.to_vec();
    bytes.extend_from_slice(&revision.to_be_bytes());
    bytes.extend_from_slice(&root.0);
    ActorId::from(bytes)
}

/// The revision an actor upgrades to, if it is an upgrade actor (of any case).
fn revision_of(actor: &ActorId) -> Option<u32> {
    let bytes = actor.to_bytes();
    let rest = bytes.strip_prefix(ACTOR_PREFIX)?;
    if rest.len() != 4 + 32 {
        return None;
    }
    Some(u32::from_be_bytes(rest[..4].try_into().ok()?))
}

/// Whether `actor` (hex) is shaped like an upgrade actor (whether its changes are the
/// upgrade is [`is_upgrade`]'s to say).
pub fn is_upgrade_actor(actor: &ActorId) -> bool {
    revision_of(actor).is_some()
}

/// The containers `revision` added to the maps a case has from its creation: the path of
/// the map holding each, and its field. Containers added inside a map of the same revision
/// come with that map (scaffolded).
pub fn added_containers(revision: u32) -> Vec<(Vec<&'static str>, &'static Field)> {
    fn walk(
        fields: &'static [Field],
        at: &mut Vec<&'static str>,
        revision: u32,
        out: &mut Vec<(Vec<&'static str>, &'static Field)>,
    ) {
        for f in fields {
            if f.since == revision && is_container(&f.kind) {
                out.push((at.clone(), f));
            } else if f.since < revision {
                if let Kind::Map(sub) = &f.kind {
                    at.push(f.name);
                    walk(sub, at, revision, out);
                    at.pop();
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(CASE, &mut Vec::new(), revision, &mut out);
    out
}

fn is_container(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Map(_)
            | Kind::Text
            | Kind::StrList
            | Kind::EnumList(_)
            | Kind::Entries(_)
            | Kind::Dict(_)
    )
}

/// The map at `path` (map keys from the root), if there is one.
fn map_at<R: ReadDoc>(doc: &R, path: &[&str]) -> Option<ObjId> {
    let mut obj = ROOT;
    for key in path {
        obj = schema::get_obj(doc, &obj, key)?;
    }
    Some(obj)
}

/// Whether the document holds none of the containers `revision` added: a case written
/// before it. (A document holding some but not all was upgraded by a development build that
/// created them one by one; it is left as it is, and the missing ones are created by the
/// first edit that needs them.)
pub fn lacks_revision<R: ReadDoc>(doc: &R, revision: u32) -> bool {
    let added = added_containers(revision);
    !added.is_empty()
        && added.iter().all(|(path, f)| {
            map_at(doc, path).is_some_and(|m| schema::get_obj(doc, &m, f.name).is_none())
        })
}

/// The case's first change: the one change without dependencies.
fn root_change(doc: &Automerge) -> Result<ChangeHash> {
    let mut roots = doc
        .get_changes_meta(&[])
        .into_iter()
        .filter(|m| m.deps.is_empty())
        .map(|m| m.hash);
    match (roots.next(), roots.next()) {
        (Some(root), None) => Ok(root),
        _ => Err(Error::invalid(
            "",
            "a case document has exactly one first change",
        )),
    }
}

/// The change that upgrades the case whose first change is `root` to `revision`, made on
/// the document as it was then; `None` when that first change already holds the revision's
/// containers (a case created by a version that knew them).
fn upgrade_change_at(doc: &Automerge, root: ChangeHash, revision: u32) -> Result<Option<Change>> {
    let mut then = doc.fork_at(&[root])?;
    if !lacks_revision(&then, revision) {
        return Ok(None);
    }
    then.set_actor(upgrade_actor(revision, &root));
    let opts = CommitOptions::default()
        .with_message(upgrade_message(revision))
        .with_time(0);
    let made = then.transact_with(
        |_| opts,
        |tx| -> Result<()> {
            for (path, f) in added_containers(revision) {
                let parent = map_at(tx, &path).ok_or_else(|| {
                    Error::invalid(path.join("/"), "the case's first change lacks this map")
                })?;
                match &f.kind {
                    Kind::Map(sub) => {
                        let obj = tx.put_object(&parent, f.name, ObjType::Map)?;
                        schema::scaffold(tx, &obj, sub)?;
                    }
                    Kind::Text => {
                        tx.put_object(&parent, f.name, ObjType::Text)?;
                    }
                    Kind::Dict(_) => {
                        tx.put_object(&parent, f.name, ObjType::Map)?;
                    }
                    _ => {
                        tx.put_object(&parent, f.name, ObjType::List)?;
                    }
                }
            }
            Ok(())
        },
    );
    if let Err(failure) = made {
        return Err(failure.error);
    }
    Ok(then.get_last_local_change())
}

/// Brings `doc` to [`SCHEMA_REVISION`] when it was written before: applies each missing
/// revision's upgrade change. Returns whether anything was applied.
pub(crate) fn upgrade(doc: &mut Automerge) -> Result<bool> {
    let mut applied = false;
    for revision in 2..=SCHEMA_REVISION {
        if !lacks_revision(doc, revision) {
            continue;
        }
        let root = root_change(doc)?;
        if let Some(change) = upgrade_change_at(doc, root, revision)? {
            doc.apply_changes([change])?;
            applied = true;
        }
    }
    Ok(applied)
}

/// Whether `doc` (the document the change was applied to, or is about to be) needs an
/// upgrade before an edit.
pub(crate) fn needs_upgrade(doc: &Automerge) -> bool {
    (2..=SCHEMA_REVISION).any(|r| lacks_revision(doc, r))
}

/// Whether `change` is exactly the upgrade of the case in `doc` (which holds the change's
/// dependency) to some revision: its actor is an upgrade actor, it depends on the case's
/// first change only, and recomputing the upgrade there gives the same change.
pub fn is_upgrade(doc: &Automerge, change: &Change) -> bool {
    let Some(revision) = revision_of(change.actor_id()) else {
        return false;
    };
    let [root] = change.deps() else {
        return false;
    };
    if !(2..=SCHEMA_REVISION).contains(&revision)
        || change.actor_id() != &upgrade_actor(revision, root)
        || !doc
            .get_change_meta_by_hash(root)
            .is_some_and(|m| m.deps.is_empty())
    {
        return false;
    }
    matches!(
        upgrade_change_at(doc, *root, revision),
        Ok(Some(expected)) if expected.hash() == change.hash()
    )
}

/// The changes among `changes` that are not upgrades ([`is_upgrade`]): the writer's own.
pub fn writers_changes<'a>(doc: &Automerge, changes: &'a [Change]) -> Vec<&'a Change> {
    changes
        .iter()
        .filter(|c| !(is_upgrade_actor(c.actor_id()) && is_upgrade(doc, c)))
        .collect()
}

/// The first container a later revision added that one of `changes` (the new changes of
/// `doc`) created itself, other than by the case's creation or the revision's upgrade: two
/// replicas doing that would hide one side's contents behind a conflict. Its path.
pub fn created_outside_upgrade(doc: &Automerge, changes: &[Change]) -> Option<String> {
    for revision in 2..=SCHEMA_REVISION {
        for (path, f) in added_containers(revision) {
            let Some(parent) = map_at(doc, &path) else {
                continue;
            };
            for (_, id) in doc.get_all(&parent, f.name).unwrap_or_default() {
                let Some(hash) = doc.hash_for_opid(&id) else {
                    continue;
                };
                let Some(change) = changes.iter().find(|c| c.hash() == hash) else {
                    continue;
                };
                if !change.deps().is_empty() && !is_upgrade(doc, change) {
                    let mut p = path.clone();
                    p.push(f.name);
                    return Some(p.join("/"));
                }
            }
        }
    }
    None
}

/// The containers a revision after the first added inside list entries: each exists only
/// on the entries made under its revision, created in the change that creates its entry
/// (an entry made earlier never gets one, so no two replicas can create it at once).
fn containers_inside_entries() -> Vec<&'static str> {
    fn walk(fields: &'static [Field], inside: bool, out: &mut Vec<&'static str>) {
        for f in fields {
            if inside && f.since > 1 && is_container(&f.kind) {
                out.push(f.name);
            }
            match &f.kind {
                Kind::Map(sub) => walk(sub, inside, out),
                Kind::Entries(sub) => walk(sub, true, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(CASE, false, &mut out);
    out
}

/// A container added inside entries by a later revision ([`containers_inside_entries`])
/// that one of `changes` creates on an entry made by another change: its name, if any.
pub fn added_to_older_entry(doc: &Automerge, changes: &[Change]) -> Option<String> {
    use automerge::legacy::{Key, ObjectId, OpType};
    let names = containers_inside_entries();
    for change in changes {
        for op in &super::decoded::ops(change).operations {
            let (Key::Map(k), OpType::Make(_)) = (&op.key, &op.action) else {
                continue;
            };
            if !names.contains(&k.as_str()) || matches!(op.obj, ObjectId::Root) {
                continue;
            }
            let made_with_entry = doc
                .import(&op.obj.to_string())
                .ok()
                .and_then(|(entry, _)| doc.hash_for_opid(&entry))
                == Some(change.hash());
            if !made_with_entry {
                return Some(k.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_two_adds_safety_and_plan_versions_in_maps_every_case_has() {
        let added: Vec<String> = added_containers(2)
            .iter()
            .map(|(p, f)| {
                let mut p = p.clone();
                p.push(f.name);
                p.join("/")
            })
            .collect();
        assert_eq!(added, ["safety", "plan/versions"]);
        assert!(added_containers(1).iter().all(|(_, f)| f.since == 1));
    }

    /// A container a later revision adds inside a list's entries could not be created by
    /// one change made at the case's creation: a revision adds scalars there (as revision 2
    /// did to reviews), or containers that come only with entries made under it (a
    /// referral's `steps`, refused on an older entry by [`added_to_older_entry`]). This
    /// lists them, so that a new one is a decision.
    #[test]
    fn the_containers_added_inside_entries_are_known() {
        assert_eq!(containers_inside_entries(), ["steps"]);
    }

    #[test]
    fn upgrade_actors_say_their_revision() {
        let root = ChangeHash([7; 32]);
        let a = upgrade_actor(2, &root);
        assert_eq!(revision_of(&a), Some(2));
        assert!(is_upgrade_actor(&a));
        assert!(!is_upgrade_actor(&ActorId::random()));
    }
}
