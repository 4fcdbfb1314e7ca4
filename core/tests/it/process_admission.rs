//! The case process on what arrives from elsewhere (issue 15): a change that bypasses the
//! typed edits (a raw Automerge change, as a hostile or broken phone sends it) and breaks a
//! rule of the process is refused by `admission::admit` with `RefusalKind::Process`; each
//! change is judged on the case as its writer saw it, so a valid offline edit that merges
//! with someone else's concurrent edit is admitted.

use automerge::transaction::{Transactable, Transaction};
use automerge::ROOT;
use fieldcase_core::case::admission::{self, Prior, Writer};
use fieldcase_core::case::{
    AssessmentInput, CaseKind, ClosureInput, Finding, InformedHow, IntakeInput, RiskInput,
};
use fieldcase_core::{schema, Author, CaseDoc, CaseId, NewCase, Refusal, RefusalKind, Stage};

use crate::fixtures::*;

const TEAM: &str = "team-north";

fn case_of(kind: CaseKind, a: &Author) -> CaseDoc {
    let mut new = NewCase {
        team: TEAM.into(),
        case_kind: Some(kind),
        ..Default::default()
    };
    new.client.name = Some(NAMES[4].into());
    CaseDoc::create(CaseId::random(), automerge::ActorId::random(), a, new, T0).unwrap()
}

/// What the server's admission says of `after`, grown from `before`, sent by `a`.
pub(crate) fn admit_as(a: &Author, before: &CaseDoc, after: &CaseDoc) -> Result<(), Refusal> {
    let changes = after.automerge().get_changes(&before.heads());
    assert!(!changes.is_empty(), "nothing new");
    let assigned = before.read().unwrap().assigned;
    admission::admit(
        Writer {
            user_id: &a.user_id,
            role: a.role,
            team: Some(TEAM),
        },
        before.automerge(),
        Some(Prior {
            team: TEAM,
            assigned: &assigned,
            outline: None,
        }),
        before.id().unwrap(),
        after.automerge(),
        &changes,
    )
    .map(|_| ())
}

/// A copy of `case` with one raw change (no typed edit, no validation of the process).
pub(crate) fn raw(case: &CaseDoc, f: impl FnOnce(&mut Transaction<'_>)) -> CaseDoc {
    let mut r = replica(case);
    let mut tx = r.automerge_mut().transaction();
    f(&mut tx);
    tx.commit();
    r
}

fn set_stage(stage: &str) -> impl FnOnce(&mut Transaction<'_>) + '_ {
    move |tx| tx.put(ROOT, "stage", stage).unwrap()
}

pub(crate) fn refused_for_process(r: Result<(), Refusal>, why: &str) {
    let e = r.expect_err("refused");
    assert_eq!(e.kind, RefusalKind::Process, "{e}");
    assert!(e.message.contains(why), "{e}");
}

#[test]
fn a_stage_step_the_workflow_does_not_have_is_refused() {
    let a = worker(1);
    let case = case_of(CaseKind::Disability, &a);
    refused_for_process(
        admit_as(&a, &case, &raw(&case, set_stage("review"))),
        "no such step",
    );
    refused_for_process(
        admit_as(&a, &case, &raw(&case, set_stage("implementation"))),
        "no such step",
    );
    // Closed only by an approved closure, even for a supervisor.
    refused_for_process(
        admit_as(&supervisor(), &case, &raw(&case, set_stage("closed"))),
        "approves a closure request",
    );
    // The workflow's own step is admitted.
    admit_as(&a, &case, &raw(&case, set_stage("assessment"))).unwrap();
    // Implementation only once the plan is approved.
    let mut planning = case.clone();
    for to in [Stage::Assessment, Stage::Planning] {
        planning.change_stage(&a, T0, to).unwrap();
    }
    refused_for_process(
        admit_as(&a, &planning, &raw(&planning, set_stage("implementation"))),
        "approved the plan",
    );
}

#[test]
fn an_emergency_moved_on_from_intake_before_its_safety_is_secured_is_refused() {
    let a = worker(1);
    let mut case = case_of(CaseKind::ViolenceAgainstWomen, &a);
    case.record_intake(
        &a,
        T0,
        IntakeInput {
            emergency: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    refused_for_process(
        admit_as(&a, &case, &raw(&case, set_stage("assessment"))),
        "emergency",
    );
    case.secure_safety(&a, T0 + 1000, "Chị đã ở nhà tạm lánh")
        .unwrap();
    admit_as(&a, &case, &raw(&case, set_stage("assessment"))).unwrap();
}

#[test]
fn a_conclusion_about_abuse_on_a_case_of_another_kind_is_refused() {
    let a = worker(1);
    for (kind, admitted) in [
        (CaseKind::Disability, false),
        (CaseKind::Veteran, false),
        (CaseKind::ChildProtection, true),
    ] {
        let mut case = case_of(kind, &a);
        let id = case
            .add_assessment(
                &a,
                T0,
                AssessmentInput {
                    date: Some("2026-11-25".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        let list = schema::get_obj(case.automerge(), &ROOT, "assessments").unwrap();
        let (_, entry) = schema::find_entry(case.automerge(), &list, &id).unwrap();
        let risk = schema::get_obj(case.automerge(), &entry, "risk").unwrap();
        let after = raw(&case, |tx| {
            tx.put(&risk, "finding", "evidence_of_abuse").unwrap();
        });
        let r = admit_as(&a, &case, &after);
        if admitted {
            r.unwrap();
        } else {
            refused_for_process(r, "child-protection");
        }
        // The intake's preliminary conclusion, and an earlier version's risk code, alike.
        let intake = schema::get_obj(case.automerge(), &ROOT, "intake").unwrap();
        for (key, code) in [
            ("preliminary_finding", "insufficient_information"),
            ("preliminary_risk", "evidence_of_harm"),
        ] {
            let after = raw(&case, |tx| tx.put(&intake, key, code).unwrap());
            assert_eq!(
                admit_as(&a, &case, &after).is_ok(),
                admitted,
                "{kind:?} {key}"
            );
        }
    }
}

#[test]
fn a_closure_approved_before_the_family_is_told_is_refused() {
    let a = worker(1);
    let s = supervisor();
    let mut case = case_of(CaseKind::FamilyInDifficulty, &a);
    let closure = case
        .request_closure(
            &a,
            T0,
            ClosureInput {
                reason: Some("moved_away".into()),
                ..Default::default()
            },
        )
        .unwrap();
    // The typed edit refuses; so does admission of the same change made raw.
    assert!(case.approve_closure(&s, T0 + 1000, &closure, "").is_err());
    let approve = |case: &CaseDoc| {
        let list = schema::get_obj(case.automerge(), &ROOT, "closures").unwrap();
        let (_, entry) = schema::find_entry(case.automerge(), &list, &closure).unwrap();
        raw(case, |tx| {
            tx.put(&entry, "status", "approved").unwrap();
            tx.put(ROOT, "stage", "closed").unwrap();
        })
    };
    refused_for_process(admit_as(&s, &case, &approve(&case)), "was told");
    // The closure's status alone (the stage left as it is) is judged too.
    let list = schema::get_obj(case.automerge(), &ROOT, "closures").unwrap();
    let (_, entry) = schema::find_entry(case.automerge(), &list, &closure).unwrap();
    let status_only = raw(&case, |tx| tx.put(&entry, "status", "approved").unwrap());
    refused_for_process(admit_as(&s, &case, &status_only), "was told");
    case.record_informed(
        &a,
        T0 + 2000,
        &closure,
        fieldcase_core::case::InformedInput {
            informed: Some(true),
            informed_on: Some("2026-11-26".into()),
            informed_how: Some(InformedHow::Phone),
            informed_note: None,
        },
    )
    .unwrap();
    admit_as(&s, &case, &approve(&case)).unwrap();
}

/// Judged on the case as the writer saw it: Anna, offline, accepts an intake that is no
/// emergency and moves it to assessment; meanwhile Bảo flags the intake as an emergency.
/// On the merged case the emergency is open past intake, but Anna's change was valid
/// where she made it: admitted, after Bảo's is stored. A change that breaks the rule where
/// it was made is refused even when the merged result would not show it.
#[test]
fn each_change_is_judged_on_the_case_its_writer_saw() {
    let (anna, bao) = (worker(1), worker(2));
    let mut case = case_of(CaseKind::ChildProtection, &anna);
    case.assign(
        &supervisor(),
        T0,
        &[anna.user_id.clone(), bao.user_id.clone()],
        None,
    )
    .unwrap();
    let (mut on_annas, mut on_baos) = (replica(&case), replica(&case));
    on_annas
        .change_stage(&anna, T0 + 1000, Stage::Assessment)
        .unwrap();
    on_baos
        .record_intake(
            &bao,
            T0 + 1000,
            IntakeInput {
                emergency: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    admit_as(&bao, &case, &on_baos).unwrap();
    // The server holds Bảo's change; Anna's arrives.
    let mut merged = on_baos.clone();
    merged.merge(&mut on_annas.clone()).unwrap();
    assert_eq!(merged.stage(), Stage::Assessment);
    assert!(merged.read().unwrap().emergency_open());
    admit_as(&anna, &on_baos, &merged).unwrap();

    // The other way round: Anna moves on an emergency the server already knows about,
    // before its safety is secured; Bảo secured it meanwhile, so the merged case is fine,
    // but Anna's change was made on a case whose emergency was open.
    let mut emergency = case.clone();
    emergency
        .record_intake(
            &anna,
            T0 + 2000,
            IntakeInput {
                emergency: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    let annas = raw(&emergency, set_stage("assessment"));
    let mut secured = replica(&emergency);
    secured
        .secure_safety(&bao, T0 + 3000, "Cháu ở với bà ngoại")
        .unwrap();
    let mut merged = secured.clone();
    merged.merge(&mut annas.clone()).unwrap();
    assert!(!merged.read().unwrap().emergency_open());
    refused_for_process(admit_as(&anna, &secured, &merged), "emergency");
}

/// A conclusion recorded by a typed edit passes admission: the rules are the same.
#[test]
fn the_typed_edits_pass_the_same_rules() {
    let a = worker(1);
    let mut case = case_of(CaseKind::ChildProtection, &a);
    let before = case.clone();
    case.add_assessment(
        &a,
        T0,
        AssessmentInput {
            risk: Some(RiskInput {
                finding: Some(Finding::InsufficientInformation),
                next_step_due: Some("2026-12-10".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .unwrap();
    case.change_stage(&a, T0 + 1000, Stage::Assessment).unwrap();
    case.change_stage(&a, T0 + 2000, Stage::Planning).unwrap();
    admit_as(&a, &before, &case).unwrap();
}

/// What an earlier app recorded offline (on a case of schema revision 1, not upgraded) is
/// judged by that app's rules, so an upgraded phone hands it in: a risk code on a case of
/// no kind, an emergency moved on without "safety secured" (which revision 1 did not
/// have). The same changes on the upgraded case, as a revision-2 app would make them,
/// are refused. The workflow's steps hold for both.
#[test]
fn an_earlier_apps_offline_changes_are_judged_by_its_rules() {
    use fieldcase_core::case::upgrade;
    let old = crate::compat::revision_one_case("referral_declined");
    assert!(upgrade::lacks_revision(old.automerge(), 2));
    let (id, team) = (old.id().unwrap(), old.read().unwrap().team.unwrap());
    let assigned = old.read().unwrap().assigned;
    let admit = |before: &CaseDoc, after: &CaseDoc| {
        let changes = after.automerge().get_changes(&before.heads());
        admission::admit(
            Writer {
                user_id: "u-anyone",
                role: fieldcase_core::Role::Worker,
                team: Some(&team),
            },
            before.automerge(),
            Some(Prior {
                team: &team,
                assigned: &assigned,
                outline: None,
            }),
            id,
            after.automerge(),
            &changes,
        )
        .map(|_| ())
    };
    let intake = schema::get_obj(old.automerge(), &ROOT, "intake").unwrap();
    let old_ways = |case: &CaseDoc| {
        raw(case, |tx| {
            tx.put(&intake, "preliminary_risk", "evidence_of_harm")
                .unwrap();
            tx.put(&intake, "emergency", true).unwrap();
            tx.put(ROOT, "stage", "assessment").unwrap();
        })
    };
    admit(&old, &old_ways(&old)).unwrap();
    refused_for_process(admit(&old, &raw(&old, set_stage("review"))), "no such step");
    // Upgraded (by any edit of this version), the same change is refused.
    let mut upgraded = old.clone();
    upgraded
        .add_visit(&worker(1), T0, visit("Thăm nhà"))
        .unwrap();
    assert!(!upgrade::lacks_revision(upgraded.automerge(), 2));
    assert!(admit(&upgraded, &old_ways(&upgraded)).is_err());
}

/// Each kind of case has the assessment items the seeds name (`schema::KIND_ASSESSMENT_ITEMS`):
/// recorded by the typed edit on a case of that kind, refused on a case of another kind,
/// by the typed edit and by admission of a raw change alike.
#[test]
fn each_kind_of_case_records_its_own_assessment_items() {
    let a = worker(1);
    let mut legal = case_of(CaseKind::LegalAid, &a);
    let id = legal
        .add_assessment(
            &a,
            T0,
            AssessmentInput {
                legal_question: Some("Розмір щорічної грошової виплати учаснику АТО".into()),
                action_steps: Some("Подати заяву до управління соцзахисту".into()),
                expected_result: Some("Виплата в повному розмірі до 5 травня".into()),
                lawyer_needed: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    let file = legal.read().unwrap();
    let got = file.assessments.iter().find(|x| x.id == id).unwrap();
    assert_eq!(
        got.kind_items(),
        [
            "legal_question",
            "action_steps",
            "expected_result",
            "lawyer_needed"
        ]
    );
    assert_eq!(got.lawyer_needed, Some(false));

    let mut family = case_of(CaseKind::FamilyInDifficulty, &a);
    family
        .add_assessment(
            &a,
            T0,
            AssessmentInput {
                problems_to_work_on: Some("Задолженность за жильё, пропуски школы".into()),
                unrecognised_problems: Some("Отец не считает пропуски школы проблемой".into()),
                recommendations: Some("Школе: ежедневно сообщать о посещении".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let mut women = case_of(CaseKind::ViolenceAgainstWomen, &a);
    women
        .add_assessment(
            &a,
            T0,
            AssessmentInput {
                ready_to_talk: Some(false),
                ..Default::default()
            },
        )
        .unwrap();

    // Another kind's item is refused by the typed edit.
    for (kind, input) in [
        (
            CaseKind::Disability,
            AssessmentInput {
                legal_question: Some("?".into()),
                ..Default::default()
            },
        ),
        (
            CaseKind::LegalAid,
            AssessmentInput {
                ready_to_talk: Some(true),
                ..Default::default()
            },
        ),
    ] {
        let mut c = case_of(kind, &a);
        let e = c.add_assessment(&a, T0, input).unwrap_err();
        assert!(e.to_string().contains("another kind of case"), "{e}");
    }
    assert_eq!(
        CaseKind::Veteran.assessment_items(),
        &[] as &[&str],
        "the seeds name none of its own"
    );

    // A raw change writing another kind's item into an assessment is refused; the kind's
    // own item is admitted.
    let list = schema::get_obj(women.automerge(), &ROOT, "assessments").unwrap();
    let (_, entry) = schema::find_entry(
        women.automerge(),
        &list,
        &women.read().unwrap().assessments[0].id,
    )
    .unwrap();
    let foreign = raw(&women, |tx| {
        tx.put(&entry, "lawyer_needed", true).unwrap();
    });
    refused_for_process(admit_as(&a, &women, &foreign), "another kind");
    let own = raw(&women, |tx| {
        tx.put(&entry, "ready_to_talk", true).unwrap();
    });
    admit_as(&a, &women, &own).unwrap();
}

/// A new case arrives as its creation alone (an intake): judged on the document itself,
/// made on nothing, by the same rules as a change: created at a later stage is a step the
/// workflow does not have; created at intake is admitted.
#[test]
fn a_new_case_created_at_a_later_stage_is_refused() {
    use automerge::legacy::{Key, ObjectId, OpType};
    use automerge::ScalarValue;
    let a = worker(1);
    let case = case_of(CaseKind::Disability, &a);
    let created = case.automerge().get_changes(&[]);
    assert_eq!(created.len(), 1, "one creation change");
    let with_stage = |stage: &str| {
        let mut expanded = created[0].decode();
        let mut found = false;
        for op in &mut expanded.operations {
            if op.obj == ObjectId::Root && matches!(&op.key, Key::Map(k) if k == "stage") {
                op.action = OpType::Put(ScalarValue::Str(stage.into()));
                found = true;
            }
        }
        assert!(found, "the creation sets the stage");
        let change = automerge::Change::from(expanded);
        let mut doc = automerge::Automerge::new();
        doc.apply_changes([change.clone()]).unwrap();
        (doc, change)
    };
    let admit_new = |stage: &str| {
        let (doc, change) = with_stage(stage);
        admission::admit(
            Writer {
                user_id: &a.user_id,
                role: a.role,
                team: Some(TEAM),
            },
            &automerge::Automerge::new(),
            None,
            case.id().unwrap(),
            &doc,
            &[change],
        )
        .map(|_| ())
    };
    refused_for_process(admit_new("review"), "no such step");
    refused_for_process(admit_new("implementation"), "no such step");
    admit_new("intake").unwrap();
}
