//! A case's outline (its file without narrative texts) with the count of its disagreements
//! by section: what a write's check reads of the case before and after. After a write that
//! changed a few sections of the case, the outline after is the one before with those
//! sections read again ([`Outline::grown`]): the other sections cannot have moved, since
//! an Automerge operation changes only the object it names and what lies below it.

use std::collections::{BTreeMap, BTreeSet};

use automerge::Automerge;

use super::walk::{ConflictSite, Walk};
use super::{inspect, CaseFile};
use crate::Result;

/// A case's outline, and where its disagreements sit.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// The case file without its narrative texts (left empty).
    pub file: CaseFile,
    /// Fields holding concurrent different values, by the case's own key they sit under.
    disagreements: BTreeMap<String, usize>,
}

impl Outline {
    /// The outline of a whole document.
    pub fn of(doc: &Automerge) -> Result<Outline> {
        let mut w = Walk::new(doc, false);
        let json = w.root();
        Ok(Outline {
            file: serde_json::from_value(json)?,
            disagreements: by_section(doc, &w.sites),
        })
    }

    /// How many fields hold concurrent different values.
    pub fn conflicts(&self) -> usize {
        self.disagreements.values().sum()
    }

    /// The outline of `after`, a document grown from this outline's by changes that write
    /// only under the case's own keys `sections` ([`crate::schema::changed_sections`]):
    /// those sections read again from `after` (a section gone is left empty), the others
    /// kept as they were. Equal to [`Outline::of`] of `after` (a property test holds it to
    /// that), at the cost of the changed sections only.
    pub fn grown(&self, after: &Automerge, sections: &BTreeSet<String>) -> Result<Outline> {
        let mut w = Walk::new(after, false);
        let json = w.sections(sections);
        let read: CaseFile = serde_json::from_value(json)?;
        let mut file = self.file.clone();
        file.take_sections(read, sections);
        let mut disagreements = self.disagreements.clone();
        disagreements.retain(|section, _| !sections.contains(section));
        for (section, n) in by_section(after, &w.sites) {
            *disagreements.entry(section).or_default() += n;
        }
        Ok(Outline {
            file,
            disagreements,
        })
    }
}

/// The disagreements among `sites`, counted by the case's own key each sits under.
fn by_section(doc: &Automerge, sites: &[ConflictSite]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for site in sites.iter().filter(|s| inspect::disagrees(doc, s)) {
        *out.entry(site.section.clone()).or_default() += 1;
    }
    out
}

impl CaseFile {
    /// Takes from `read` the sections named in `sections` (every one of them: a section
    /// `read` lacks is its empty value), leaving the others. A field added to the case
    /// file and not listed here does not compile.
    fn take_sections(&mut self, read: CaseFile, sections: &BTreeSet<String>) {
        macro_rules! take {
            ($($field:ident),* $(,)?) => {{
                let CaseFile { $($field),* } = read;
                $(
                    if sections.contains(stringify!($field)) {
                        self.$field = $field;
                    }
                )*
            }};
        }
        take!(
            schema,
            id,
            created_at,
            created_by,
            team,
            case_manager,
            assigned,
            stage,
            sensitivity,
            priority,
            case_kind,
            actors,
            client,
            intake,
            safety,
            consents,
            assessments,
            plan,
            referrals,
            visits,
            appointments,
            reviews,
            closures,
            attachments,
            supervision,
        );
    }
}
