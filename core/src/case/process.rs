//! The case process as the seeds describe it: the intake ends in a decision, immediate
//! safety comes first, a child-protection risk assessment ends in a conclusion with its next
//! step, and a case can be closed at any stage (with the client or family told) and
//! reopened without losing the earlier closure.
//!
//! The rules here are the typed API's: the phone and the console both go through them.
//! The same rules are checked again on every change that arrives from elsewhere, each on
//! the case as its writer saw it ([`violation`], run by `admission::admit`); what needs a
//! supervisor is in [`super::authority`].

use serde_json::{json, Map, Value as Json};

use super::{
    insert_entry, insert_entry_with, reset_plan_approval, rfc3339, to_map, write_at, Author,
    CaseDoc, CaseFile, ClosureInput, ClosureStatus, InformedInput, IntakeDecision,
    IntakeDecisionInput, NextStep, ReferralStatus, RiskInput, Stage,
};
use crate::error::{Error, Result};
use crate::refusal::{Refusal, RefusalKind};

/// Why a case in an emergency cannot move on from intake.
pub(crate) const SAFETY_FIRST: &str =
    "the case is flagged as an emergency: record the immediate safety measures first";

impl CaseDoc {
    /// Ends the intake with a decision (seed 003's criteria are the grounds):
    /// - `accepted`: the case moves on to assessment (safety first in an emergency);
    /// - `screened_out`: with the reason; a closure request is made in the same change;
    /// - `referred_elsewhere`: to the organisation named; a referral to it and a closure
    ///   request are recorded in the same change.
    ///
    /// Returns the closure request's id when one was made.
    pub fn decide_intake(
        &mut self,
        a: &Author,
        now: i64,
        input: IntakeDecisionInput,
    ) -> Result<Option<String>> {
        let stage = self.stage();
        let file = self.read()?;
        let decision = input
            .decision
            .filter(|d| d.is_known())
            .ok_or_else(|| Error::invalid("intake/decision", "the decision is missing"))?;
        let refuse = |to: Stage, reason: &str| Error::InvalidTransition {
            from: stage,
            to,
            reason: reason.into(),
        };
        if stage != Stage::Intake {
            return Err(refuse(
                Stage::Assessment,
                "the intake decision is taken at intake",
            ));
        }
        let reason = input.reason.clone().unwrap_or_default();
        let referred_to = input.referred_to.clone().unwrap_or_default();
        let mut fields = to_map(&json!({
            "decision": decision.code(), "decided_at": rfc3339(now), "decided_by": a.user_id,
        }));
        if !reason.trim().is_empty() {
            fields.insert("decision_reason".into(), json!(reason));
        }
        let closure = |why: &str| {
            let mut m = Map::new();
            m.insert("reason".into(), json!(why));
            m.insert("note".into(), json!(reason));
            m.insert("status".into(), json!("requested"));
            m.insert("stage_at_request".into(), json!(Stage::Intake.code()));
            m
        };
        match decision {
            IntakeDecision::Accepted => {
                if file.emergency_open() {
                    return Err(refuse(Stage::Assessment, SAFETY_FIRST));
                }
                self.edit(a, now, "decide intake", |tx| {
                    write_at(tx, "intake", &fields, true)?;
                    write_at(tx, "", &to_map(&json!({"stage": "assessment"})), true)?;
                    Ok(None)
                })
            }
            IntakeDecision::ScreenedOut => {
                if reason.trim().is_empty() {
                    return Err(Error::invalid(
                        "intake/decision_reason",
                        "screening out needs the reason",
                    ));
                }
                self.refuse_second_closure_request(&file)?;
                self.edit(a, now, "decide intake", |tx| {
                    write_at(tx, "intake", &fields, true)?;
                    insert_entry_with(tx, a, now, "closures", closure("screened_out"), true)
                        .map(Some)
                })
            }
            IntakeDecision::ReferredElsewhere => {
                if referred_to.trim().is_empty() {
                    return Err(Error::invalid(
                        "intake/referred_to",
                        "referring elsewhere needs the organisation",
                    ));
                }
                self.refuse_second_closure_request(&file)?;
                fields.insert("referred_to".into(), json!(referred_to));
                // The person is told where to go: the referral shares none of their
                // information (one that does is added with its consent: `add_referral`).
                let mut referral = to_map(&json!({
                    "organisation": referred_to, "status": "sent", "date": &rfc3339(now)[..10],
                    "shares_information": false,
                }));
                if !reason.trim().is_empty() {
                    referral.insert("reason".into(), json!(reason));
                }
                self.edit(a, now, "decide intake", |tx| {
                    write_at(tx, "intake", &fields, true)?;
                    let id = insert_entry(tx, a, now, "referrals", referral)?;
                    let step = to_map(&json!({"status": "sent"}));
                    insert_entry_with(tx, a, now, &format!("referrals/{id}/steps"), step, true)?;
                    insert_entry_with(tx, a, now, "closures", closure("referred_elsewhere"), true)
                        .map(Some)
                })
            }
            IntakeDecision::Unknown { .. } => unreachable!("filtered above"),
        }
    }

    /// Records that immediate safety measures are in place (seed 004 step 1d): what they
    /// are (`measures`, written into the intake's safety measures when not empty), and when
    /// and by whom. This clears the emergency from dashboards; history keeps the flag.
    pub fn secure_safety(&mut self, a: &Author, now: i64, measures: &str) -> Result<()> {
        let present = !self.read()?.intake.safety_measures.trim().is_empty();
        if measures.trim().is_empty() && !present {
            return Err(Error::invalid(
                "intake/safety_measures",
                "say which safety measures are in place",
            ));
        }
        let mut fields = to_map(&json!({
            "safety_secured_at": rfc3339(now), "safety_secured_by": a.user_id,
        }));
        if !measures.trim().is_empty() {
            fields.insert("safety_measures".into(), json!(measures));
        }
        self.edit(a, now, "secure safety", |tx| {
            write_at(tx, "intake", &fields, true)
        })
    }

    /// Checks a risk judgement against the case's kind and fills in the seed's next step:
    /// only a child-protection case concludes about abuse; further investigation needs its
    /// due date.
    pub(crate) fn check_risk(&self, risk: &mut RiskInput, path: &str) -> Result<()> {
        let Some(finding) = risk.finding else {
            if risk.next_step.is_some() {
                return Err(Error::invalid(
                    format!("{path}/risk/next_step"),
                    "a next step follows a conclusion",
                ));
            }
            return Ok(());
        };
        if !finding.is_known() {
            return Err(Error::invalid(
                format!("{path}/risk/finding"),
                "unknown conclusion",
            ));
        }
        let kind = self.read()?.case_kind;
        if !kind.is_some_and(|k| k.has_findings()) {
            return Err(Error::invalid(
                format!("{path}/risk/finding"),
                "only a child-protection case concludes about abuse: set the kind of case",
            ));
        }
        let step = risk.next_step.or_else(|| finding.next_step());
        risk.next_step = step;
        if step == Some(NextStep::InvestigateFurther)
            && risk.next_step_due.as_deref().is_none_or(str::is_empty)
        {
            return Err(Error::invalid(
                format!("{path}/risk/next_step_due"),
                "further investigation needs a due date",
            ));
        }
        Ok(())
    }

    /// Records that the next step of a judgement (`assessments/<id>` or `reviews/<id>`) is
    /// done, on `date` (`YYYY-MM-DD`).
    pub fn complete_next_step(
        &mut self,
        a: &Author,
        now: i64,
        judgement_path: &str,
        date: &str,
    ) -> Result<()> {
        let file = self.read()?;
        let risk = file
            .risk_at(judgement_path)
            .ok_or_else(|| Error::NotFound(judgement_path.into()))?;
        if risk.next_step.is_none() {
            return Err(Error::invalid(
                format!("{judgement_path}/risk/next_step"),
                "this judgement has no next step",
            ));
        }
        let value = to_map(&json!({"risk": {"next_step_done_on": date}}));
        self.update_map(a, now, "complete next step", judgement_path, value, false)
    }

    fn refuse_second_closure_request(&self, file: &super::CaseFile) -> Result<()> {
        if file.pending_closure().is_some() {
            return Err(Error::invalid(
                "closures",
                "a closure request is already waiting for a supervisor",
            ));
        }
        Ok(())
    }

    /// Asks for the case to be closed, from any open stage, with the reason (and, when
    /// known, that the client or family was told). A worker may record this offline.
    pub fn request_closure(&mut self, a: &Author, now: i64, input: ClosureInput) -> Result<String> {
        let stage = self.stage_to_close()?;
        if input.reason.as_deref().is_none_or(str::is_empty) {
            return Err(Error::invalid(
                "closures/reason",
                "a closure needs a reason",
            ));
        }
        let file = self.read()?;
        self.refuse_second_closure_request(&file)?;
        let mut m = to_map(&input);
        check_informed(&m, "closures", false)?;
        m.insert("status".into(), json!("requested"));
        m.insert("stage_at_request".into(), json!(stage.code()));
        self.edit(a, now, "request closure", |tx| {
            insert_entry_with(tx, a, now, "closures", m, true)
        })
    }

    /// Records that, when and how the client or family was told the case closes (or why
    /// they could not be), on a closure request waiting for a decision.
    pub fn record_informed(
        &mut self,
        a: &Author,
        now: i64,
        closure_id: &str,
        input: InformedInput,
    ) -> Result<()> {
        self.undecided_closure(closure_id)?;
        let path = format!("closures/{closure_id}");
        let m = to_map(&input);
        check_informed(&m, &path, true)?;
        self.edit(a, now, "record informed", |tx| {
            write_at(tx, &path, &m, true)
        })
    }

    /// A supervisor approves a closure request: the case is closed in the same change. The
    /// request must say whether the client or family was told (seed 002: the family knows
    /// why and when the case ends).
    pub fn approve_closure(
        &mut self,
        a: &Author,
        now: i64,
        closure_id: &str,
        comment: &str,
    ) -> Result<()> {
        super::require_authority(a, "closing a case")?;
        self.stage_to_close()?;
        let closure = self.undecided_closure(closure_id)?;
        if !closure.informing_recorded() {
            return Err(Error::invalid(
                format!("closures/{closure_id}/informed"),
                "record that, when and how the client or family was told (or why not) first",
            ));
        }
        let path = format!("closures/{closure_id}");
        self.edit(a, now, "approve closure", |tx| {
            let value = to_map(&json!({
                "status": "approved", "decided_at": rfc3339(now), "decided_by": a.user_id, "comment": comment,
            }));
            write_at(tx, &path, &value, true)?;
            write_at(tx, "", &to_map(&json!({"stage": "closed"})), true)
        })
    }

    /// A supervisor confirms that this case's client is the client of case `of`: this case
    /// is closed as a duplicate pointing to it, in one change (requested and approved at
    /// once; the family is not told, as their case goes on in the other file). Both cases
    /// keep their history. A closure request still waiting is decided first.
    pub fn close_as_duplicate(
        &mut self,
        a: &Author,
        now: i64,
        of: &crate::CaseId,
        comment: &str,
    ) -> Result<String> {
        super::require_authority(a, "closing a case as a duplicate")?;
        let stage = self.stage_to_close()?;
        if self.id()? == *of {
            return Err(Error::invalid(
                "closures/duplicate_of",
                "a case is not a duplicate of itself",
            ));
        }
        let file = self.read()?;
        self.refuse_second_closure_request(&file)?;
        let m = to_map(&json!({
            "reason": "duplicate",
            "duplicate_of": of.to_string(),
            "status": "approved",
            "stage_at_request": stage.code(),
            "decided_at": rfc3339(now),
            "decided_by": a.user_id,
            "comment": comment,
        }));
        self.edit(a, now, "close as duplicate", |tx| {
            let id = insert_entry_with(tx, a, now, "closures", m, true)?;
            write_at(tx, "", &to_map(&json!({"stage": "closed"})), true)?;
            Ok(id)
        })
    }

    /// A supervisor returns a closure request: the case stays open where it was.
    pub fn return_closure(
        &mut self,
        a: &Author,
        now: i64,
        closure_id: &str,
        comment: &str,
    ) -> Result<()> {
        super::require_authority(a, "deciding on a closure")?;
        self.undecided_closure(closure_id)?;
        let value = to_map(&json!({
            "status": "returned", "decided_at": rfc3339(now), "decided_by": a.user_id, "comment": comment,
        }));
        self.update_map(
            a,
            now,
            "return closure",
            &format!("closures/{closure_id}"),
            value,
            true,
        )
    }

    /// The stage of a case that may be closed: an open one of a known stage.
    fn stage_to_close(&self) -> Result<Stage> {
        let stage = self.stage();
        if stage == Stage::Closed || !stage.is_known() {
            return Err(Error::InvalidTransition {
                from: stage,
                to: Stage::Closed,
                reason: "only an open case can be closed".into(),
            });
        }
        Ok(stage)
    }

    fn undecided_closure(&self, closure_id: &str) -> Result<super::Closure> {
        let file = self.read()?;
        let c = file
            .closures
            .into_iter()
            .find(|c| c.id == closure_id)
            .ok_or_else(|| Error::NotFound(format!("closures/{closure_id}")))?;
        if c.status != Some(ClosureStatus::Requested) || c.retracted.is_some() {
            return Err(Error::invalid(
                format!("closures/{closure_id}"),
                "this closure request was already decided",
            ));
        }
        Ok(c)
    }

    /// Reopens a closed case at intake. The earlier closure stays in the file, marked as
    /// reopened with the reason; the intake is decided again.
    pub fn reopen(&mut self, a: &Author, now: i64, reason: &str) -> Result<()> {
        let stage = self.stage();
        if stage != Stage::Closed {
            return Err(Error::InvalidTransition {
                from: stage,
                to: Stage::Intake,
                reason: "only a closed case can be reopened".into(),
            });
        }
        if reason.trim().is_empty() {
            return Err(Error::invalid("reopen_reason", "reopening needs a reason"));
        }
        let current = self.read()?.current_closure().map(|c| c.id.clone());
        self.edit(a, now, "reopen case", |tx| {
            if let Some(id) = current {
                let value = to_map(&json!({
                    "reopened_at": rfc3339(now), "reopened_by": a.user_id, "reopen_reason": reason,
                }));
                write_at(tx, &format!("closures/{id}"), &value, true)?;
            }
            // A new cycle needs a new plan approval.
            reset_plan_approval(tx)?;
            write_at(tx, "", &to_map(&json!({"stage": "intake"})), true)
        })
    }

    /// Checks a referral's answer: each code means one thing, the organisation's refusal
    /// needs its reason, and the code of earlier versions (`declined`) is not written.
    pub(crate) fn check_referral_status(
        status: Option<ReferralStatus>,
        reason: Option<&str>,
        path: &str,
    ) -> Result<()> {
        match status {
            Some(ReferralStatus::Declined) => Err(Error::invalid(
                format!("{path}/status"),
                "say who declined: the client or the organisation",
            )),
            Some(ReferralStatus::Completed) => Err(Error::invalid(
                format!("{path}/status"),
                "say that the service was delivered",
            )),
            Some(ReferralStatus::Unknown { .. }) => {
                Err(Error::invalid(format!("{path}/status"), "unknown status"))
            }
            Some(ReferralStatus::DeclinedByOrganisation)
                if reason.is_none_or(|r| r.trim().is_empty()) =>
            {
                Err(Error::invalid(
                    format!("{path}/status_reason"),
                    "an organisation's refusal needs its reason",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Checks the informing fields of a closure: told (with when and how), or not told (with
/// why). `required` says whether they must be there at all.
fn check_informed(m: &Map<String, Json>, path: &str, required: bool) -> Result<()> {
    let has = |k: &str| {
        m.get(k)
            .and_then(Json::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    match m.get("informed").and_then(Json::as_bool) {
        Some(true) if !(has("informed_on") && has("informed_how")) => Err(Error::invalid(
            format!("{path}/informed_on"),
            "say when and how the client or family was told",
        )),
        Some(false) if !has("informed_note") => Err(Error::invalid(
            format!("{path}/informed_note"),
            "say why the client or family was not told",
        )),
        None if required => Err(Error::invalid(
            format!("{path}/informed"),
            "say whether the client or family was told",
        )),
        _ => Ok(()),
    }
}

/// The map keys whose change may break a rule of the process ([`violation`]): a change that
/// writes none of them is not judged.
const PROCESS_KEYS: &[&str] = &[
    "stage",
    "finding",
    "preliminary_finding",
    "level",
    "preliminary_risk",
    "status",
    "ready_to_talk",
    "problems_to_work_on",
    "unrecognised_problems",
    "recommendations",
    "legal_question",
    "action_steps",
    "expected_result",
    "lawyer_needed",
];

/// Whether `change` (of `doc`) writes (or deletes) any of [`PROCESS_KEYS`], or anything in
/// the referrals (their entries, steps and retractions); a `status` counts in a closure or
/// a referral (plans and activities have statuses too, and are not judged here).
fn touches_process(
    doc: &automerge::Automerge,
    change: &automerge::Change,
    sections: &mut Sections,
) -> bool {
    use automerge::legacy::Key;
    super::decoded::ops(change)
        .operations
        .iter()
        .any(|op| match &op.key {
            _ if sections.of(doc, &op.obj).referrals => true,
            Key::Map(k) if k == "status" => sections.of(doc, &op.obj).closures,
            Key::Map(k) => PROCESS_KEYS.contains(&k.as_str()),
            Key::Seq(_) => false,
        })
}

/// Where an object lies: under a map key `referrals`, under one `closures` (anywhere on its
/// path from the root).
#[derive(Debug, Clone, Copy, Default)]
struct Section {
    referrals: bool,
    closures: bool,
}

impl Section {
    /// An object that cannot be placed is judged (the refusal says it cannot be read).
    const UNKNOWN: Section = Section {
        referrals: true,
        closures: true,
    };
}

/// The [`Section`] of each object met while judging changes, remembered: an object's parent
/// is looked up once, however many operations of however many changes write in it (a new
/// case writes hundreds of operations into a few dozen objects, and finding an object's
/// parent is a search of the document).
#[derive(Default)]
struct Sections(std::collections::HashMap<automerge::ObjId, Section>);

impl Sections {
    fn of(&mut self, doc: &automerge::Automerge, obj: &automerge::legacy::ObjectId) -> Section {
        use automerge::legacy::ObjectId;
        use automerge::{Prop, ReadDoc};
        let ObjectId::Id(_) = obj else {
            return Section::default();
        };
        let Ok((id, _)) = doc.import(&obj.to_string()) else {
            return Section::UNKNOWN;
        };
        if let Some(s) = self.0.get(&id) {
            return *s;
        }
        let Ok(parents) = doc.parents(&id) else {
            return Section::UNKNOWN;
        };
        // Up from the object to the root or to an object already placed; then down again,
        // placing each object met on the way.
        let mut chain = Vec::new();
        let mut child = id;
        let mut above = Section::default();
        for p in parents {
            chain.push((child, p.prop));
            if let Some(s) = self.0.get(&p.obj) {
                above = *s;
                break;
            }
            child = p.obj;
        }
        for (obj, prop) in chain.into_iter().rev() {
            if let Prop::Map(k) = &prop {
                above.referrals |= k == "referrals";
                above.closures |= k == "closures";
            }
            self.0.insert(obj, above);
        }
        above
    }
}

/// The rule a change breaks in the referrals (revision 2): two referrals under one id; a
/// retraction undone; a new referral, or one whose sharing or consent changed, that shares
/// the client's information without a consent covering it
/// ([`super::Referral::consent_problem`]); a status that does not move along the loop
/// ([`ReferralStatus::can_move_to`]) unless it is one the status held at once (a conflict
/// resolved), or a new one with a code of earlier versions; an earlier step changed or
/// removed, or a new step that is not the one move the change made (at most one, its
/// status the referral's new status). `held` says whether a referral's status held a
/// status among concurrent values before the change.
fn referral_violation(
    before: &CaseFile,
    after: &CaseFile,
    held: &dyn Fn(&str, ReferralStatus) -> bool,
) -> Option<&'static str> {
    let mut ids = std::collections::BTreeSet::new();
    let twice_before = |id: &str| before.referrals.iter().filter(|b| b.id == id).count() > 1;
    for r in &after.referrals {
        if !ids.insert(r.id.as_str()) && !twice_before(&r.id) {
            return Some("two referrals have one id");
        }
        let was = before.referrals.iter().find(|b| b.id == r.id);
        if was.is_some_and(|b| b.retracted.is_some()) && r.retracted.is_none() {
            return Some("a retraction is not undone: record the referral again");
        }
        // Steps are added, never changed or removed.
        if let Some(b) = was {
            if b.steps
                .iter()
                .any(|s| r.steps.iter().find(|x| x.id == s.id) != Some(s))
            {
                return Some(STEPS_KEPT);
            }
        }
        if r.retracted.is_some() {
            continue;
        }
        let sharing_changed = was.is_none_or(|b| {
            b.consent_id != r.consent_id || b.shares_information != r.shares_information
        });
        if sharing_changed {
            if let Some(why) = r.consent_problem(&after.consents) {
                return Some(why);
            }
        }
        let to = r.status.unwrap_or(ReferralStatus::Sent);
        let status_moved = was.is_none_or(|b| b.status != r.status);
        let moved = match was {
            None => matches!(to, ReferralStatus::Completed | ReferralStatus::Declined),
            Some(b) => {
                let from = b.status.unwrap_or(ReferralStatus::Sent);
                from != to && !from.can_move_to(to) && !held(&r.id, to)
            }
        };
        if moved {
            return Some(super::REFERRAL_STEPS);
        }
        let new_steps: Vec<_> = r
            .steps
            .iter()
            .filter(|s| was.is_none_or(|b| !b.steps.iter().any(|x| x.id == s.id)))
            .collect();
        if !new_steps.is_empty()
            && (new_steps.len() > 1 || !status_moved || new_steps[0].status != r.status)
        {
            return Some(STEPS_KEPT);
        }
    }
    None
}

/// Why a change to a referral's steps is refused.
const STEPS_KEPT: &str = "a referral's steps are kept as they were recorded; a new step is the one move of its status the same change makes";

/// The conclusions about abuse a case file holds, by where they are (`intake`,
/// `assessments/<id>`, `reviews/<id>`), including those an earlier risk code meant.
fn findings(file: &CaseFile) -> Vec<(String, super::Finding)> {
    let mut out = Vec::new();
    let intake = file.intake.preliminary_finding.or_else(|| {
        file.intake
            .preliminary_risk
            .and_then(super::RiskLevel::finding)
    });
    out.extend(intake.map(|f| ("intake".to_string(), f)));
    for a in &file.assessments {
        out.extend(
            a.risk
                .finding()
                .map(|f| (format!("assessments/{}", a.id), f)),
        );
    }
    for r in &file.reviews {
        out.extend(r.risk.finding().map(|f| (format!("reviews/{}", r.id), f)));
    }
    out
}

/// The rule of the case process that one change breaks, judged on the case as its writer
/// saw it (`before`, the document at the change's dependencies) and as the change left it
/// (`after`): the stage moves only along the workflow's steps (implementation once a
/// supervisor approved the plan; closed only by an approved closure); an emergency does
/// not move on from intake before its safety is secured; only a child-protection case
/// records a conclusion about abuse, and an assessment records only its own kind's items;
/// a closure is approved only once the request says that the client or family was told
/// (or why not); a referral shares the client's information only under a consent, and its
/// status moves along its loop ([`referral_violation`]).
///
/// `revision` is the schema revision of the case the change left: on a case of revision 1
/// (not upgraded to revision 2), only the rules of revision 1's app apply (the workflow's
/// steps), since an upgraded phone hands in what its earlier app recorded offline, under
/// that app's rules; every change a revision-2 app makes is made on an upgraded case
/// (`docs/adr/0005-*`).
pub fn change_violation(
    before: &CaseFile,
    after: &CaseFile,
    revision: u32,
    held: &dyn Fn(&str, ReferralStatus) -> bool,
) -> Option<&'static str> {
    let (from, to) = (before.stage, after.stage);
    if from != to {
        let step = from.can_move_to(to) || (to == Stage::Closed && from.is_known());
        if !step {
            return Some("the workflow has no such step");
        }
        if to == Stage::Implementation
            && after.plan.approval.status != Some(super::ApprovalStatus::Approved)
        {
            return Some("implementation starts once a supervisor has approved the plan");
        }
        if to == Stage::Closed && after.current_closure().is_none() {
            return Some("a case is closed when a supervisor approves a closure request");
        }
    }
    if revision < 2 {
        return None;
    }
    if from != to && from == Stage::Intake && to != Stage::Closed && after.emergency_open() {
        return Some(SAFETY_FIRST);
    }
    let was = findings(before);
    let concluded_now = findings(after)
        .into_iter()
        .any(|(path, f)| !was.contains(&(path, f)));
    if concluded_now && !after.case_kind.is_some_and(|k| k.has_findings()) {
        return Some("only a child-protection case concludes about abuse: set the kind of case");
    }
    let items = after.case_kind.map_or(&[][..], |k| k.assessment_items());
    for a in &after.assessments {
        let had = before
            .assessments
            .iter()
            .find(|b| b.id == a.id)
            .map(|b| b.kind_items())
            .unwrap_or_default();
        if a.kind_items()
            .iter()
            .any(|i| !had.contains(i) && !items.contains(i))
        {
            return Some("this item belongs to the assessment of another kind of case");
        }
    }
    if let Some(why) = referral_violation(before, after, held) {
        return Some(why);
    }
    for c in &after.closures {
        let approved_now = c.status == Some(ClosureStatus::Approved)
            && before
                .closures
                .iter()
                .find(|b| b.id == c.id)
                .is_none_or(|b| b.status != Some(ClosureStatus::Approved));
        if approved_now && !c.informing_recorded() {
            return Some(
                "a closure is approved once the request says that, when and how the client or family was told (or why not)",
            );
        }
    }
    None
}

/// The parts of a case the process rules read ([`change_violation`]): the stage, the kind,
/// the intake, the assessments, the reviews, the closures, the plan's approval, the
/// referrals and the consents; the rest (visits, texts of the plan, contacts) is left out, as it is most of a case.
fn process_view(doc: &automerge::Automerge) -> Option<CaseFile> {
    let json = super::walk::Walk::new(doc, false).root_keys(&[
        "stage",
        "case_kind",
        "intake",
        "assessments",
        "reviews",
        "closures",
        "plan",
        "referrals",
        "consents",
    ]);
    serde_json::from_value(json).ok()
}

/// The referrals whose status holds concurrent values in `doc`: their ids and the codes.
fn concurrent_statuses(doc: &automerge::Automerge) -> Vec<(String, Vec<String>)> {
    use automerge::{ReadDoc, ScalarValue, Value, ROOT};
    let str_of = |v: &Value<'_>| match v {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(t) => Some(t.to_string()),
            _ => None,
        },
        _ => None,
    };
    let Some(list) = crate::schema::get_obj(doc, &ROOT, "referrals") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in 0..doc.length(&list) {
        let Ok(Some((_, entry))) = doc.get(&list, i) else {
            continue;
        };
        let values = doc.get_all(&entry, "status").unwrap_or_default();
        if values.len() < 2 {
            continue;
        }
        let id = doc
            .get(&entry, "id")
            .ok()
            .flatten()
            .and_then(|(v, _)| str_of(&v));
        if let Some(id) = id {
            out.push((id, values.iter().filter_map(|(v, _)| str_of(v)).collect()));
        }
    }
    out
}

/// The names of fields a revision after the first added, that no field of the first
/// revision has.
fn newer_field_names() -> &'static std::collections::BTreeSet<&'static str> {
    use crate::schema::{Field, Kind, CASE};
    static NAMES: std::sync::OnceLock<std::collections::BTreeSet<&'static str>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        fn walk(
            fields: &'static [Field],
            newer: &mut Vec<&'static str>,
            old: &mut Vec<&'static str>,
        ) {
            for f in fields {
                match f.since {
                    1 => old.push(f.name),
                    _ => newer.push(f.name),
                }
                match &f.kind {
                    Kind::Map(sub) | Kind::Entries(sub) => walk(sub, newer, old),
                    _ => {}
                }
            }
        }
        let (mut newer, mut old) = (Vec::new(), Vec::new());
        walk(CASE, &mut newer, &mut old);
        walk(crate::schema::ENTRY_FIELDS, &mut newer, &mut old);
        newer.into_iter().filter(|n| !old.contains(n)).collect()
    })
}

/// Whether `change` writes a field only a later revision has ([`newer_field_names`]).
fn writes_newer_fields(change: &automerge::Change) -> bool {
    use automerge::legacy::Key;
    let names = newer_field_names();
    super::decoded::ops(change)
        .operations
        .iter()
        .any(|op| matches!(&op.key, Key::Map(k) if names.contains(k.as_str())))
}

/// The revision a change is judged by, from the case it leaves (`case`): an edit of a
/// revision-2 app leaves an upgraded case, an earlier app's does not; and one that writes a
/// field only a later revision has was made by a later app, whatever state it built on.
fn revision_of(case: &automerge::Automerge, change: &automerge::Change) -> u32 {
    match super::upgrade::lacks_revision(case, 2) && !writes_newer_fields(change) {
        true => 1,
        false => crate::schema::SCHEMA_REVISION,
    }
}

/// The first rule of the case process that one of `changes` (new in `doc`, the writer's
/// own: a schema upgrade is left out by the caller) breaks, each judged on the case as its
/// writer saw it ([`change_violation`]), not on the merged result: a worker's valid offline
/// edit is not refused because of what someone else did at the same time.
pub fn violation(doc: &automerge::Automerge, changes: &[&automerge::Change]) -> Option<Refusal> {
    let unreadable = || {
        Some(Refusal::new(
            RefusalKind::Unapplicable,
            "a change could not be read in the state it was made on",
        ))
    };
    // The case each change was made on, replayed change by change: a phone's changes
    // usually follow one another, so one fork serves them all; a change made elsewhere in
    // the history forks again, at its dependencies.
    let mut replay: Option<automerge::Automerge> = None;
    // The changes not judged that follow one another from the replay's heads, applied
    // together before the next judged change (applied one by one, a case of 100,000
    // keystrokes after its creation was 100,000 applications, each a walk of the case).
    let mut waiting: Vec<automerge::Change> = Vec::new();
    // The heads the replay has once `waiting` is applied.
    let mut tip: Vec<automerge::ChangeHash> = Vec::new();
    let mut sections = Sections::default();
    let heads = doc.get_heads();
    for change in changes {
        let judged = touches_process(doc, change, &mut sections);
        let mut deps = change.deps().to_vec();
        deps.sort();
        // A case's creation with nothing after it (a new case, as an intake makes it): the
        // case it leaves is the document itself, made on nothing; no replay.
        if judged && deps.is_empty() && heads == [change.hash()] {
            let Some(after) = process_view(doc) else {
                return unreadable();
            };
            let no_status_held = |_: &str, _: ReferralStatus| false;
            let revision = revision_of(doc, change);
            if let Some(reason) =
                change_violation(&CaseFile::default(), &after, revision, &no_status_held)
            {
                return Some(Refusal::new(RefusalKind::Process, reason));
            }
            continue;
        }
        if replay.is_some() && tip != deps {
            replay = None;
            waiting.clear();
        }
        if replay.is_none() {
            if !judged {
                continue;
            }
            replay = match deps.is_empty() {
                true => Some(automerge::Automerge::new()),
                false => doc.fork_at(&deps).ok(),
            };
        }
        if !judged {
            waiting.push((*change).clone());
            tip = vec![change.hash()];
            continue;
        }
        let Some(case) = replay.as_mut() else {
            return unreadable();
        };
        if let Some(last) = waiting.last().map(|c| c.hash()) {
            if case.apply_changes(std::mem::take(&mut waiting)).is_err()
                || case.get_heads() != [last]
            {
                return unreadable();
            }
        }
        let before = match deps.is_empty() {
            true => CaseFile::default(),
            false => match process_view(case) {
                Some(file) => file,
                None => return unreadable(),
            },
        };
        let held = concurrent_statuses(case);
        if case.apply_changes([(*change).clone()]).is_err() || case.get_heads() != [change.hash()] {
            return unreadable();
        }
        tip = vec![change.hash()];
        let Some(after) = process_view(case) else {
            return unreadable();
        };
        let revision = revision_of(case, change);
        let held = |id: &str, s: ReferralStatus| {
            held.iter()
                .any(|(r, codes)| r == id && codes.iter().any(|c| c == s.code()))
        };
        if let Some(reason) = change_violation(&before, &after, revision, &held) {
            return Some(Refusal::new(RefusalKind::Process, reason));
        }
    }
    None
}
