//! Searching the directory offline: the same script folding as client names
//! ([`crate::search::fold`]), and filters by life domain, area, language, age, gender and
//! status. The index is built once per snapshot, in memory; a search scans it (10,000
//! services are a few megabytes of folded text) and returns at most
//! [`DirectoryIndex::MAX_RESULTS`] hits.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Directory, Location, Organization, Service, ServiceStatus, TaxonomyTerm};
use crate::case::inspect::Count;
use crate::error::{Error, Result};
use crate::schema;
use crate::search::fold;

/// What to look for. Every part is optional; absent parts do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DirectoryFilter {
    /// Words of a service's or organisation's name (in any of its languages), a taxonomy
    /// term or an area, in any script.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(default)]
    pub query: Option<String>,
    /// Only services whose terms serve this life domain ([`schema::LIFE_DOMAINS`]).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(default)]
    pub domain: Option<String>,
    /// Only services in or for this area (a city, region, province or service area; any
    /// script, part of the name is enough). A service that names no area is not shown.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(default)]
    pub area: Option<String>,
    /// Only services given in this language (ISO 639 code), at the service or a location.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(default)]
    pub language: Option<String>,
    /// Only services open to a person of this age.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(default)]
    pub age: Option<u32>,
    /// Only services open to this gender ([`schema::GENDERS`]).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(default)]
    pub gender: Option<String>,
    /// Inactive and defunct services too (by default only active and temporarily closed
    /// ones are shown).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(default)]
    pub include_inactive: Option<bool>,
    /// Names shown in this language where the entry has one (ISO 639 code).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(default)]
    pub display_language: Option<String>,
    /// At most this many hits ([`DirectoryIndex::DEFAULT_RESULTS`] when absent, never more
    /// than [`DirectoryIndex::MAX_RESULTS`]).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[serde(default)]
    pub limit: Option<Count>,
}

/// A service found, with what a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DirectoryHit {
    pub service_id: String,
    pub name: String,
    pub organization_id: String,
    pub organization_name: String,
    pub status: ServiceStatus,
    /// The life domains its terms serve.
    pub domains: Vec<String>,
    /// Its areas: cities, regions and provinces of its locations, and its service areas.
    pub areas: Vec<String>,
    /// Its phone numbers (the service's, then its locations').
    pub phones: Vec<String>,
}

/// Everything about one service, for its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ServiceEntry {
    pub service: Service,
    pub organization: Organization,
    pub locations: Vec<Location>,
    pub terms: Vec<TaxonomyTerm>,
    pub domains: Vec<String>,
}

/// The directory with what searching needs, folded once.
#[derive(Debug, Clone)]
pub struct DirectoryIndex {
    directory: Directory,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    service: usize,
    organization: Option<usize>,
    /// The service's names in every language, folded, one per line.
    names: String,
    /// Its organisation's names, its terms' names and its areas, folded, one per line.
    other: String,
    /// Bit `i` set: serves `schema::LIFE_DOMAINS[i]`.
    domains: u32,
    /// Its areas as written.
    areas: Vec<String>,
    /// The same, folded.
    folded_areas: Vec<String>,
    /// Language codes, at the service and its locations.
    languages: Vec<String>,
    /// The folded default name, for ordering.
    sort_name: String,
}

fn domain_bit(code: &str) -> Option<u32> {
    schema::LIFE_DOMAINS
        .iter()
        .position(|d| *d == code)
        .map(|i| 1 << i)
}

impl DirectoryIndex {
    /// Hits returned when a filter names no limit.
    pub const DEFAULT_RESULTS: usize = 50;
    /// The most hits one search returns.
    pub const MAX_RESULTS: usize = 500;
    /// The longest query, in bytes.
    pub const MAX_QUERY_BYTES: usize = 256;

    /// Indexes a directory (normalised first).
    pub fn new(mut directory: Directory) -> Self {
        directory.normalize();
        let term_domains = directory.term_domains();
        let mut entries = Vec::with_capacity(directory.services.len());
        for (i, s) in directory.services.iter().enumerate() {
            let organization = directory
                .organizations
                .binary_search_by(|o| o.id.cmp(&s.organization_id))
                .ok();
            let mut names = fold(&s.name);
            for n in s
                .alternate_name
                .iter()
                .chain(s.names.iter().map(|n| &n.name))
            {
                names.push('\n');
                names.push_str(&fold(n));
            }
            let mut other = String::new();
            let mut push = |text: &str| {
                other.push_str(&fold(text));
                other.push('\n');
            };
            if let Some(o) = organization.map(|o| &directory.organizations[o]) {
                push(&o.name);
                for n in o
                    .alternate_name
                    .iter()
                    .chain(o.names.iter().map(|n| &n.name))
                {
                    push(n);
                }
            }
            let mut domains = 0;
            for t in &s.term_ids {
                if let Ok(at) = directory.terms.binary_search_by(|x| x.id.cmp(t)) {
                    push(&directory.terms[at].name);
                }
                for d in term_domains.get(t.as_str()).into_iter().flatten() {
                    domains |= domain_bit(d).unwrap_or(0);
                }
            }
            let mut areas: BTreeSet<&str> =
                s.eligibility.areas.iter().map(String::as_str).collect();
            let mut languages: BTreeSet<String> =
                s.languages.iter().map(|l| l.code.clone()).collect();
            for sal in &s.locations {
                let Some(l) = directory.location(&sal.location_id) else {
                    continue;
                };
                languages.extend(l.languages.iter().map(|l| l.code.clone()));
                for a in &l.addresses {
                    areas.insert(&a.city);
                    areas.insert(&a.state_province);
                    if let Some(r) = &a.region {
                        areas.insert(r);
                    }
                }
            }
            areas.remove("");
            let folded_areas: Vec<String> = areas.iter().map(|a| fold(a)).collect();
            for a in &folded_areas {
                push(a);
            }
            entries.push(Entry {
                service: i,
                organization,
                sort_name: fold(&s.name),
                names,
                other,
                domains,
                areas: areas.into_iter().map(str::to_owned).collect(),
                folded_areas,
                languages: languages.into_iter().collect(),
            });
        }
        entries.sort_by(|a, b| (&a.sort_name, a.service).cmp(&(&b.sort_name, b.service)));
        DirectoryIndex { directory, entries }
    }

    /// The directory indexed.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// How many services it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no service.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The services matching `filter`: name matches first (those starting with the query
    /// before those containing it), then matches of the organisation, a term or an area;
    /// alphabetically within each.
    pub fn search(&self, filter: &DirectoryFilter) -> Result<Vec<DirectoryHit>> {
        let query = match filter.query.as_deref() {
            Some(q) if q.len() > Self::MAX_QUERY_BYTES => {
                return Err(Error::invalid(
                    "query",
                    format!("longer than {} bytes", Self::MAX_QUERY_BYTES),
                ))
            }
            Some(q) => fold(q),
            None => String::new(),
        };
        let domain = match filter.domain.as_deref() {
            Some(d) => Some(
                domain_bit(d)
                    .ok_or_else(|| Error::invalid("domain", "not one of the life domains"))?,
            ),
            None => None,
        };
        if let Some(g) = filter.gender.as_deref() {
            if !schema::GENDERS.contains(&g) {
                return Err(Error::invalid("gender", "not one of the genders"));
            }
        }
        let area = match filter.area.as_deref() {
            Some(a) if a.len() > Self::MAX_QUERY_BYTES => {
                return Err(Error::invalid(
                    "area",
                    format!("longer than {} bytes", Self::MAX_QUERY_BYTES),
                ))
            }
            Some(a) => Some(fold(a)),
            None => None,
        };
        let limit = filter
            .limit
            .unwrap_or(Self::DEFAULT_RESULTS)
            .min(Self::MAX_RESULTS);
        let include_inactive = filter.include_inactive.unwrap_or(false);

        // Entries are in order of their folded names: three buckets by rank keep that
        // order, and no search sorts.
        let mut found: [Vec<&Entry>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for e in &self.entries {
            if found[0].len() >= limit {
                break;
            }
            let s = &self.directory.services[e.service];
            if !include_inactive
                && !matches!(
                    s.status,
                    ServiceStatus::Active | ServiceStatus::TemporarilyClosed
                )
            {
                continue;
            }
            if domain.is_some_and(|bit| e.domains & bit == 0) {
                continue;
            }
            if let Some(area) = &area {
                if !e.folded_areas.iter().any(|a| a.contains(area.as_str())) {
                    continue;
                }
            }
            if let Some(lang) = filter.language.as_deref() {
                if !e.languages.iter().any(|l| l == lang) {
                    continue;
                }
            }
            if let Some(age) = filter.age {
                let el = &s.eligibility;
                if el.minimum_age.is_some_and(|m| age < m)
                    || el.maximum_age.is_some_and(|m| age > m)
                {
                    continue;
                }
            }
            if let Some(g) = filter.gender.as_deref() {
                let gs = &s.eligibility.genders;
                if !gs.is_empty() && !gs.iter().any(|x| x == g) {
                    continue;
                }
            }
            let rank =
                if query.is_empty() || e.names.split('\n').any(|n| n.starts_with(query.as_str())) {
                    0
                } else if e.names.contains(query.as_str()) {
                    1
                } else if e.other.contains(query.as_str()) {
                    2
                } else {
                    continue;
                };
            if found[rank].len() < limit {
                found[rank].push(e);
            }
        }
        let display = filter.display_language.as_deref();
        Ok(found
            .iter()
            .flatten()
            .take(limit)
            .map(|e| self.hit(e, display))
            .collect())
    }

    fn hit(&self, e: &Entry, lang: Option<&str>) -> DirectoryHit {
        let s = &self.directory.services[e.service];
        let local = |default: &str, names: &[super::LocalName]| -> String {
            lang.and_then(|l| names.iter().find(|n| n.language == l))
                .map(|n| n.name.clone())
                .unwrap_or_else(|| default.to_owned())
        };
        let org = e.organization.map(|o| &self.directory.organizations[o]);
        let mut phones: Vec<String> = s.phones.iter().map(|p| p.number.clone()).collect();
        for sal in &s.locations {
            if let Some(l) = self.directory.location(&sal.location_id) {
                phones.extend(l.phones.iter().map(|p| p.number.clone()));
            }
        }
        phones.dedup();
        DirectoryHit {
            service_id: s.id.clone(),
            name: local(&s.name, &s.names),
            organization_id: s.organization_id.clone(),
            organization_name: org.map(|o| local(&o.name, &o.names)).unwrap_or_default(),
            status: s.status,
            domains: schema::LIFE_DOMAINS
                .iter()
                .enumerate()
                .filter(|(i, _)| e.domains & (1 << i) != 0)
                .map(|(_, d)| (*d).to_owned())
                .collect(),
            areas: e.areas.clone(),
            phones,
        }
    }

    /// Everything about one service.
    pub fn entry(&self, service_id: &str) -> Option<ServiceEntry> {
        let d = &self.directory;
        let service = d.service(service_id)?.clone();
        let organization = d.organization(&service.organization_id)?.clone();
        let locations = service
            .locations
            .iter()
            .filter_map(|sal| d.location(&sal.location_id).cloned())
            .collect();
        let term_domains = d.term_domains();
        let mut domains = BTreeSet::new();
        let mut terms = Vec::new();
        for t in &service.term_ids {
            if let Ok(i) = d.terms.binary_search_by(|x| x.id.cmp(t)) {
                terms.push(d.terms[i].clone());
            }
            domains.extend(term_domains.get(t.as_str()).into_iter().flatten().copied());
        }
        Some(ServiceEntry {
            service,
            organization,
            locations,
            terms,
            domains: domains.into_iter().map(str::to_owned).collect(),
        })
    }
}
