//! One pass over a case document: its JSON (optionally without narrative texts, which hold
//! most of a case's operations but nothing an index needs) and the places where concurrent
//! values sit. Iterates with `map_range`/`list_range` rather than a `get` per key.

use automerge::{Automerge, ObjId, ObjType, Prop, ReadDoc, ScalarValueRef, ValueRef};
use serde_json::{Map, Value as Json};

/// A map key or list slot holding more than one value.
#[derive(Debug, Clone)]
pub(crate) struct ConflictSite {
    pub(crate) path: String,
    /// The case's own key it sits under (the first step of `path`, which a key holding `/`
    /// would make ambiguous).
    pub(crate) section: String,
    pub(crate) obj: ObjId,
    pub(crate) prop: Prop,
}

pub(crate) struct Walk<'a> {
    doc: &'a Automerge,
    with_text: bool,
    pub(crate) sites: Vec<ConflictSite>,
    /// The case's own key being walked.
    section: String,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(doc: &'a Automerge, with_text: bool) -> Self {
        Walk {
            doc,
            with_text,
            sites: Vec::new(),
            section: String::new(),
        }
    }

    /// JSON of the whole document from its root.
    pub(crate) fn root(&mut self) -> Json {
        self.map(&automerge::ROOT, "")
    }

    /// JSON of the root's `keys` only (a part of the document, for a check that reads
    /// only these); `plan` is read as its `approval` alone.
    pub(crate) fn root_keys(&mut self, keys: &[&str]) -> Json {
        let mut out = Map::new();
        let doc = self.doc;
        for item in doc.map_range(automerge::ROOT, ..) {
            let key = item.key.to_string();
            if !keys.contains(&key.as_str()) {
                continue;
            }
            self.section = key.clone();
            let v = match item.value {
                ValueRef::Scalar(s) => scalar(&s),
                ValueRef::Object(ObjType::Map) if key == "plan" => {
                    let mut plan = Map::new();
                    for sub in doc.map_range(item.id(), ..) {
                        if sub.key.as_ref() != "approval" {
                            continue;
                        }
                        if let ValueRef::Object(t) = sub.value {
                            let approval = self.object(t, &sub.id(), "plan/approval");
                            plan.insert("approval".into(), approval);
                        }
                    }
                    Json::Object(plan)
                }
                ValueRef::Object(t) => self.object(t, &item.id(), &key),
            };
            out.insert(key, v);
        }
        Json::Object(out)
    }

    /// JSON of the root's keys among `sections` only (those present), with the places
    /// where concurrent values sit under them: what [`crate::case::Outline::grown`] reads
    /// again of a case after a write.
    pub(crate) fn sections(&mut self, sections: &std::collections::BTreeSet<String>) -> Json {
        self.map_of(&automerge::ROOT, "", Some(sections))
    }

    fn map(&mut self, obj: &ObjId, path: &str) -> Json {
        self.map_of(obj, path, None)
    }

    fn map_of(
        &mut self,
        obj: &ObjId,
        path: &str,
        only: Option<&std::collections::BTreeSet<String>>,
    ) -> Json {
        let mut out = Map::new();
        let doc = self.doc;
        for item in doc.map_range(obj, ..) {
            if only.is_some_and(|keys| !keys.contains(item.key.as_ref())) {
                continue;
            }
            let key = item.key.to_string();
            let p = if path.is_empty() {
                self.section = key.clone();
                key.clone()
            } else {
                format!("{path}/{key}")
            };
            if item.conflict {
                self.sites.push(ConflictSite {
                    path: p.clone(),
                    section: self.section.clone(),
                    obj: obj.clone(),
                    prop: Prop::Map(key.clone()),
                });
            }
            let v = match item.value {
                ValueRef::Scalar(s) => scalar(&s),
                ValueRef::Object(t) => self.object(t, &item.id(), &p),
            };
            out.insert(key, v);
        }
        Json::Object(out)
    }

    fn list(&mut self, obj: &ObjId, path: &str) -> Json {
        let mut out = Vec::new();
        let doc = self.doc;
        for item in doc.list_range(obj, ..) {
            let v = match item.value {
                ValueRef::Scalar(s) => {
                    if item.conflict {
                        let p = format!("{path}/{}", item.index);
                        self.sites.push(ConflictSite {
                            path: p,
                            section: self.section.clone(),
                            obj: obj.clone(),
                            prop: Prop::Seq(item.index),
                        });
                    }
                    scalar(&s)
                }
                ValueRef::Object(t) => {
                    let id = item.id();
                    // Entries are addressed by their id, not their index.
                    let seg = match t {
                        ObjType::Map => crate::schema::get_str(doc, &id, "id")
                            .unwrap_or_else(|| item.index.to_string()),
                        _ => item.index.to_string(),
                    };
                    let p = format!("{path}/{seg}");
                    if item.conflict {
                        self.sites.push(ConflictSite {
                            path: p.clone(),
                            section: self.section.clone(),
                            obj: obj.clone(),
                            prop: Prop::Seq(item.index),
                        });
                    }
                    self.object(t, &id, &p)
                }
            };
            out.push(v);
        }
        Json::Array(out)
    }

    fn object(&mut self, t: ObjType, id: &ObjId, path: &str) -> Json {
        match t {
            ObjType::Map | ObjType::Table => self.map(id, path),
            ObjType::List => self.list(id, path),
            ObjType::Text if self.with_text => Json::String(self.doc.text(id).unwrap_or_default()),
            ObjType::Text => Json::String(String::new()),
        }
    }
}

/// A scalar as JSON (bytes, which the schema never holds, become an array of numbers).
pub(crate) fn scalar(s: &ScalarValueRef<'_>) -> Json {
    match s {
        ScalarValueRef::Str(s) => Json::String(s.to_string()),
        ScalarValueRef::Int(i) | ScalarValueRef::Counter(i) | ScalarValueRef::Timestamp(i) => {
            Json::from(*i)
        }
        ScalarValueRef::Uint(u) => Json::from(*u),
        ScalarValueRef::F64(f) => Json::from(*f),
        ScalarValueRef::Boolean(b) => Json::Bool(*b),
        ScalarValueRef::Bytes(b) => Json::from(b.to_vec()),
        ScalarValueRef::Null | ScalarValueRef::Unknown { .. } => Json::Null,
    }
}
