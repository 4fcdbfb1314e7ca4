//! The case document: schema, typed edits, validation, retraction.

use fieldcase_core::case::{AssessmentInput, DomainInput};
use fieldcase_core::schema;
use fieldcase_core::{CaseDoc, Error};
use serde_json::json;

use crate::fixtures::*;

#[test]
fn a_new_case_is_valid_and_reads_back() {
    let a = worker(1);
    let case = new_case(&a, NAMES[4]);
    schema::validate(case.automerge()).unwrap();
    let f = case.read().unwrap();
    assert_eq!(f.schema, schema::SCHEMA_ID);
    assert_eq!(f.client.name.as_deref(), Some(NAMES[4]));
    assert_eq!(f.case_manager.as_deref(), Some("u-worker-1"));
    assert_eq!(f.assigned, vec!["u-worker-1"]);
    assert_eq!(f.intake.reason, "Báo cáo từ trường học");
    assert_eq!(f.actors.values().next().unwrap().device_id, "phone-1");
    assert_eq!(case.id().unwrap().to_string(), f.id);
}

#[test]
fn every_section_can_be_written_and_the_document_stays_valid() {
    use fieldcase_core::case::*;
    let a = worker(1);
    let mut c = new_case(&a, NAMES[0]);
    c.add_contact(
        &a,
        T0,
        ContactInput {
            kind: Some("phone".into()),
            value: Some("+66 81 000 0000".into()),
            safe_to_contact: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    c.add_household_member(
        &a,
        T0,
        HouseholdMemberInput {
            name: Some("สมชาย ใจดี".into()),
            relationship: Some("son".into()),
            ..Default::default()
        },
    )
    .unwrap();
    c.set_field(&a, T0, "case_kind", &json!("child_protection"))
        .unwrap();
    c.record_intake(
        &a,
        T0,
        IntakeInput {
            urgency: Some("emergency".into()),
            emergency: Some(true),
            criteria: Some(CriteriaInput {
                multiple_problems: Some(true),
                basic_needs_met: Some(true),
                cannot_access_alone: Some(true),
                note: None,
            }),
            safety_measures: Some("ย้ายไปบ้านพักฉุกเฉิน".into()),
            preliminary_finding: Some(Finding::EvidenceOfAbuse),
            presenting_problems: Some(vec!["violence".into(), "housing".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    let consent = c
        .record_consent(
            &a,
            T0,
            ConsentInput {
                topic: Some("information_sharing".into()),
                granted: Some(true),
                date: Some("2026-11-20".into()),
                ..Default::default()
            },
        )
        .unwrap();
    c.withdraw_consent(&a, T0, &consent, "2026-11-22", "client asked")
        .unwrap();
    let mut domains = std::collections::BTreeMap::new();
    domains.insert(
        "housing".to_string(),
        DomainInput {
            rating: Some(1),
            needs: Some("ไม่มีที่อยู่".into()),
            strengths: None,
        },
    );
    c.add_assessment(
        &a,
        T0,
        AssessmentInput {
            date: Some("2026-11-21".into()),
            domains: Some(domains),
            risk: Some(RiskInput {
                finding: Some(Finding::InsufficientInformation),
                next_step_due: Some("2026-12-01".into()),
                emergency: Some(false),
                conclusion: Some("ok".into()),
                next_step: None,
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let p = c
        .add_problem(
            &a,
            T0,
            ProblemInput {
                priority: Some(1),
                domain: Some("housing".into()),
                goal: Some("Stable housing by March".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let act = c
        .add_activity(
            &a,
            T0,
            &p,
            ActivityInput {
                description: Some("Apply for shelter".into()),
                responsible: Some(ResponsibleInput {
                    kind: Some("partner".into()),
                    organisation: Some("Shelter NGO".into()),
                    name: None,
                }),
                due_date: Some("2026-12-01".into()),
                ..Default::default()
            },
        )
        .unwrap();
    c.set_activity_status(&a, T0, &p, &act, ActivityStatus::InProgress)
        .unwrap();
    c.set_next_review(&a, T0, "2027-01-15").unwrap();
    c.record_family_agreement(
        &a,
        T0,
        AgreementInput {
            agreed: Some(true),
            date: Some("2026-11-22".into()),
            by: Some("mother".into()),
            note: None,
        },
    )
    .unwrap();
    let r = c
        .add_referral(
            &a,
            T0,
            ReferralInput {
                organisation: Some("Legal aid".into()),
                service: Some("court".into()),
                shares_information: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    c.set_referral_status(
        &a,
        T0,
        &r,
        ReferralStatus::DeclinedByOrganisation,
        Some("no capacity"),
        None,
    )
    .unwrap();
    let v = c.add_visit(&a, T0, visit(NOTES[0])).unwrap();
    c.add_follow_up(
        &a,
        T0,
        &v,
        FollowUpInput {
            text: Some("call school".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let ap = c
        .add_appointment(
            &a,
            T0,
            AppointmentInput {
                at: Some("2026-12-02T09:00:00+07:00".into()),
                purpose: Some("hospital".into()),
                attendance_needs: Some("transport".into()),
                ..Default::default()
            },
        )
        .unwrap();
    c.set_appointment_status(&a, T0, &ap, AppointmentStatus::Missed)
        .unwrap();
    c.add_review(
        &a,
        T0,
        ReviewInput {
            date: Some("2027-01-15".into()),
            progress: Some(vec![ProgressInput {
                problem_id: Some(p.clone()),
                status: Some("in_progress".into()),
                note: None,
            }]),
            decision: Some("continue".into()),
            satisfaction: Some(4),
            ..Default::default()
        },
    )
    .unwrap();
    schema::validate(c.automerge()).unwrap();

    let f = c.read().unwrap();
    assert_eq!(f.client.contacts[0].safe_to_contact, Some(false));
    assert_eq!(
        f.consents[0].withdrawn_reason.as_deref(),
        Some("client asked")
    );
    assert_eq!(f.assessments[0].domains["housing"].needs, "ไม่มีที่อยู่");
    assert_eq!(
        f.assessments[0].domains.len(),
        schema::LIFE_DOMAINS.len(),
        "every domain scaffolded"
    );
    assert_eq!(
        f.plan.problems[0].activities[0].status,
        Some(ActivityStatus::InProgress)
    );
    assert_eq!(
        f.referrals[0].status,
        Some(ReferralStatus::DeclinedByOrganisation)
    );
    assert_eq!(f.visits[0].follow_ups.len(), 1);
    assert_eq!(f.appointments[0].status, Some(AppointmentStatus::Missed));
    assert_eq!(
        f.reviews[0].progress[0].problem_id.as_deref(),
        Some(p.as_str())
    );
    assert_eq!(f.intake.criteria.cannot_access_alone, Some(true));
    let j = f.current_judgement().unwrap();
    assert_eq!(j.finding, Some(Finding::InsufficientInformation));
    assert_eq!(
        f.assessments[0].risk.next_step,
        Some(NextStep::InvestigateFurther),
        "the seed's next step is recorded with the conclusion"
    );
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[2]);
    let heads = c.heads();
    let cases: Vec<(&str, serde_json::Value)> = vec![
        ("client/date_of_birth", json!("31.12.1990")),
        ("client/gender", json!("robot")),
        ("client/nonexistent", json!("x")),
        ("stage", json!("closed")),
        ("plan/approval/status", json!("approved")),
        ("assigned", json!(["u-evil"])),
        ("visits", json!([])),
        ("client/name", json!(42)),
        ("intake/emergency", json!("yes")),
        ("", json!("x")),
    ];
    for (path, value) in cases {
        let err = c.set_field(&a, T0, path, &value).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{path}: {err}");
    }
    assert!(matches!(
        c.set_field(&a, T0, "visits/nope/note", &json!("x")),
        Err(Error::NotFound(_))
    ));
    assert!(
        c.edit_text(&a, T0, "client/name", 0, 0, "x").is_err(),
        "name is not a text field"
    );
    assert!(
        c.edit_text(&a, T0, "intake/reason", 999, 0, "x").is_err(),
        "out of range"
    );
    let bad_domain = AssessmentInput {
        domains: Some([("astrology".to_string(), DomainInput::default())].into()),
        ..Default::default()
    };
    assert!(c.add_assessment(&a, T0, bad_domain).is_err());
    assert_eq!(c.heads(), heads, "nothing was written");
}

#[test]
fn retraction_keeps_the_entry_and_says_why() {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[3]);
    let v = c.add_visit(&a, T0, visit(NOTES[3])).unwrap();
    assert!(
        c.retract(&a, T0, &format!("visits/{v}"), "").is_err(),
        "a reason is required"
    );
    c.retract(&a, T0, &format!("visits/{v}"), "recorded on the wrong case")
        .unwrap();
    let f = c.read().unwrap();
    assert_eq!(f.visits.len(), 1);
    assert_eq!(f.visits[0].note, NOTES[3]);
    assert_eq!(
        f.visits[0].retracted.as_ref().unwrap().reason.as_deref(),
        Some("recorded on the wrong case")
    );
    assert!(c.retract(&a, T0, &format!("visits/{v}"), "again").is_err());
    schema::validate(c.automerge()).unwrap();
}

#[test]
fn loading_garbage_is_an_error_not_a_panic() {
    assert!(CaseDoc::load(b"definitely not automerge").is_err());
    assert!(CaseDoc::load(&[]).is_ok_and(|d| d.id().is_err()));
    let mut bytes = new_case(&worker(1), NAMES[0]).automerge().save();
    bytes.truncate(bytes.len() / 2);
    assert!(CaseDoc::load(&bytes).is_err());
}

#[test]
fn a_foreign_document_is_checked_against_the_schema() {
    let mut doc = automerge::AutoCommit::new();
    use automerge::transaction::Transactable;
    doc.put(automerge::ROOT, "schema", schema::SCHEMA_ID)
        .unwrap();
    doc.put(automerge::ROOT, "ransom", "note").unwrap();
    let bytes = doc.save();
    let err = CaseDoc::from_automerge(automerge::Automerge::load(&bytes).unwrap()).unwrap_err();
    assert!(err.to_string().contains("ransom"), "{err}");
}

#[test]
fn dates_must_be_canonical_and_instants_are_stored_in_utc() {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[4]);
    for bad in ["2026-1-5", " 2026-01-05", "+2026-01-05", "26-01-05"] {
        assert!(
            c.set_field(&a, T0, "plan/next_review", &json!(bad))
                .is_err(),
            "{bad}"
        );
    }
    let ap = c
        .add_appointment(
            &a,
            T0,
            fieldcase_core::case::AppointmentInput {
                at: Some("2026-11-25T08:30:00+07:00".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let f = c.read().unwrap();
    assert_eq!(
        f.appointments
            .iter()
            .find(|x| x.id == ap)
            .unwrap()
            .at
            .as_deref(),
        Some("2026-11-25T01:30:00Z")
    );
}

/// A whole document from elsewhere (a phone's sync) is checked against the schema: an
/// unknown field, a missing container, a value of the wrong type, a null action, an entry
/// without an id; each named by its path.
#[test]
fn whole_documents_are_validated_field_by_field() {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT};

    let case = new_case(&worker(1), NAMES[0]);
    assert_eq!(schema::validate(case.automerge()), Ok(()));
    let client = schema::get_obj(case.automerge(), &ROOT, "client").expect("client");
    let visits = schema::get_obj(case.automerge(), &ROOT, "visits").expect("visits");

    let broken = |edit: &dyn Fn(&mut automerge::AutoCommit)| {
        let mut doc = automerge::AutoCommit::load(&case.automerge().save()).unwrap();
        edit(&mut doc);
        schema::validate(doc.document()).expect_err("refused")
    };
    let v = broken(&|d| d.put(&client, "nickname", "x").unwrap());
    assert_eq!(
        (v.path.as_str(), v.reason.as_str()),
        ("client/nickname", "unknown field")
    );
    let v = broken(&|d| d.delete(&ROOT, "visits").unwrap());
    assert_eq!(
        (v.path.as_str(), v.reason.as_str()),
        ("visits", "missing container")
    );
    let v = broken(&|d| d.put(&ROOT, "visits", "none").unwrap());
    assert_eq!(v.path, "visits");
    let v = broken(&|d| d.put(&client, "name", 7).unwrap());
    assert_eq!(v.path, "client/name");
    let v = broken(&|d| {
        d.insert_object(&visits, 0, ObjType::Map).unwrap();
    });
    assert_eq!(v.path, "visits/0");
    let v = broken(&|d| {
        let entry = d.insert_object(&visits, 0, ObjType::Map).unwrap();
        d.put(&entry, "id", "v1").unwrap();
        d.put(&entry, "mood", "fine").unwrap();
    });
    assert_eq!(
        (v.path.as_str(), v.reason.as_str()),
        ("visits/0/mood", "unknown field")
    );
}
