// Mirrors of fieldcase-core's types for uniffi, field for field (maps as HashMap, counts
// as u64, JSON values as JSON text). They convert to and from the core's types through
// serde (`crate::convert`), so a field added to the core but not here fails the tests
// that round-trip every record (see tests/types.rs), never silently.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Mirror of the core's `RiskLevel` (stored as a snake_case code; `Unknown` for a code
/// written by a newer app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    NoEvidence,
    InsufficientInfo,
    Concern,
    EvidenceOfHarm,
    #[serde(other)]
    Unknown,
}

/// Mirror of the core's `ReferralStatus` (stored as a snake_case code; `Unknown` for a code
/// written by a newer app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    Sent,
    Accepted,
    Declined,
    Completed,
    Unavailable,
    #[serde(other)]
    Unknown,
}

/// Mirror of the core's `AppointmentStatus` (stored as a snake_case code; `Unknown` for a code
/// written by a newer app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Planned,
    Kept,
    Missed,
    Rescheduled,
    #[serde(other)]
    Unknown,
}

/// Mirror of the core's `ActivityStatus` (stored as a snake_case code; `Unknown` for a code
/// written by a newer app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum ActivityStatus {
    Planned,
    InProgress,
    Done,
    Cancelled,
    #[serde(other)]
    Unknown,
}

/// Mirror of the core's `ApprovalStatus` (stored as a snake_case code; `Unknown` for a code
/// written by a newer app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    None,
    Requested,
    Approved,
    Returned,
    #[serde(other)]
    Unknown,
}

/// Mirror of the core's `ClosureStatus` (stored as a snake_case code; `Unknown` for a code
/// written by a newer app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum ClosureStatus {
    Requested,
    Approved,
    Returned,
    #[serde(other)]
    Unknown,
}

/// Mirror of the core's `Stage`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, uniffi::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    #[default]
    Intake,
    Assessment,
    Planning,
    Implementation,
    Monitoring,
    Review,
    Closed,
}

/// Mirror of the core's `SortBy`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, uniffi::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    LastChange,
    NextReview,
}

/// Mirror of the core's `AgendaKind`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, uniffi::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum AgendaKind {
    #[default]
    Appointment,
    Activity,
    FollowUp,
    Review,
}

/// Who made an entry and when; a retracted entry keeps its content and says why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Retraction {
    #[uniffi(default)]
    pub at: Option<String>,
    #[uniffi(default)]
    pub by: Option<String>,
    #[uniffi(default)]
    pub reason: Option<String>,
}

/// The whole case file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct CaseFile {
    #[uniffi(default)]
    pub schema: String,
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub created_at: Option<String>,
    #[uniffi(default)]
    pub created_by: Option<String>,
    #[uniffi(default)]
    pub team: Option<String>,
    #[uniffi(default)]
    pub case_manager: Option<String>,
    #[uniffi(default)]
    pub assigned: Vec<String>,
    pub stage: Stage,
    #[uniffi(default)]
    pub sensitivity: Option<String>,
    #[uniffi(default)]
    pub priority: Option<String>,
    #[uniffi(default)]
    pub actors: HashMap<String, ActorInfo>,
    pub client: Client,
    pub intake: Intake,
    #[uniffi(default)]
    pub consents: Vec<Consent>,
    #[uniffi(default)]
    pub assessments: Vec<Assessment>,
    pub plan: Plan,
    #[uniffi(default)]
    pub referrals: Vec<Referral>,
    #[uniffi(default)]
    pub visits: Vec<Visit>,
    #[uniffi(default)]
    pub appointments: Vec<Appointment>,
    #[uniffi(default)]
    pub reviews: Vec<Review>,
    #[uniffi(default)]
    pub closures: Vec<Closure>,
}

/// Which user and device an Automerge actor writes for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ActorInfo {
    #[uniffi(default)]
    pub user_id: String,
    #[uniffi(default)]
    pub device_id: String,
    #[uniffi(default)]
    pub name: String,
}

/// Mirror of the core's `Client`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Client {
    #[uniffi(default)]
    pub kind: Option<String>,
    #[uniffi(default)]
    pub name: Option<String>,
    #[uniffi(default)]
    pub name_latin: Option<String>,
    #[uniffi(default)]
    pub date_of_birth: Option<String>,
    #[uniffi(default)]
    pub birth_date_approximate: Option<bool>,
    #[uniffi(default)]
    pub gender: Option<String>,
    #[uniffi(default)]
    pub languages: Vec<String>,
    #[uniffi(default)]
    pub contacts: Vec<Contact>,
    #[uniffi(default)]
    pub address: Option<String>,
    #[uniffi(default)]
    pub vulnerabilities: Vec<String>,
    #[uniffi(default)]
    pub household: Vec<HouseholdMember>,
    #[uniffi(default)]
    pub notes: String,
}

/// Mirror of the core's `Contact`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Contact {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub kind: Option<String>,
    #[uniffi(default)]
    pub value: Option<String>,
    #[uniffi(default)]
    pub label: Option<String>,
    /// Whether the client may be contacted this way without danger (do no harm).
    #[uniffi(default)]
    pub safe_to_contact: Option<bool>,
    #[uniffi(default)]
    pub note: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `HouseholdMember`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct HouseholdMember {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub name: Option<String>,
    #[uniffi(default)]
    pub relationship: Option<String>,
    #[uniffi(default)]
    pub date_of_birth: Option<String>,
    #[uniffi(default)]
    pub lives_with_client: Option<bool>,
    #[uniffi(default)]
    pub note: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `Intake`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Intake {
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub source: Option<String>,
    #[uniffi(default)]
    pub reporter_name: Option<String>,
    #[uniffi(default)]
    pub reporter_contact: Option<String>,
    #[uniffi(default)]
    pub reason: String,
    #[uniffi(default)]
    pub presenting_problems: Vec<String>,
    #[uniffi(default)]
    pub urgency: Option<String>,
    #[uniffi(default)]
    pub emergency: Option<bool>,
    pub criteria: IntakeCriteria,
    #[uniffi(default)]
    pub safety_measures: String,
    #[uniffi(default)]
    pub preliminary_risk: Option<RiskLevel>,
}

/// The three intake criteria (seed 003).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct IntakeCriteria {
    #[uniffi(default)]
    pub multiple_problems: Option<bool>,
    #[uniffi(default)]
    pub basic_needs_met: Option<bool>,
    #[uniffi(default)]
    pub cannot_access_alone: Option<bool>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// Mirror of the core's `Consent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Consent {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub topic: Option<String>,
    #[uniffi(default)]
    pub scope: Option<String>,
    #[uniffi(default)]
    pub given_by: Option<String>,
    #[uniffi(default)]
    pub granted: Option<bool>,
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub withdrawn_on: Option<String>,
    #[uniffi(default)]
    pub withdrawn_reason: Option<String>,
    #[uniffi(default)]
    pub recorded_at: Option<String>,
    #[uniffi(default)]
    pub recorded_by: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `DomainAssessment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct DomainAssessment {
    #[uniffi(default)]
    pub rating: Option<i64>,
    #[uniffi(default)]
    pub needs: String,
    #[uniffi(default)]
    pub strengths: String,
}

/// Mirror of the core's `Risk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Risk {
    #[uniffi(default)]
    pub level: Option<RiskLevel>,
    #[uniffi(default)]
    pub emergency: Option<bool>,
    #[uniffi(default)]
    pub conclusion: String,
}

/// Mirror of the core's `Assessment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Assessment {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub domains: HashMap<String, DomainAssessment>,
    pub risk: Risk,
    #[uniffi(default)]
    pub capability: String,
    #[uniffi(default)]
    pub sources: Vec<String>,
    #[uniffi(default)]
    pub summary: String,
    #[uniffi(default)]
    pub recorded_at: Option<String>,
    #[uniffi(default)]
    pub recorded_by: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `Responsible`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Responsible {
    #[uniffi(default)]
    pub kind: Option<String>,
    #[uniffi(default)]
    pub name: Option<String>,
    #[uniffi(default)]
    pub organisation: Option<String>,
}

/// Mirror of the core's `Activity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Activity {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub description: Option<String>,
    pub responsible: Responsible,
    #[uniffi(default)]
    pub resources: Option<String>,
    #[uniffi(default)]
    pub due_date: Option<String>,
    #[uniffi(default)]
    pub frequency: Option<String>,
    #[uniffi(default)]
    pub status: Option<ActivityStatus>,
    #[uniffi(default)]
    pub recorded_at: Option<String>,
    #[uniffi(default)]
    pub recorded_by: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `Problem`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Problem {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub priority: Option<i64>,
    #[uniffi(default)]
    pub domain: Option<String>,
    #[uniffi(default)]
    pub description: String,
    #[uniffi(default)]
    pub need: Option<String>,
    #[uniffi(default)]
    pub goal: Option<String>,
    #[uniffi(default)]
    pub target_date: Option<String>,
    #[uniffi(default)]
    pub status: Option<String>,
    #[uniffi(default)]
    pub activities: Vec<Activity>,
    #[uniffi(default)]
    pub recorded_at: Option<String>,
    #[uniffi(default)]
    pub recorded_by: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `FamilyAgreement`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct FamilyAgreement {
    #[uniffi(default)]
    pub agreed: Option<bool>,
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub by: Option<String>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// Mirror of the core's `Approval`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Approval {
    #[uniffi(default)]
    pub status: Option<ApprovalStatus>,
    #[uniffi(default)]
    pub requested_at: Option<String>,
    #[uniffi(default)]
    pub requested_by: Option<String>,
    #[uniffi(default)]
    pub decided_at: Option<String>,
    #[uniffi(default)]
    pub decided_by: Option<String>,
    #[uniffi(default)]
    pub comment: Option<String>,
}

/// Mirror of the core's `Plan`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Plan {
    #[uniffi(default)]
    pub problems: Vec<Problem>,
    #[uniffi(default)]
    pub next_review: Option<String>,
    pub family_agreement: FamilyAgreement,
    pub approval: Approval,
}

/// Mirror of the core's `Referral`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Referral {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub organisation: Option<String>,
    #[uniffi(default)]
    pub service: Option<String>,
    #[uniffi(default)]
    pub domain: Option<String>,
    #[uniffi(default)]
    pub reason: Option<String>,
    #[uniffi(default)]
    pub status: Option<ReferralStatus>,
    #[uniffi(default)]
    pub status_reason: Option<String>,
    #[uniffi(default)]
    pub outcome: Option<String>,
    #[uniffi(default)]
    pub consent_id: Option<String>,
    #[uniffi(default)]
    pub recorded_at: Option<String>,
    #[uniffi(default)]
    pub recorded_by: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `FollowUp`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct FollowUp {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub text: Option<String>,
    #[uniffi(default)]
    pub due_date: Option<String>,
    #[uniffi(default)]
    pub done: Option<bool>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `Visit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Visit {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub kind: Option<String>,
    #[uniffi(default)]
    pub place: Option<String>,
    #[uniffi(default)]
    pub participants: Vec<String>,
    #[uniffi(default)]
    pub duration_minutes: Option<i64>,
    #[uniffi(default)]
    pub note: String,
    #[uniffi(default)]
    pub follow_ups: Vec<FollowUp>,
    #[uniffi(default)]
    pub recorded_at: Option<String>,
    #[uniffi(default)]
    pub recorded_by: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `Appointment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Appointment {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub at: Option<String>,
    #[uniffi(default)]
    pub place: Option<String>,
    #[uniffi(default)]
    pub with_whom: Option<String>,
    #[uniffi(default)]
    pub purpose: Option<String>,
    #[uniffi(default)]
    pub status: Option<AppointmentStatus>,
    /// What the client needs to attend (transport, childcare, documents): seed 001.
    #[uniffi(default)]
    pub attendance_needs: Option<String>,
    #[uniffi(default)]
    pub note: Option<String>,
    #[uniffi(default)]
    pub recorded_at: Option<String>,
    #[uniffi(default)]
    pub recorded_by: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `GoalProgress`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct GoalProgress {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub problem_id: Option<String>,
    #[uniffi(default)]
    pub status: Option<String>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// Mirror of the core's `Review`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Review {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub progress: Vec<GoalProgress>,
    pub risk: Risk,
    #[uniffi(default)]
    pub satisfaction: Option<i64>,
    #[uniffi(default)]
    pub satisfaction_note: Option<String>,
    #[uniffi(default)]
    pub decision: Option<String>,
    #[uniffi(default)]
    pub notes: String,
    #[uniffi(default)]
    pub recorded_at: Option<String>,
    #[uniffi(default)]
    pub recorded_by: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// Mirror of the core's `Closure`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Closure {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub reason: Option<String>,
    #[uniffi(default)]
    pub note: Option<String>,
    #[uniffi(default)]
    pub outcome: String,
    #[uniffi(default)]
    pub status: Option<ClosureStatus>,
    #[uniffi(default)]
    pub decided_at: Option<String>,
    #[uniffi(default)]
    pub decided_by: Option<String>,
    #[uniffi(default)]
    pub comment: Option<String>,
    #[uniffi(default)]
    pub reopened_at: Option<String>,
    #[uniffi(default)]
    pub reopened_by: Option<String>,
    #[uniffi(default)]
    pub reopen_reason: Option<String>,
    #[uniffi(default)]
    pub recorded_at: Option<String>,
    #[uniffi(default)]
    pub recorded_by: Option<String>,
    #[uniffi(default)]
    pub retracted: Option<Retraction>,
}

/// The client's identity and situation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ClientInput {
    #[uniffi(default)]
    pub kind: Option<String>,
    #[uniffi(default)]
    pub name: Option<String>,
    #[uniffi(default)]
    pub name_latin: Option<String>,
    #[uniffi(default)]
    pub date_of_birth: Option<String>,
    #[uniffi(default)]
    pub birth_date_approximate: Option<bool>,
    #[uniffi(default)]
    pub gender: Option<String>,
    #[uniffi(default)]
    pub languages: Option<Vec<String>>,
    #[uniffi(default)]
    pub address: Option<String>,
    #[uniffi(default)]
    pub vulnerabilities: Option<Vec<String>>,
    #[uniffi(default)]
    pub notes: Option<String>,
}

/// A way to reach the client; `safe_to_contact` says whether using it is safe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ContactInput {
    #[uniffi(default)]
    pub kind: Option<String>,
    #[uniffi(default)]
    pub value: Option<String>,
    #[uniffi(default)]
    pub label: Option<String>,
    #[uniffi(default)]
    pub safe_to_contact: Option<bool>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// A member of the client's household.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct HouseholdMemberInput {
    #[uniffi(default)]
    pub name: Option<String>,
    #[uniffi(default)]
    pub relationship: Option<String>,
    #[uniffi(default)]
    pub date_of_birth: Option<String>,
    #[uniffi(default)]
    pub lives_with_client: Option<bool>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// The three intake criteria.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct CriteriaInput {
    #[uniffi(default)]
    pub multiple_problems: Option<bool>,
    #[uniffi(default)]
    pub basic_needs_met: Option<bool>,
    #[uniffi(default)]
    pub cannot_access_alone: Option<bool>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// The intake record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct IntakeInput {
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub source: Option<String>,
    #[uniffi(default)]
    pub reporter_name: Option<String>,
    #[uniffi(default)]
    pub reporter_contact: Option<String>,
    #[uniffi(default)]
    pub reason: Option<String>,
    #[uniffi(default)]
    pub presenting_problems: Option<Vec<String>>,
    #[uniffi(default)]
    pub urgency: Option<String>,
    #[uniffi(default)]
    pub emergency: Option<bool>,
    #[uniffi(default)]
    pub criteria: Option<CriteriaInput>,
    #[uniffi(default)]
    pub safety_measures: Option<String>,
    #[uniffi(default)]
    pub preliminary_risk: Option<RiskLevel>,
}

/// Consent given (or refused) by the client or family.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ConsentInput {
    #[uniffi(default)]
    pub topic: Option<String>,
    #[uniffi(default)]
    pub scope: Option<String>,
    #[uniffi(default)]
    pub given_by: Option<String>,
    #[uniffi(default)]
    pub granted: Option<bool>,
    #[uniffi(default)]
    pub date: Option<String>,
}

/// One life domain of an assessment: rating 1 (serious need) to 5 (a strength).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct DomainInput {
    #[uniffi(default)]
    pub rating: Option<i64>,
    #[uniffi(default)]
    pub needs: Option<String>,
    #[uniffi(default)]
    pub strengths: Option<String>,
}

/// A risk judgement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct RiskInput {
    #[uniffi(default)]
    pub level: Option<RiskLevel>,
    #[uniffi(default)]
    pub emergency: Option<bool>,
    #[uniffi(default)]
    pub conclusion: Option<String>,
}

/// An assessment over the life domains, with a risk judgement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct AssessmentInput {
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub domains: Option<HashMap<String, DomainInput>>,
    #[uniffi(default)]
    pub risk: Option<RiskInput>,
    #[uniffi(default)]
    pub capability: Option<String>,
    #[uniffi(default)]
    pub sources: Option<Vec<String>>,
    #[uniffi(default)]
    pub summary: Option<String>,
}

/// A prioritised problem of the plan, with its need and measurable goal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ProblemInput {
    #[uniffi(default)]
    pub priority: Option<i64>,
    #[uniffi(default)]
    pub domain: Option<String>,
    #[uniffi(default)]
    pub description: Option<String>,
    #[uniffi(default)]
    pub need: Option<String>,
    #[uniffi(default)]
    pub goal: Option<String>,
    #[uniffi(default)]
    pub target_date: Option<String>,
    #[uniffi(default)]
    pub status: Option<String>,
}

/// Who carries out an activity: a person or a partner organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ResponsibleInput {
    #[uniffi(default)]
    pub kind: Option<String>,
    #[uniffi(default)]
    pub name: Option<String>,
    #[uniffi(default)]
    pub organisation: Option<String>,
}

/// An activity towards a goal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ActivityInput {
    #[uniffi(default)]
    pub description: Option<String>,
    #[uniffi(default)]
    pub responsible: Option<ResponsibleInput>,
    #[uniffi(default)]
    pub resources: Option<String>,
    #[uniffi(default)]
    pub due_date: Option<String>,
    #[uniffi(default)]
    pub frequency: Option<String>,
    #[uniffi(default)]
    pub status: Option<ActivityStatus>,
}

/// The family's agreement with the plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct AgreementInput {
    #[uniffi(default)]
    pub agreed: Option<bool>,
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub by: Option<String>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// A referral to a partner organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ReferralInput {
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub organisation: Option<String>,
    #[uniffi(default)]
    pub service: Option<String>,
    #[uniffi(default)]
    pub domain: Option<String>,
    #[uniffi(default)]
    pub reason: Option<String>,
    #[uniffi(default)]
    pub status: Option<ReferralStatus>,
    #[uniffi(default)]
    pub status_reason: Option<String>,
    #[uniffi(default)]
    pub outcome: Option<String>,
    #[uniffi(default)]
    pub consent_id: Option<String>,
}

/// A home visit, call or meeting, with its note.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct VisitInput {
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub kind: Option<String>,
    #[uniffi(default)]
    pub place: Option<String>,
    #[uniffi(default)]
    pub participants: Option<Vec<String>>,
    #[uniffi(default)]
    pub duration_minutes: Option<i64>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// Something to do after a visit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct FollowUpInput {
    #[uniffi(default)]
    pub text: Option<String>,
    #[uniffi(default)]
    pub due_date: Option<String>,
    #[uniffi(default)]
    pub done: Option<bool>,
}

/// An appointment the client must keep, and what they need to attend it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct AppointmentInput {
    #[uniffi(default)]
    pub at: Option<String>,
    #[uniffi(default)]
    pub place: Option<String>,
    #[uniffi(default)]
    pub with_whom: Option<String>,
    #[uniffi(default)]
    pub purpose: Option<String>,
    #[uniffi(default)]
    pub status: Option<AppointmentStatus>,
    #[uniffi(default)]
    pub attendance_needs: Option<String>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// Progress on one goal at a review.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ProgressInput {
    #[uniffi(default)]
    pub problem_id: Option<String>,
    #[uniffi(default)]
    pub status: Option<String>,
    #[uniffi(default)]
    pub note: Option<String>,
}

/// A review: progress per goal, re-assessed risk, satisfaction and decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ReviewInput {
    #[uniffi(default)]
    pub date: Option<String>,
    #[uniffi(default)]
    pub progress: Option<Vec<ProgressInput>>,
    #[uniffi(default)]
    pub risk: Option<RiskInput>,
    #[uniffi(default)]
    pub satisfaction: Option<i64>,
    #[uniffi(default)]
    pub satisfaction_note: Option<String>,
    #[uniffi(default)]
    pub decision: Option<String>,
    #[uniffi(default)]
    pub notes: Option<String>,
}

/// A request to close the case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ClosureInput {
    #[uniffi(default)]
    pub reason: Option<String>,
    #[uniffi(default)]
    pub note: Option<String>,
    #[uniffi(default)]
    pub outcome: Option<String>,
}

/// What is needed to open a case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct NewCase {
    #[uniffi(default)]
    pub team: String,
    /// The accountable worker; the creating user when empty.
    #[uniffi(default)]
    pub case_manager: Option<String>,
    /// Restricted cases are seen only by their assigned workers and supervisor.
    #[uniffi(default)]
    pub restricted: bool,
    #[uniffi(default)]
    pub priority: Option<String>,
    pub client: ClientInput,
    #[uniffi(default)]
    pub intake: Option<IntakeInput>,
}

/// What the caseload list shows of a case, and what it is filtered and searched on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct CaseSummary {
    #[uniffi(default)]
    pub id: String,
    #[uniffi(default)]
    pub client_name: String,
    #[uniffi(default)]
    pub client_name_latin: Option<String>,
    pub stage: Stage,
    #[uniffi(default)]
    pub risk: Option<RiskLevel>,
    #[uniffi(default)]
    pub emergency: bool,
    #[uniffi(default)]
    pub priority: Option<String>,
    #[uniffi(default)]
    pub restricted: bool,
    #[uniffi(default)]
    pub team: Option<String>,
    #[uniffi(default)]
    pub case_manager: Option<String>,
    #[uniffi(default)]
    pub assigned: Vec<String>,
    #[uniffi(default)]
    pub next_review: Option<String>,
    /// When the case last changed on this device (ms since the epoch).
    #[uniffi(default)]
    pub last_change: i64,
    /// Fields holding concurrent values that someone should resolve.
    #[uniffi(default)]
    pub conflicts: u64,
    /// Upcoming appointments and open activities and follow-ups.
    #[uniffi(default)]
    pub agenda: Vec<AgendaItem>,
}

/// Something due: an appointment, an activity of the plan, a visit follow-up, a review.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct AgendaItem {
    #[uniffi(default)]
    pub case_id: String,
    pub kind: AgendaKind,
    /// A date (`YYYY-MM-DD`) or an instant (RFC 3339); sorts as text within a day.
    #[uniffi(default)]
    pub when: String,
    /// The appointment's purpose, the activity's description...
    #[uniffi(default)]
    pub title: String,
    /// The entry's path in the case file.
    #[uniffi(default)]
    pub path: String,
    /// What the client needs to attend an appointment.
    #[uniffi(default)]
    pub needs: Option<String>,
}

/// Which cases to list. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct CaseFilter {
    #[uniffi(default)]
    pub stage: Option<Stage>,
    /// Only cases at exactly this risk level.
    #[uniffi(default)]
    pub risk: Option<RiskLevel>,
    /// Only cases at this risk level or above.
    #[uniffi(default)]
    pub min_risk: Option<RiskLevel>,
    #[uniffi(default)]
    pub assigned_to: Option<String>,
    /// Only cases whose review date is before this day (`YYYY-MM-DD`, usually today).
    #[uniffi(default)]
    pub review_overdue_on: Option<String>,
    #[uniffi(default)]
    pub emergency: Option<bool>,
    #[uniffi(default)]
    pub with_conflicts: Option<bool>,
    /// Client or household name, in any script (see [`crate::search`]).
    #[uniffi(default)]
    pub query: Option<String>,
    /// The order (most recently changed first when not given).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[uniffi(default)]
    pub sort: Option<SortBy>,
    /// At most this many results (all when absent).
    #[uniffi(default)]
    pub limit: Option<u64>,
}

/// Who made a change, resolved from its actor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Attribution {
    /// The Automerge actor id (hex).
    #[uniffi(default)]
    pub actor: String,
    /// The user the actor writes for, if the document records it.
    #[uniffi(default)]
    pub user_id: Option<String>,
    #[uniffi(default)]
    pub user_name: Option<String>,
    #[uniffi(default)]
    pub device_id: Option<String>,
    /// When the change was made (RFC 3339, from the change's timestamp).
    #[uniffi(default)]
    pub at: String,
    /// The change's hash (hex).
    #[uniffi(default)]
    pub change: String,
}

/// One of the values a conflicting field holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ConflictValue {
    #[serde(with = "crate::json_text")]
    #[uniffi(default)]
    pub value: String,
    /// Whether this is the value the case shows (the same on every replica).
    #[uniffi(default)]
    pub winner: bool,
    pub by: Attribution,
}

/// A field that two or more people set to different values concurrently.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Conflict {
    /// Field path, with entry ids inside lists (e.g. `visits/<id>/kind`).
    #[uniffi(default)]
    pub path: String,
    #[uniffi(default)]
    pub values: Vec<ConflictValue>,
}

/// One change to a field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct FieldChange {
    pub by: Attribution,
    /// The action that made the change (e.g. `add visits`, `set client/name`).
    #[uniffi(default)]
    pub message: Option<String>,
    /// For a scalar field: the value written (null when cleared).
    #[serde(with = "crate::json_text_opt")]
    #[uniffi(default)]
    pub value: Option<String>,
    /// For a text or list: characters or items inserted and deleted by this change.
    #[uniffi(default)]
    pub inserted: u64,
    #[uniffi(default)]
    pub deleted: u64,
}

/// A case that could not be synced, and why (the reason is the server's or ours; it never
/// contains client data).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct CaseSyncError {
    #[uniffi(default)]
    pub case_id: String,
    #[uniffi(default)]
    pub reason: String,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct SyncReport {
    /// Cases whose local changes were sent.
    #[uniffi(default)]
    pub sent: u64,
    /// Cases that received changes from the server.
    #[uniffi(default)]
    pub received: u64,
    /// Cases new on this device.
    #[uniffi(default)]
    pub new_cases: u64,
    /// Conflicts that appeared in the synced cases (a supervisor resolves them).
    #[uniffi(default)]
    pub new_conflicts: u64,
    /// Cases already up to date (skipped by comparing heads).
    #[uniffi(default)]
    pub unchanged: u64,
    /// Cases left out because the server refused them earlier (see `CaseStore::refused_cases`).
    #[uniffi(default)]
    pub held_back: u64,
    /// Cases removed from this device because its user no longer sees them (transferred
    /// or unassigned), after the server received every change made here.
    #[uniffi(default)]
    pub removed: u64,
    #[uniffi(default)]
    pub errors: Vec<CaseSyncError>,
}
