//! The partner directory (issue 16): the organisations a case manager refers clients to,
//! their services, where they are, who answers, which languages they speak, whom they
//! serve, and what kind of help they give (taxonomy terms mapped to our life domains).
//!
//! The model follows the Open Referral Human Services Data Specification (HSDS 3.0):
//! the same entities, identifiers and field names where HSDS has them, so that a
//! directory imports and exports as an HSDS data package ([`hsds`]) without loss. What
//! HSDS has no field for (names in several languages, a gender served, a term's life
//! domains) travels as HSDS attributes of our own taxonomies (see [`hsds`]).
//!
//! A [`Directory`] is one agency's whole directory, a value: the server keeps it as a
//! versioned snapshot, a phone keeps the snapshot sealed and searches it offline
//! ([`DirectoryIndex`]). Nobody edits it in place on a phone. [`Directory::check`] is the
//! one admission rule of a directory, whatever brought it (an import, an admin's edit on
//! the console, a snapshot a server sent): every limit below, every reference between
//! entries, every code.

mod search;

pub mod hsds;
pub mod sample;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::case::model::{code_enum, UnknownCode};
use crate::schema;

pub use search::{DirectoryFilter, DirectoryHit, DirectoryIndex, ServiceEntry};

/// Most organisations in a directory.
pub const MAX_ORGANIZATIONS: usize = 20_000;
/// Most services in a directory.
pub const MAX_SERVICES: usize = 50_000;
/// Most locations in a directory.
pub const MAX_LOCATIONS: usize = 50_000;
/// Most taxonomies and most taxonomy terms in a directory.
pub const MAX_TERMS: usize = 20_000;
/// Most entries of one kind attached to one entry (phones of a service, names of an
/// organisation, terms of a service, addresses of a location...).
pub const MAX_ATTACHED: usize = 64;
/// The longest identifier, in bytes (HSDS ids are usually UUIDs, 36 bytes).
pub const MAX_ID_BYTES: usize = 128;
/// The longest name, code, number or other short text, in bytes.
pub const MAX_SHORT_BYTES: usize = 1_024;
/// The longest description or other free text, in bytes.
pub const MAX_TEXT_BYTES: usize = 8_192;
/// The oldest age a service can name.
pub const MAX_AGE: u32 = 150;
/// How deep a taxonomy term may sit under its parents (a longer chain, or a cycle, is
/// refused).
pub const MAX_TERM_DEPTH: usize = 16;

code_enum! {
    /// Whether a service takes referrals now (HSDS `service.status`, with its codes).
    ServiceStatus {
        Active = "active",
        Inactive = "inactive",
        Defunct = "defunct",
        TemporarilyClosed = "temporarily closed",
    }
}

impl ServiceStatus {
    /// Whether a worker can refer to the service today. A status from a newer app is
    /// not assumed to take referrals.
    pub fn takes_referrals(self) -> bool {
        matches!(self, ServiceStatus::Active)
    }
}

/// One agency's directory of partners. Entries are kept in order of their ids
/// ([`Directory::normalize`]), so two equal directories compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Directory {
    #[serde(default)]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub locations: Vec<Location>,
    #[serde(default)]
    pub taxonomies: Vec<Taxonomy>,
    #[serde(default)]
    pub terms: Vec<TaxonomyTerm>,
}

/// A name in one language (HSDS names an entry once; we keep each language's name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LocalName {
    /// ISO 639-1 or 639-3 code, lower case (`vi`, `ru`, `uk`, `th`, `fa`, `en`).
    pub language: String,
    pub name: String,
}

/// An organisation (HSDS `organization`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Organization {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub alternate_name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub names: Vec<LocalName>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    #[serde(default)]
    pub contacts: Vec<NamedContact>,
}

/// A service an organisation gives (HSDS `service`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Service {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    #[serde(default)]
    pub alternate_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    pub status: ServiceStatus,
    #[serde(default)]
    pub names: Vec<LocalName>,
    #[serde(default)]
    pub eligibility: Eligibility,
    /// Languages the service is given in (without an interpreter).
    #[serde(default)]
    pub languages: Vec<Language>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    #[serde(default)]
    pub contacts: Vec<NamedContact>,
    /// Where it is given (HSDS `service_at_location`).
    #[serde(default)]
    pub locations: Vec<ServiceAtLocation>,
    /// Its taxonomy terms (HSDS `attribute` rows linking the service to a term), by id.
    #[serde(default)]
    pub term_ids: Vec<String>,
}

/// Whom a service is for. Every part is optional: absent means anyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Eligibility {
    /// HSDS `service.minimum_age`, in years.
    #[serde(default)]
    pub minimum_age: Option<u32>,
    /// HSDS `service.maximum_age`, in years.
    #[serde(default)]
    pub maximum_age: Option<u32>,
    /// The genders served (codes of [`schema::GENDERS`]); empty: all.
    #[serde(default)]
    pub genders: Vec<String>,
    /// The areas served (HSDS `service_area.name`, e.g. a district or commune); empty: no
    /// area named.
    #[serde(default)]
    pub areas: Vec<String>,
    /// HSDS `service.eligibility_description`.
    #[serde(default)]
    pub description: Option<String>,
}

/// A language served (HSDS `language`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Language {
    /// ISO 639-1 or 639-3 code, lower case.
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A service given at a location (HSDS `service_at_location`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ServiceAtLocation {
    pub id: String,
    pub location_id: String,
}

/// A telephone number (HSDS `phone`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Phone {
    pub id: String,
    pub number: String,
    #[serde(default)]
    pub extension: Option<u32>,
    /// HSDS `phone.type` (RFC 6350: `text`, `voice`, `fax`, `cell`, `video`, `pager`,
    /// `textphone`).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A named contact (HSDS `contact`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NamedContact {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phones: Vec<Phone>,
}

/// A place services are given (HSDS `location`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Location {
    pub id: String,
    #[serde(default)]
    pub organization_id: Option<String>,
    /// `physical`, `postal` or `virtual`.
    pub location_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub alternate_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub names: Vec<LocalName>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    #[serde(default)]
    pub languages: Vec<Language>,
}

/// An address of a location (HSDS `address`); its city, region and province are the
/// location's area.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Address {
    pub id: String,
    #[serde(default)]
    pub attention: Option<String>,
    pub address_1: String,
    #[serde(default)]
    pub address_2: Option<String>,
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    pub state_province: String,
    pub postal_code: String,
    /// ISO 3166-1 two-letter code.
    pub country: String,
    /// `physical`, `postal` or `virtual`.
    pub address_type: String,
}

/// A taxonomy terms come from (HSDS `taxonomy`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Taxonomy {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

/// A kind of help (HSDS `taxonomy_term`), and the life domains it serves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TaxonomyTerm {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub taxonomy_id: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    /// The life domains ([`schema::LIFE_DOMAINS`]) a need in which this term answers;
    /// a term's children serve its domains too.
    #[serde(default)]
    pub domains: Vec<String>,
}

/// One thing wrong with a directory: where (an entry's table and id, and the field) and
/// why, in our words. Never quotes the value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DirectoryProblem {
    /// The HSDS table (`service`, `organization`, ...).
    pub table: String,
    /// The entry's id as given (cut and made printable).
    pub id: String,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for DirectoryProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} `{}`, {}: {}",
            self.table,
            crate::error::printable(&self.id),
            self.field,
            self.reason
        )
    }
}

/// Checks of one entry's fields, collecting problems.
struct Checker<'a> {
    problems: &'a mut Vec<DirectoryProblem>,
    table: &'static str,
    id: &'a str,
}

impl Checker<'_> {
    fn problem(&mut self, field: &str, reason: impl Into<String>) {
        let mut id = self.id.to_owned();
        if id.len() > MAX_ID_BYTES {
            let mut end = MAX_ID_BYTES;
            while !id.is_char_boundary(end) {
                end -= 1;
            }
            id.truncate(end);
        }
        self.problems.push(DirectoryProblem {
            table: self.table.to_owned(),
            id: crate::error::printable(&id).into_owned(),
            field: field.to_owned(),
            reason: reason.into(),
        });
    }

    fn id(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.problem(field, "an identifier is required");
        } else if value.len() > MAX_ID_BYTES {
            self.problem(field, format!("longer than {MAX_ID_BYTES} bytes"));
        } else if value.chars().any(char::is_control) {
            self.problem(field, "an identifier has no control characters");
        }
    }

    fn required(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.problem(field, "required");
        } else {
            self.short(field, Some(value));
        }
    }

    fn short(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value {
            if v.len() > MAX_SHORT_BYTES {
                self.problem(field, format!("longer than {MAX_SHORT_BYTES} bytes"));
            }
        }
    }

    fn text(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value {
            if v.len() > MAX_TEXT_BYTES {
                self.problem(field, format!("longer than {MAX_TEXT_BYTES} bytes"));
            }
        }
    }

    fn count(&mut self, field: &str, n: usize) {
        if n > MAX_ATTACHED {
            self.problem(field, format!("more than {MAX_ATTACHED} entries"));
        }
    }

    fn language(&mut self, field: &str, code: &str) {
        let ok = (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase());
        if !ok {
            self.problem(
                field,
                "not an ISO 639 language code (two or three lower-case letters)",
            );
        }
    }

    fn names(&mut self, names: &[LocalName]) {
        self.count("names", names.len());
        let mut seen = BTreeSet::new();
        for n in names {
            self.language("names/language", &n.language);
            self.required("names/name", &n.name);
            if !seen.insert(n.language.as_str()) {
                self.problem("names/language", "one name per language");
            }
        }
    }

    fn phones(&mut self, field: &str, phones: &[Phone], ids: &mut BTreeSet<String>) {
        self.count(field, phones.len());
        for p in phones {
            self.id(&format!("{field}/id"), &p.id);
            if !ids.insert(p.id.clone()) {
                self.problem(&format!("{field}/id"), "this phone id is used twice");
            }
            self.required(&format!("{field}/number"), &p.number);
            self.short(&format!("{field}/type"), p.kind.as_deref());
            self.text(&format!("{field}/description"), p.description.as_deref());
        }
    }

    fn contacts(
        &mut self,
        contacts: &[NamedContact],
        ids: &mut BTreeSet<String>,
        phones: &mut BTreeSet<String>,
    ) {
        self.count("contacts", contacts.len());
        for c in contacts {
            self.id("contacts/id", &c.id);
            if !ids.insert(c.id.clone()) {
                self.problem("contacts/id", "this contact id is used twice");
            }
            for (f, v) in [
                ("contacts/name", &c.name),
                ("contacts/title", &c.title),
                ("contacts/department", &c.department),
                ("contacts/email", &c.email),
            ] {
                self.short(f, v.as_deref());
            }
            self.phones("contacts/phones", &c.phones, phones);
        }
    }

    fn languages(&mut self, langs: &[Language]) {
        self.count("languages", langs.len());
        for l in langs {
            self.language("languages/code", &l.code);
            self.short("languages/name", l.name.as_deref());
        }
    }
}

impl Directory {
    /// Sorts every list by id (and attached lists by their natural order) so that equal
    /// directories compare equal and serialise to the same bytes.
    pub fn normalize(&mut self) {
        self.organizations.sort_by(|a, b| a.id.cmp(&b.id));
        self.services.sort_by(|a, b| a.id.cmp(&b.id));
        self.locations.sort_by(|a, b| a.id.cmp(&b.id));
        self.taxonomies.sort_by(|a, b| a.id.cmp(&b.id));
        self.terms.sort_by(|a, b| a.id.cmp(&b.id));
        fn phones(p: &mut [Phone]) {
            p.sort_by(|a, b| a.id.cmp(&b.id));
        }
        fn contacts(c: &mut [NamedContact]) {
            c.sort_by(|a, b| a.id.cmp(&b.id));
            for c in c {
                phones(&mut c.phones);
            }
        }
        for o in &mut self.organizations {
            o.names.sort();
            phones(&mut o.phones);
            contacts(&mut o.contacts);
        }
        for s in &mut self.services {
            s.names.sort();
            s.languages.sort();
            s.locations.sort();
            s.term_ids.sort();
            s.term_ids.dedup();
            s.eligibility.genders.sort();
            s.eligibility.genders.dedup();
            s.eligibility.areas.sort();
            s.eligibility.areas.dedup();
            phones(&mut s.phones);
            contacts(&mut s.contacts);
        }
        for l in &mut self.locations {
            l.names.sort();
            l.languages.sort();
            l.addresses.sort_by(|a, b| a.id.cmp(&b.id));
            phones(&mut l.phones);
        }
        for t in &mut self.terms {
            t.domains.sort();
            t.domains.dedup();
        }
    }

    /// Every problem of the directory: limits, required fields, codes, references between
    /// entries, ids used twice, cycles of parent terms. Empty when it may be stored.
    pub fn check(&self) -> Vec<DirectoryProblem> {
        let mut problems = Vec::new();
        let p = &mut problems;
        let total = |p: &mut Vec<DirectoryProblem>, table: &str, n: usize, max: usize| {
            if n > max {
                p.push(DirectoryProblem {
                    table: table.to_owned(),
                    id: String::new(),
                    field: String::new(),
                    reason: format!("more than {max} entries"),
                });
            }
        };
        total(
            p,
            "organization",
            self.organizations.len(),
            MAX_ORGANIZATIONS,
        );
        total(p, "service", self.services.len(), MAX_SERVICES);
        total(p, "location", self.locations.len(), MAX_LOCATIONS);
        total(p, "taxonomy", self.taxonomies.len(), MAX_TERMS);
        total(p, "taxonomy_term", self.terms.len(), MAX_TERMS);
        if !p.is_empty() {
            return problems;
        }

        let mut org_ids = BTreeSet::new();
        let mut phone_ids = BTreeSet::new();
        let mut contact_ids = BTreeSet::new();
        for o in &self.organizations {
            let mut c = Checker {
                problems: p,
                table: "organization",
                id: &o.id,
            };
            c.id("id", &o.id);
            if !org_ids.insert(o.id.as_str()) {
                c.problem("id", "this id is used twice");
            }
            c.required("name", &o.name);
            c.short("alternate_name", o.alternate_name.as_deref());
            c.text("description", Some(&o.description));
            c.short("email", o.email.as_deref());
            c.short("website", o.website.as_deref());
            c.names(&o.names);
            c.phones("phones", &o.phones, &mut phone_ids);
            c.contacts(&o.contacts, &mut contact_ids, &mut phone_ids);
        }

        let mut location_ids = BTreeSet::new();
        let mut address_ids = BTreeSet::new();
        for l in &self.locations {
            let mut c = Checker {
                problems: p,
                table: "location",
                id: &l.id,
            };
            c.id("id", &l.id);
            if !location_ids.insert(l.id.as_str()) {
                c.problem("id", "this id is used twice");
            }
            if let Some(org) = &l.organization_id {
                if !org_ids.contains(org.as_str()) {
                    c.problem("organization_id", "no organization has this id");
                }
            }
            if !LOCATION_TYPES.contains(&l.location_type.as_str()) {
                c.problem("location_type", "not one of physical, postal, virtual");
            }
            c.short("name", l.name.as_deref());
            c.short("alternate_name", l.alternate_name.as_deref());
            c.text("description", l.description.as_deref());
            c.short("url", l.url.as_deref());
            c.names(&l.names);
            c.count("addresses", l.addresses.len());
            for a in &l.addresses {
                c.id("addresses/id", &a.id);
                if !address_ids.insert(a.id.as_str()) {
                    c.problem("addresses/id", "this address id is used twice");
                }
                c.required("addresses/address_1", &a.address_1);
                for (f, v) in [
                    ("addresses/attention", &a.attention),
                    ("addresses/address_2", &a.address_2),
                    ("addresses/region", &a.region),
                ] {
                    c.short(f, v.as_deref());
                }
                for (f, v) in [
                    ("addresses/city", &a.city),
                    ("addresses/state_province", &a.state_province),
                    ("addresses/postal_code", &a.postal_code),
                ] {
                    c.short(f, Some(v));
                }
                let country_ok =
                    a.country.len() == 2 && a.country.bytes().all(|b| b.is_ascii_uppercase());
                if !country_ok {
                    c.problem("addresses/country", "not an ISO 3166-1 two-letter code");
                }
                if !LOCATION_TYPES.contains(&a.address_type.as_str()) {
                    c.problem(
                        "addresses/address_type",
                        "not one of physical, postal, virtual",
                    );
                }
            }
            c.phones("phones", &l.phones, &mut phone_ids);
            c.languages(&l.languages);
        }

        let mut taxonomy_ids = BTreeSet::new();
        for t in &self.taxonomies {
            let mut c = Checker {
                problems: p,
                table: "taxonomy",
                id: &t.id,
            };
            c.id("id", &t.id);
            if !taxonomy_ids.insert(t.id.as_str()) {
                c.problem("id", "this id is used twice");
            }
            c.required("name", &t.name);
            c.text("description", Some(&t.description));
            c.short("uri", t.uri.as_deref());
            c.short("version", t.version.as_deref());
        }
        let term_by_id: BTreeMap<&str, &TaxonomyTerm> =
            self.terms.iter().map(|t| (t.id.as_str(), t)).collect();
        let mut term_ids = BTreeSet::new();
        for t in &self.terms {
            let mut c = Checker {
                problems: p,
                table: "taxonomy_term",
                id: &t.id,
            };
            c.id("id", &t.id);
            if !term_ids.insert(t.id.as_str()) {
                c.problem("id", "this id is used twice");
            }
            c.required("name", &t.name);
            c.short("code", t.code.as_deref());
            c.text("description", Some(&t.description));
            if let Some(tax) = &t.taxonomy_id {
                if !taxonomy_ids.contains(tax.as_str()) {
                    c.problem("taxonomy_id", "no taxonomy has this id");
                }
            }
            if let Some(lang) = &t.language {
                c.language("language", lang);
            }
            c.count("domains", t.domains.len());
            for d in &t.domains {
                if !schema::LIFE_DOMAINS.contains(&d.as_str()) {
                    c.problem("domains", "not one of the life domains");
                }
            }
            // The chain of parents ends, within the depth allowed.
            let mut at = t;
            let mut depth = 0;
            while let Some(parent) = &at.parent_id {
                match term_by_id.get(parent.as_str()) {
                    None => {
                        c.problem("parent_id", "no taxonomy term has this id");
                        break;
                    }
                    Some(next) => {
                        depth += 1;
                        if depth > MAX_TERM_DEPTH {
                            c.problem(
                                "parent_id",
                                format!("parents loop or go deeper than {MAX_TERM_DEPTH}"),
                            );
                            break;
                        }
                        at = next;
                    }
                }
            }
        }

        let mut service_ids = BTreeSet::new();
        let mut sal_ids = BTreeSet::new();
        for s in &self.services {
            let mut c = Checker {
                problems: p,
                table: "service",
                id: &s.id,
            };
            c.id("id", &s.id);
            if !service_ids.insert(s.id.as_str()) {
                c.problem("id", "this id is used twice");
            }
            if !org_ids.contains(s.organization_id.as_str()) {
                c.problem("organization_id", "no organization has this id");
            }
            c.required("name", &s.name);
            c.short("alternate_name", s.alternate_name.as_deref());
            c.text("description", s.description.as_deref());
            c.short("email", s.email.as_deref());
            c.short("url", s.url.as_deref());
            if !s.status.is_known() {
                c.problem(
                    "status",
                    "not one of active, inactive, defunct, temporarily closed",
                );
            }
            c.names(&s.names);
            let e = &s.eligibility;
            for (f, age) in [
                ("minimum_age", e.minimum_age),
                ("maximum_age", e.maximum_age),
            ] {
                if age.is_some_and(|a| a > MAX_AGE) {
                    c.problem(f, format!("older than {MAX_AGE}"));
                }
            }
            if let (Some(min), Some(max)) = (e.minimum_age, e.maximum_age) {
                if min > max {
                    c.problem("minimum_age", "above the maximum age");
                }
            }
            c.count("eligibility/genders", e.genders.len());
            for g in &e.genders {
                if !schema::GENDERS.contains(&g.as_str()) {
                    c.problem("eligibility/genders", "not one of the genders");
                }
            }
            c.count("service_areas", e.areas.len());
            for a in &e.areas {
                c.required("service_areas/name", a);
            }
            c.text("eligibility_description", e.description.as_deref());
            c.languages(&s.languages);
            c.phones("phones", &s.phones, &mut phone_ids);
            c.contacts(&s.contacts, &mut contact_ids, &mut phone_ids);
            c.count("service_at_locations", s.locations.len());
            for sal in &s.locations {
                c.id("service_at_locations/id", &sal.id);
                if !sal_ids.insert(sal.id.as_str()) {
                    c.problem("service_at_locations/id", "this id is used twice");
                }
                if !location_ids.contains(sal.location_id.as_str()) {
                    c.problem(
                        "service_at_locations/location_id",
                        "no location has this id",
                    );
                }
            }
            c.count("attributes", s.term_ids.len());
            for t in &s.term_ids {
                if !term_ids.contains(t.as_str()) {
                    c.problem(
                        "attributes/taxonomy_term_id",
                        "no taxonomy term has this id",
                    );
                }
            }
        }
        problems.sort();
        problems.dedup();
        problems
    }

    /// The life domains each term serves: its own and its parents'.
    pub fn term_domains(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let by_id: BTreeMap<&str, &TaxonomyTerm> =
            self.terms.iter().map(|t| (t.id.as_str(), t)).collect();
        let mut out = BTreeMap::new();
        for t in &self.terms {
            let mut domains = BTreeSet::new();
            let mut at = Some(t);
            let mut depth = 0;
            while let Some(term) = at {
                domains.extend(term.domains.iter().map(String::as_str));
                depth += 1;
                if depth > MAX_TERM_DEPTH {
                    break;
                }
                at = term
                    .parent_id
                    .as_deref()
                    .and_then(|p| by_id.get(p).copied());
            }
            out.insert(t.id.as_str(), domains);
        }
        out
    }

    /// A service by id.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services
            .binary_search_by(|s| s.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.services[i])
            .or_else(|| self.services.iter().find(|s| s.id == id))
    }

    /// An organisation by id.
    pub fn organization(&self, id: &str) -> Option<&Organization> {
        self.organizations
            .binary_search_by(|o| o.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.organizations[i])
            .or_else(|| self.organizations.iter().find(|o| o.id == id))
    }

    /// A location by id.
    pub fn location(&self, id: &str) -> Option<&Location> {
        self.locations
            .binary_search_by(|l| l.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.locations[i])
            .or_else(|| self.locations.iter().find(|l| l.id == id))
    }
}

/// HSDS `location.location_type` and `address.address_type`.
pub const LOCATION_TYPES: &[&str] = &["physical", "postal", "virtual"];

#[cfg(test)]
mod tests;
