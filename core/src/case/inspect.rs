//! What the merge did: fields holding concurrent values (conflicts) and who changed a field
//! when (history).
//!
//! When two phones set the same scalar field while apart, Automerge keeps both values; one
//! wins deterministically (the same on every replica) and is what the case shows. The
//! other is not lost: [`conflicts`] lists every such field with each value, who set it
//! (actor → device → user, from the document's `actors` map) and when. Resolving a conflict
//! is a normal edit (`CaseDoc::set_field` with the chosen value), which supersedes both.

use std::collections::{BTreeMap, HashMap};

use automerge::legacy::{Key as LegacyKey, ObjectId as LegacyObj, OpType};
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::case::walk::{ConflictSite, Walk};
use crate::case::{rfc3339, ActorInfo, CaseDoc};
use crate::error::{Error, Result};
use crate::schema::{self, Kind};

/// A JSON value (a field's value in a conflict or in history); crosses the FFI as JSON text.
pub type JsonValue = Json;

#[cfg(feature = "uniffi")]
uniffi::custom_type!(JsonValue, String, {
    remote,
    lower: |value| value.to_string(),
    try_lift: |text| Ok(serde_json::from_str(&text)?),
});

/// A number of things (characters, cases); crosses the FFI as an unsigned 64-bit integer.
pub type Count = usize;

#[cfg(feature = "uniffi")]
uniffi::custom_type!(Count, u64, {
    remote,
    lower: |n| n as u64,
    try_lift: |n| Ok(usize::try_from(n)?),
});

/// Who made a change, resolved from its actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Attribution {
    /// The Automerge actor id (hex).
    pub actor: String,
    /// The user the actor writes for, if the document records it.
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub device_id: Option<String>,
    /// When the change was made (RFC 3339, from the change's timestamp).
    pub at: String,
    /// The change's hash (hex).
    pub change: String,
}

/// One of the values a conflicting field holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ConflictValue {
    pub value: JsonValue,
    /// Whether this is the value the case shows (the same on every replica).
    pub winner: bool,
    pub by: Attribution,
}

/// A field that two or more people set to different values concurrently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Conflict {
    /// Field path, with entry ids inside lists (e.g. `visits/<id>/kind`).
    pub path: String,
    pub values: Vec<ConflictValue>,
}

/// One change to a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FieldChange {
    pub by: Attribution,
    /// The action that made the change (e.g. `add visits`, `set client/name`).
    pub message: Option<String>,
    /// For a scalar field: the value written (null when cleared).
    pub value: Option<JsonValue>,
    /// For a text or list: characters or items inserted and deleted by this change.
    pub inserted: Count,
    pub deleted: Count,
}

/// Resolves actors to the users and devices the document records for them.
struct Attributor<'a> {
    doc: &'a automerge::Automerge,
    actors: std::borrow::Cow<'a, ActorMap>,
}

/// Each actor (hex) and what it recorded of itself.
type ActorMap = HashMap<String, ActorRecord>;

/// What the document's `actors` map says about one actor: user id, name, device id.
type ActorRecord = (Option<String>, Option<String>, Option<String>);

/// Who each actor writes for, as that actor itself recorded it in the document's `actors`
/// map. An entry counts only where the actor it is filed under wrote it (the entry and
/// each of its fields): a device cannot put its words in a colleague's name by filing an
/// entry under the colleague's actor, nor rewrite who wrote a colleague's changes. Where
/// another actor overwrote an actor's own entry, that actor is not attributed at all.
pub fn actor_records<R: ReadDoc>(doc: &R) -> BTreeMap<String, ActorInfo> {
    let mut out = BTreeMap::new();
    if let Some(map) = schema::get_obj(doc, &ROOT, "actors") {
        for key in doc.keys(&map) {
            if let Some(info) = own_record(doc, &map, &key) {
                out.insert(key, info);
            }
        }
    }
    out
}

/// Whether `writer` (hex) wrote any current part of an entry of `actors` filed under
/// another actor: what the server refuses, since only an actor may record itself.
pub fn writes_foreign_actor_entry<R: ReadDoc>(doc: &R, writer: &str) -> bool {
    let Some(map) = schema::get_obj(doc, &ROOT, "actors") else {
        return false;
    };
    doc.keys(&map).filter(|k| k != writer).any(|key| {
        doc.get_all(&map, &key)
            .unwrap_or_default()
            .iter()
            .any(|(v, entry)| {
                written_by(entry, writer)
                    || (matches!(v, Value::Object(ObjType::Map))
                        && doc.keys(entry).any(|f| {
                            doc.get_all(entry, &f)
                                .unwrap_or_default()
                                .iter()
                                .any(|(_, id)| written_by(id, writer))
                        }))
            })
    })
}

/// Whether the op behind `id` was made by `actor` (hex).
pub(crate) fn written_by(id: &ObjId, actor: &str) -> bool {
    matches!(id, ObjId::Id(_, a, _) if a.to_hex_string() == actor)
}

/// The latest of the current values at `obj`/`key` that `actor` wrote.
fn own_value<'a, R: ReadDoc>(
    doc: &'a R,
    obj: &ObjId,
    key: &str,
    actor: &str,
) -> Option<(Value<'a>, ObjId)> {
    doc.get_all(obj, key)
        .ok()?
        .into_iter()
        .filter(|(_, id)| written_by(id, actor))
        .max_by_key(|(_, id)| match id {
            ObjId::Id(counter, _, _) => *counter,
            ObjId::Root => 0,
        })
}

fn own_record<R: ReadDoc>(doc: &R, map: &ObjId, actor: &str) -> Option<ActorInfo> {
    let (Value::Object(ObjType::Map), entry) = own_value(doc, map, actor, actor)? else {
        return None;
    };
    let field = |name: &str| match own_value(doc, &entry, name, actor) {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    };
    Some(ActorInfo {
        user_id: field("user_id")?,
        device_id: field("device_id").unwrap_or_default(),
        name: field("name").unwrap_or_default(),
    })
}

fn actor_map(doc: &automerge::Automerge) -> ActorMap {
    let some = |s: String| Some(s).filter(|s| !s.is_empty());
    actor_records(doc)
        .into_iter()
        .map(|(k, a)| (k, (some(a.user_id), some(a.name), some(a.device_id))))
        .collect()
}

impl<'a> Attributor<'a> {
    fn new(doc: &'a automerge::Automerge) -> Self {
        Attributor {
            doc,
            actors: std::borrow::Cow::Owned(actor_map(doc)),
        }
    }

    /// With the actors already read (see [`Bylines`]).
    fn with(doc: &'a automerge::Automerge, actors: &'a ActorMap) -> Self {
        Attributor {
            doc,
            actors: std::borrow::Cow::Borrowed(actors),
        }
    }

    fn of_change(&self, actor: &str, timestamp_s: i64, hash: String) -> Attribution {
        let (user_id, user_name, device_id) = self.actors.get(actor).cloned().unwrap_or_default();
        Attribution {
            actor: actor.to_string(),
            user_id,
            user_name,
            device_id,
            at: rfc3339(timestamp_s.saturating_mul(1000)),
            change: hash,
        }
    }

    fn of_op(&self, op: &ObjId) -> Option<Attribution> {
        let hash = self.doc.hash_for_opid(op)?;
        let meta = self.doc.get_change_meta_by_hash(&hash)?;
        Some(self.of_change(
            &meta.actor.to_hex_string(),
            meta.timestamp,
            hash.to_string(),
        ))
    }
}

fn value_json(doc: &automerge::Automerge, value: &Value<'_>, id: &ObjId) -> Json {
    match value {
        Value::Scalar(s) => scalar_json(s.as_ref()),
        Value::Object(ObjType::Text) => Json::String(doc.text(id).unwrap_or_default()),
        // Two objects at one key are two different values even when they look alike: one
        // of them hides the other's contents, which the supervisor must see.
        Value::Object(t) => Json::String(format!("<{t:?} {id}>")),
    }
}

fn scalar_json(s: &ScalarValue) -> Json {
    match s {
        ScalarValue::Null => Json::Null,
        other => serde_json::to_value(other).unwrap_or(Json::Null),
    }
}

/// Every field of the case holding concurrent, different values.
pub fn conflicts(case: &CaseDoc) -> Vec<Conflict> {
    let doc = case.automerge();
    let mut w = Walk::new(doc, false);
    w.root();
    if w.sites.is_empty() {
        return Vec::new();
    }
    let attr = Attributor::new(doc);
    w.sites
        .iter()
        .filter_map(|site| conflict_at(doc, &attr, site))
        .collect()
}

/// Whether the concurrent values at `site` differ (the same value set twice is no
/// disagreement).
pub(crate) fn disagrees(doc: &automerge::Automerge, site: &ConflictSite) -> bool {
    let all = doc
        .get_all(&site.obj, site.prop.clone())
        .unwrap_or_default();
    let values: Vec<Json> = all.iter().map(|(v, id)| value_json(doc, v, id)).collect();
    values.windows(2).any(|w| w[0] != w[1])
}

fn conflict_at(
    doc: &automerge::Automerge,
    attr: &Attributor<'_>,
    site: &ConflictSite,
) -> Option<Conflict> {
    let all = doc.get_all(&site.obj, site.prop.clone()).ok()?;
    if all.len() < 2 {
        return None;
    }
    let winner = doc
        .get(&site.obj, site.prop.clone())
        .ok()
        .flatten()
        .map(|(_, id)| id);
    let values: Vec<ConflictValue> = all
        .iter()
        .map(|(v, id)| ConflictValue {
            value: value_json(doc, v, id),
            winner: Some(id) == winner.as_ref(),
            by: attr
                .of_op(id)
                .unwrap_or_else(|| attr.of_change("", 0, String::new())),
        })
        .collect();
    if values.iter().all(|v| v.value == values[0].value) {
        return None; // the same value set twice is not a disagreement
    }
    Some(Conflict {
        path: site.path.clone(),
        values,
    })
}

/// Who changed the field at `path` when, oldest first. For a scalar, each value written;
/// for a narrative text or a list, how much each change inserted and deleted.
pub fn history(case: &CaseDoc, path: &str) -> Result<Vec<FieldChange>> {
    let doc = case.automerge();
    let r = schema::resolve(doc, path)?;
    let target_obj = match r.field.kind {
        Kind::Text
        | Kind::StrList
        | Kind::EnumList(_)
        | Kind::Entries(_)
        | Kind::Map(_)
        | Kind::Dict(_) => {
            Some(schema::get_obj(doc, &r.obj, &r.key).ok_or_else(|| Error::NotFound(path.into()))?)
        }
        _ => None,
    };
    let parent = legacy(&r.obj);
    let target = target_obj.as_ref().map(legacy);
    let attr = Attributor::new(doc);
    let mut out = Vec::new();
    for change in doc.get_changes(&[]) {
        let expanded = change.decode();
        let mut entry: Option<FieldChange> = None;
        for op in &expanded.operations {
            let on_key =
                op.obj == parent && matches!(&op.key, LegacyKey::Map(k) if k.as_str() == r.key);
            let inside = target.as_ref() == Some(&op.obj);
            if !on_key && !inside {
                continue;
            }
            let e = entry.get_or_insert_with(|| FieldChange {
                by: attr.of_change(
                    &change.actor_id().to_hex_string(),
                    change.timestamp(),
                    change.hash().to_string(),
                ),
                message: change.message().map(str::to_string),
                value: None,
                inserted: 0,
                deleted: 0,
            });
            match (&op.action, on_key) {
                (OpType::Put(v), true) => e.value = Some(scalar_json(v)),
                (OpType::Delete, true) => e.value = Some(Json::Null),
                (OpType::Make(_), true) => {}
                (OpType::Delete, false) => e.deleted += 1,
                (_, false) if op.insert => e.inserted += 1,
                _ => {}
            }
        }
        if let Some(e) = entry {
            out.push(e);
        }
    }
    Ok(out)
}

/// Who last wrote the field at `path` and when: for a scalar, the change that set the
/// value the case shows; for a text, list or map, the latest change inside it (the last
/// edit of a note, deletions included), else the change that made it. `None` for a field
/// never written. For many fields of one case, build [`Bylines`] once instead.
pub fn last_change(case: &CaseDoc, path: &str) -> Option<Attribution> {
    Bylines::of(case).last_change(case, path)
}

/// The latest change inside every text, list and map of a case, from one pass over its
/// history: what [`last_change`] needs for fields that are edited in place.
#[derive(Debug, Default)]
pub struct Bylines {
    /// Object (its creating op: counter and actor) → the latest change that wrote inside it.
    inside: HashMap<(u64, automerge::ActorId), Attribution>,
    actors: ActorMap,
    changes: usize,
}

impl Bylines {
    /// One pass over the case's changes (in causal order; among concurrent changes the
    /// one applied last here wins, the same on every replica).
    pub fn of(case: &CaseDoc) -> Self {
        let doc = case.automerge();
        let actors = actor_map(doc);
        let attr = Attributor::with(doc, &actors);
        let mut inside = HashMap::new();
        let all = doc.get_changes(&[]);
        let changes = all.len();
        for change in all {
            let expanded = change.decode();
            let mut touched: Vec<(u64, automerge::ActorId)> = expanded
                .operations
                .iter()
                .filter_map(|op| match &op.obj {
                    LegacyObj::Id(automerge::legacy::OpId(ctr, actor)) => {
                        Some((*ctr, actor.clone()))
                    }
                    LegacyObj::Root => None,
                })
                .collect();
            if touched.is_empty() {
                continue;
            }
            touched.sort();
            touched.dedup();
            let by = attr.of_change(
                &change.actor_id().to_hex_string(),
                change.timestamp(),
                change.hash().to_string(),
            );
            for obj in touched {
                inside.insert(obj, by.clone());
            }
        }
        Bylines {
            inside,
            actors,
            changes,
        }
    }

    /// How many changes the case's history holds.
    pub fn changes(&self) -> usize {
        self.changes
    }

    /// [`last_change`] of the field at `path`, with these bylines.
    pub fn last_change(&self, case: &CaseDoc, path: &str) -> Option<Attribution> {
        let doc = case.automerge();
        let r = schema::resolve(doc, path).ok()?;
        let (value, op) = doc.get(&r.obj, r.key.as_str()).ok().flatten()?;
        if let (Value::Object(_), ObjId::Id(ctr, actor, _)) = (&value, &op) {
            if let Some(by) = self.inside.get(&(*ctr, actor.clone())) {
                return Some(by.clone());
            }
        }
        Attributor::with(doc, &self.actors).of_op(&op)
    }
}

fn legacy(obj: &ObjId) -> LegacyObj {
    match obj {
        ObjId::Root => LegacyObj::Root,
        ObjId::Id(ctr, actor, _) => LegacyObj::Id(automerge::legacy::OpId(*ctr, actor.clone())),
    }
}
