//! The case process as the seeds describe it: the intake's decision, safety first, risk
//! conclusions with their next step per kind of case, referral answers that mean one
//! thing each, and what a case written by an earlier version says.

use automerge::transaction::Transactable;
use automerge::ReadDoc;
use fieldcase_core::case::{
    AssessmentInput, CaseKind, Finding, InformedHow, InformedInput, IntakeDecision,
    IntakeDecisionInput, IntakeInput, NextStep, ReferralInput, ReferralStatus, RiskInput,
    RiskLevel,
};
use fieldcase_core::{schema, Author, CaseDoc, CaseId, Error, NewCase, Stage};

use crate::fixtures::*;

fn case_of(kind: CaseKind, a: &Author, name: &str) -> CaseDoc {
    let mut new = NewCase {
        team: "team-north".into(),
        case_kind: Some(kind),
        ..Default::default()
    };
    new.client.name = Some(name.into());
    CaseDoc::create(CaseId::random(), automerge::ActorId::random(), a, new, T0).unwrap()
}

fn assessment(finding: Option<Finding>, due: Option<&str>, emergency: bool) -> AssessmentInput {
    AssessmentInput {
        date: Some("2026-11-25".into()),
        risk: Some(RiskInput {
            finding,
            next_step_due: due.map(str::to_string),
            emergency: Some(emergency),
            conclusion: Some("Cán bộ đã xác minh thông tin với nhà trường".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn told() -> InformedInput {
    InformedInput {
        informed: Some(true),
        informed_on: Some("2026-11-26".into()),
        informed_how: Some(InformedHow::InPerson),
        informed_note: None,
    }
}

#[test]
fn a_screened_out_intake_is_closed_without_a_plan() {
    let (a, s) = (worker(1), supervisor());
    let mut c = case_of(CaseKind::FamilyInDifficulty, &a, NAMES[2]);
    let heads = c.heads();
    let no_reason = IntakeDecisionInput {
        decision: Some(IntakeDecision::ScreenedOut),
        ..Default::default()
    };
    assert!(matches!(
        c.decide_intake(&a, T0, no_reason),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(c.heads(), heads, "a refused decision writes nothing");
    let closure = c
        .decide_intake(
            &a,
            T0,
            IntakeDecisionInput {
                decision: Some(IntakeDecision::ScreenedOut),
                reason: Some("Критерии не выполнены: одна проблема, решается самой семьёй".into()),
                referred_to: None,
            },
        )
        .unwrap()
        .expect("screening out asks for a closure");
    assert_eq!(c.stage(), Stage::Intake);
    c.record_informed(&a, T0, &closure, told()).unwrap();
    c.approve_closure(&s, T0, &closure, "").unwrap();
    let f = c.read().unwrap();
    assert_eq!(f.stage, Stage::Closed);
    assert!(f.plan.problems.is_empty(), "no plan was invented");
    assert_eq!(f.intake.decision, Some(IntakeDecision::ScreenedOut));
    assert_eq!(f.intake.decided_by.as_deref(), Some("u-worker-1"));
    let closed = f.current_closure().unwrap();
    assert_eq!(closed.reason.as_deref(), Some("screened_out"));
    assert_eq!(closed.stage_at_request, Some(Stage::Intake));
    schema::validate(c.automerge()).unwrap();
}

#[test]
fn referring_elsewhere_records_the_referral_and_asks_for_closure() {
    let a = worker(1);
    let mut c = case_of(CaseKind::LegalAid, &a, NAMES[3]);
    assert!(c
        .decide_intake(
            &a,
            T0,
            IntakeDecisionInput {
                decision: Some(IntakeDecision::ReferredElsewhere),
                ..Default::default()
            },
        )
        .is_err());
    let closure = c
        .decide_intake(
            &a,
            T0,
            IntakeDecisionInput {
                decision: Some(IntakeDecision::ReferredElsewhere),
                reason: Some("Потрібна допомога психолога".into()),
                referred_to: Some("Міська лікарня".into()),
            },
        )
        .unwrap();
    let f = c.read().unwrap();
    assert_eq!(f.intake.referred_to.as_deref(), Some("Міська лікарня"));
    assert_eq!(f.referrals.len(), 1);
    assert_eq!(
        f.referrals[0].organisation.as_deref(),
        Some("Міська лікарня")
    );
    assert_eq!(f.referrals[0].status, Some(ReferralStatus::Sent));
    assert_eq!(f.pending_closure().map(|c| c.id.clone()), closure);
    assert_eq!(
        f.pending_closure().unwrap().reason.as_deref(),
        Some("referred_elsewhere")
    );
}

#[test]
fn an_emergency_does_not_move_on_from_intake_before_safety_is_secured() {
    let a = worker(1);
    let mut c = case_of(CaseKind::ChildProtection, &a, NAMES[4]);
    c.record_intake(
        &a,
        T0,
        IntakeInput {
            emergency: Some(true),
            urgency: Some("emergency".into()),
            referring_organisation: Some("Trường tiểu học Lê Lợi".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(c.read().unwrap().emergency_open());
    let heads = c.heads();
    for refused in [
        c.change_stage(&a, T0, Stage::Assessment).unwrap_err(),
        c.decide_intake(
            &a,
            T0,
            IntakeDecisionInput {
                decision: Some(IntakeDecision::Accepted),
                ..Default::default()
            },
        )
        .unwrap_err(),
    ] {
        assert!(
            matches!(&refused, Error::InvalidTransition { reason, .. } if reason.contains("safety")),
            "{refused}"
        );
    }
    assert!(
        c.secure_safety(&a, T0, " ").is_err(),
        "the measures are named"
    );
    assert_eq!(c.heads(), heads);
    c.secure_safety(&a, T0 + 1000, "Tạm thời đưa trẻ về nhà bà ngoại")
        .unwrap();
    let f = c.read().unwrap();
    assert!(!f.emergency_open(), "safety secured clears the emergency");
    assert_eq!(f.intake.emergency, Some(true), "the flag stays in the file");
    assert_eq!(f.intake.safety_measures, "Tạm thời đưa trẻ về nhà bà ngoại");
    assert_eq!(f.intake.safety_secured_by.as_deref(), Some("u-worker-1"));
    assert_eq!(
        f.intake.referring_organisation.as_deref(),
        Some("Trường tiểu học Lê Lợi")
    );
    c.decide_intake(
        &a,
        T0 + 2000,
        IntakeDecisionInput {
            decision: Some(IntakeDecision::Accepted),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(c.stage(), Stage::Assessment);
    // A later judgement that flags an emergency raises it again, until secured again.
    c.add_assessment(
        &a,
        T0 + 3000,
        assessment(Some(Finding::EvidenceOfAbuse), None, true),
    )
    .unwrap();
    assert!(c.read().unwrap().emergency_open());
    c.secure_safety(&a, T0 + 4000, "").unwrap();
    assert!(!c.read().unwrap().emergency_open());
}

#[test]
fn only_a_child_protection_case_concludes_about_abuse() {
    let a = worker(1);
    for kind in [
        CaseKind::Veteran,
        CaseKind::Disability,
        CaseKind::InternallyDisplaced,
    ] {
        let mut c = case_of(kind, &a, NAMES[3]);
        let err = c
            .add_assessment(
                &a,
                T0,
                assessment(Some(Finding::NoEvidenceOfAbuse), None, false),
            )
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{kind}: {err}");
        // Their assessment is the domains, the reasoning and the emergency flag.
        c.add_assessment(&a, T0, assessment(None, None, false))
            .unwrap();
        assert_eq!(c.read().unwrap().current_judgement(), None);
    }
}

#[test]
fn each_conclusion_proposes_its_own_next_step() {
    let (a, s) = (worker(1), supervisor());
    // Not enough information: an investigation, with its due date.
    let mut c = case_of(CaseKind::ChildProtection, &a, NAMES[4]);
    assert!(matches!(
        c.add_assessment(
            &a,
            T0,
            assessment(Some(Finding::InsufficientInformation), None, false)
        ),
        Err(Error::InvalidInput { .. })
    ));
    let id = c
        .add_assessment(
            &a,
            T0,
            assessment(
                Some(Finding::InsufficientInformation),
                Some("2026-12-05"),
                false,
            ),
        )
        .unwrap();
    let f = c.read().unwrap();
    let (step, j) = f.pending_next_step().unwrap();
    assert_eq!(step, NextStep::InvestigateFurther);
    assert_eq!(j.path, format!("assessments/{id}"));
    c.complete_next_step(&a, T0, &format!("assessments/{id}"), "2026-12-03")
        .unwrap();
    assert!(c.read().unwrap().pending_next_step().is_none());

    // No evidence of abuse: no further support; done once closure is asked for.
    let mut c = case_of(CaseKind::ChildProtection, &a, NAMES[0]);
    c.add_assessment(
        &a,
        T0,
        assessment(Some(Finding::NoEvidenceOfAbuse), None, false),
    )
    .unwrap();
    assert_eq!(
        c.read().unwrap().pending_next_step().map(|p| p.0),
        Some(NextStep::NoFurtherSupport)
    );
    let closure = c
        .request_closure(
            &a,
            T0 + 1000,
            fieldcase_core::case::ClosureInput {
                reason: Some("no_further_support_needed".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(c.read().unwrap().pending_next_step().is_none());
    c.record_informed(&a, T0 + 2000, &closure, told()).unwrap();
    c.approve_closure(&s, T0 + 3000, &closure, "").unwrap();
    assert_eq!(c.stage(), Stage::Closed, "closed from the assessment stage");

    // Other problems in the family: a referral to the body responsible.
    let mut c = case_of(CaseKind::ChildProtection, &a, NAMES[1]);
    c.add_assessment(
        &a,
        T0,
        assessment(Some(Finding::OtherFamilyProblems), None, false),
    )
    .unwrap();
    assert_eq!(
        c.read().unwrap().pending_next_step().map(|p| p.0),
        Some(NextStep::ReferToResponsibleBody)
    );
    c.add_referral(
        &a,
        T0 + 1000,
        ReferralInput {
            organisation: Some("Phòng Lao động - Thương binh và Xã hội".into()),
            shares_information: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(c.read().unwrap().pending_next_step().is_none());

    // A step with no conclusion is refused.
    let mut c = case_of(CaseKind::ChildProtection, &a, NAMES[2]);
    let mut input = assessment(None, None, false);
    input.risk.as_mut().unwrap().next_step = Some(NextStep::InvestigateFurther);
    assert!(c.add_assessment(&a, T0, input).is_err());
}

#[test]
fn a_referral_answer_says_who_declined() {
    let a = worker(1);
    let mut c = case_of(CaseKind::ViolenceAgainstWomen, &a, NAMES[1]);
    let r = c
        .add_referral(
            &a,
            T0,
            ReferralInput {
                organisation: Some("خانه امن".into()),
                shares_information: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    let heads = c.heads();
    assert!(
        c.set_referral_status(&a, T0, &r, ReferralStatus::Declined, Some("x"), None)
            .is_err(),
        "the earlier code is not written"
    );
    assert!(
        c.set_referral_status(
            &a,
            T0,
            &r,
            ReferralStatus::DeclinedByOrganisation,
            None,
            None
        )
        .is_err(),
        "the organisation's refusal needs its reason"
    );
    assert_eq!(c.heads(), heads);
    c.set_referral_status(
        &a,
        T0,
        &r,
        ReferralStatus::DeclinedByOrganisation,
        Some("ظرفیت تکمیل است"),
        None,
    )
    .unwrap();
    assert!(ReferralStatus::DeclinedByOrganisation.is_service_gap());
    assert!(ReferralStatus::Unavailable.is_service_gap());
    assert!(!ReferralStatus::DeclinedByClient.is_service_gap());
    assert!(!ReferralStatus::Declined.is_service_gap());
}

#[test]
fn an_earlier_risk_code_reads_as_the_conclusion_it_meant_or_asks_for_a_new_one() {
    let a = worker(1);
    for (code, finding, earlier) in [
        ("evidence_of_harm", Some(Finding::EvidenceOfAbuse), None),
        (
            "insufficient_info",
            Some(Finding::InsufficientInformation),
            None,
        ),
        ("no_evidence", Some(Finding::NoEvidenceOfAbuse), None),
        ("concern", None, Some(RiskLevel::Concern)),
    ] {
        let mut c = case_of(CaseKind::ChildProtection, &a, NAMES[0]);
        let id = c
            .add_assessment(&a, T0, assessment(None, None, false))
            .unwrap();
        // What an earlier version wrote: `risk/level`, which no action writes any more.
        let doc = c.automerge_mut();
        let list = doc.get(automerge::ROOT, "assessments").unwrap().unwrap().1;
        let entry = doc.get(&list, 0).unwrap().unwrap().1;
        let risk = doc.get(&entry, "risk").unwrap().unwrap().1;
        let mut tx = doc.transaction();
        tx.put(&risk, "level", code).unwrap();
        tx.commit();
        schema::validate(c.automerge()).unwrap();
        let f = c.read().unwrap();
        let j = f.current_judgement().unwrap();
        assert_eq!((j.finding, j.earlier_level), (finding, earlier), "{code}");
        assert_eq!(j.path, format!("assessments/{id}"));
        assert!(
            c.set_field(
                &a,
                T0,
                &format!("assessments/{id}/risk/level"),
                &serde_json::json!("concern")
            )
            .is_err(),
            "no form writes the earlier scale"
        );
    }
}

#[test]
fn a_safety_plan_is_recorded_even_on_a_case_from_before_it_existed() {
    use fieldcase_core::case::{ContactInput, ProtectionOrder, SafetyInput};
    let (a, b) = (worker(1), worker(2));
    // A case written before revision 2 (by 047b1d0) has no `safety` map.
    let mut c = crate::compat::revision_one_case("referral_declined");
    assert!(schema::get_obj(c.automerge(), &automerge::ROOT, "safety").is_none());
    schema::validate(c.automerge()).unwrap();
    let home = c
        .add_contact(
            &a,
            T0,
            ContactInput {
                kind: Some("phone".into()),
                value: Some("+98 21 0000 0000".into()),
                label: Some("تلفن خانه".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let sister = c
        .add_contact(
            &a,
            T0,
            ContactInput {
                kind: Some("phone".into()),
                value: Some("+98 21 1111 1111".into()),
                label: Some("خواهر".into()),
                safe_to_contact: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(c.read().unwrap().reachable_contacts().len(), 2);
    // A form writes into it too, on a copy that lacks it.
    let mut form = replica(&c);
    form.set_field(&a, T0, "safety/safe_contacts", &serde_json::json!("خواهر"))
        .unwrap();
    assert_eq!(
        form.read().unwrap().safety.safe_contacts.as_deref(),
        Some("خواهر")
    );
    let mut other = replica(&c);
    c.record_safety(
        &a,
        T0 + 1000,
        SafetyInput {
            perpetrator_relationship: Some("همسر".into()),
            perpetrator_lives_with_client: Some(true),
            protection_order: Some(ProtectionOrder::AppliedFor),
            warning_signs: Some("وقتی مست است".into()),
            safe_places: Some("خانه خواهر".into()),
            ..Default::default()
        },
    )
    .unwrap();
    schema::validate(c.automerge()).unwrap();
    // Another phone, apart, records a visit: both merge.
    other.add_visit(&b, T0 + 1000, visit(NOTES[1])).unwrap();
    c.merge(&mut other).unwrap();
    let f = c.read().unwrap();
    assert_eq!(f.safety.perpetrator_relationship.as_deref(), Some("همسر"));
    assert_eq!(f.safety.protection_order, Some(ProtectionOrder::AppliedFor));
    assert_eq!(f.visits.len(), 1);
    // With an alleged perpetrator living with her, only contacts marked safe are offered.
    let reachable: Vec<&str> = f
        .reachable_contacts()
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(reachable, vec![sister.as_str()]);
    assert!(!reachable.contains(&home.as_str()));
    c.set_field(
        &a,
        T0 + 2000,
        "safety/what_to_do",
        &serde_json::json!("به خواهر زنگ بزند"),
    )
    .unwrap();
    assert_eq!(
        c.read().unwrap().safety.what_to_do.as_deref(),
        Some("به خواهر زنگ بزند")
    );
}
