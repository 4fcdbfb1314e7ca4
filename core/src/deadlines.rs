//! Deadlines an agency sets. The seeds give no numbers ("within 12 hours" is in none of
//! them), so none is written into the code as law: a team's settings on the server say how
//! many days after a starting point each step is due, and phones receive them when they
//! sync and compute what is due and overdue without the network. The defaults below are
//! only what a team gets until its agency decides; `docs/operations.md` lists them.
//!
//! | step | due | counted from | default |
//! | --- | --- | --- | --- |
//! | immediate safety measures, in an emergency | `safety_days` | the intake date | 1 |
//! | the first assessment | `assessment_days` | the intake date | 14 |
//! | an approved plan | `plan_days` | the intake date | 30 |
//! | a partner's answer to a referral | `referral_answer_days` | the referral's date | 14 |
//! | the review, when the plan names no date | `review_days_*` by the conclusion | the plan's approval | 30 (abuse), 30 (not enough information), 60 (other problems), 90 (otherwise) |

use serde::{Deserialize, Serialize};

use crate::case::model::Finding;

/// How many days after its starting point each step is due (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Deadlines {
    pub safety_days: u32,
    pub assessment_days: u32,
    pub plan_days: u32,
    pub referral_answer_days: u32,
    /// The review after an approved plan, by the latest conclusion.
    pub review_days_evidence_of_abuse: u32,
    pub review_days_insufficient_information: u32,
    pub review_days_other_family_problems: u32,
    /// For every other case (no child-protection conclusion, or no evidence of abuse).
    pub review_days: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            safety_days: 1,
            assessment_days: 14,
            plan_days: 30,
            referral_answer_days: 14,
            review_days_evidence_of_abuse: 30,
            review_days_insufficient_information: 30,
            review_days_other_family_problems: 60,
            review_days: 90,
        }
    }
}

/// The longest any deadline may be, in days (ten years): a bound, not advice.
pub const MAX_DAYS: u32 = 3650;

impl Deadlines {
    /// Checks every value is at least one day and at most [`MAX_DAYS`]; names the first that
    /// is not.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("safety_days", self.safety_days),
            ("assessment_days", self.assessment_days),
            ("plan_days", self.plan_days),
            ("referral_answer_days", self.referral_answer_days),
            (
                "review_days_evidence_of_abuse",
                self.review_days_evidence_of_abuse,
            ),
            (
                "review_days_insufficient_information",
                self.review_days_insufficient_information,
            ),
            (
                "review_days_other_family_problems",
                self.review_days_other_family_problems,
            ),
            ("review_days", self.review_days),
        ] {
            if v == 0 || v > MAX_DAYS {
                return Err(format!("{name} must be from 1 to {MAX_DAYS} days"));
            }
        }
        Ok(())
    }

    /// The days a step of `kind` gets (for a review: by the case's latest conclusion).
    pub fn days(&self, kind: DueKind, finding: Option<Finding>) -> u32 {
        match kind {
            DueKind::Safety => self.safety_days,
            DueKind::Assessment => self.assessment_days,
            DueKind::Plan => self.plan_days,
            DueKind::ReferralAnswer => self.referral_answer_days,
            DueKind::Review => match finding {
                Some(Finding::EvidenceOfAbuse) => self.review_days_evidence_of_abuse,
                Some(Finding::InsufficientInformation) => self.review_days_insufficient_information,
                Some(Finding::OtherFamilyProblems) => self.review_days_other_family_problems,
                _ => self.review_days,
            },
        }
    }
}

/// A step whose due date comes from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueKind {
    Safety,
    Assessment,
    Plan,
    ReferralAnswer,
    Review,
}

/// `date` (`YYYY-MM-DD`, or the date of an instant) plus `days`, as `YYYY-MM-DD`; `None`
/// when the date is not one.
pub fn add_days(date: &str, days: u32) -> Option<String> {
    let day = chrono::NaiveDate::parse_from_str(date.get(..10)?, "%Y-%m-%d").ok()?;
    Some(
        (day + chrono::Days::new(u64::from(days)))
            .format("%Y-%m-%d")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounds_are_named() {
        assert_eq!(Deadlines::default().check(), Ok(()));
        let zero = Deadlines {
            plan_days: 0,
            ..Deadlines::default()
        };
        assert_eq!(
            zero.check(),
            Err("plan_days must be from 1 to 3650 days".into())
        );
        assert_eq!(add_days("2026-12-30", 3).as_deref(), Some("2027-01-02"));
        assert_eq!(
            add_days("2026-11-30T23:00:00Z", 1).as_deref(),
            Some("2026-12-01")
        );
        assert_eq!(add_days("soon", 1), None);
        let d = Deadlines::default();
        assert_eq!(d.days(DueKind::Review, Some(Finding::EvidenceOfAbuse)), 30);
        assert_eq!(
            d.days(DueKind::Review, Some(Finding::NoEvidenceOfAbuse)),
            90
        );
    }
}
