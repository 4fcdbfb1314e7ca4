//! The case file as typed Rust values, read from the document.
//!
//! These types are a read view: they are built from the merged document (`CaseDoc::read`)
//! and never written back wholesale. Edits go through the typed actions of
//! [`crate::case::CaseDoc`], which write only what changed so that concurrent edits merge.
//! Every field is defaulted, so a document written by an older app still reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::case::stage::Stage;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        ///
        /// A code this version does not know (written by a newer app) reads as `Unknown`
        /// with the code as it was written: it is shown as such and never written back as
        /// another value (typed edits refuse it; edits elsewhere leave it as it is).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum), uniffi::export(Display))]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            /// A code this version does not know yet, as it is stored.
            Unknown { code: UnknownCode },
        }
        impl $name {
            /// The code stored in the document.
            pub fn code(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ Self::Unknown { code } => code.as_str() }
            }
            /// Every value this version knows, in order.
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];
            /// The value for a stored code this version knows.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some(Self::$variant),)+ _ => None }
            }
            /// The value for any stored code: unknown codes are kept as they are.
            pub fn parse(code: &str) -> Self {
                Self::from_code(code).unwrap_or_else(|| Self::Unknown { code: UnknownCode::new(code) })
            }
            /// Whether this version knows the code.
            pub fn is_known(self) -> bool {
                !matches!(self, Self::Unknown { .. })
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = std::borrow::Cow::<'de, str>::deserialize(d)?;
                Ok(Self::parse(&code))
            }
        }
    };
}

pub(crate) use code_enum;

/// A code from a newer version of the app, kept as it is stored (a stored value longer
/// than [`UnknownCode::MAX_LEN`] bytes is not a code: it is shown cut, and stays whole in
/// the document).
///
/// Codes are interned, so that the enums holding them stay `Copy`: at most
/// [`UnknownCode::MAX_CODES`] distinct codes per process (past that, `?` is shown; the
/// document keeps the code either way).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownCode(&'static str);

impl UnknownCode {
    /// The longest code kept whole, in bytes.
    pub const MAX_LEN: usize = 64;
    /// How many distinct unknown codes a process keeps.
    pub const MAX_CODES: usize = 4096;

    /// The unknown code as stored.
    pub fn new(code: &str) -> Self {
        use std::collections::BTreeSet;
        use std::sync::{Mutex, PoisonError};
        static CODES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
        let mut end = code.len().min(Self::MAX_LEN);
        while !code.is_char_boundary(end) {
            end -= 1;
        }
        let code = &code[..end];
        let mut codes = CODES.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = codes.get(code) {
            return UnknownCode(known);
        }
        if codes.len() >= Self::MAX_CODES {
            return UnknownCode("?");
        }
        let kept: &'static str = Box::leak(code.to_owned().into_boxed_str());
        codes.insert(kept);
        UnknownCode(kept)
    }

    /// The code as stored.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Debug for UnknownCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(feature = "uniffi")]
uniffi::custom_type!(UnknownCode, String, {
    lower: |code| code.as_str().to_owned(),
    try_lift: |code| Ok(UnknownCode::new(&code)),
});

/// Each actor (hex) and who it writes for.
pub type ActorMap = BTreeMap<String, ActorInfo>;

/// An assessment's life domains (codes) and what was found in each.
pub type DomainMap = BTreeMap<String, DomainAssessment>;

#[cfg(feature = "uniffi")]
uniffi::custom_type!(ActorMap, std::collections::HashMap<String, ActorInfo>, {
    remote,
    lower: |map| map.into_iter().collect(),
    try_lift: |map| Ok(map.into_iter().collect()),
});

#[cfg(feature = "uniffi")]
uniffi::custom_type!(DomainMap, std::collections::HashMap<String, DomainAssessment>, {
    remote,
    lower: |map| map.into_iter().collect(),
    try_lift: |map| Ok(map.into_iter().collect()),
});

code_enum! {
    /// Who may see a case: its team (`Normal`), or only its assigned workers and the
    /// team's supervisors (`Restricted`).
    Sensitivity { Normal = "normal", Restricted = "restricted" }
}

impl Sensitivity {
    /// Whether the case is hidden from its team's other workers. A level from a newer app
    /// restricts too: what this version cannot read, it does not show more widely.
    pub fn restricts(self) -> bool {
        !matches!(self, Sensitivity::Normal)
    }

    /// The level for a case restricted or not.
    pub fn of(restricted: bool) -> Self {
        if restricted {
            Sensitivity::Restricted
        } else {
            Sensitivity::Normal
        }
    }
}

code_enum! {
    /// The risk codes written before schema revision 2, read from old documents only: a
    /// severity scale the seeds do not have (`concern` is in no seed). New judgements are
    /// [`Finding`]s. Three of the codes meant a seed conclusion and read as one
    /// ([`RiskLevel::finding`]); `concern` does not, and asks for a new conclusion.
    RiskLevel {
        NoEvidence = "no_evidence",
        InsufficientInfo = "insufficient_info",
        Concern = "concern",
        EvidenceOfHarm = "evidence_of_harm",
    }
}

impl RiskLevel {
    /// The seed conclusion an earlier code meant, if it meant one.
    pub fn finding(self) -> Option<Finding> {
        match self {
            RiskLevel::NoEvidence => Some(Finding::NoEvidenceOfAbuse),
            RiskLevel::InsufficientInfo => Some(Finding::InsufficientInformation),
            RiskLevel::EvidenceOfHarm => Some(Finding::EvidenceOfAbuse),
            RiskLevel::Concern | RiskLevel::Unknown { .. } => None,
        }
    }
}

code_enum! {
    /// The kind of case, which decides the assessment it uses: only a child-protection case
    /// ends its risk assessment in a [`Finding`] about abuse (seed 004); a veteran or a
    /// disabled adult is not assessed for abuse.
    CaseKind {
        ChildProtection = "child_protection",
        Disability = "disability",
        ViolenceAgainstWomen = "violence_against_women",
        FamilyInDifficulty = "family_in_difficulty",
        InternallyDisplaced = "internally_displaced",
        Veteran = "veteran",
        LegalAid = "legal_aid",
        Other = "other",
    }
}

impl CaseKind {
    /// Whether the kind's risk assessment ends in a child-protection [`Finding`].
    pub fn has_findings(self) -> bool {
        matches!(self, CaseKind::ChildProtection)
    }

    /// The assessment items of the kind beyond the life domains
    /// ([`crate::schema::KIND_ASSESSMENT_ITEMS`]).
    pub fn assessment_items(self) -> &'static [&'static str] {
        crate::schema::kind_assessment_items(self.code())
    }
}

code_enum! {
    /// A conclusion of a child-protection risk assessment, as seed 004's slide gives them:
    /// each has its own next step ([`Finding::next_step`]). Conclusions, not a scale:
    /// "not enough information" is never ranked below a finding of harm.
    Finding {
        NoEvidenceOfAbuse = "no_evidence_of_abuse",
        InsufficientInformation = "insufficient_information",
        OtherFamilyProblems = "other_family_problems",
        EvidenceOfAbuse = "evidence_of_abuse",
    }
}

impl Finding {
    /// The next step seed 004 gives for the conclusion.
    pub fn next_step(self) -> Option<NextStep> {
        match self {
            Finding::NoEvidenceOfAbuse => Some(NextStep::NoFurtherSupport),
            Finding::InsufficientInformation => Some(NextStep::InvestigateFurther),
            Finding::OtherFamilyProblems => Some(NextStep::ReferToResponsibleBody),
            Finding::EvidenceOfAbuse => Some(NextStep::CollectEvidenceAndIntervene),
            Finding::Unknown { .. } => None,
        }
    }
}

code_enum! {
    /// What follows a conclusion (seed 004): no further support (the case may close),
    /// further investigation by a due date, a referral to the body responsible, or
    /// collecting evidence and intervening (a plan).
    NextStep {
        NoFurtherSupport = "no_further_support",
        InvestigateFurther = "investigate_further",
        ReferToResponsibleBody = "refer_to_responsible_body",
        CollectEvidenceAndIntervene = "collect_evidence_and_intervene",
    }
}

code_enum! {
    /// How an intake ends: accepted for case management, screened out (with the reason, and
    /// a closure request), or referred elsewhere (to an organisation).
    IntakeDecision { Accepted = "accepted", ScreenedOut = "screened_out", ReferredElsewhere = "referred_elsewhere" }
}

code_enum! {
    /// How the client or family was told that the case closes.
    InformedHow { InPerson = "in_person", HomeVisit = "home_visit", Phone = "phone", Letter = "letter", Other = "other" }
}

code_enum! {
    /// Status of a referral to a partner organisation. Each answer means one thing: the
    /// client declined, the organisation declined (with its reason), or the service is not
    /// available. `Declined` is the code written before schema revision 2, when whose
    /// choice it was went unrecorded; it is read, never written.
    ReferralStatus {
        Sent = "sent", Received = "received", Accepted = "accepted",
        DeclinedByClient = "declined_by_client",
        DeclinedByOrganisation = "declined_by_organisation", Unavailable = "unavailable",
        ServiceStarted = "service_started", Delivered = "delivered",
        Completed = "completed", Declined = "declined",
    }
}

impl ReferralStatus {
    /// Whether the loop has ended: delivered, declined by either side, unavailable (and the
    /// codes of earlier versions: completed, declined).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ReferralStatus::DeclinedByClient
                | ReferralStatus::DeclinedByOrganisation
                | ReferralStatus::Unavailable
                | ReferralStatus::Delivered
                | ReferralStatus::Completed
                | ReferralStatus::Declined
        )
    }

    /// Whether the partner's answer is still awaited (sent, or received and not answered).
    pub fn awaits_answer(self) -> bool {
        matches!(self, ReferralStatus::Sent | ReferralStatus::Received)
    }

    /// Whether a referral may move from `self` to `to`: forward along sent → received →
    /// accepted → service started → delivered (a step may be skipped when it was not
    /// heard of); the organisation declines before it has accepted; the client declines,
    /// or the service turns out unavailable, at any time before the loop ends; an ended
    /// loop moves no more (a new referral is made instead). A code of a newer app is not
    /// judged; the codes of earlier versions are not written.
    pub fn can_move_to(self, to: ReferralStatus) -> bool {
        use ReferralStatus::*;
        let rank = |s: ReferralStatus| match s {
            Sent => Some(0),
            Received => Some(1),
            Accepted => Some(2),
            ServiceStarted => Some(3),
            Delivered => Some(4),
            _ => None,
        };
        if !self.is_known() {
            return true;
        }
        if self.is_final() || matches!(to, Completed | Declined | Sent) || !to.is_known() {
            return false;
        }
        match to {
            DeclinedByOrganisation => matches!(self, Sent | Received),
            DeclinedByClient | Unavailable => true,
            _ => matches!((rank(self), rank(to)), (Some(a), Some(b)) if b > a),
        }
    }

    /// Whether the answer shows a service missing or out of the client's reach (the gap
    /// seed 000 asks to report upward): never a client's own choice.
    pub fn is_service_gap(self) -> bool {
        matches!(
            self,
            ReferralStatus::Unavailable | ReferralStatus::DeclinedByOrganisation
        )
    }
}

code_enum! {
    /// Status of an appointment.
    AppointmentStatus { Planned = "planned", Kept = "kept", Missed = "missed", Rescheduled = "rescheduled" }
}

code_enum! {
    /// Status of a plan activity.
    ActivityStatus { Planned = "planned", InProgress = "in_progress", Done = "done", Cancelled = "cancelled" }
}

code_enum! {
    /// Status of a plan approval.
    ApprovalStatus { None = "none", Requested = "requested", Approved = "approved", Returned = "returned" }
}

code_enum! {
    /// Status of a closure request.
    ClosureStatus { Requested = "requested", Approved = "approved", Returned = "returned" }
}

/// Who made an entry and when; a retracted entry keeps its content and says why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Retraction {
    pub at: Option<String>,
    pub by: Option<String>,
    pub reason: Option<String>,
}

/// The whole case file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct CaseFile {
    pub schema: String,
    pub id: String,
    pub created_at: Option<String>,
    pub created_by: Option<String>,
    pub team: Option<String>,
    pub case_manager: Option<String>,
    pub assigned: Vec<String>,
    pub stage: Stage,
    pub sensitivity: Option<Sensitivity>,
    pub priority: Option<String>,
    pub case_kind: Option<CaseKind>,
    pub actors: ActorMap,
    pub client: Client,
    pub intake: Intake,
    /// The safety of a person at risk: the alleged perpetrator and a safety plan.
    pub safety: Safety,
    pub consents: Vec<Consent>,
    pub assessments: Vec<Assessment>,
    pub plan: Plan,
    pub referrals: Vec<Referral>,
    pub visits: Vec<Visit>,
    pub appointments: Vec<Appointment>,
    pub reviews: Vec<Review>,
    pub closures: Vec<Closure>,
    /// The papers of the case file: references to attachments (revision 3).
    pub attachments: Vec<Attachment>,
    /// Supervision on the record: case conferences, reviews of the handling of the case,
    /// disagreements between professionals (revision 4).
    pub supervision: Vec<Supervision>,
}

/// Which user and device an Automerge actor writes for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct ActorInfo {
    pub user_id: String,
    pub device_id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Client {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub name_latin: Option<String>,
    pub date_of_birth: Option<String>,
    pub birth_date_approximate: Option<bool>,
    pub gender: Option<String>,
    pub languages: Vec<String>,
    pub contacts: Vec<Contact>,
    pub address: Option<String>,
    /// The code of the client's area in the agency's list (revision 5; `None` when not
    /// recorded).
    pub area: Option<String>,
    pub vulnerabilities: Vec<String>,
    pub household: Vec<HouseholdMember>,
    pub notes: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Contact {
    pub id: String,
    pub kind: Option<String>,
    pub value: Option<String>,
    pub label: Option<String>,
    /// Whether the client may be contacted this way without danger (do no harm).
    pub safe_to_contact: Option<bool>,
    pub note: Option<String>,
    pub retracted: Option<Retraction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct HouseholdMember {
    pub id: String,
    pub name: Option<String>,
    pub relationship: Option<String>,
    pub date_of_birth: Option<String>,
    pub lives_with_client: Option<bool>,
    pub note: Option<String>,
    /// The member's own case, or a related case (issue 19): its id only.
    pub case_id: Option<String>,
    /// How that case's client is related (a code of [`crate::schema::CASE_RELATIONS`]).
    pub case_relation: Option<String>,
    pub retracted: Option<Retraction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Intake {
    pub date: Option<String>,
    pub source: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    pub reason: String,
    pub presenting_problems: Vec<String>,
    pub urgency: Option<String>,
    pub emergency: Option<bool>,
    pub criteria: IntakeCriteria,
    pub safety_measures: String,
    /// When immediate safety measures were recorded as in place, and by whom: this clears
    /// the emergency from dashboards (history keeps it).
    pub safety_secured_at: Option<String>,
    pub safety_secured_by: Option<String>,
    /// The risk code of a version before schema revision 2 (read only).
    pub preliminary_risk: Option<RiskLevel>,
    /// The preliminary conclusion of a child-protection intake (seed 004 step 1c).
    pub preliminary_finding: Option<Finding>,
    /// Who referred the client, for a referral that came in from an organisation.
    pub referring_organisation: Option<String>,
    pub decision: Option<IntakeDecision>,
    pub decision_reason: Option<String>,
    /// The organisation the client was referred to, when referred elsewhere.
    pub referred_to: Option<String>,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
}

code_enum! {
    /// Whether an order protects the client from the alleged perpetrator.
    ProtectionOrder { None = "none", AppliedFor = "applied_for", InForce = "in_force", Expired = "expired" }
}

/// The safety of a person at risk (seeds 000 and 004): the alleged perpetrator, and a
/// safety plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Safety {
    /// Who the alleged perpetrator is to the client (husband, stepfather...).
    pub perpetrator_relationship: Option<String>,
    pub perpetrator_lives_with_client: Option<bool>,
    pub protection_order: Option<ProtectionOrder>,
    pub protection_order_note: Option<String>,
    /// The safety plan: signs that danger is near, people and places that are safe, and
    /// what the client will do.
    pub warning_signs: Option<String>,
    pub safe_contacts: Option<String>,
    pub safe_places: Option<String>,
    pub what_to_do: Option<String>,
    pub reviewed_on: Option<String>,
}

/// The three intake criteria (seed 003).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct IntakeCriteria {
    pub multiple_problems: Option<bool>,
    pub basic_needs_met: Option<bool>,
    pub cannot_access_alone: Option<bool>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Consent {
    pub id: String,
    pub topic: Option<String>,
    pub scope: Option<String>,
    pub given_by: Option<String>,
    pub granted: Option<bool>,
    pub date: Option<String>,
    pub withdrawn_on: Option<String>,
    pub withdrawn_reason: Option<String>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct DomainAssessment {
    pub rating: Option<i64>,
    pub needs: String,
    pub strengths: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Risk {
    /// The risk code of a version before schema revision 2 (read only).
    pub level: Option<RiskLevel>,
    /// The conclusion of a child-protection assessment.
    pub finding: Option<Finding>,
    /// The next step proposed by the conclusion, as recorded.
    pub next_step: Option<NextStep>,
    /// When the next step is due (further investigation has a due date).
    pub next_step_due: Option<String>,
    /// When the next step was done.
    pub next_step_done_on: Option<String>,
    pub emergency: Option<bool>,
    /// The worker's reasoning, in words.
    pub conclusion: String,
}

impl Risk {
    /// The conclusion: the one recorded, or the one an earlier risk code meant.
    pub fn finding(&self) -> Option<Finding> {
        self.finding
            .or_else(|| self.level.and_then(RiskLevel::finding))
    }

    /// Whether the judgement concluded anything (a finding, or an earlier code).
    pub fn is_concluded(&self) -> bool {
        self.finding.is_some() || self.level.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Assessment {
    pub id: String,
    pub date: Option<String>,
    pub domains: DomainMap,
    pub risk: Risk,
    pub capability: String,
    pub sources: Vec<String>,
    pub summary: String,
    /// Violence against women (seed 000): whether the client is ready to be interviewed
    /// about what happened (no interview or fact-finding before she is: do no harm).
    pub ready_to_talk: Option<bool>,
    /// A family in a difficult life situation (seed 002): the problems the services will
    /// work on, the problems the family does not see as problems, and the recommendations
    /// to the services involved.
    pub problems_to_work_on: Option<String>,
    pub unrecognised_problems: Option<String>,
    pub recommendations: Option<String>,
    /// Legal aid (seed 003): the client's legal question, the steps the client takes (where
    /// to start), what should come of them, and whether a lawyer or the centre's
    /// representative needs to take the case.
    pub legal_question: Option<String>,
    pub action_steps: Option<String>,
    pub expected_result: Option<String>,
    pub lawyer_needed: Option<bool>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

impl Assessment {
    /// The kind-of-case items this assessment holds (the fields of
    /// [`crate::schema::KIND_ASSESSMENT_ITEMS`] that have a value), in schema order.
    pub fn kind_items(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut has = |name: &'static str, set: bool| {
            if set {
                out.push(name);
            }
        };
        has("ready_to_talk", self.ready_to_talk.is_some());
        has("problems_to_work_on", self.problems_to_work_on.is_some());
        has(
            "unrecognised_problems",
            self.unrecognised_problems.is_some(),
        );
        has("recommendations", self.recommendations.is_some());
        has("legal_question", self.legal_question.is_some());
        has("action_steps", self.action_steps.is_some());
        has("expected_result", self.expected_result.is_some());
        has("lawyer_needed", self.lawyer_needed.is_some());
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Responsible {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub organisation: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Activity {
    pub id: String,
    pub description: Option<String>,
    pub responsible: Responsible,
    pub resources: Option<String>,
    pub due_date: Option<String>,
    pub frequency: Option<String>,
    pub status: Option<ActivityStatus>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Problem {
    pub id: String,
    pub priority: Option<i64>,
    pub domain: Option<String>,
    pub description: String,
    pub need: Option<String>,
    pub goal: Option<String>,
    pub target_date: Option<String>,
    pub status: Option<String>,
    pub activities: Vec<Activity>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct FamilyAgreement {
    pub agreed: Option<bool>,
    pub date: Option<String>,
    pub by: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Approval {
    pub status: Option<ApprovalStatus>,
    pub requested_at: Option<String>,
    pub requested_by: Option<String>,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Plan {
    /// The plan as it is being worked on: the approved version, or a draft of the next.
    pub problems: Vec<Problem>,
    pub next_review: Option<String>,
    pub family_agreement: FamilyAgreement,
    /// The latest request for approval and its decision.
    pub approval: Approval,
    /// Every approved version, oldest first: what was approved, by whom, and an outside
    /// authority's decision where one decided.
    pub versions: Vec<PlanVersion>,
}

/// An approved version of the plan, fixed when it was approved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct PlanVersion {
    pub id: String,
    pub number: Option<i64>,
    /// What was approved: the problems and their activities, as JSON
    /// ([`crate::case::CaseFile::plan_content`]).
    pub content: Option<String>,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    /// The outside authority that decided (the commune People's Committee), its decision's
    /// number and date.
    pub authority: Option<String>,
    pub decision_number: Option<String>,
    pub decision_date: Option<String>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Referral {
    pub id: String,
    pub date: Option<String>,
    pub organisation: Option<String>,
    pub service: Option<String>,
    pub domain: Option<String>,
    pub reason: Option<String>,
    pub status: Option<ReferralStatus>,
    pub status_reason: Option<String>,
    pub outcome: Option<String>,
    pub consent_id: Option<String>,
    /// The partner directory's service, location and contact it names (revision 2).
    pub service_id: Option<String>,
    pub location_id: Option<String>,
    pub contact_id: Option<String>,
    /// Whether it shares the client's information (then a consent covers it); `None` on
    /// referrals recorded before revision 2.
    pub shares_information: Option<bool>,
    /// The partner's feedback on the service delivered.
    pub feedback: Option<String>,
    /// Each step of its loop, with who recorded it and when (none before revision 2).
    pub steps: Vec<ReferralStep>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

/// One step of a referral's loop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct ReferralStep {
    pub id: String,
    pub status: Option<ReferralStatus>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
}

impl Referral {
    /// Why this referral may not be recorded as it stands, given the case's consents: one
    /// that shares the client's information (the default) needs a consent to referral or to
    /// information sharing, given, not withdrawn and not retracted, named by `consent_id`.
    pub fn consent_problem(&self, consents: &[Consent]) -> Option<&'static str> {
        if self.shares_information == Some(false) {
            return None;
        }
        let Some(id) = self.consent_id.as_deref().filter(|i| !i.is_empty()) else {
            return Some(NEEDS_CONSENT);
        };
        let covers = consents.iter().any(|c| {
            c.id == id
                && c.retracted.is_none()
                && c.granted == Some(true)
                && c.withdrawn_on.is_none()
                && matches!(
                    c.topic.as_deref(),
                    Some("referral") | Some("information_sharing")
                )
        });
        (!covers).then_some(NEEDS_CONSENT)
    }
}

/// Why a referral's status may not move as asked ([`ReferralStatus::can_move_to`]).
pub const REFERRAL_STEPS: &str = "a referral moves forward (sent, received, accepted, service started, delivered); the organisation declines before it accepts; the client's refusal or an unavailable service ends it at any time; an ended referral moves no more (make a new one)";

/// Why a referral that shares the client's information is refused without a consent.
pub const NEEDS_CONSENT: &str = "a referral that shares the client's information needs their consent to referral or information sharing, given and not withdrawn (or say that it shares none)";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct FollowUp {
    pub id: String,
    pub text: Option<String>,
    pub due_date: Option<String>,
    pub done: Option<bool>,
    pub retracted: Option<Retraction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Visit {
    pub id: String,
    pub date: Option<String>,
    pub kind: Option<String>,
    pub place: Option<String>,
    pub participants: Vec<String>,
    pub duration_minutes: Option<i64>,
    pub note: String,
    pub follow_ups: Vec<FollowUp>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Appointment {
    pub id: String,
    pub at: Option<String>,
    pub place: Option<String>,
    pub with_whom: Option<String>,
    pub purpose: Option<String>,
    pub status: Option<AppointmentStatus>,
    /// What the client needs to attend (transport, childcare, documents): seed 001.
    pub attendance_needs: Option<String>,
    pub note: Option<String>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct GoalProgress {
    pub id: String,
    pub problem_id: Option<String>,
    pub status: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Review {
    pub id: String,
    pub date: Option<String>,
    pub progress: Vec<GoalProgress>,
    pub risk: Risk,
    pub satisfaction: Option<i64>,
    pub satisfaction_note: Option<String>,
    pub decision: Option<String>,
    pub notes: String,
    /// Mẫu 5 (seed 004) and seed 002's evaluation: what changed since the plan.
    pub new_risk_factors: Option<String>,
    pub new_supports: Option<String>,
    /// The opinions of the client or family, and of the specialists involved.
    pub client_opinion: Option<String>,
    pub specialist_opinions: Option<String>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

code_enum! {
    /// What a supervision entry records (seed 004 slide 18; seed 000's team work).
    SupervisionKind {
        CaseConference = "case_conference", SupervisorReview = "supervisor_review",
        SelfReview = "self_review", Disagreement = "disagreement",
    }
}

/// Supervision on the record ([`crate::schema`]'s `supervision`): a case conference, a
/// review of the handling of the case (by a supervisor, or the worker's own), or a
/// disagreement between professionals; dated, with who took part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Supervision {
    pub id: String,
    pub kind: Option<SupervisionKind>,
    /// The day it took place.
    pub date: Option<String>,
    pub participants: Vec<String>,
    /// What was observed or discussed (a review's "Nhận xét").
    pub summary: String,
    /// What went well (a review).
    pub went_well: Option<String>,
    /// What was learned (a review's "Học hỏi").
    pub learning: Option<String>,
    /// What to do differently from now on (a review's "Chuyển đổi").
    pub changes: Option<String>,
    /// What a conference decided.
    pub decisions: Option<String>,
    /// The positions the professionals held (a disagreement).
    pub positions: Option<String>,
    /// How a disagreement was resolved, or where it was taken.
    pub resolution: Option<String>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

code_enum! {
    /// What an attachment is: a photo (of a paper, of an injury), a document, the client's
    /// signature, or a recording.
    AttachmentKind { Photo = "photo", Document = "document", Signature = "signature", Audio = "audio" }
}

/// A reference to an attachment whose bytes live outside the document
/// ([`crate::attachment`]): the bytes are found by the case and `hash`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Attachment {
    pub id: String,
    pub kind: Option<AttachmentKind>,
    /// The SHA-256 of the bytes, 64 lowercase hexadecimal digits.
    pub hash: String,
    /// The size in bytes.
    pub size: i64,
    /// The media type, as the bytes showed it (`image/jpeg`, `application/pdf`...).
    pub media_type: Option<String>,
    /// The entry it belongs to, as `<list>/<entry id>` (`consents/...`, `visits/...`);
    /// `None` for the case file as a whole.
    pub about: Option<String>,
    pub caption: Option<String>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct Closure {
    pub id: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub outcome: String,
    pub status: Option<ClosureStatus>,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    pub reopened_at: Option<String>,
    pub reopened_by: Option<String>,
    pub reopen_reason: Option<String>,
    /// The stage the case was in when closure was requested.
    pub stage_at_request: Option<Stage>,
    /// For a closure as a duplicate: the id of the same client's case that continues.
    pub duplicate_of: Option<String>,
    /// Whether the client or family was told that, why and when the case closes (seed
    /// 002); `false` with a note says why they could not be told.
    pub informed: Option<bool>,
    pub informed_on: Option<String>,
    pub informed_how: Option<InformedHow>,
    pub informed_note: Option<String>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub retracted: Option<Retraction>,
}

impl Closure {
    /// Whether the request says that the client or family was told, or why they were not.
    /// A closure as a duplicate needs neither: the client's case continues in the other
    /// file, so there is no ending to tell the family about.
    pub fn informing_recorded(&self) -> bool {
        if self.reason.as_deref() == Some("duplicate") {
            return true;
        }
        match self.informed {
            Some(true) => self.informed_on.is_some() && self.informed_how.is_some(),
            Some(false) => self
                .informed_note
                .as_deref()
                .is_some_and(|n| !n.trim().is_empty()),
            None => false,
        }
    }
}

/// The latest risk judgement of a case, as dashboards group it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The conclusion (recorded, or meant by an earlier risk code).
    pub finding: Option<Finding>,
    /// An earlier risk code that meant no seed conclusion (`concern`): the case needs a new
    /// conclusion.
    pub earlier_level: Option<RiskLevel>,
    /// Whether the judgement flagged an emergency.
    pub emergency: bool,
    /// When it was recorded (RFC 3339), if known.
    pub recorded_at: Option<String>,
    /// Where it is: `assessments/<id>`, `reviews/<id>` or `intake`.
    pub path: String,
}

impl CaseFile {
    /// The most recent risk judgement: the latest dated, unretracted assessment or review
    /// that concluded something (reviews re-assess risk after intervention), else the
    /// intake's preliminary one.
    pub fn current_judgement(&self) -> Option<Judgement> {
        let judged = |date: &Option<String>, risk: &Risk, at: &Option<String>, path: String| {
            risk.is_concluded().then(|| {
                let key = (
                    date.clone().unwrap_or_default(),
                    at.clone().unwrap_or_default(),
                );
                let j = Judgement {
                    finding: risk.finding(),
                    earlier_level: risk.level.filter(|_| risk.finding().is_none()),
                    emergency: risk.emergency == Some(true),
                    recorded_at: at.clone(),
                    path,
                };
                (key, j)
            })
        };
        let from_assessments = self
            .assessments
            .iter()
            .filter(|a| a.retracted.is_none())
            .filter_map(|a| {
                judged(
                    &a.date,
                    &a.risk,
                    &a.recorded_at,
                    format!("assessments/{}", a.id),
                )
            });
        let from_reviews = self
            .reviews
            .iter()
            .filter(|r| r.retracted.is_none())
            .filter_map(|r| {
                judged(
                    &r.date,
                    &r.risk,
                    &r.recorded_at,
                    format!("reviews/{}", r.id),
                )
            });
        from_assessments
            .chain(from_reviews)
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, j)| j)
            .or_else(|| {
                let i = &self.intake;
                let finding = i
                    .preliminary_finding
                    .or_else(|| i.preliminary_risk.and_then(RiskLevel::finding));
                (finding.is_some() || i.preliminary_risk.is_some()).then(|| Judgement {
                    finding,
                    earlier_level: i.preliminary_risk.filter(|_| finding.is_none()),
                    emergency: i.emergency == Some(true),
                    recorded_at: None,
                    path: "intake".into(),
                })
            })
    }

    /// Whether an emergency is flagged and no safety measures were recorded since (seed 004
    /// step 1d): the intake's flag until safety is secured, or a later judgement's flag
    /// recorded after the last securing. History keeps every flag either way.
    pub fn emergency_open(&self) -> bool {
        let secured = self.intake.safety_secured_at.as_deref();
        if self.intake.emergency == Some(true) && secured.is_none() {
            return true;
        }
        match self.current_judgement() {
            Some(j) if j.emergency && j.path != "intake" => {
                match (secured, j.recorded_at.as_deref()) {
                    (None, _) => true,
                    (Some(s), Some(at)) => at > s,
                    (Some(_), None) => false,
                }
            }
            _ => false,
        }
    }

    /// The next step of the current judgement that is still to be done, with the
    /// judgement's path. A step is done when it was marked done, or (for a closure
    /// request and a referral) when one was recorded since the judgement; collecting
    /// evidence and intervening is done when a plan was approved since.
    pub fn pending_next_step(&self) -> Option<(NextStep, Judgement)> {
        let j = self.current_judgement()?;
        let risk = self.risk_at(&j.path)?;
        if risk.next_step_done_on.is_some() {
            return None;
        }
        let step = risk.next_step.or_else(|| risk.finding?.next_step())?;
        let since = j.recorded_at.clone().unwrap_or_default();
        let after = |at: &Option<String>| at.as_deref().is_some_and(|a| a >= since.as_str());
        let done = match step {
            NextStep::NoFurtherSupport => self
                .closures
                .iter()
                .any(|c| c.retracted.is_none() && after(&c.recorded_at)),
            NextStep::ReferToResponsibleBody => self
                .referrals
                .iter()
                .any(|r| r.retracted.is_none() && after(&r.recorded_at)),
            NextStep::CollectEvidenceAndIntervene => {
                self.plan.approval.status == Some(ApprovalStatus::Approved)
                    && after(&self.plan.approval.decided_at)
            }
            NextStep::InvestigateFurther | NextStep::Unknown { .. } => false,
        };
        (!done).then_some((step, j))
    }

    /// The risk judgement at `assessments/<id>`, `reviews/<id>` (or none for `intake`).
    pub fn risk_at(&self, path: &str) -> Option<&Risk> {
        let (list, id) = path.split_once('/')?;
        match list {
            "assessments" => self
                .assessments
                .iter()
                .find(|a| a.id == id)
                .map(|a| &a.risk),
            "reviews" => self.reviews.iter().find(|r| r.id == id).map(|r| &r.risk),
            _ => None,
        }
    }

    /// The case this one was closed as a duplicate of (the same client's file that goes
    /// on), while that closure is in force; `None` for a case open or closed otherwise.
    pub fn continues_in(&self) -> Option<&str> {
        if self.stage != Stage::Closed {
            return None;
        }
        self.current_closure()
            .filter(|c| c.reason.as_deref() == Some("duplicate"))
            .and_then(|c| c.duplicate_of.as_deref())
    }

    /// The ids of the cases this case links to (issue 19): household members' own cases
    /// (or related cases) and the case a closure as a duplicate points to, each once, in
    /// order. As written: an id may name a case that does not exist (any more).
    pub fn linked_cases(&self) -> std::collections::BTreeSet<&str> {
        self.client
            .household
            .iter()
            .filter_map(|m| m.case_id.as_deref())
            .chain(
                self.closures
                    .iter()
                    .filter_map(|c| c.duplicate_of.as_deref()),
            )
            .collect()
    }

    /// The closure in force: the last approved one that was not reopened.
    pub fn current_closure(&self) -> Option<&Closure> {
        self.closures.iter().rev().find(|c| {
            c.retracted.is_none()
                && c.status == Some(ClosureStatus::Approved)
                && c.reopened_at.is_none()
        })
    }

    /// The ways to reach the client that may be used without danger: not retracted, and
    /// not marked unsafe (do no harm: a contact marked unsafe is never offered for a
    /// reminder or printed on anything that leaves the office). A contact whose safety
    /// nobody recorded is offered only when the case has no alleged perpetrator on record.
    pub fn reachable_contacts(&self) -> Vec<&Contact> {
        let at_risk = self.safety.perpetrator_relationship.is_some()
            || self.safety.perpetrator_lives_with_client == Some(true);
        self.client
            .contacts
            .iter()
            .filter(|c| c.retracted.is_none())
            .filter(|c| match c.safe_to_contact {
                Some(safe) => safe,
                None => !at_risk,
            })
            .collect()
    }

    /// The closure request waiting for a supervisor, if any.
    pub fn pending_closure(&self) -> Option<&Closure> {
        self.closures
            .iter()
            .rev()
            .find(|c| c.retracted.is_none() && c.status == Some(ClosureStatus::Requested))
    }
}

#[cfg(test)]
mod sensitivity_tests {
    use super::Sensitivity;

    #[test]
    fn a_level_this_version_does_not_know_restricts() {
        assert!(!Sensitivity::Normal.restricts());
        assert!(Sensitivity::Restricted.restricts());
        let newer = Sensitivity::parse("sealed_by_court");
        assert!(!newer.is_known());
        assert_eq!(newer.code(), "sealed_by_court");
        assert!(newer.restricts(), "fail closed");
        assert_eq!(Sensitivity::of(true).code(), "restricted");
        assert_eq!(Sensitivity::of(false).code(), "normal");
    }
}
