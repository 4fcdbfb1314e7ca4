//! Import and export of the directory as an HSDS 3.0 data package (Open Referral's Human
//! Services Data Specification, serialised as a Frictionless tabular data package).
//!
//! The tabular form is `datapackage.json` plus one CSV per table ([`TABLES`]:
//! `organization`, `service`, `location`, `address`, `service_at_location`, `phone`,
//! `contact`, `language`, `service_area`, `taxonomy`, `taxonomy_term`, `attribute`), with
//! HSDS's table and column names. The JSON form is the same package with each
//! resource's rows inline (`"data": [...]` instead of `"path"`), one JSON file. (The
//! nested service objects of the HSDS API are not read or written.)
//!
//! What HSDS has no column for travels as `attribute` rows pointing at terms of our own
//! taxonomies, recognised on import by their `uri`:
//! - [`LIFE_DOMAIN_URI`]: a term's life domains (`link_entity` `taxonomy_term`, the
//!   `link_id` the term mapped; our term's `code` is the domain's code);
//! - [`NAME_URI`]: an entry's name in another language (`link_entity` `service`,
//!   `organization` or `location`; the term's `language` is the language, the
//!   attribute's `value` the name);
//! - [`GENDER_URI`]: a gender a service is open to (`link_type` `eligibility`, the term's
//!   `code` one of our genders).
//!
//! These taxonomies are written by an export and read back by an import; they do not
//! become terms of the directory. An import of a package written elsewhere needs none
//! of them.
//!
//! An import is all or nothing: it reads every file, checks every row and then the whole
//! directory ([`Directory::check`]); any refusal (with its file, line and reason) leaves
//! the directory as it was. What it would add, change and remove is reported either way.
//! Tables and columns HSDS has and we do not keep (`schedule`, `program`, `funding`...)
//! are listed as not kept, never silently dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    Address, Directory, DirectoryProblem, Eligibility, Language, LocalName, Location, NamedContact,
    Organization, Phone, Service, ServiceAtLocation, ServiceStatus, Taxonomy, TaxonomyTerm,
};
use crate::error::printable;

/// The tables of a package this version reads and writes.
pub const TABLES: &[&str] = &[
    "organization",
    "service",
    "location",
    "address",
    "service_at_location",
    "phone",
    "contact",
    "language",
    "service_area",
    "taxonomy",
    "taxonomy_term",
    "attribute",
];

/// The largest file of a package (a CSV, `datapackage.json`, or the JSON form) read, in
/// bytes. The server's `directory.max_import_bytes` can lower it.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The most rows one table may have.
pub const MAX_ROWS: usize = 500_000;
/// The most refusals an import reports (it stops reading after that many).
pub const MAX_REFUSALS: usize = 1_000;

/// The taxonomy of life domains (ours).
pub const LIFE_DOMAIN_URI: &str = "urn:fieldcase:taxonomy:life-domain";
/// The taxonomy of names in other languages (ours).
pub const NAME_URI: &str = "urn:fieldcase:taxonomy:name";
/// The taxonomy of genders a service is open to (ours).
pub const GENDER_URI: &str = "urn:fieldcase:taxonomy:gender";

/// The columns this version writes, per table (HSDS 3.0's names). On import the
/// required ones must be present; other HSDS columns are listed as not kept.
const COLUMNS: &[(&str, &[&str], &[&str])] = &[
    (
        "organization",
        &[
            "id",
            "name",
            "alternate_name",
            "description",
            "email",
            "website",
        ],
        &["id", "name"],
    ),
    (
        "service",
        &[
            "id",
            "organization_id",
            "name",
            "alternate_name",
            "description",
            "url",
            "email",
            "status",
            "eligibility_description",
            "minimum_age",
            "maximum_age",
        ],
        &["id", "organization_id", "name", "status"],
    ),
    (
        "location",
        &[
            "id",
            "location_type",
            "url",
            "organization_id",
            "name",
            "alternate_name",
            "description",
        ],
        &["id", "location_type"],
    ),
    (
        "address",
        &[
            "id",
            "location_id",
            "attention",
            "address_1",
            "address_2",
            "city",
            "region",
            "state_province",
            "postal_code",
            "country",
            "address_type",
        ],
        &[
            "id",
            "location_id",
            "address_1",
            "city",
            "country",
            "address_type",
        ],
    ),
    (
        "service_at_location",
        &["id", "service_id", "location_id"],
        &["id", "service_id", "location_id"],
    ),
    (
        "phone",
        &[
            "id",
            "location_id",
            "service_id",
            "organization_id",
            "contact_id",
            "service_at_location_id",
            "number",
            "extension",
            "type",
            "description",
        ],
        &["id", "number"],
    ),
    (
        "contact",
        &[
            "id",
            "organization_id",
            "service_id",
            "service_at_location_id",
            "location_id",
            "name",
            "title",
            "department",
            "email",
        ],
        &["id"],
    ),
    (
        "language",
        &[
            "id",
            "service_id",
            "location_id",
            "phone_id",
            "name",
            "code",
        ],
        &["id"],
    ),
    (
        "service_area",
        &[
            "id",
            "service_id",
            "service_at_location_id",
            "name",
            "description",
        ],
        &["id"],
    ),
    (
        "taxonomy",
        &["id", "name", "description", "uri", "version"],
        &["id", "name"],
    ),
    (
        "taxonomy_term",
        &[
            "id",
            "code",
            "name",
            "description",
            "parent_id",
            "taxonomy_id",
            "language",
        ],
        &["id", "name"],
    ),
    (
        "attribute",
        &[
            "id",
            "link_id",
            "taxonomy_term_id",
            "link_type",
            "link_entity",
            "value",
            "label",
        ],
        &["id", "link_id", "taxonomy_term_id", "link_entity"],
    ),
];

fn columns(table: &str) -> (&'static [&'static str], &'static [&'static str]) {
    COLUMNS
        .iter()
        .find(|(t, _, _)| *t == table)
        .map(|(_, all, required)| (*all, *required))
        .unwrap_or((&[], &[]))
}

/// A data package in memory: its files by name (`datapackage.json` and the CSVs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    pub files: BTreeMap<String, Vec<u8>>,
}

/// An entry of the directory, named by its table and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryRef {
    pub table: String,
    pub id: String,
}

/// A row (or file) refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Refused {
    pub file: String,
    /// The line in the file (the header is line 1; 0 for the file as a whole).
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", printable(&self.file), self.reason)
        } else {
            write!(
                f,
                "{}, line {}: {}",
                printable(&self.file),
                self.line,
                self.reason
            )
        }
    }
}

/// What an import did, or would have done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub added: Vec<EntryRef>,
    pub changed: Vec<EntryRef>,
    pub removed: Vec<EntryRef>,
    /// Why the import was refused; empty when it was applied.
    pub refused: Vec<Refused>,
    /// HSDS tables and columns of the package that are not kept (`table` or
    /// `table.column`).
    pub not_kept: Vec<String>,
}

impl ImportReport {
    /// How many entries of each table were added, changed and removed, in words.
    pub fn summary(&self) -> String {
        let count = |list: &[EntryRef]| {
            let mut by: BTreeMap<&str, usize> = BTreeMap::new();
            for e in list {
                *by.entry(e.table.as_str()).or_default() += 1;
            }
            if by.is_empty() {
                "nothing".to_owned()
            } else {
                by.iter()
                    .map(|(t, n)| format!("{n} {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        format!(
            "added {}; changed {}; removed {}",
            count(&self.added),
            count(&self.changed),
            count(&self.removed)
        )
    }
}

/// An import's result: the new directory, or the refusals; the report either way.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The directory to store; `None` when anything was refused.
    pub directory: Option<Directory>,
    pub report: ImportReport,
}

// ---------------------------------------------------------------------------------------
// Export

/// A stable UUID-shaped id for rows our model does not name (languages, service areas,
/// attributes, our own taxonomies' terms): the same entry always gets the same id.
fn derived_id(parts: &[&str]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(p.as_bytes());
        ctx.update(&[0]);
    }
    let d = ctx.finish();
    let b = d.as_ref();
    let hex: String = b[..16].iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-5{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn num(v: Option<u32>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

/// Rows of each table, as the export writes them.
fn rows(d: &Directory) -> BTreeMap<&'static str, Vec<Vec<String>>> {
    let mut t: BTreeMap<&'static str, Vec<Vec<String>>> = BTreeMap::new();
    for name in TABLES {
        t.insert(name, Vec::new());
    }
    let mut own_terms: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut attributes: Vec<Vec<String>> = Vec::new();
    let own_term =
        |own: &mut BTreeMap<String, Vec<String>>, taxonomy: &str, code: &str, lang: &str| {
            let id = derived_id(&[taxonomy, code]);
            own.entry(id.clone()).or_insert_with(|| {
                vec![
                    id.clone(),
                    code.to_owned(),
                    code.to_owned(),
                    String::new(),
                    String::new(),
                    derived_id(&[taxonomy]),
                    lang.to_owned(),
                ]
            });
            id
        };
    let name_attrs = |own: &mut BTreeMap<String, Vec<String>>,
                      attributes: &mut Vec<Vec<String>>,
                      entity: &str,
                      id: &str,
                      names: &[LocalName]| {
        for n in names {
            let term = own_term(own, NAME_URI, &format!("name-{}", n.language), &n.language);
            attributes.push(vec![
                derived_id(&[entity, id, "name", &n.language]),
                id.to_owned(),
                term,
                "name".into(),
                entity.into(),
                n.name.clone(),
                String::new(),
            ]);
        }
    };
    let phone_row = |p: &Phone, loc: &str, svc: &str, org: &str, contact: &str| {
        vec![
            p.id.clone(),
            loc.into(),
            svc.into(),
            org.into(),
            contact.into(),
            String::new(),
            p.number.clone(),
            num(p.extension),
            opt(&p.kind),
            opt(&p.description),
        ]
    };
    for o in &d.organizations {
        t.get_mut("organization").unwrap().push(vec![
            o.id.clone(),
            o.name.clone(),
            opt(&o.alternate_name),
            o.description.clone(),
            opt(&o.email),
            opt(&o.website),
        ]);
        name_attrs(
            &mut own_terms,
            &mut attributes,
            "organization",
            &o.id,
            &o.names,
        );
        for p in &o.phones {
            t.get_mut("phone")
                .unwrap()
                .push(phone_row(p, "", "", &o.id, ""));
        }
        for c in &o.contacts {
            t.get_mut("contact").unwrap().push(vec![
                c.id.clone(),
                o.id.clone(),
                String::new(),
                String::new(),
                String::new(),
                opt(&c.name),
                opt(&c.title),
                opt(&c.department),
                opt(&c.email),
            ]);
            for p in &c.phones {
                t.get_mut("phone")
                    .unwrap()
                    .push(phone_row(p, "", "", "", &c.id));
            }
        }
    }
    for l in &d.locations {
        t.get_mut("location").unwrap().push(vec![
            l.id.clone(),
            l.location_type.clone(),
            opt(&l.url),
            opt(&l.organization_id),
            opt(&l.name),
            opt(&l.alternate_name),
            opt(&l.description),
        ]);
        name_attrs(&mut own_terms, &mut attributes, "location", &l.id, &l.names);
        for a in &l.addresses {
            t.get_mut("address").unwrap().push(vec![
                a.id.clone(),
                l.id.clone(),
                opt(&a.attention),
                a.address_1.clone(),
                opt(&a.address_2),
                a.city.clone(),
                opt(&a.region),
                a.state_province.clone(),
                a.postal_code.clone(),
                a.country.clone(),
                a.address_type.clone(),
            ]);
        }
        for p in &l.phones {
            t.get_mut("phone")
                .unwrap()
                .push(phone_row(p, &l.id, "", "", ""));
        }
        for lang in &l.languages {
            t.get_mut("language").unwrap().push(vec![
                derived_id(&["location", &l.id, "language", &lang.code]),
                String::new(),
                l.id.clone(),
                String::new(),
                opt(&lang.name),
                lang.code.clone(),
            ]);
        }
    }
    for s in &d.services {
        let e = &s.eligibility;
        t.get_mut("service").unwrap().push(vec![
            s.id.clone(),
            s.organization_id.clone(),
            s.name.clone(),
            opt(&s.alternate_name),
            opt(&s.description),
            opt(&s.url),
            opt(&s.email),
            s.status.code().to_owned(),
            opt(&e.description),
            num(e.minimum_age),
            num(e.maximum_age),
        ]);
        name_attrs(&mut own_terms, &mut attributes, "service", &s.id, &s.names);
        for g in &e.genders {
            let term = own_term(&mut own_terms, GENDER_URI, g, "");
            attributes.push(vec![
                derived_id(&["service", &s.id, "gender", g]),
                s.id.clone(),
                term,
                "eligibility".into(),
                "service".into(),
                String::new(),
                String::new(),
            ]);
        }
        for a in &e.areas {
            t.get_mut("service_area").unwrap().push(vec![
                derived_id(&["service", &s.id, "area", a]),
                s.id.clone(),
                String::new(),
                a.clone(),
                String::new(),
            ]);
        }
        for lang in &s.languages {
            t.get_mut("language").unwrap().push(vec![
                derived_id(&["service", &s.id, "language", &lang.code]),
                s.id.clone(),
                String::new(),
                String::new(),
                opt(&lang.name),
                lang.code.clone(),
            ]);
        }
        for p in &s.phones {
            t.get_mut("phone")
                .unwrap()
                .push(phone_row(p, "", &s.id, "", ""));
        }
        for c in &s.contacts {
            t.get_mut("contact").unwrap().push(vec![
                c.id.clone(),
                String::new(),
                s.id.clone(),
                String::new(),
                String::new(),
                opt(&c.name),
                opt(&c.title),
                opt(&c.department),
                opt(&c.email),
            ]);
            for p in &c.phones {
                t.get_mut("phone")
                    .unwrap()
                    .push(phone_row(p, "", "", "", &c.id));
            }
        }
        for sal in &s.locations {
            t.get_mut("service_at_location").unwrap().push(vec![
                sal.id.clone(),
                s.id.clone(),
                sal.location_id.clone(),
            ]);
        }
        for term in &s.term_ids {
            attributes.push(vec![
                derived_id(&["service", &s.id, "term", term]),
                s.id.clone(),
                term.clone(),
                String::new(),
                "service".into(),
                String::new(),
                String::new(),
            ]);
        }
    }
    for x in &d.taxonomies {
        t.get_mut("taxonomy").unwrap().push(vec![
            x.id.clone(),
            x.name.clone(),
            x.description.clone(),
            opt(&x.uri),
            opt(&x.version),
        ]);
    }
    for term in &d.terms {
        t.get_mut("taxonomy_term").unwrap().push(vec![
            term.id.clone(),
            opt(&term.code),
            term.name.clone(),
            term.description.clone(),
            opt(&term.parent_id),
            opt(&term.taxonomy_id),
            opt(&term.language),
        ]);
        for domain in &term.domains {
            let own = own_term(&mut own_terms, LIFE_DOMAIN_URI, domain, "");
            attributes.push(vec![
                derived_id(&["taxonomy_term", &term.id, "domain", domain]),
                term.id.clone(),
                own,
                "life_domain".into(),
                "taxonomy_term".into(),
                String::new(),
                String::new(),
            ]);
        }
    }
    // Our own taxonomies, only those used.
    let used: BTreeSet<&String> = own_terms.values().map(|row| &row[5]).collect();
    for (uri, name) in [
        (LIFE_DOMAIN_URI, "fieldcase life domains"),
        (NAME_URI, "fieldcase names in other languages"),
        (GENDER_URI, "fieldcase genders served"),
    ] {
        let id = derived_id(&[uri]);
        if used.contains(&id) {
            t.get_mut("taxonomy").unwrap().push(vec![
                id,
                name.into(),
                "Written and read by fieldcase; see its documentation.".into(),
                uri.into(),
                "1".into(),
            ]);
        }
    }
    t.get_mut("taxonomy_term")
        .unwrap()
        .extend(own_terms.into_values());
    t.get_mut("attribute").unwrap().extend(attributes);
    t
}

fn descriptor(inline: Option<&BTreeMap<&'static str, Vec<Vec<String>>>>) -> Value {
    let resources: Vec<Value> = TABLES
        .iter()
        .map(|table| {
            let (all, required) = columns(table);
            let fields: Vec<Value> = all
                .iter()
                .map(|c| {
                    let ty = if matches!(*c, "minimum_age" | "maximum_age" | "extension") {
                        "number"
                    } else {
                        "string"
                    };
                    json!({"name": c, "type": ty, "constraints": {"required": required.contains(c)}})
                })
                .collect();
            let mut r = json!({
                "name": table,
                "profile": "tabular-data-resource",
                "schema": {"fields": fields, "primaryKey": "id"},
            });
            match inline {
                Some(rows) => {
                    let data: Vec<Value> = rows[table]
                        .iter()
                        .map(|row| {
                            Value::Object(
                                all.iter()
                                    .zip(row)
                                    .filter(|(_, v)| !v.is_empty())
                                    .map(|(c, v)| ((*c).to_owned(), Value::String(v.clone())))
                                    .collect(),
                            )
                        })
                        .collect();
                    r["data"] = Value::Array(data);
                }
                None => {
                    r["path"] = json!(format!("{table}.csv"));
                    r["format"] = json!("csv");
                    r["mediatype"] = json!("text/csv");
                    r["encoding"] = json!("utf-8");
                }
            }
            r
        })
        .collect();
    json!({
        "name": "fieldcase-directory",
        "title": "Partner directory",
        "profile": "tabular-data-package",
        "version": "3.0",
        "resources": resources,
    })
}

/// The directory as a tabular data package: `datapackage.json` and one CSV per table.
pub fn export(d: &Directory) -> Package {
    let mut d = d.clone();
    d.normalize();
    let rows = rows(&d);
    let mut files = BTreeMap::new();
    files.insert(
        "datapackage.json".to_owned(),
        serde_json::to_vec_pretty(&descriptor(None)).expect("a JSON value serialises"),
    );
    for table in TABLES {
        let mut w = csv::Writer::from_writer(Vec::new());
        let (all, _) = columns(table);
        // Writing to memory cannot fail.
        let _ = w.write_record(all);
        for row in &rows[table] {
            let _ = w.write_record(row);
        }
        files.insert(format!("{table}.csv"), w.into_inner().unwrap_or_default());
    }
    Package { files }
}

/// The directory as one JSON file: the data package with each table's rows inline.
pub fn export_json(d: &Directory) -> Vec<u8> {
    let mut d = d.clone();
    d.normalize();
    let rows = rows(&d);
    serde_json::to_vec_pretty(&descriptor(Some(&rows))).expect("a JSON value serialises")
}

impl Package {
    /// Writes the package's files into a folder (created if missing).
    pub fn write_dir(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, bytes) in &self.files {
            std::fs::write(dir.join(name), bytes)?;
        }
        Ok(())
    }

    /// Reads a package from a folder: `datapackage.json`, then the files its resources
    /// name (a plain file name in that folder, nothing else), none larger than `max_bytes`.
    /// A file that cannot be read is refused like a bad row.
    pub fn read_dir(dir: &Path, max_bytes: u64) -> Result<Package, Vec<Refused>> {
        let refuse = |file: &str, reason: String| {
            vec![Refused {
                file: file.to_owned(),
                line: 0,
                reason,
            }]
        };
        let read = |name: &str| -> Result<Vec<u8>, Vec<Refused>> {
            let path = dir.join(name);
            let meta = std::fs::metadata(&path)
                .map_err(|e| refuse(name, format!("cannot be read ({})", e.kind())))?;
            if meta.len() > max_bytes {
                return Err(refuse(name, format!("larger than {max_bytes} bytes")));
            }
            std::fs::read(&path).map_err(|e| refuse(name, format!("cannot be read ({})", e.kind())))
        };
        let descriptor = read("datapackage.json")?;
        let mut files = BTreeMap::new();
        let paths = resource_paths(&descriptor).map_err(|r| vec![r])?;
        for path in paths {
            let bytes = read(&path)?;
            files.insert(path, bytes);
        }
        files.insert("datapackage.json".to_owned(), descriptor);
        Ok(Package { files })
    }
}

/// The file names the descriptor's resources of our tables name.
fn resource_paths(descriptor: &[u8]) -> Result<Vec<String>, Refused> {
    let d = parse_descriptor(descriptor)?;
    Ok(d.iter().filter_map(|r| r.path.clone()).collect())
}

struct Resource {
    name: String,
    path: Option<String>,
    data: Option<Vec<Value>>,
}

fn parse_descriptor(bytes: &[u8]) -> Result<Vec<Resource>, Refused> {
    let refuse = |reason: &str| Refused {
        file: "datapackage.json".into(),
        line: 0,
        reason: reason.into(),
    };
    let v: Value = serde_json::from_slice(bytes).map_err(|e| Refused {
        file: "datapackage.json".into(),
        line: e.line() as u64,
        reason: "not valid JSON".into(),
    })?;
    let resources = v
        .get("resources")
        .and_then(Value::as_array)
        .ok_or_else(|| refuse("has no `resources` list"))?;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for r in resources {
        let name = r
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("a resource has no `name`"))?;
        if !TABLES.contains(&name) {
            out.push(Resource {
                name: name.to_owned(),
                path: None,
                data: None,
            });
            continue;
        }
        if !seen.insert(name.to_owned()) {
            return Err(refuse("a table is named by two resources"));
        }
        let path = match r.get("path") {
            None => None,
            Some(Value::String(p)) => {
                let plain = !p.is_empty()
                    && p.len() <= 255
                    && !p.contains(['/', '\\', '\0'])
                    && p != "."
                    && p != ".."
                    && !p.starts_with('.');
                if !plain {
                    return Err(refuse(
                        "a resource's `path` must be a file name beside datapackage.json",
                    ));
                }
                Some(p.clone())
            }
            Some(_) => {
                return Err(refuse(
                    "a resource's `path` must be one file name (not a list or URL)",
                ))
            }
        };
        let data = r.get("data").and_then(Value::as_array).cloned();
        if path.is_none() && data.is_none() {
            return Err(refuse("a resource has neither `path` nor `data`"));
        }
        out.push(Resource {
            name: name.to_owned(),
            path,
            data,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Import

/// One row read: its file, line and cells by column.
#[derive(Debug, Clone)]
struct Row {
    file: String,
    line: u64,
    cells: HashMap<String, String>,
}

impl Row {
    fn get(&self, column: &str) -> &str {
        self.cells.get(column).map(|s| s.trim()).unwrap_or("")
    }
    fn opt(&self, column: &str) -> Option<String> {
        let v = self.get(column);
        (!v.is_empty()).then(|| v.to_owned())
    }
}

struct Reader {
    refused: Vec<Refused>,
    not_kept: BTreeSet<String>,
}

impl Reader {
    fn refuse(&mut self, file: &str, line: u64, reason: impl Into<String>) {
        if self.refused.len() < MAX_REFUSALS {
            self.refused.push(Refused {
                file: file.to_owned(),
                line,
                reason: reason.into(),
            });
        }
    }

    fn refuse_row(&mut self, row: &Row, reason: impl Into<String>) {
        let file = row.file.clone();
        self.refuse(&file, row.line, reason);
    }

    fn full(&self) -> bool {
        self.refused.len() >= MAX_REFUSALS
    }

    /// The rows of a CSV file, checked for the table's required columns.
    fn csv(&mut self, table: &str, file: &str, bytes: &[u8]) -> Vec<Row> {
        let (all, required) = columns(table);
        let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let headers = match r.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(1);
                self.refuse(file, line, csv_reason(&e));
                return Vec::new();
            }
        };
        let header: Vec<String> = headers
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect();
        let mut missing = false;
        for c in required {
            if !header.iter().any(|h| h == c) {
                self.refuse(file, 1, format!("the column `{c}` is missing"));
                missing = true;
            }
        }
        for h in &header {
            if !all.contains(&h.as_str()) {
                self.not_kept.insert(format!("{table}.{}", printable(h)));
            }
        }
        if missing {
            return Vec::new();
        }
        let mut rows = Vec::new();
        for record in r.records() {
            match record {
                Ok(rec) => {
                    let line = rec.position().map(|p| p.line()).unwrap_or(0);
                    if rows.len() >= MAX_ROWS {
                        self.refuse(file, line, format!("more than {MAX_ROWS} rows"));
                        break;
                    }
                    let cells = header
                        .iter()
                        .zip(rec.iter())
                        .filter(|(h, _)| all.contains(&h.as_str()))
                        .map(|(h, v)| (h.clone(), v.to_owned()))
                        .collect();
                    rows.push(Row {
                        file: file.to_owned(),
                        line,
                        cells,
                    });
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    self.refuse(file, line, csv_reason(&e));
                    if self.full() {
                        break;
                    }
                }
            }
        }
        rows
    }

    /// The rows of an inline resource (the JSON form); the line is the row's place.
    fn inline(&mut self, table: &str, data: &[Value]) -> Vec<Row> {
        let (all, required) = columns(table);
        let file = format!("datapackage.json#{table}");
        if data.len() > MAX_ROWS {
            self.refuse(&file, 0, format!("more than {MAX_ROWS} rows"));
            return Vec::new();
        }
        let mut rows = Vec::new();
        for (i, v) in data.iter().enumerate() {
            let line = i as u64 + 1;
            let Some(obj) = v.as_object() else {
                self.refuse(&file, line, "a row is not an object");
                continue;
            };
            let mut cells = HashMap::new();
            for (k, v) in obj {
                if !all.contains(&k.as_str()) {
                    self.not_kept.insert(format!("{table}.{}", printable(k)));
                    continue;
                }
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Null => String::new(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        self.refuse(&file, line, format!("`{k}` is not a string or number"));
                        continue;
                    }
                };
                cells.insert(k.clone(), text);
            }
            let row = Row {
                file: file.clone(),
                line,
                cells,
            };
            for c in required {
                if row.get(c).is_empty() {
                    self.refuse(&file, line, format!("`{c}` is required"));
                }
            }
            rows.push(row);
        }
        rows
    }
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} cells where the header has {expected_len}")
        }
        csv::ErrorKind::Io(_) => "cannot be read".into(),
        _ => "not a CSV file that can be read".into(),
    }
}

fn parse_age(row: &Row, column: &str, r: &mut Reader) -> Option<u32> {
    let v = row.get(column);
    if v.is_empty() {
        return None;
    }
    let n = v
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0 && n.fract() == 0.0);
    match n {
        Some(n) if n <= f64::from(u32::MAX) => Some(n as u32),
        _ => {
            r.refuse_row(row, format!("`{column}` is not a whole number of years"));
            None
        }
    }
}

/// Reads a tabular package; see the module documentation. `current` is the directory
/// stored now, to report what the import changes.
pub fn import(package: &Package, current: &Directory) -> Imported {
    let mut r = Reader {
        refused: Vec::new(),
        not_kept: BTreeSet::new(),
    };
    let mut tables: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let Some(descriptor) = package.files.get("datapackage.json") else {
        return refused(vec![Refused {
            file: "datapackage.json".into(),
            line: 0,
            reason: "the package has no datapackage.json".into(),
        }]);
    };
    let resources = match parse_descriptor(descriptor) {
        Ok(x) => x,
        Err(e) => return refused(vec![e]),
    };
    for res in &resources {
        if !TABLES.contains(&res.name.as_str()) {
            r.not_kept.insert(printable(&res.name).into_owned());
            continue;
        }
        let rows = if let Some(path) = &res.path {
            match package.files.get(path) {
                Some(bytes) if bytes.len() as u64 > MAX_FILE_BYTES => {
                    r.refuse(path, 0, format!("larger than {MAX_FILE_BYTES} bytes"));
                    continue;
                }
                Some(bytes) => r.csv(&res.name, path, bytes),
                None => {
                    r.refuse(path, 0, "named in datapackage.json but not in the package");
                    continue;
                }
            }
        } else {
            r.inline(&res.name, res.data.as_deref().unwrap_or(&[]))
        };
        tables.insert(res.name.clone(), rows);
    }
    for required in ["organization", "service"] {
        if !tables.contains_key(required) && r.refused.is_empty() {
            r.refuse(
                "datapackage.json",
                0,
                format!("the package has no `{required}` table"),
            );
        }
    }
    if !r.refused.is_empty() {
        // A file that cannot be read would make every row naming its entries look wrong:
        // its own refusals are the ones to fix first.
        let mut report = refused(r.refused).report;
        report.not_kept = r.not_kept.into_iter().collect();
        return Imported {
            directory: None,
            report,
        };
    }
    finish(assemble(tables, &mut r), r, current)
}

/// Reads the JSON form (one data package with its rows inline).
pub fn import_json(bytes: &[u8], current: &Directory) -> Imported {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return refused(vec![Refused {
            file: "datapackage.json".into(),
            line: 0,
            reason: format!("larger than {MAX_FILE_BYTES} bytes"),
        }]);
    }
    let mut files = BTreeMap::new();
    files.insert("datapackage.json".to_owned(), bytes.to_vec());
    import(&Package { files }, current)
}

fn refused(refused: Vec<Refused>) -> Imported {
    Imported {
        directory: None,
        report: ImportReport {
            refused,
            ..ImportReport::default()
        },
    }
}

/// Where each entry came from, to place the directory's own problems.
type Origins = HashMap<(&'static str, String), (String, u64)>;

fn assemble(tables: BTreeMap<String, Vec<Row>>, r: &mut Reader) -> (Directory, Origins) {
    let empty = Vec::new();
    let rows = |t: &str| tables.get(t).unwrap_or(&empty);
    let mut origins: Origins = HashMap::new();
    let mut d = Directory::default();

    // Our own taxonomies, recognised by uri; their terms are read, not kept.
    let mut own_taxonomies: HashMap<String, &'static str> = HashMap::new();
    for row in rows("taxonomy") {
        let uri = row.get("uri");
        let own = [LIFE_DOMAIN_URI, NAME_URI, GENDER_URI]
            .into_iter()
            .find(|u| *u == uri);
        if let Some(own) = own {
            own_taxonomies.insert(row.get("id").to_owned(), own);
            continue;
        }
        origins.insert(
            ("taxonomy", row.get("id").to_owned()),
            (row.file.clone(), row.line),
        );
        d.taxonomies.push(Taxonomy {
            id: row.get("id").to_owned(),
            name: row.get("name").to_owned(),
            description: row.get("description").to_owned(),
            uri: row.opt("uri"),
            version: row.opt("version"),
        });
    }
    // Own terms: id -> (taxonomy uri, code, language).
    let mut own_terms: HashMap<String, (&'static str, String, String)> = HashMap::new();
    for row in rows("taxonomy_term") {
        if let Some(uri) = own_taxonomies.get(row.get("taxonomy_id")) {
            own_terms.insert(
                row.get("id").to_owned(),
                (
                    uri,
                    row.get("code").to_owned(),
                    row.get("language").to_owned(),
                ),
            );
            continue;
        }
        origins.insert(
            ("taxonomy_term", row.get("id").to_owned()),
            (row.file.clone(), row.line),
        );
        d.terms.push(TaxonomyTerm {
            id: row.get("id").to_owned(),
            code: row.opt("code"),
            name: row.get("name").to_owned(),
            description: row.get("description").to_owned(),
            parent_id: row.opt("parent_id"),
            taxonomy_id: row.opt("taxonomy_id"),
            language: row.opt("language"),
            domains: Vec::new(),
        });
    }

    for row in rows("organization") {
        origins.insert(
            ("organization", row.get("id").to_owned()),
            (row.file.clone(), row.line),
        );
        d.organizations.push(Organization {
            id: row.get("id").to_owned(),
            name: row.get("name").to_owned(),
            alternate_name: row.opt("alternate_name"),
            description: row.get("description").to_owned(),
            email: row.opt("email"),
            website: row.opt("website"),
            ..Organization::default()
        });
    }
    for row in rows("location") {
        origins.insert(
            ("location", row.get("id").to_owned()),
            (row.file.clone(), row.line),
        );
        d.locations.push(Location {
            id: row.get("id").to_owned(),
            organization_id: row.opt("organization_id"),
            location_type: row.get("location_type").to_owned(),
            name: row.opt("name"),
            alternate_name: row.opt("alternate_name"),
            description: row.opt("description"),
            url: row.opt("url"),
            ..Location::default()
        });
    }
    for row in rows("service") {
        origins.insert(
            ("service", row.get("id").to_owned()),
            (row.file.clone(), row.line),
        );
        let status = ServiceStatus::parse(row.get("status"));
        if !status.is_known() {
            r.refuse_row(
                row,
                "`status` is not one of active, inactive, defunct, temporarily closed",
            );
        }
        let minimum_age = parse_age(row, "minimum_age", r);
        let maximum_age = parse_age(row, "maximum_age", r);
        d.services.push(Service {
            id: row.get("id").to_owned(),
            organization_id: row.get("organization_id").to_owned(),
            name: row.get("name").to_owned(),
            alternate_name: row.opt("alternate_name"),
            description: row.opt("description"),
            email: row.opt("email"),
            url: row.opt("url"),
            status,
            names: Vec::new(),
            eligibility: Eligibility {
                minimum_age,
                maximum_age,
                description: row.opt("eligibility_description"),
                ..Eligibility::default()
            },
            languages: Vec::new(),
            phones: Vec::new(),
            contacts: Vec::new(),
            locations: Vec::new(),
            term_ids: Vec::new(),
        });
    }

    // Indexes by id into the lists above (the first of ids used twice; the check
    // refuses the second).
    fn index<T>(list: &[T], id: impl Fn(&T) -> &str) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for (i, x) in list.iter().enumerate() {
            m.entry(id(x).to_owned()).or_insert(i);
        }
        m
    }
    let orgs = index(&d.organizations, |o| &o.id);
    let svcs = index(&d.services, |s| &s.id);
    let locs = index(&d.locations, |l| &l.id);
    let terms = index(&d.terms, |t| &t.id);

    for row in rows("address") {
        let Some(&l) = locs.get(row.get("location_id")) else {
            r.refuse_row(row, "`location_id` names no location");
            continue;
        };
        d.locations[l].addresses.push(Address {
            id: row.get("id").to_owned(),
            attention: row.opt("attention"),
            address_1: row.get("address_1").to_owned(),
            address_2: row.opt("address_2"),
            city: row.get("city").to_owned(),
            region: row.opt("region"),
            state_province: row.get("state_province").to_owned(),
            postal_code: row.get("postal_code").to_owned(),
            country: row.get("country").to_owned(),
            address_type: row.get("address_type").to_owned(),
        });
    }
    let mut sal_service: HashMap<String, usize> = HashMap::new();
    for row in rows("service_at_location") {
        let Some(&s) = svcs.get(row.get("service_id")) else {
            r.refuse_row(row, "`service_id` names no service");
            continue;
        };
        sal_service.insert(row.get("id").to_owned(), s);
        d.services[s].locations.push(ServiceAtLocation {
            id: row.get("id").to_owned(),
            location_id: row.get("location_id").to_owned(),
        });
    }

    // Contacts first: phones may belong to them.
    enum Owner {
        Org(usize),
        Svc(usize),
    }
    let mut contact_owner: HashMap<String, (Owner, usize)> = HashMap::new();
    for row in rows("contact") {
        let c = NamedContact {
            id: row.get("id").to_owned(),
            name: row.opt("name"),
            title: row.opt("title"),
            department: row.opt("department"),
            email: row.opt("email"),
            phones: Vec::new(),
        };
        let service = match (row.get("service_id"), row.get("service_at_location_id")) {
            ("", "") => None,
            ("", sal) => match sal_service.get(sal) {
                Some(&s) => Some(s),
                None => {
                    r.refuse_row(
                        row,
                        "`service_at_location_id` names no service at a location",
                    );
                    continue;
                }
            },
            (s, _) => match svcs.get(s) {
                Some(&s) => Some(s),
                None => {
                    r.refuse_row(row, "`service_id` names no service");
                    continue;
                }
            },
        };
        if let Some(s) = service {
            contact_owner.insert(c.id.clone(), (Owner::Svc(s), d.services[s].contacts.len()));
            d.services[s].contacts.push(c);
        } else if let Some(&o) = orgs.get(row.get("organization_id")) {
            contact_owner.insert(
                c.id.clone(),
                (Owner::Org(o), d.organizations[o].contacts.len()),
            );
            d.organizations[o].contacts.push(c);
        } else if !row.get("organization_id").is_empty() {
            r.refuse_row(row, "`organization_id` names no organization");
        } else {
            r.refuse_row(row, "a contact must belong to an organization or a service (contacts of a location alone are not kept)");
        }
    }
    for row in rows("phone") {
        let extension = match row.get("extension") {
            "" => None,
            v => match v
                .parse::<f64>()
                .ok()
                .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX))
            {
                Some(n) => Some(n as u32),
                None => {
                    r.refuse_row(row, "`extension` is not a number");
                    continue;
                }
            },
        };
        let p = Phone {
            id: row.get("id").to_owned(),
            number: row.get("number").to_owned(),
            extension,
            kind: row.opt("type"),
            description: row.opt("description"),
        };
        let owners = [
            "contact_id",
            "service_id",
            "service_at_location_id",
            "location_id",
            "organization_id",
        ];
        let Some(column) = owners.into_iter().find(|c| !row.get(c).is_empty()) else {
            r.refuse_row(
                row,
                "a phone must belong to an organization, a service, a location or a contact",
            );
            continue;
        };
        let id = row.get(column);
        match column {
            "contact_id" => match contact_owner.get(id) {
                Some((Owner::Svc(s), i)) => d.services[*s].contacts[*i].phones.push(p),
                Some((Owner::Org(o), i)) => d.organizations[*o].contacts[*i].phones.push(p),
                None => r.refuse_row(row, "`contact_id` names no contact"),
            },
            "service_id" => match svcs.get(id) {
                Some(&s) => d.services[s].phones.push(p),
                None => r.refuse_row(row, "`service_id` names no service"),
            },
            "service_at_location_id" => match sal_service.get(id) {
                Some(&s) => d.services[s].phones.push(p),
                None => r.refuse_row(
                    row,
                    "`service_at_location_id` names no service at a location",
                ),
            },
            "location_id" => match locs.get(id) {
                Some(&l) => d.locations[l].phones.push(p),
                None => r.refuse_row(row, "`location_id` names no location"),
            },
            _ => match orgs.get(id) {
                Some(&o) => d.organizations[o].phones.push(p),
                None => r.refuse_row(row, "`organization_id` names no organization"),
            },
        }
    }
    for row in rows("language") {
        let code = row.get("code").to_ascii_lowercase();
        if code.is_empty() {
            r.refuse_row(row, "`code` is required (an ISO 639 code)");
            continue;
        }
        let lang = Language {
            code,
            name: row.opt("name"),
        };
        if let Some(&s) = svcs.get(row.get("service_id")) {
            d.services[s].languages.push(lang);
        } else if let Some(&l) = locs.get(row.get("location_id")) {
            d.locations[l].languages.push(lang);
        } else if !row.get("phone_id").is_empty()
            && row.get("service_id").is_empty()
            && row.get("location_id").is_empty()
        {
            r.not_kept.insert("language.phone_id".into());
        } else {
            r.refuse_row(
                row,
                "a language must name a service or a location that exists",
            );
        }
    }
    for row in rows("service_area") {
        let service = match (row.get("service_id"), row.get("service_at_location_id")) {
            ("", sal) => sal_service.get(sal).copied(),
            (s, _) => svcs.get(s).copied(),
        };
        let Some(s) = service else {
            r.refuse_row(row, "`service_id` names no service");
            continue;
        };
        if row.get("name").is_empty() {
            r.refuse_row(row, "a service area needs its `name`");
            continue;
        }
        d.services[s]
            .eligibility
            .areas
            .push(row.get("name").to_owned());
    }
    for row in rows("attribute") {
        let term = row.get("taxonomy_term_id");
        let entity = row.get("link_entity");
        let link = row.get("link_id");
        if let Some((uri, code, language)) = own_terms.get(term) {
            let uri = *uri;
            let ok = match (uri, entity) {
                (u, "taxonomy_term") if u == LIFE_DOMAIN_URI => match terms.get(link) {
                    Some(&t) => {
                        d.terms[t].domains.push(code.clone());
                        true
                    }
                    None => false,
                },
                (u, "service") if u == LIFE_DOMAIN_URI => {
                    // A service tagged with a domain directly: through a term of that
                    // domain in our taxonomy of domains, kept as a term of the directory.
                    r.refuse_row(
                        row,
                        "tag a service's terms with life domains, not the service itself",
                    );
                    continue;
                }
                (u, _) if u == NAME_URI => {
                    let name = LocalName {
                        language: language.clone(),
                        name: row.get("value").to_owned(),
                    };
                    match entity {
                        "service" => svcs
                            .get(link)
                            .map(|&s| d.services[s].names.push(name))
                            .is_some(),
                        "organization" => orgs
                            .get(link)
                            .map(|&o| d.organizations[o].names.push(name))
                            .is_some(),
                        "location" => locs
                            .get(link)
                            .map(|&l| d.locations[l].names.push(name))
                            .is_some(),
                        _ => {
                            r.refuse_row(row, "names in other languages are kept for services, organizations and locations");
                            continue;
                        }
                    }
                }
                (u, "service") if u == GENDER_URI => match svcs.get(link) {
                    Some(&s) => {
                        d.services[s].eligibility.genders.push(code.clone());
                        true
                    }
                    None => false,
                },
                _ => {
                    r.refuse_row(
                        row,
                        "this attribute of fieldcase's taxonomies does not apply to this table",
                    );
                    continue;
                }
            };
            if !ok {
                r.refuse_row(row, format!("`link_id` names no {}", printable(entity)));
            }
            continue;
        }
        match entity {
            "service" => match (svcs.get(link), terms.get(term)) {
                (Some(&s), Some(_)) => d.services[s].term_ids.push(term.to_owned()),
                (None, _) => r.refuse_row(row, "`link_id` names no service"),
                (_, None) => r.refuse_row(row, "`taxonomy_term_id` names no taxonomy term"),
            },
            _ => {
                r.not_kept
                    .insert(format!("attribute of {}", printable(entity)));
            }
        }
    }
    (d, origins)
}

fn finish((mut d, origins): (Directory, Origins), mut r: Reader, current: &Directory) -> Imported {
    d.normalize();
    if r.refused.is_empty() {
        for p in d.check() {
            let (file, line) = origin(&origins, &p);
            r.refuse(&file, line, problem_reason(&p));
        }
    }
    let report = ImportReport {
        refused: {
            let mut x = r.refused;
            x.sort();
            x
        },
        not_kept: r.not_kept.into_iter().collect(),
        ..diff(current, &d)
    };
    Imported {
        directory: report.refused.is_empty().then_some(d),
        report,
    }
}

fn origin(origins: &Origins, p: &DirectoryProblem) -> (String, u64) {
    let table: &'static str = TABLES
        .iter()
        .find(|t| **t == p.table)
        .copied()
        .unwrap_or("service");
    origins
        .get(&(table, p.id.clone()))
        .cloned()
        .unwrap_or_else(|| (format!("{}.csv", p.table), 0))
}

fn problem_reason(p: &DirectoryProblem) -> String {
    if p.id.is_empty() {
        p.reason.clone()
    } else {
        format!("{} `{}`, {}: {}", p.table, p.id, p.field, p.reason)
    }
}

/// What going from `old` to `new` adds, changes and removes (by table and id).
pub fn diff(old: &Directory, new: &Directory) -> ImportReport {
    let mut report = ImportReport::default();
    fn compare<T: PartialEq>(
        report: &mut ImportReport,
        table: &str,
        old: &[T],
        new: &[T],
        id: impl Fn(&T) -> &str,
    ) {
        let old: HashMap<&str, &T> = old.iter().map(|x| (id(x), x)).collect();
        let new_ids: BTreeSet<&str> = new.iter().map(&id).collect();
        for x in new {
            let r = EntryRef {
                table: table.into(),
                id: id(x).into(),
            };
            match old.get(id(x)) {
                None => report.added.push(r),
                Some(o) if *o != x => report.changed.push(r),
                Some(_) => {}
            }
        }
        let mut removed: Vec<&str> = old
            .keys()
            .filter(|k| !new_ids.contains(*k))
            .copied()
            .collect();
        removed.sort();
        for k in removed {
            report.removed.push(EntryRef {
                table: table.into(),
                id: k.into(),
            });
        }
    }
    compare(
        &mut report,
        "organization",
        &old.organizations,
        &new.organizations,
        |x| &x.id,
    );
    compare(&mut report, "service", &old.services, &new.services, |x| {
        &x.id
    });
    compare(
        &mut report,
        "location",
        &old.locations,
        &new.locations,
        |x| &x.id,
    );
    compare(
        &mut report,
        "taxonomy",
        &old.taxonomies,
        &new.taxonomies,
        |x| &x.id,
    );
    compare(&mut report, "taxonomy_term", &old.terms, &new.terms, |x| {
        &x.id
    });
    report
}

#[cfg(test)]
mod tests;
