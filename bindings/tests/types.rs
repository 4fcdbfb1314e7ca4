//! Every record the bindings return mirrors the core's field for field: a case file with
//! every section filled, its summary, conflicts, history and a sync report read through the
//! bindings serialize exactly as the core's own values do. A field added to the core and
//! not to `src/types.rs` fails here.

use std::collections::BTreeMap;

use fieldcase_bindings as b;
use fieldcase_core::case::*;
use fieldcase_core::store::{CaseFilter, UserContext};
use fieldcase_core::{CaseStore, NewCase, Role, Stage};
use serde_json::{json, Value};

const KEY: [u8; 32] = [5; 32];

fn user() -> UserContext {
    UserContext {
        user_id: "u-1".into(),
        name: "Worker".into(),
        role: Role::Supervisor,
        device_id: "phone-1".into(),
    }
}

/// A case with every section filled, made through the core.
fn rich_case(store: &CaseStore) -> fieldcase_core::CaseId {
    let mut new = NewCase {
        team: "north".into(),
        priority: Some("high".into()),
        ..Default::default()
    };
    new.client = ClientInput {
        kind: Some("person".into()),
        name: Some("زهرا احمدی".into()),
        name_latin: Some("Zahra Ahmadi".into()),
        date_of_birth: Some("2014-03-02".into()),
        birth_date_approximate: Some(true),
        gender: Some("female".into()),
        languages: Some(vec!["fa".into()]),
        address: Some("تهران".into()),
        vulnerabilities: Some(vec!["disability".into()]),
        notes: Some("یادداشت".into()),
    };
    new.intake = Some(IntakeInput {
        date: Some("2026-11-01".into()),
        source: Some("school".into()),
        reporter_name: Some("Teacher".into()),
        reason: Some("Absent from school".into()),
        presenting_problems: Some(vec!["education".into()]),
        urgency: Some("urgent".into()),
        emergency: Some(false),
        criteria: Some(CriteriaInput {
            multiple_problems: Some(true),
            basic_needs_met: Some(false),
            cannot_access_alone: Some(true),
            note: Some("n".into()),
        }),
        safety_measures: Some("none needed".into()),
        preliminary_risk: Some(RiskLevel::Concern),
        ..Default::default()
    });
    let id = store.create_case(new).unwrap();
    store
        .update(&id, |c, a, now| {
            c.add_contact(
                a,
                now,
                ContactInput {
                    kind: Some("phone".into()),
                    value: Some("+98 21 555".into()),
                    safe_to_contact: Some(false),
                    ..Default::default()
                },
            )?;
            c.add_household_member(
                a,
                now,
                HouseholdMemberInput {
                    name: Some("Ali".into()),
                    relationship: Some("brother".into()),
                    lives_with_client: Some(true),
                    ..Default::default()
                },
            )?;
            c.record_consent(
                a,
                now,
                ConsentInput {
                    topic: Some("information_sharing".into()),
                    granted: Some(true),
                    date: Some("2026-11-02".into()),
                    ..Default::default()
                },
            )?;
            c.change_stage(a, now, Stage::Assessment)?;
            let mut domains = BTreeMap::new();
            domains.insert(
                "education".to_string(),
                DomainInput {
                    rating: Some(2),
                    needs: Some("tutoring".into()),
                    strengths: Some("motivated".into()),
                },
            );
            c.add_assessment(
                a,
                now,
                AssessmentInput {
                    date: Some("2026-11-03".into()),
                    domains: Some(domains),
                    risk: Some(RiskInput {
                        level: Some(RiskLevel::Concern),
                        emergency: Some(false),
                        conclusion: Some("monitor".into()),
                    }),
                    summary: Some("summary".into()),
                    ..Default::default()
                },
            )?;
            c.change_stage(a, now, Stage::Planning)?;
            let p = c.add_problem(
                a,
                now,
                ProblemInput {
                    priority: Some(1),
                    domain: Some("education".into()),
                    description: Some("Misses school".into()),
                    goal: Some("Attends 4 days a week".into()),
                    ..Default::default()
                },
            )?;
            c.add_activity(
                a,
                now,
                &p,
                ActivityInput {
                    description: Some("Tutoring".into()),
                    responsible: Some(ResponsibleInput {
                        kind: Some("partner".into()),
                        organisation: Some("NGO".into()),
                        ..Default::default()
                    }),
                    status: Some(ActivityStatus::Planned),
                    ..Default::default()
                },
            )?;
            c.set_next_review(a, now, "2026-12-01")?;
            c.record_family_agreement(
                a,
                now,
                AgreementInput {
                    agreed: Some(true),
                    ..Default::default()
                },
            )?;
            c.request_plan_approval(a, now)?;
            c.approve_plan(a, now, "ok")?;
            c.add_referral(
                a,
                now,
                ReferralInput {
                    organisation: Some("Clinic".into()),
                    status: Some(ReferralStatus::Declined),
                    status_reason: Some("full".into()),
                    ..Default::default()
                },
            )?;
            let v = c.add_visit(
                a,
                now,
                VisitInput {
                    date: Some("2026-11-05".into()),
                    kind: Some("home".into()),
                    participants: Some(vec!["mother".into()]),
                    duration_minutes: Some(45),
                    note: Some("بازدید".into()),
                    ..Default::default()
                },
            )?;
            c.add_follow_up(
                a,
                now,
                &v,
                FollowUpInput {
                    text: Some("call".into()),
                    due_date: Some("2026-11-09".into()),
                    done: Some(false),
                },
            )?;
            c.add_appointment(
                a,
                now,
                AppointmentInput {
                    at: Some("2026-11-10T09:00:00Z".into()),
                    status: Some(AppointmentStatus::Planned),
                    attendance_needs: Some("transport".into()),
                    ..Default::default()
                },
            )?;
            c.change_stage(a, now, Stage::Implementation)?;
            c.change_stage(a, now, Stage::Monitoring)?;
            c.change_stage(a, now, Stage::Review)?;
            c.add_review(
                a,
                now,
                ReviewInput {
                    date: Some("2026-12-01".into()),
                    progress: Some(vec![ProgressInput {
                        problem_id: Some(p.clone()),
                        status: Some("achieved".into()),
                        note: None,
                    }]),
                    satisfaction: Some(4),
                    decision: Some("close".into()),
                    ..Default::default()
                },
            )?;
            c.request_closure(
                a,
                now,
                ClosureInput {
                    reason: Some("goals_achieved".into()),
                    outcome: Some("attends school".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    id
}

fn same(core: Value, mirror: Value, what: &str) {
    assert_eq!(mirror, core, "{what}: the mirror differs from the core");
}

#[test]
fn every_record_mirrors_the_core_field_for_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    let store = CaseStore::open(&path, &KEY).unwrap();
    store.sign_in(user()).unwrap();
    let id = rich_case(&store);
    // A concurrent edit, for a conflict.
    let mut other = fieldcase_core::CaseDoc::load(&store.export_case(&id).unwrap()).unwrap();
    other.set_actor(automerge::ActorId::random());
    let a2 = fieldcase_core::Author::new("u-2", "Other", Role::Worker, "phone-2");
    other
        .set_field(&a2, 1, "client/address", &json!("Shiraz"))
        .unwrap();
    store
        .update(&id, |c, a, now| {
            c.set_field(a, now, "client/address", &json!("Isfahan"))
        })
        .unwrap();
    store.import_case(&other.automerge().save()).unwrap();

    let core_file = serde_json::to_value(store.get_case(&id).unwrap()).unwrap();
    let core_list = serde_json::to_value(store.list_cases(&CaseFilter::default())).unwrap();
    let core_conflicts = serde_json::to_value(store.conflicts(&id).unwrap()).unwrap();
    let core_history = serde_json::to_value(store.history(&id, "client/address").unwrap()).unwrap();
    assert_eq!(core_conflicts.as_array().unwrap().len(), 1);
    drop(store);

    let bound = b::CaseStore::open(path.to_string_lossy().into(), KEY.to_vec()).unwrap();
    let sid = id.to_string();
    same(
        core_file,
        serde_json::to_value(bound.get_case(sid.clone()).unwrap()).unwrap(),
        "case file",
    );
    let mut list =
        serde_json::to_value(bound.list_cases(b::CaseFilter::default()).unwrap()).unwrap();
    // The core keeps its search key to itself.
    let mut core_list = core_list;
    for v in core_list.as_array_mut().unwrap() {
        v.as_object_mut().unwrap().remove("search_key");
    }
    for v in list.as_array_mut().unwrap() {
        v.as_object_mut().unwrap().remove("search_key");
    }
    same(core_list, list, "case summaries");
    same(
        core_conflicts,
        serde_json::to_value(bound.conflicts(sid.clone()).unwrap()).unwrap(),
        "conflicts",
    );
    same(
        core_history,
        serde_json::to_value(bound.history(sid, "client/address".into()).unwrap()).unwrap(),
        "history",
    );
    // The report of a sync that could not reach a server.
    let report = fieldcase_core::sync::SyncReport {
        sent: 1,
        received: 2,
        new_cases: 3,
        new_conflicts: 4,
        unchanged: 5,
        held_back: 6,
        removed: 7,
        errors: vec![fieldcase_core::sync::CaseSyncError {
            case_id: "x".into(),
            reason: "y".into(),
        }],
    };
    let mirrored: b::SyncReport =
        serde_json::from_value(serde_json::to_value(&report).unwrap()).unwrap();
    same(
        serde_json::to_value(&report).unwrap(),
        serde_json::to_value(mirrored).unwrap(),
        "sync report",
    );
}
