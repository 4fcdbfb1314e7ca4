//! The case document's schema (`fieldcase/case/1`) as data.
//!
//! One static tree describes every field of a case file: its kind (short string, narrative
//! text, date, enumeration, list of entries...) and whether forms may write it directly or
//! only a typed action may (stage, approvals, assignment). The same tree is used to
//! - scaffold a new case or entry: every container (map, list, text) is created together
//!   with its parent, so two phones never create the same container concurrently (which in
//!   Automerge would hide one side's edits behind an object conflict);
//! - validate and apply writes (`set_field`), so the typed API cannot produce an invalid
//!   document;
//! - resolve field paths such as `visits/<entry id>/note` for editing, conflicts and history;
//! - validate a whole document received from elsewhere (the server uses this).
//!
//! Paths are `/`-separated map keys; inside a list of entries the segment is the entry's
//! `id`, never an index (indexes shift when two phones insert concurrently).

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value, ValueRef, ROOT};
use serde_json::Value as Json;

use crate::error::{Error, Result};

/// The schema identifier stored at the root of every case document.
pub const SCHEMA_ID: &str = "fieldcase/case/1";

/// The revision of the schema this version writes. The identifier stays the same (a
/// document never has to be rewritten to upgrade); a revision adds fields. A container a
/// revision adds ([`Field::since`]) may be missing from a document written before it: the
/// first edit creates it, with the change every replica makes alike
/// ([`crate::case::upgrade`]). Revision 2 is the case process of the seeds
/// (closing at any stage, intake decisions, conclusions with their next step, plan
/// versions). Revision 3 is the papers of the case file: references to attachments whose
/// bytes live outside the document ([`crate::attachment`]). Revision 4 is supervision on
/// the record (case conferences, reviews of the handling of the case, disagreements between
/// professionals) and a case closed as a duplicate of another (`duplicate_of`). Revision 5
/// is the client's area (`client/area`): the code of one of the areas the agency keeps (a
/// commune, a district; seed 004's "xã"), so that cases can be counted by area, which a
/// free-text address cannot. A scalar: no upgrade change is needed for it.
pub const SCHEMA_REVISION: u32 = 5;

/// The longest area code, in bytes ([`is_area_code`]).
pub const AREA_CODE_MAX: usize = 32;

/// Whether `code` is shaped like an area code: 1 to [`AREA_CODE_MAX`] ASCII letters,
/// digits, `-`, `_` or `.` (a statistics office's code such as Vietnam's `00001` or
/// Thailand's `100101`, or the agency's own such as `KY-03`). Which codes exist is the
/// server's list; the case holds only the code, so a renamed area needs no rewrite.
pub fn is_area_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= AREA_CODE_MAX
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// What a field holds.
#[derive(Debug)]
pub enum Kind {
    /// A short string (a name, a place): concurrent edits are a conflict, shown to people.
    Str,
    /// The code of one of the agency's areas ([`is_area_code`]; revision 5): which codes
    /// exist is the server's list, which phones receive (`GET /v1/areas`).
    AreaCode,
    /// Narrative text (Automerge Text): concurrent edits merge character by character.
    Text,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An instant, RFC 3339 (e.g. `2026-11-22T09:30:00Z`).
    DateTime,
    /// True or false.
    Bool,
    /// An integer within bounds (inclusive).
    Int(i64, i64),
    /// One of a fixed set of codes.
    Enum(&'static [&'static str]),
    /// A set-like list of short strings (languages, participants).
    StrList,
    /// A set-like list of codes from a fixed set.
    EnumList(&'static [&'static str]),
    /// A map with these fields.
    Map(&'static [Field]),
    /// A list of entries, each a map with these fields plus [`ENTRY_FIELDS`].
    Entries(&'static [Field]),
    /// A map with free keys, each value of this kind.
    Dict(&'static Kind),
}

/// Who may write a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Forms may write it (`set_field`, `edit_text`).
    Open,
    /// Only a typed action writes it (it carries authority or bookkeeping).
    Action,
}

/// One field of a map.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub access: Access,
    /// The schema revision that added the field ([`SCHEMA_REVISION`]).
    pub since: u32,
}

impl Field {
    /// The field, added by revision `revision`.
    const fn since(self, revision: u32) -> Field {
        Field {
            since: revision,
            ..self
        }
    }
}

const fn open(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        access: Access::Open,
        since: 1,
    }
}

const fn action(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        access: Access::Action,
        since: 1,
    }
}

/// Stages of the case workflow, in order.
pub const STAGES: &[&str] = &[
    "intake",
    "assessment",
    "planning",
    "implementation",
    "monitoring",
    "review",
    "closed",
];
/// The four risk codes written before schema revision 2: kept so that old documents stay
/// valid and readable, written by no action any more (a severity scale the seeds do not
/// have; see [`FINDINGS`]).
pub const RISK_LEVELS: &[&str] = &[
    "no_evidence",
    "insufficient_info",
    "concern",
    "evidence_of_harm",
];
/// The kinds of case, each with the assessment it uses (seeds 000, 002, 003, 004).
pub const CASE_KINDS: &[&str] = &[
    "child_protection",
    "disability",
    "violence_against_women",
    "family_in_difficulty",
    "internally_displaced",
    "veteran",
    "legal_aid",
    "other",
];
/// The conclusions of a child-protection risk assessment, in the order of seed 004's slide
/// ("Đánh giá nguy cơ"): each has its own next step ([`NEXT_STEPS`], same order). They are
/// not a severity scale.
pub const FINDINGS: &[&str] = &[
    "no_evidence_of_abuse",
    "insufficient_information",
    "other_family_problems",
    "evidence_of_abuse",
];
/// The next step of each conclusion (seed 004), in the order of [`FINDINGS`].
pub const NEXT_STEPS: &[&str] = &[
    "no_further_support",
    "investigate_further",
    "refer_to_responsible_body",
    "collect_evidence_and_intervene",
];
/// How an intake ends (seed 003's criteria decide it).
pub const INTAKE_DECISIONS: &[&str] = &["accepted", "screened_out", "referred_elsewhere"];
/// Whether a protection order protects the client from the alleged perpetrator.
pub const PROTECTION_ORDERS: &[&str] = &["none", "applied_for", "in_force", "expired"];
/// How the client or family was told that their case closes (seed 002).
pub const INFORMED_HOW: &[&str] = &["in_person", "home_visit", "phone", "letter", "other"];
/// The life domains an assessment covers (seeds 000 and 004).
pub const LIFE_DOMAINS: &[&str] = &[
    "housing",
    "income",
    "employment",
    "education",
    "physical_health",
    "mental_health",
    "family_relationships",
    "safety",
    "beliefs",
    "recreation",
    "self_care",
    "legal_status",
    "community_resources",
];
/// Vulnerability categories (seeds 000, 003, 004).
pub const VULNERABILITIES: &[&str] = &[
    "domestic_violence",
    "sexual_violence",
    "child_at_risk",
    "orphan_or_abandoned",
    "disability",
    "toxic_chemical_victim",
    "hiv_aids",
    "hazardous_labour",
    "working_far_from_home",
    "street_child",
    "sexually_abused",
    "drug_use",
    "in_conflict_with_law",
    "internally_displaced",
    "veteran",
    "elderly",
    "family_in_difficulty",
    "other",
];
pub const SENSITIVITIES: &[&str] = &["normal", "restricted"];
pub const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];
/// A referral's answer and outcome, in the order of the loop (sent, received, accepted,
/// service started, delivered; declined by either side or unavailable end it early).
/// `completed` and `declined` are the codes written before schema revision 2 (read, never
/// written): the service delivered, and a refusal whose author is not known.
pub const REFERRAL_STATUSES: &[&str] = &[
    "sent",
    "received",
    "accepted",
    "declined_by_client",
    "declined_by_organisation",
    "unavailable",
    "service_started",
    "delivered",
    "completed",
    "declined",
];
pub const VISIT_KINDS: &[&str] = &["home", "phone", "office", "other"];
pub const APPOINTMENT_STATUSES: &[&str] = &["planned", "kept", "missed", "rescheduled"];
pub const REVIEW_DECISIONS: &[&str] = &["continue", "new_plan", "close"];
pub const PROBLEM_STATUSES: &[&str] =
    &["open", "in_progress", "achieved", "not_achieved", "dropped"];
pub const ACTIVITY_STATUSES: &[&str] = &["planned", "in_progress", "done", "cancelled"];
pub const APPROVAL_STATUSES: &[&str] = &["none", "requested", "approved", "returned"];
/// How a linked case's client is related to this case's client (issue 19).
pub const CASE_RELATIONS: &[&str] = &["sibling", "parent", "child", "relative", "household"];
pub const CLOSURE_STATUSES: &[&str] = &["requested", "approved", "returned"];
pub const CLOSURE_REASONS: &[&str] = &[
    "goals_achieved",
    "risk_resolved",
    "no_further_support_needed",
    "screened_out",
    "referred_elsewhere",
    "client_declined",
    "moved_away",
    "transferred",
    "deceased",
    // Revision 4: the same client's other case file continues (`duplicate_of`); the
    // family is not told of a closing, as their case goes on.
    "duplicate",
    "other",
];
/// What a supervision entry records (revision 4): a case conference (seed 000: the
/// multidisciplinary team), the review of the worker's handling of the case by a supervisor
/// or by the worker (seed 004 slide 18, "Đánh giá lại hoạt động quản lý trường hợp": self-
/// evaluation and/or the supervisor's), or a disagreement between professionals.
pub const SUPERVISION_KINDS: &[&str] = &[
    "case_conference",
    "supervisor_review",
    "self_review",
    "disagreement",
];
pub const INTAKE_SOURCES: &[&str] = &[
    "self",
    "family",
    "neighbour",
    "school",
    "health",
    "police",
    "court",
    "ngo",
    "local_authority",
    "hotline",
    "community",
    "other",
];
pub const URGENCIES: &[&str] = &["routine", "urgent", "emergency"];
pub const CONSENT_TOPICS: &[&str] = &["information_sharing", "plan", "referral", "photo", "other"];
pub const GENDERS: &[&str] = &["female", "male", "other", "undisclosed"];
pub const CLIENT_KINDS: &[&str] = &["person", "family"];
pub const CONTACT_KINDS: &[&str] = &["phone", "email", "messenger", "address", "other"];
pub const RESPONSIBLE_KINDS: &[&str] = &[
    "case_manager",
    "worker",
    "partner",
    "client",
    "family",
    "other",
];

/// Fields every entry of a list has, written by the core only.
pub const ENTRY_FIELDS: &[Field] = &[
    action("id", Kind::Str),
    action("recorded_at", Kind::DateTime),
    action("recorded_by", Kind::Str),
    action("retracted", Kind::Map(RETRACTION)),
];
const RETRACTION: &[Field] = &[
    action("at", Kind::DateTime),
    action("by", Kind::Str),
    action("reason", Kind::Str),
];

const ACTOR: &[Field] = &[
    action("user_id", Kind::Str),
    action("device_id", Kind::Str),
    action("name", Kind::Str),
];

const CONTACT: &[Field] = &[
    open("kind", Kind::Enum(CONTACT_KINDS)),
    open("value", Kind::Str),
    open("label", Kind::Str),
    open("safe_to_contact", Kind::Bool),
    open("note", Kind::Str),
];
const MEMBER: &[Field] = &[
    open("name", Kind::Str),
    open("relationship", Kind::Str),
    open("date_of_birth", Kind::Date),
    open("lives_with_client", Kind::Bool),
    open("note", Kind::Str),
    // A link to the member's own case, or to a related case (issue 19): only its id and
    // the relation's code, written by `CaseDoc::link_case` (scalars inside an entry:
    // `docs/adr/0005-*`).
    action("case_id", Kind::Str).since(3),
    action("case_relation", Kind::Enum(CASE_RELATIONS)).since(3),
];
const CLIENT: &[Field] = &[
    open("kind", Kind::Enum(CLIENT_KINDS)),
    open("name", Kind::Str),
    open("name_latin", Kind::Str),
    open("date_of_birth", Kind::Date),
    open("birth_date_approximate", Kind::Bool),
    open("gender", Kind::Enum(GENDERS)),
    open("languages", Kind::StrList),
    open("contacts", Kind::Entries(CONTACT)),
    open("address", Kind::Str),
    // Revision 5: the code of the client's area in the agency's list (the server keeps the
    // list and admits only its codes; reports count by it).
    open("area", Kind::AreaCode).since(5),
    open("vulnerabilities", Kind::EnumList(VULNERABILITIES)),
    open("household", Kind::Entries(MEMBER)),
    open("notes", Kind::Text),
];
const CRITERIA: &[Field] = &[
    open("multiple_problems", Kind::Bool),
    open("basic_needs_met", Kind::Bool),
    open("cannot_access_alone", Kind::Bool),
    open("note", Kind::Str),
];
const INTAKE: &[Field] = &[
    open("date", Kind::Date),
    open("source", Kind::Enum(INTAKE_SOURCES)),
    open("reporter_name", Kind::Str),
    open("reporter_contact", Kind::Str),
    open("reason", Kind::Text),
    open("presenting_problems", Kind::StrList),
    open("urgency", Kind::Enum(URGENCIES)),
    open("emergency", Kind::Bool),
    open("criteria", Kind::Map(CRITERIA)),
    open("safety_measures", Kind::Text),
    action("safety_secured_at", Kind::DateTime),
    action("safety_secured_by", Kind::Str),
    action("preliminary_risk", Kind::Enum(RISK_LEVELS)),
    open("preliminary_finding", Kind::Enum(FINDINGS)),
    open("referring_organisation", Kind::Str),
    action("decision", Kind::Enum(INTAKE_DECISIONS)),
    action("decision_reason", Kind::Str),
    action("referred_to", Kind::Str),
    action("decided_at", Kind::DateTime),
    action("decided_by", Kind::Str),
];
const CONSENT: &[Field] = &[
    open("topic", Kind::Enum(CONSENT_TOPICS)),
    open("scope", Kind::Str),
    open("given_by", Kind::Str),
    open("granted", Kind::Bool),
    open("date", Kind::Date),
    open("withdrawn_on", Kind::Date),
    open("withdrawn_reason", Kind::Str),
];
const DOMAIN: &[Field] = &[
    open("rating", Kind::Int(1, 5)),
    open("needs", Kind::Text),
    open("strengths", Kind::Text),
];
const DOMAINS: &[Field] = &[
    open("housing", Kind::Map(DOMAIN)),
    open("income", Kind::Map(DOMAIN)),
    open("employment", Kind::Map(DOMAIN)),
    open("education", Kind::Map(DOMAIN)),
    open("physical_health", Kind::Map(DOMAIN)),
    open("mental_health", Kind::Map(DOMAIN)),
    open("family_relationships", Kind::Map(DOMAIN)),
    open("safety", Kind::Map(DOMAIN)),
    open("beliefs", Kind::Map(DOMAIN)),
    open("recreation", Kind::Map(DOMAIN)),
    open("self_care", Kind::Map(DOMAIN)),
    open("legal_status", Kind::Map(DOMAIN)),
    open("community_resources", Kind::Map(DOMAIN)),
];
const RISK: &[Field] = &[
    action("level", Kind::Enum(RISK_LEVELS)),
    open("finding", Kind::Enum(FINDINGS)),
    open("next_step", Kind::Enum(NEXT_STEPS)),
    open("next_step_due", Kind::Date),
    open("next_step_done_on", Kind::Date),
    open("emergency", Kind::Bool),
    open("conclusion", Kind::Text),
];
const ASSESSMENT: &[Field] = &[
    open("date", Kind::Date),
    open("domains", Kind::Map(DOMAINS)),
    open("risk", Kind::Map(RISK)),
    open("capability", Kind::Text),
    open("sources", Kind::StrList),
    open("summary", Kind::Text),
    // The items of one kind of case's assessment ([`KIND_ASSESSMENT_ITEMS`]), as far as the
    // seeds name them: scalars, so that an earlier assessment needs no new container.
    open("ready_to_talk", Kind::Bool).since(2),
    open("problems_to_work_on", Kind::Str).since(2),
    open("unrecognised_problems", Kind::Str).since(2),
    open("recommendations", Kind::Str).since(2),
    open("legal_question", Kind::Str).since(2),
    open("action_steps", Kind::Str).since(2),
    open("expected_result", Kind::Str).since(2),
    open("lawyer_needed", Kind::Bool).since(2),
];

/// The assessment items of each kind of case beyond the life domains every assessment
/// covers (seeds 000, 002, 003, 004); a kind not listed has none of its own:
/// - violence against women, seed 000 line 26 (safety, do no harm: no interview or
///   fact-finding while the client is not ready): `ready_to_talk`; the safety plan is
///   `safety`;
/// - a family in a difficult life situation, seed 002 lines 9 and 57 (the diagnosis ends in
///   conclusions naming the problems the services will work on and recommendations to the
///   services involved; the family is helped to see problems it does not see as problems):
///   `problems_to_work_on`, `recommendations`, `unrecognised_problems`;
/// - legal aid, seed 003 line 29 (the consultation ends in a clear sequence of the client's
///   steps: where to start, what should come of it and why; a lawyer or the centre's
///   representative may take the case): `legal_question`, `action_steps`,
///   `expected_result`, `lawyer_needed`;
/// - child protection: the conclusions ([`FINDINGS`], in `risk`).
///
/// Disability under Circular 01/2015 (seed 004 lines 9-21) assesses "information and needs",
/// which the life domains hold; displaced people and veterans (seed 003) are assessed
/// against the intake's three criteria and the life domains.
pub const KIND_ASSESSMENT_ITEMS: &[(&str, &[&str])] = &[
    ("violence_against_women", &["ready_to_talk"]),
    (
        "family_in_difficulty",
        &[
            "problems_to_work_on",
            "unrecognised_problems",
            "recommendations",
        ],
    ),
    (
        "legal_aid",
        &[
            "legal_question",
            "action_steps",
            "expected_result",
            "lawyer_needed",
        ],
    ),
];

/// The assessment items of `kind` ([`KIND_ASSESSMENT_ITEMS`]).
pub fn kind_assessment_items(kind: &str) -> &'static [&'static str] {
    KIND_ASSESSMENT_ITEMS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[], |(_, items)| items)
}

/// Whether `field` of an assessment belongs to one kind of case's items.
pub fn is_kind_assessment_item(field: &str) -> bool {
    KIND_ASSESSMENT_ITEMS
        .iter()
        .any(|(_, items)| items.contains(&field))
}
const RESPONSIBLE: &[Field] = &[
    open("kind", Kind::Enum(RESPONSIBLE_KINDS)),
    open("name", Kind::Str),
    open("organisation", Kind::Str),
];
const ACTIVITY: &[Field] = &[
    open("description", Kind::Str),
    open("responsible", Kind::Map(RESPONSIBLE)),
    open("resources", Kind::Str),
    open("due_date", Kind::Date),
    open("frequency", Kind::Str),
    open("status", Kind::Enum(ACTIVITY_STATUSES)),
];
const PROBLEM: &[Field] = &[
    open("priority", Kind::Int(1, 99)),
    open("domain", Kind::Enum(LIFE_DOMAINS)),
    open("description", Kind::Text),
    open("need", Kind::Str),
    open("goal", Kind::Str),
    open("target_date", Kind::Date),
    open("status", Kind::Enum(PROBLEM_STATUSES)),
    open("activities", Kind::Entries(ACTIVITY)),
];
const AGREEMENT: &[Field] = &[
    open("agreed", Kind::Bool),
    open("date", Kind::Date),
    open("by", Kind::Str),
    open("note", Kind::Str),
];
const APPROVAL: &[Field] = &[
    action("status", Kind::Enum(APPROVAL_STATUSES)),
    action("requested_at", Kind::DateTime),
    action("requested_by", Kind::Str),
    action("decided_at", Kind::DateTime),
    action("decided_by", Kind::Str),
    action("comment", Kind::Str),
];
/// An approved version of the plan, fixed when a supervisor approves it: what was
/// approved (`content`, the plan's problems and activities as JSON), by whom and when, and
/// an outside authority's decision where one decided (seed 004: the plan goes to the commune
/// People's Committee). Written once, by the approval; never changed.
const PLAN_VERSION: &[Field] = &[
    action("number", Kind::Int(1, 1_000_000)),
    action("content", Kind::Str),
    action("decided_at", Kind::DateTime),
    action("decided_by", Kind::Str),
    action("comment", Kind::Str),
    action("authority", Kind::Str),
    action("decision_number", Kind::Str),
    action("decision_date", Kind::Date),
];
const PLAN: &[Field] = &[
    open("problems", Kind::Entries(PROBLEM)),
    open("next_review", Kind::Date),
    open("family_agreement", Kind::Map(AGREEMENT)),
    action("approval", Kind::Map(APPROVAL)),
    action("versions", Kind::Entries(PLAN_VERSION)).since(2),
];
const REFERRAL: &[Field] = &[
    open("date", Kind::Date),
    open("organisation", Kind::Str),
    open("service", Kind::Str),
    open("domain", Kind::Enum(LIFE_DOMAINS)),
    open("reason", Kind::Str),
    open("status", Kind::Enum(REFERRAL_STATUSES)),
    open("status_reason", Kind::Str),
    open("outcome", Kind::Str),
    open("consent_id", Kind::Str),
    // Revision 2 (issue 16): the directory's service, location and contact the referral
    // names; whether it shares the client's information (then a consent must cover it);
    // the partner's feedback; each step of the loop with its time and author (a referral
    // recorded before revision 2 has no `steps`: its status alone moves).
    open("service_id", Kind::Str).since(2),
    open("location_id", Kind::Str).since(2),
    open("contact_id", Kind::Str).since(2),
    open("shares_information", Kind::Bool).since(2),
    open("feedback", Kind::Str).since(2),
    action("steps", Kind::Entries(REFERRAL_STEP)).since(2),
];
/// One step of a referral's loop: the status it moved to, the reason (a refusal's), and a
/// note (the partner's feedback on delivery); its entry stamps say who and when.
const REFERRAL_STEP: &[Field] = &[
    action("status", Kind::Enum(REFERRAL_STATUSES)),
    action("reason", Kind::Str),
    action("note", Kind::Str),
];
const FOLLOW_UP: &[Field] = &[
    open("text", Kind::Str),
    open("due_date", Kind::Date),
    open("done", Kind::Bool),
];
const VISIT: &[Field] = &[
    open("date", Kind::Date),
    open("kind", Kind::Enum(VISIT_KINDS)),
    open("place", Kind::Str),
    open("participants", Kind::StrList),
    open("duration_minutes", Kind::Int(0, 24 * 60)),
    open("note", Kind::Text),
    open("follow_ups", Kind::Entries(FOLLOW_UP)),
];
const APPOINTMENT: &[Field] = &[
    open("at", Kind::DateTime),
    open("place", Kind::Str),
    open("with_whom", Kind::Str),
    open("purpose", Kind::Str),
    open("status", Kind::Enum(APPOINTMENT_STATUSES)),
    open("attendance_needs", Kind::Str),
    open("note", Kind::Str),
];
const PROGRESS: &[Field] = &[
    open("problem_id", Kind::Str),
    open("status", Kind::Enum(PROBLEM_STATUSES)),
    open("note", Kind::Str),
];
const REVIEW: &[Field] = &[
    open("date", Kind::Date),
    open("progress", Kind::Entries(PROGRESS)),
    open("risk", Kind::Map(RISK)),
    open("satisfaction", Kind::Int(1, 5)),
    open("satisfaction_note", Kind::Str),
    open("decision", Kind::Enum(REVIEW_DECISIONS)),
    open("notes", Kind::Text),
    // Added after reviews were first written: scalars, not containers, so that an
    // earlier review needs no new container (two phones creating one at once would hide
    // one side's words); concurrent edits are a conflict shown to people.
    open("new_risk_factors", Kind::Str),
    open("new_supports", Kind::Str),
    open("client_opinion", Kind::Str),
    open("specialist_opinions", Kind::Str),
];
const CLOSURE: &[Field] = &[
    action("reason", Kind::Enum(CLOSURE_REASONS)),
    action("note", Kind::Str),
    action("outcome", Kind::Text),
    action("status", Kind::Enum(CLOSURE_STATUSES)),
    action("decided_at", Kind::DateTime),
    action("decided_by", Kind::Str),
    action("comment", Kind::Str),
    action("reopened_at", Kind::DateTime),
    action("reopened_by", Kind::Str),
    action("reopen_reason", Kind::Str),
    action("stage_at_request", Kind::Enum(STAGES)),
    action("duplicate_of", Kind::Str).since(4),
    action("informed", Kind::Bool),
    action("informed_on", Kind::Date),
    action("informed_how", Kind::Enum(INFORMED_HOW)),
    action("informed_note", Kind::Str),
];

/// The safety of a person at risk (seed 000's principles for victims of violence; seed 004
/// step 2a, the child's relation to the alleged perpetrator): who the alleged perpetrator is
/// to the client, whether they live together and whether an order protects the client;
/// and a safety plan (warning signs, safe contacts and places, what to do).
const SAFETY: &[Field] = &[
    open("perpetrator_relationship", Kind::Str),
    open("perpetrator_lives_with_client", Kind::Bool),
    open("protection_order", Kind::Enum(PROTECTION_ORDERS)),
    open("protection_order_note", Kind::Str),
    open("warning_signs", Kind::Str),
    open("safe_contacts", Kind::Str),
    open("safe_places", Kind::Str),
    open("what_to_do", Kind::Str),
    open("reviewed_on", Kind::Date),
];

/// What an attachment is (issue 17): a photo (of a paper, of an injury), a scanned or
/// born-digital document, the client's signature (for a consent), or a recording.
pub const ATTACHMENT_KINDS: &[&str] = &["photo", "document", "signature", "audio"];
/// The media types an attachment may hold, each recognised by its bytes
/// ([`crate::attachment::sniff`]), never by a file name.
pub const MEDIA_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heif",
    "application/pdf",
    "audio/mp4",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
];
/// The lists whose entries an attachment may belong to (`about`: `<list>/<entry id>`).
pub const ATTACHABLE: &[&str] = &[
    "consents",
    "assessments",
    "referrals",
    "visits",
    "reviews",
    "closures",
];
/// A reference to an attachment (revision 3): the bytes live outside the document, sealed
/// on the phone and at the server and addressed by their SHA-256 (`hash`, 64 lowercase hex
/// digits); the document holds what they are, their size, and what they belong to. Only
/// the caption may be edited; the rest is written once by `add_attachment`.
const ATTACHMENT: &[Field] = &[
    action("kind", Kind::Enum(ATTACHMENT_KINDS)),
    action("hash", Kind::Str),
    action("size", Kind::Int(1, crate::attachment::MAX_BYTES as i64)),
    action("media_type", Kind::Enum(MEDIA_TYPES)),
    action("about", Kind::Str),
    open("caption", Kind::Str),
];

/// Supervision on the record (revision 4). A review follows seed 004's slide 18: what was
/// observed and why the case was understood and handled that way (`summary`, "Nhận xét"),
/// what went well (`went_well`, "Đã làm tốt được những gì?"), what was learned
/// (`learning`, "Học hỏi") and what to do differently (`changes`, "Chuyển đổi"). A
/// conference records who took part, what was discussed and decided; a disagreement, the
/// positions held and how it was resolved (or that it was taken further).
const SUPERVISION: &[Field] = &[
    open("kind", Kind::Enum(SUPERVISION_KINDS)),
    open("date", Kind::Date),
    open("participants", Kind::StrList),
    open("summary", Kind::Text),
    open("went_well", Kind::Str),
    open("learning", Kind::Str),
    open("changes", Kind::Str),
    open("decisions", Kind::Str),
    open("positions", Kind::Str),
    open("resolution", Kind::Str),
];

/// The root of a case document.
pub const CASE: &[Field] = &[
    action("schema", Kind::Str),
    action("id", Kind::Str),
    action("created_at", Kind::DateTime),
    action("created_by", Kind::Str),
    action("team", Kind::Str),
    action("case_manager", Kind::Str),
    action("assigned", Kind::StrList),
    action("stage", Kind::Enum(STAGES)),
    action("sensitivity", Kind::Enum(SENSITIVITIES)),
    open("priority", Kind::Enum(PRIORITIES)),
    open("case_kind", Kind::Enum(CASE_KINDS)),
    open("safety", Kind::Map(SAFETY)).since(2),
    action("actors", Kind::Dict(&Kind::Map(ACTOR))),
    open("client", Kind::Map(CLIENT)),
    open("intake", Kind::Map(INTAKE)),
    open("consents", Kind::Entries(CONSENT)),
    open("assessments", Kind::Entries(ASSESSMENT)),
    open("plan", Kind::Map(PLAN)),
    open("referrals", Kind::Entries(REFERRAL)),
    open("visits", Kind::Entries(VISIT)),
    open("appointments", Kind::Entries(APPOINTMENT)),
    open("reviews", Kind::Entries(REVIEW)),
    action("closures", Kind::Entries(CLOSURE)),
    open("attachments", Kind::Entries(ATTACHMENT)).since(3),
    open("supervision", Kind::Entries(SUPERVISION)).since(4),
];

/// Finds a field among a map's fields (and, for entries, the common entry fields).
pub fn find_field(fields: &'static [Field], entry: bool, name: &str) -> Option<&'static Field> {
    fields.iter().find(|f| f.name == name).or_else(|| {
        if entry {
            ENTRY_FIELDS.iter().find(|f| f.name == name)
        } else {
            None
        }
    })
}

/// The fields a path goes through, by name (entry ids and free keys left out), and the
/// last one's description: `plan/problems/<id>/status` is `["plan", "problems", "status"]`.
/// No document is read; `None` when the path does not fit the schema.
pub fn field_names(path: &str) -> Option<(Vec<&'static str>, &'static Field)> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut fields: &'static [Field] = CASE;
    let mut entry = false;
    let mut names = Vec::new();
    let mut i = 0;
    loop {
        let field = find_field(fields, entry, segments.get(i)?)?;
        names.push(field.name);
        if i + 1 == segments.len() {
            return Some((names, field));
        }
        match &field.kind {
            Kind::Map(sub) => {
                fields = sub;
                entry = false;
                i += 1;
            }
            Kind::Entries(sub) => {
                fields = sub;
                entry = true;
                i += 2;
            }
            Kind::Dict(Kind::Map(sub)) => {
                fields = sub;
                entry = false;
                i += 2;
            }
            _ => return None,
        }
        if i >= segments.len() {
            return None;
        }
    }
}

/// A resolved path: the object holding the field, the key, and the field's description.
#[derive(Debug)]
pub struct Resolved {
    pub obj: ObjId,
    pub key: String,
    pub field: &'static Field,
    /// Whether any segment of the path (the field or an ancestor) is action-only.
    pub action_only: bool,
}

/// Resolves `path` (e.g. `visits/3fa2.../note`) in `doc` against the schema.
pub fn resolve<R: ReadDoc>(doc: &R, path: &str) -> Result<Resolved> {
    let segments: Vec<&str> = path.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(Error::invalid(path, "empty path or path segment"));
    }
    let mut obj = ROOT;
    let mut fields: &'static [Field] = CASE;
    let mut entry = false;
    let mut action_only = false;
    let mut i = 0;
    loop {
        let name = segments[i];
        let field = find_field(fields, entry, name)
            .ok_or_else(|| Error::invalid(path, format!("no field `{name}` here")))?;
        action_only |= field.access == Access::Action;
        if i + 1 == segments.len() {
            return Ok(Resolved {
                obj,
                key: name.to_string(),
                field,
                action_only,
            });
        }
        let child = get_obj(doc, &obj, name).ok_or_else(|| Error::NotFound(path.to_string()))?;
        match &field.kind {
            Kind::Map(sub) => {
                obj = child;
                fields = sub;
                entry = false;
                i += 1;
            }
            Kind::Entries(sub) => {
                let id = segments[i + 1];
                let (_, item) = find_entry(doc, &child, id)
                    .ok_or_else(|| Error::NotFound(format!("{name}/{id}")))?;
                obj = item;
                fields = sub;
                entry = true;
                i += 2;
                if i == segments.len() {
                    return Err(Error::invalid(
                        path,
                        "a path must end at a field of the entry",
                    ));
                }
            }
            Kind::Dict(inner) => {
                let key = segments[i + 1];
                let Kind::Map(sub) = inner else {
                    if i + 2 == segments.len() {
                        return Ok(Resolved {
                            obj: child,
                            key: key.into(),
                            field,
                            action_only,
                        });
                    }
                    return Err(Error::invalid(path, "path goes below a scalar"));
                };
                obj = get_obj(doc, &child, key).ok_or_else(|| Error::NotFound(path.into()))?;
                fields = sub;
                entry = false;
                i += 2;
                if i == segments.len() {
                    return Err(Error::invalid(path, "a path must end at a field"));
                }
            }
            _ => return Err(Error::invalid(path, format!("`{name}` has no fields"))),
        }
    }
}

/// The object at `obj[key]`, if it is one (the winning value).
pub fn get_obj<R: ReadDoc>(doc: &R, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    }
}

/// Finds the entry with `id` in a list of entries: its index and object id.
pub fn find_entry<R: ReadDoc>(doc: &R, list: &ObjId, id: &str) -> Option<(usize, ObjId)> {
    for i in 0..doc.length(list) {
        if let Ok(Some((Value::Object(ObjType::Map), item))) = doc.get(list, i) {
            if get_str(doc, &item, "id").as_deref() == Some(id) {
                return Some((i, item));
            }
        }
    }
    None
}

/// The winning string at `obj[key]`.
pub fn get_str<R: ReadDoc>(doc: &R, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        Ok(Some((Value::Object(ObjType::Text), id))) => doc.text(&id).ok(),
        _ => None,
    }
}

/// Checks a JSON value against a scalar or list kind; the reason is ours, never the value.
pub fn check_value(kind: &Kind, v: &Json) -> std::result::Result<(), String> {
    if v.is_null() && !matches!(kind, Kind::Map(_) | Kind::Entries(_) | Kind::Dict(_)) {
        return Ok(());
    }
    match kind {
        Kind::Str | Kind::Text => match v.as_str() {
            Some(s) if s.len() <= MAX_STR => Ok(()),
            Some(_) => Err(format!("longer than {MAX_STR} bytes")),
            None => Err("expected a string".into()),
        },
        Kind::AreaCode => match v.as_str() {
            Some(s) if is_area_code(s) => Ok(()),
            _ => Err(format!(
                "expected an area code: 1 to {AREA_CODE_MAX} letters, digits, '-', '_' or '.'"
            )),
        },
        Kind::Date => match v.as_str() {
            // Canonical form only: dates are compared as text (overdue reviews, agenda).
            Some(s)
                if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .is_ok_and(|d| d.format("%Y-%m-%d").to_string() == s) =>
            {
                Ok(())
            }
            _ => Err("expected a date YYYY-MM-DD".into()),
        },
        Kind::DateTime => match v.as_str() {
            Some(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => Ok(()),
            _ => Err("expected a date and time in RFC 3339".into()),
        },
        Kind::Bool => v
            .as_bool()
            .map(|_| ())
            .ok_or_else(|| "expected true or false".into()),
        Kind::Int(lo, hi) => match v.as_i64() {
            Some(n) if n >= *lo && n <= *hi => Ok(()),
            _ => Err(format!("expected a whole number from {lo} to {hi}")),
        },
        Kind::Enum(allowed) => match v.as_str() {
            Some(s) if allowed.contains(&s) => Ok(()),
            _ => Err(format!("expected one of: {}", allowed.join(", "))),
        },
        Kind::StrList | Kind::EnumList(_) => {
            let arr = v.as_array().ok_or("expected a list of strings")?;
            for item in arr {
                match (kind, item.as_str()) {
                    (_, None) => return Err("expected a list of strings".into()),
                    (Kind::EnumList(allowed), Some(s)) if !allowed.contains(&s) => {
                        return Err(format!("list items must be among: {}", allowed.join(", ")))
                    }
                    (_, Some(s)) if s.len() > MAX_STR => {
                        return Err(format!("list item longer than {MAX_STR} bytes"))
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        Kind::Map(_) | Kind::Dict(_) => v
            .as_object()
            .map(|_| ())
            .ok_or_else(|| "expected an object".into()),
        Kind::Entries(_) => Err("entries are added one by one, not written as a list".into()),
    }
}

/// The longest string a field may hold (64 KiB): a note longer than that is a document.
pub const MAX_STR: usize = 64 * 1024;

fn to_scalar(kind: &Kind, v: &Json) -> ScalarValue {
    match (kind, v) {
        (_, Json::Null) => ScalarValue::Null,
        (Kind::Bool, Json::Bool(b)) => ScalarValue::Boolean(*b),
        (Kind::Int(..), Json::Number(n)) => ScalarValue::Int(n.as_i64().unwrap_or_default()),
        (_, Json::String(s)) => ScalarValue::Str(s.as_str().into()),
        _ => ScalarValue::Null,
    }
}

/// Creates a map at `parent[prop]` (or inserted at a list index) with all its containers,
/// then writes `value` into it. Returns the new object's id.
pub(crate) fn create_map<T: Transactable>(
    tx: &mut T,
    parent: &ObjId,
    at: Slot<'_>,
    shape: Shape,
    value: &serde_json::Map<String, Json>,
    path: &str,
    allow_action: bool,
) -> Result<ObjId> {
    let obj = match at {
        Slot::Key(k) => tx.put_object(parent, k, ObjType::Map)?,
        Slot::Insert(i) => tx.insert_object(parent, i, ObjType::Map)?,
    };
    scaffold(tx, &obj, shape.fields)?;
    write_map(
        tx,
        &obj,
        shape.fields,
        shape.entry,
        value,
        path,
        allow_action,
    )?;
    Ok(obj)
}

/// The fields of a map, and whether it is a list entry (with [`ENTRY_FIELDS`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) fields: &'static [Field],
    pub(crate) entry: bool,
}

/// Where a new object goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slot<'a> {
    Key(&'a str),
    Insert(usize),
}

/// Creates every container field of a new map (maps recursively, texts and lists empty).
pub(crate) fn scaffold<T: Transactable>(tx: &mut T, obj: &ObjId, fields: &[Field]) -> Result<()> {
    for f in fields {
        match &f.kind {
            Kind::Map(sub) => {
                let child = tx.put_object(obj, f.name, ObjType::Map)?;
                scaffold(tx, &child, sub)?;
            }
            Kind::Text => {
                tx.put_object(obj, f.name, ObjType::Text)?;
            }
            Kind::StrList | Kind::EnumList(_) | Kind::Entries(_) => {
                tx.put_object(obj, f.name, ObjType::List)?;
            }
            Kind::Dict(_) => {
                tx.put_object(obj, f.name, ObjType::Map)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Writes the fields of a JSON object into an existing map, validating each.
pub(crate) fn write_map<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    fields: &'static [Field],
    entry: bool,
    value: &serde_json::Map<String, Json>,
    path: &str,
    allow_action: bool,
) -> Result<()> {
    for (k, v) in value {
        let field = find_field(fields, entry, k)
            .ok_or_else(|| Error::invalid(format!("{path}/{k}"), "no such field"))?;
        if field.access == Access::Action && !allow_action {
            return Err(Error::invalid(
                format!("{path}/{k}"),
                "this field is changed through its own action",
            ));
        }
        write_field(tx, obj, k, field, v, &format!("{path}/{k}"), allow_action)?;
    }
    Ok(())
}

/// Writes one validated value into `obj[key]`. Scalars are written only when they change
/// (or when they hold a conflict, which the write resolves); texts are updated with a
/// character diff so concurrent edits merge; string lists are diffed as sets.
pub(crate) fn write_field<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    field: &'static Field,
    v: &Json,
    path: &str,
    allow_action: bool,
) -> Result<()> {
    check_value(&field.kind, v).map_err(|r| Error::invalid(path, r))?;
    match &field.kind {
        Kind::Text => {
            let s = v.as_str().unwrap_or_default();
            match tx.get(obj, key)? {
                // A new (empty) text takes a plain insert; an existing one a character diff.
                Some((Value::Object(ObjType::Text), id)) if tx.length(&id) == 0 => {
                    tx.splice_text(&id, 0, 0, s)?
                }
                Some((Value::Object(ObjType::Text), id)) => tx.update_text(&id, s)?,
                _ => {
                    let id = tx.put_object(obj, key, ObjType::Text)?;
                    tx.splice_text(&id, 0, 0, s)?;
                }
            }
        }
        Kind::StrList | Kind::EnumList(_) => {
            let wanted: Vec<&str> = v
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            let list = match tx.get(obj, key)? {
                Some((Value::Object(ObjType::List), id)) => id,
                _ => tx.put_object(obj, key, ObjType::List)?,
            };
            let mut present = Vec::new();
            for i in (0..tx.length(&list)).rev() {
                let item = match tx.get(&list, i)? {
                    Some((Value::Scalar(s), _)) => s.as_str().map(str::to_string),
                    _ => None,
                };
                match item {
                    Some(s) if wanted.contains(&s.as_str()) && !present.contains(&s) => {
                        present.push(s)
                    }
                    _ => tx.delete(&list, i)?,
                }
            }
            for w in wanted {
                if !present.iter().any(|p| p == w) {
                    let n = tx.length(&list);
                    tx.insert(&list, n, w)?;
                    present.push(w.to_string());
                }
            }
        }
        Kind::Map(sub) => {
            let m = v.as_object().expect("checked");
            match tx.get(obj, key)? {
                Some((Value::Object(ObjType::Map), id)) => {
                    write_map(tx, &id, sub, false, m, path, allow_action)?
                }
                _ => {
                    create_map(
                        tx,
                        obj,
                        Slot::Key(key),
                        Shape {
                            fields: sub,
                            entry: false,
                        },
                        m,
                        path,
                        allow_action,
                    )?;
                }
            }
        }
        Kind::Dict(inner) => {
            let m = v.as_object().expect("checked");
            let dict = match tx.get(obj, key)? {
                Some((Value::Object(ObjType::Map), id)) => id,
                _ => tx.put_object(obj, key, ObjType::Map)?,
            };
            let inner_field: &'static Field = match inner {
                Kind::Map(_) => &DICT_MAP_FIELD,
                _ => return Err(Error::invalid(path, "unsupported dictionary")),
            };
            for (k, v) in m {
                write_field(
                    tx,
                    &dict,
                    k,
                    inner_field,
                    v,
                    &format!("{path}/{k}"),
                    allow_action,
                )?;
            }
        }
        Kind::Entries(_) => unreachable!("refused by check_value"),
        scalar => {
            // Instants are stored in UTC so that they sort as text.
            let utc;
            let v = match (scalar, v.as_str()) {
                (Kind::DateTime, Some(s)) => {
                    utc = Json::String(
                        chrono::DateTime::parse_from_rfc3339(s)
                            .map(|d| {
                                d.with_timezone(&chrono::Utc)
                                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                            })
                            .unwrap_or_else(|_| s.to_string()),
                    );
                    &utc
                }
                _ => v,
            };
            let new = to_scalar(scalar, v);
            let all = tx.get_all(obj, key)?;
            let unchanged =
                all.len() == 1 && matches!(&all[0].0, Value::Scalar(cur) if cur.as_ref() == &new);
            if !unchanged {
                tx.put(obj, key, new)?;
            }
        }
    }
    Ok(())
}

/// The one dictionary of the schema (`actors`) holds maps of [`ACTOR`] fields.
static DICT_MAP_FIELD: Field = action("actor", Kind::Map(ACTOR));

/// A violation found by [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    pub path: String,
    pub reason: String,
}

/// Checks a whole document against the schema: every key known, every value of its kind,
/// texts are texts, entries have ids. Used on documents that arrive from elsewhere.
pub fn validate<R: ReadDoc>(doc: &R) -> std::result::Result<(), SchemaViolation> {
    validate_within(doc, None, Codes::Known)
}

/// [`validate`] of a document that was valid before `changes` came to it: the case's own
/// fields are all checked, and of its containers (the client, the plan, the visits...) only
/// those the changes write in, at any depth (a container's content is checked against the
/// schema on its own, so one no change touched is as it was). When an object the changes
/// write in cannot be placed in `doc`, the whole document is checked. What a server or a
/// phone admits is the same as with [`validate`] (`admission` tests it on both); a
/// case's one new field in a large file costs one section's walk, not the whole file's.
pub fn validate_changes(
    doc: &automerge::Automerge,
    changes: &[automerge::Change],
) -> std::result::Result<(), SchemaViolation> {
    validate_sections(doc, changed_sections(doc, changes).as_ref(), false)
}

/// [`validate_from_newer`] of a document valid before `changes` (see [`validate_changes`]).
pub fn validate_changes_from_newer(
    doc: &automerge::Automerge,
    changes: &[automerge::Change],
) -> std::result::Result<(), SchemaViolation> {
    validate_sections(doc, changed_sections(doc, changes).as_ref(), true)
}

/// [`validate_changes`] (with `from_newer`, [`validate_changes_from_newer`]) given the
/// sections the changes write in ([`changed_sections`]; `None`: the whole case), for a
/// caller that reads them too.
pub fn validate_sections(
    doc: &automerge::Automerge,
    sections: Option<&std::collections::BTreeSet<String>>,
    from_newer: bool,
) -> std::result::Result<(), SchemaViolation> {
    let codes = if from_newer {
        Codes::Newer
    } else {
        Codes::Known
    };
    validate_within(doc, sections, codes)
}

fn validate_within<R: ReadDoc>(
    doc: &R,
    sections: Option<&std::collections::BTreeSet<String>>,
    codes: Codes,
) -> std::result::Result<(), SchemaViolation> {
    match doc.get(ROOT, "schema") {
        Ok(Some((Value::Scalar(s), _))) if s.as_str() == Some(SCHEMA_ID) => {}
        _ => return Err(violation("schema", format!("expected `{SCHEMA_ID}`"))),
    }
    validate_map_within(doc, &ROOT, CASE, false, "", codes, sections)
}

/// The case's own keys under which `changes` write: the key itself (an operation on the
/// case's own map) or anything below it. `None` (check everything) when an object of theirs
/// is not in `doc`, or when one of them is the case's creation. Each object is placed once: its parent is found by a search of the
/// document, and a change writes many operations into few objects.
pub fn changed_sections(
    doc: &automerge::Automerge,
    changes: &[automerge::Change],
) -> Option<std::collections::BTreeSet<String>> {
    use automerge::legacy::{Key, ObjectId};
    use automerge::Prop;
    // The case's creation writes every section: checking the whole case is cheaper than
    // placing each of its operations.
    if changes.iter().any(|c| c.deps().is_empty()) {
        return None;
    }
    let mut placed: std::collections::HashMap<ObjId, String> = std::collections::HashMap::new();
    // The same, by the id as a change names it: most operations are in an object placed
    // already, and the document's own id of an object is found through its text.
    let mut named: std::collections::HashMap<automerge::legacy::OpId, String> =
        std::collections::HashMap::new();
    let mut out = std::collections::BTreeSet::new();
    for change in changes {
        for op in &crate::case::decoded::ops(change).operations {
            let ObjectId::Id(named_id) = &op.obj else {
                match &op.key {
                    Key::Map(k) => out.insert(k.to_string()),
                    Key::Seq(_) => return None,
                };
                continue;
            };
            if let Some(k) = named.get(named_id) {
                out.insert(k.clone());
                continue;
            }
            let (id, _) = doc.import(&named_id.to_string()).ok()?;
            if let Some(k) = placed.get(&id) {
                named.insert(named_id.clone(), k.clone());
                out.insert(k.clone());
                continue;
            }
            // Up to the case's own map or to an object already placed.
            let mut chain = vec![id];
            let mut section = None;
            for p in doc.parents(chain[0].clone()).ok()? {
                if let Some(k) = placed.get(&p.obj) {
                    section = Some(k.clone());
                    break;
                }
                if p.obj == ROOT {
                    match p.prop {
                        Prop::Map(k) => section = Some(k),
                        Prop::Seq(_) => return None,
                    }
                    break;
                }
                chain.push(p.obj);
            }
            let section = section?;
            for obj in chain {
                placed.insert(obj, section.clone());
            }
            named.insert(named_id.clone(), section.clone());
            out.insert(section);
        }
    }
    Some(out)
}

/// [`validate`], except that a code this version does not know (in an enumerated field or
/// list) passes when it is shaped like a code (`[a-z0-9_]`, at most 64 bytes): a case
/// written by a newer app, received from the server, which knows the code. The phone keeps
/// such codes as they are (see [`crate::case::model::UnknownCode`]); the server, which
/// decides what a case may hold, validates with [`validate`].
pub fn validate_from_newer<R: ReadDoc>(doc: &R) -> std::result::Result<(), SchemaViolation> {
    validate_within(doc, None, Codes::Newer)
}

/// Which codes an enumerated field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codes {
    /// Only this version's.
    Known,
    /// This version's, and any shaped like a code (from a newer version).
    Newer,
}

impl Codes {
    fn allows(self, allowed: &[&str], code: &str) -> bool {
        allowed.contains(&code)
            || (self == Codes::Newer
                && !code.is_empty()
                && code.len() <= 64
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
    }
}

/// A violation at `path`, which holds the client's map keys: they are made printable
/// ([`crate::error::printable`]), as the path is logged and sent back.
fn violation(path: &str, reason: impl Into<String>) -> SchemaViolation {
    SchemaViolation {
        path: crate::error::printable(path).into_owned(),
        reason: reason.into(),
    }
}

fn validate_map<R: ReadDoc>(
    doc: &R,
    obj: &ObjId,
    fields: &'static [Field],
    entry: bool,
    path: &str,
    codes: Codes,
) -> std::result::Result<(), SchemaViolation> {
    validate_map_within(doc, obj, fields, entry, path, codes, None)
}

/// [`validate_map`], descending only into the containers under `sections` (`None`: all).
fn validate_map_within<R: ReadDoc>(
    doc: &R,
    obj: &ObjId,
    fields: &'static [Field],
    entry: bool,
    path: &str,
    codes: Codes,
    sections: Option<&std::collections::BTreeSet<String>>,
) -> std::result::Result<(), SchemaViolation> {
    // Paths are built only for an error or a nested container: most fields are scalars,
    // and a document is validated whole each time changes to it arrive.
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}/{key}")
        }
    };
    // Which of `fields` hold a value here; every value is checked against its field's
    // kind below, so a container field with a value holds a container of the right type.
    let mut present = vec![false; fields.len()];
    // One pass over the map: each key's visible value, and all of its values only where
    // replicas wrote it at once (a lookup of each key was most of a check's time).
    for item in doc.map_range(obj, ..) {
        let key: &str = &item.key;
        let field = match fields.iter().position(|f| f.name == key) {
            Some(i) => {
                present[i] = true;
                &fields[i]
            }
            None => find_field(fields, entry, key)
                .ok_or_else(|| violation(&join(key), "unknown field"))?,
        };
        let values = if item.conflict {
            doc.get_all(obj, key)
                .map_err(|_| violation(&join(key), "unreadable"))?
        } else {
            vec![(item.value.clone().into_value(), item.id())]
        };
        for (value, id) in values {
            if field.access == Access::Action && matches!(&value, Value::Scalar(s) if s.is_null()) {
                return Err(violation(&join(key), "may not be null"));
            }
            // A container no change wrote in is as it was when it was checked.
            if matches!(value, Value::Object(_)) && sections.is_some_and(|s| !s.contains(key)) {
                continue;
            }
            validate_value(doc, &field.kind, value, &id, &|| join(key), codes)?;
        }
    }
    if entry && get_str(doc, obj, "id").is_none() {
        return Err(violation(path, "an entry must have an id"));
    }
    // Every container is created with its parent; one created later by two replicas at
    // once would hide one side's edits (shown as a conflict). A container a later revision
    // added may be missing from a document written before it.
    for (f, present) in fields.iter().zip(present) {
        let container = matches!(
            f.kind,
            Kind::Map(_)
                | Kind::Text
                | Kind::StrList
                | Kind::EnumList(_)
                | Kind::Entries(_)
                | Kind::Dict(_)
        );
        if container && !present && f.since <= 1 {
            return Err(violation(&join(f.name), "missing container"));
        }
    }
    Ok(())
}

fn validate_value<R: ReadDoc>(
    doc: &R,
    kind: &'static Kind,
    value: Value<'_>,
    id: &ObjId,
    p: &dyn Fn() -> String,
    codes: Codes,
) -> std::result::Result<(), SchemaViolation> {
    match (kind, value) {
        (Kind::Text, Value::Object(ObjType::Text)) => {
            let len = doc.length(id);
            if len > MAX_STR {
                return Err(violation(&p(), "text too long"));
            }
            Ok(())
        }
        (Kind::Map(sub), Value::Object(ObjType::Map)) => {
            validate_map(doc, id, sub, false, &p(), codes)
        }
        (Kind::Dict(inner), Value::Object(ObjType::Map)) => {
            let p = p();
            for key in doc.keys(id) {
                let q = format!("{p}/{key}");
                for (v, cid) in doc
                    .get_all(id, key.as_str())
                    .map_err(|_| violation(&q, "?"))?
                {
                    validate_value(doc, inner, v, &cid, &|| q.clone(), codes)?;
                }
            }
            Ok(())
        }
        // Each list in one pass (a lookup by index is a search of the list).
        (Kind::Entries(sub), Value::Object(ObjType::List)) => {
            let p = p();
            for item in doc.list_range(id, ..) {
                match item.value {
                    ValueRef::Object(ObjType::Map) => validate_map(
                        doc,
                        &item.id(),
                        sub,
                        true,
                        &format!("{p}/{}", item.index),
                        codes,
                    )?,
                    _ => return Err(violation(&p, "entries must be maps")),
                }
            }
            Ok(())
        }
        (Kind::StrList | Kind::EnumList(_), Value::Object(ObjType::List)) => {
            for item in doc.list_range(id, ..) {
                let ok = match &item.value {
                    ValueRef::Scalar(automerge::ScalarValueRef::Str(s)) => match kind {
                        Kind::EnumList(allowed) => codes.allows(allowed, s),
                        _ => s.len() <= MAX_STR,
                    },
                    _ => false,
                };
                if !ok {
                    return Err(violation(&p(), "invalid list item"));
                }
            }
            Ok(())
        }
        (_, Value::Scalar(s)) if !matches!(kind, Kind::Text | Kind::Map(_) | Kind::Dict(_)) => {
            let json = serde_json::to_value(s.as_ref()).unwrap_or(Json::Null);
            let json = match (kind, s.as_ref()) {
                (_, ScalarValue::Null) => Json::Null,
                _ => json,
            };
            if matches!(kind, Kind::StrList | Kind::EnumList(_) | Kind::Entries(_)) {
                return Err(violation(&p(), "expected a list"));
            }
            if let (Kind::Enum(allowed), Some(code)) = (kind, json.as_str()) {
                if codes.allows(allowed, code) {
                    return Ok(());
                }
            }
            check_value(kind, &json).map_err(|r| violation(&p(), r))
        }
        _ => Err(violation(&p(), "value of the wrong type")),
    }
}

#[cfg(test)]
mod field_name_tests {
    use super::*;

    #[test]
    fn paths_name_their_fields_without_ids() {
        let (names, field) = field_names("plan/problems/p-1/status").unwrap();
        assert_eq!(names, ["plan", "problems", "status"]);
        assert_eq!(field.name, "status");
        let (names, field) = field_names("visits/v-9/date").unwrap();
        assert_eq!(names, ["visits", "date"]);
        assert!(matches!(field.kind, Kind::Date));
        assert!(field_names("client/nothing").is_none());
        assert!(
            field_names("visits/v-9").is_none(),
            "an entry is not a field"
        );
        assert!(field_names("client/name/deeper").is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_checked() {
        assert!(check_value(&Kind::Date, &json!("2026-02-30")).is_err());
        assert!(check_value(&Kind::Date, &json!("2026-02-28")).is_ok());
        assert!(check_value(&Kind::DateTime, &json!("2026-02-28T10:00:00+07:00")).is_ok());
        assert!(check_value(&Kind::Enum(RISK_LEVELS), &json!("concern")).is_ok());
        assert!(check_value(&Kind::Enum(RISK_LEVELS), &json!("high")).is_err());
        assert!(check_value(&Kind::Int(1, 5), &json!(6)).is_err());
        assert!(check_value(&Kind::EnumList(VULNERABILITIES), &json!(["disability"])).is_ok());
        assert!(check_value(&Kind::EnumList(VULNERABILITIES), &json!(["x"])).is_err());
        assert!(check_value(&Kind::Str, &json!("x".repeat(MAX_STR + 1))).is_err());
        assert!(check_value(&Kind::Bool, &json!("yes")).is_err());
    }
}
