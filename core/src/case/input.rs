//! Inputs of the typed edits. `None` means "leave as it is"; a field set to a value is
//! validated against the schema and written only if it differs from what is there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::case::model::{
    ActivityStatus, AppointmentStatus, AttachmentKind, CaseKind, Finding, InformedHow,
    IntakeDecision, NextStep, ProtectionOrder, ReferralStatus, SupervisionKind,
};

macro_rules! input {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
        #[serde(default)]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(skip_serializing_if = "Option::is_none")]
                #[cfg_attr(feature = "uniffi", uniffi(default))]
                pub $field: Option<$ty>,
            )*
        }
    };
}

input! {
    /// The client's identity and situation.
    ClientInput {
        kind: String, name: String, name_latin: String, date_of_birth: String,
        birth_date_approximate: bool, gender: String, languages: Vec<String>, address: String,
        /// The code of one of the agency's areas (revision 5; the phone checks it against
        /// the list the server sent, the server against its own).
        area: String,
        vulnerabilities: Vec<String>, notes: String,
    }
}

input! {
    /// A way to reach the client; `safe_to_contact` says whether using it is safe.
    ContactInput { kind: String, value: String, label: String, safe_to_contact: bool, note: String }
}

input! {
    /// A member of the client's household.
    HouseholdMemberInput {
        name: String, relationship: String, date_of_birth: String, lives_with_client: bool,
        note: String,
    }
}

input! {
    /// The safety of a person at risk: the alleged perpetrator and the safety plan.
    SafetyInput {
        perpetrator_relationship: String, perpetrator_lives_with_client: bool,
        protection_order: ProtectionOrder, protection_order_note: String, warning_signs: String,
        safe_contacts: String, safe_places: String, what_to_do: String, reviewed_on: String,
    }
}

input! {
    /// The three intake criteria.
    CriteriaInput {
        multiple_problems: bool, basic_needs_met: bool, cannot_access_alone: bool, note: String,
    }
}

input! {
    /// The intake record.
    IntakeInput {
        date: String, source: String, reporter_name: String, reporter_contact: String,
        reason: String, presenting_problems: Vec<String>, urgency: String, emergency: bool,
        criteria: CriteriaInput, safety_measures: String, preliminary_finding: Finding,
        referring_organisation: String,
    }
}

input! {
    /// How the intake ends. Screening out needs the reason; referring elsewhere needs the
    /// organisation. Both also ask for the case to be closed.
    IntakeDecisionInput { decision: IntakeDecision, reason: String, referred_to: String }
}

input! {
    /// Consent given (or refused) by the client or family.
    ConsentInput {
        topic: String, scope: String, given_by: String, granted: bool, date: String,
    }
}

input! {
    /// One life domain of an assessment: rating 1 (serious need) to 5 (a strength).
    DomainInput { rating: i64, needs: String, strengths: String }
}

/// An assessment's life domains (codes) and what was found in each.
pub type DomainInputMap = BTreeMap<String, DomainInput>;

#[cfg(feature = "uniffi")]
uniffi::custom_type!(DomainInputMap, std::collections::HashMap<String, DomainInput>, {
    remote,
    lower: |map| map.into_iter().collect(),
    try_lift: |map| Ok(map.into_iter().collect()),
});

input! {
    /// A risk judgement: for a child-protection case, the conclusion (`finding`) and its
    /// next step (the seed's step when not given; further investigation needs its due
    /// date); for every case, the emergency flag and the reasoning in words.
    RiskInput {
        finding: Finding, next_step: NextStep, next_step_due: String, emergency: bool,
        conclusion: String,
    }
}

input! {
    /// An assessment over the life domains, with a risk judgement, and the items of the
    /// case's kind (`schema::KIND_ASSESSMENT_ITEMS`; an item of another kind is refused).
    AssessmentInput {
        date: String, domains: DomainInputMap, risk: RiskInput,
        capability: String, sources: Vec<String>, summary: String,
        ready_to_talk: bool, problems_to_work_on: String, unrecognised_problems: String,
        recommendations: String, legal_question: String, action_steps: String,
        expected_result: String, lawyer_needed: bool,
    }
}

input! {
    /// A prioritised problem of the plan, with its need and measurable goal.
    ProblemInput {
        priority: i64, domain: String, description: String, need: String, goal: String,
        target_date: String, status: String,
    }
}

input! {
    /// Who carries out an activity: a person or a partner organisation.
    ResponsibleInput { kind: String, name: String, organisation: String }
}

input! {
    /// An activity towards a goal.
    ActivityInput {
        description: String, responsible: ResponsibleInput, resources: String, due_date: String,
        frequency: String, status: ActivityStatus,
    }
}

input! {
    /// The family's agreement with the plan.
    AgreementInput { agreed: bool, date: String, by: String, note: String }
}

input! {
    /// A supervisor's approval of the plan as it stands: a comment, and the outside
    /// authority's decision where one decided (seed 004: the commune People's Committee).
    PlanDecisionInput { comment: String, authority: String, decision_number: String, decision_date: String }
}

input! {
    /// A referral to a partner organisation: named in free text, or by the partner
    /// directory's service (and location and contact). It shares the client's information
    /// unless `shares_information` is false, and then `consent_id` names the consent that
    /// covers it.
    ReferralInput {
        date: String, organisation: String, service: String, domain: String, reason: String,
        status: ReferralStatus, status_reason: String, outcome: String, consent_id: String,
        service_id: String, location_id: String, contact_id: String, shares_information: bool,
    }
}

input! {
    /// The partner directory's entry a referral written in free text is linked to later;
    /// the organisation's and service's names are written too when given.
    ReferralLinkInput {
        service_id: String, location_id: String, contact_id: String, organisation: String,
        service: String,
    }
}

input! {
    /// A home visit, call or meeting, with its note.
    VisitInput {
        date: String, kind: String, place: String, participants: Vec<String>,
        duration_minutes: i64, note: String,
    }
}

input! {
    /// Something to do after a visit.
    FollowUpInput { text: String, due_date: String, done: bool }
}

input! {
    /// An appointment the client must keep, and what they need to attend it.
    AppointmentInput {
        at: String, place: String, with_whom: String, purpose: String,
        status: AppointmentStatus, attendance_needs: String, note: String,
    }
}

input! {
    /// Progress on one goal at a review.
    ProgressInput { problem_id: String, status: String, note: String }
}

input! {
    /// A review: progress per goal, re-assessed risk, satisfaction and decision.
    ReviewInput {
        date: String, progress: Vec<ProgressInput>, risk: RiskInput, satisfaction: i64,
        satisfaction_note: String, decision: String, notes: String, new_risk_factors: String,
        new_supports: String, client_opinion: String, specialist_opinions: String,
    }
}

input! {
    /// Supervision on the record: a case conference, a review of the handling of the case
    /// (`supervisor_review` is a supervisor's only), or a disagreement between professionals.
    SupervisionInput {
        kind: SupervisionKind, date: String, participants: Vec<String>, summary: String,
        went_well: String, learning: String, changes: String, decisions: String,
        positions: String, resolution: String,
    }
}

input! {
    /// A request to close the case, at any stage: the reason, the outcome, and that, when
    /// and how the client or family was told (or, with `informed: false`, why not in the
    /// note). Informing may also be recorded later, before a supervisor approves.
    ClosureInput {
        reason: String, note: String, outcome: String, informed: bool, informed_on: String,
        informed_how: InformedHow, informed_note: String,
    }
}

input! {
    /// That, when and how the client or family was told the case closes.
    InformedInput { informed: bool, informed_on: String, informed_how: InformedHow, informed_note: String }
}

/// What is needed to open a case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct NewCase {
    pub team: String,
    /// The accountable worker; the creating user when empty.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub case_manager: Option<String>,
    /// Restricted cases are seen only by their assigned workers and supervisor.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub restricted: bool,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub priority: Option<String>,
    /// The kind of case, which decides its assessment.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub case_kind: Option<CaseKind>,
    pub client: ClientInput,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub intake: Option<IntakeInput>,
}

input! {
    /// What a worker says of a file being attached: what it is, a caption, and the entry it
    /// belongs to (`<list>/<entry id>`: a consent, a visit, an assessment, a referral, a
    /// review or a closure). Its hash, size and media type come from the bytes.
    AttachmentInput { kind: AttachmentKind, caption: String, about: String }
}
