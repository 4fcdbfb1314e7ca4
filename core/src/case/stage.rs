//! The case workflow: `intake → assessment → planning → implementation → monitoring →
//! review → (planning | closed)`, and `closed → intake` on reopening.
//!
//! Two steps need authority and cannot be taken with a plain stage change: a plan must be
//! approved by a supervisor before implementation starts, and a case is closed only when a
//! supervisor approves a closure request (`CaseDoc::approve_closure`), which may be asked
//! for at any open stage (an intake screened out, a client who moves away mid-plan).
//! Reopening a closed case is `CaseDoc::reopen`, which keeps the earlier closure. A case
//! flagged as an emergency does not move on from intake before its safety is secured.

use serde::{Deserialize, Serialize};

use crate::case::model::UnknownCode;

/// A stage of the case workflow.
///
/// A stage this version does not know (from a newer app) reads as [`Stage::Unknown`] with
/// its code: shown as such, with no step of this version's workflow from or to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum), uniffi::export(Display))]
pub enum Stage {
    #[default]
    Intake,
    Assessment,
    Planning,
    Implementation,
    Monitoring,
    Review,
    Closed,
    /// A stage this version does not know yet, as it is stored.
    Unknown {
        code: UnknownCode,
    },
}

impl Stage {
    /// Every stage, in workflow order.
    pub const ALL: [Stage; 7] = [
        Stage::Intake,
        Stage::Assessment,
        Stage::Planning,
        Stage::Implementation,
        Stage::Monitoring,
        Stage::Review,
        Stage::Closed,
    ];

    /// The code stored in the document.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Intake => "intake",
            Stage::Assessment => "assessment",
            Stage::Planning => "planning",
            Stage::Implementation => "implementation",
            Stage::Monitoring => "monitoring",
            Stage::Review => "review",
            Stage::Closed => "closed",
            Stage::Unknown { code } => code.as_str(),
        }
    }

    /// The stage for a stored code this version knows.
    pub fn from_code(code: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The stage for any stored code: an unknown one is kept as it is.
    pub fn parse(code: &str) -> Stage {
        Stage::from_code(code).unwrap_or_else(|| Stage::Unknown {
            code: UnknownCode::new(code),
        })
    }

    /// Whether this version knows the stage.
    pub fn is_known(self) -> bool {
        !matches!(self, Stage::Unknown { .. })
    }

    /// Whether the workflow has an edge from `self` to `to` at all (authority aside).
    pub fn can_move_to(self, to: Stage) -> bool {
        use Stage::*;
        matches!(
            (self, to),
            (Intake, Assessment)
                | (Assessment, Planning)
                | (Planning, Implementation)
                | (Implementation, Monitoring)
                | (Monitoring, Review)
                | (Review, Planning)
                | (Review, Closed)
                | (Closed, Intake)
        )
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Stage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Stage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Stage::parse(&code))
    }
}

impl std::str::FromStr for Stage {
    type Err = crate::error::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::from_code(s).ok_or_else(|| crate::error::Error::invalid("stage", "unknown stage"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_has_exactly_the_designed_edges() {
        let edges: Vec<(Stage, Stage)> = Stage::ALL
            .iter()
            .flat_map(|a| Stage::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_move_to(*b))
            .collect();
        assert_eq!(edges.len(), 8);
        assert!(!Stage::Intake.can_move_to(Stage::Closed));
        assert!(!Stage::Closed.can_move_to(Stage::Review));
        assert!(!Stage::Review.can_move_to(Stage::Review));
    }
}
