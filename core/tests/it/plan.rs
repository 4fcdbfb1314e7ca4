//! Approved plans stay approved: approving fixes a version; later changes, made online or
//! merged from offline phones, are a draft that needs approval again, while the approved
//! version stays in force and intact; nobody changes an approved version, a hostile phone
//! included.

use automerge::transaction::Transactable;
use automerge::ReadDoc;
use fieldcase_core::case::admission::{admit, Prior, Writer};
use fieldcase_core::case::{
    ActivityInput, ActivityStatus, ApprovalStatus, PlanChangeKind, PlanDecisionInput, ProblemInput,
};
use fieldcase_core::refusal::RefusalKind;
use fieldcase_core::{CaseDoc, Error, Role, Stage};

use crate::fixtures::*;

/// A case in planning with one problem and one activity, approved by the supervisor.
fn approved_case() -> (CaseDoc, String, String) {
    let (a, s) = (worker(1), supervisor());
    let mut c = new_case(&a, NAMES[4]);
    c.change_stage(&a, T0, Stage::Assessment).unwrap();
    c.change_stage(&a, T0, Stage::Planning).unwrap();
    let p = c
        .add_problem(
            &a,
            T0,
            ProblemInput {
                priority: Some(1),
                domain: Some("education".into()),
                goal: Some("Đi học 4 ngày mỗi tuần".into()),
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
                description: Some("Gặp cô giáo chủ nhiệm".into()),
                due_date: Some("2026-12-10".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(
        c.read().unwrap().plan_status().draft,
        "nothing approved yet"
    );
    c.request_plan_approval(&a, T0).unwrap();
    c.approve_plan_version(
        &s,
        T0 + 1000,
        PlanDecisionInput {
            comment: Some("Đồng ý".into()),
            authority: Some("Ủy ban nhân dân xã".into()),
            decision_number: Some("12/QĐ-UBND".into()),
            decision_date: Some("2026-11-28".into()),
        },
    )
    .unwrap();
    c.change_stage(&a, T0 + 2000, Stage::Implementation)
        .unwrap();
    (c, p, act)
}

#[test]
fn approving_fixes_the_version_with_the_authoritys_decision() {
    let (c, p, _) = approved_case();
    let f = c.read().unwrap();
    let status = f.plan_status();
    assert_eq!(
        (status.approved_version, status.draft, status.approval),
        (Some(1), false, ApprovalStatus::Approved)
    );
    let v = f.approved_plan().unwrap();
    assert_eq!(v.decided_by.as_deref(), Some("u-super"));
    assert_eq!(v.decision_number.as_deref(), Some("12/QĐ-UBND"));
    assert_eq!(v.authority.as_deref(), Some("Ủy ban nhân dân xã"));
    let content: serde_json::Value = serde_json::from_str(v.content.as_deref().unwrap()).unwrap();
    assert_eq!(content["problems"][0]["id"], p.as_str());
    assert_eq!(content["problems"][0]["goal"], "Đi học 4 ngày mỗi tuần");
    assert!(f.plan_changes().is_empty());
    let mut c = c;
    assert!(
        matches!(
            c.approve_plan(&supervisor(), T0 + 3000, "again"),
            Err(Error::InvalidInput { .. })
        ),
        "the version in force is not approved twice"
    );
    assert!(c.request_plan_approval(&worker(1), T0 + 3000).is_err());
}

#[test]
fn progress_is_work_on_the_plan_not_a_new_version() {
    let (mut c, p, act) = approved_case();
    let a = worker(1);
    c.set_activity_status(&a, T0 + 3000, &p, &act, ActivityStatus::Done)
        .unwrap();
    c.update_problem(
        &a,
        T0 + 3000,
        &p,
        ProblemInput {
            status: Some("in_progress".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!c.read().unwrap().plan_status().draft);
}

#[test]
fn two_workers_change_an_approved_plan_offline_and_the_draft_holds_both() {
    let (c, p, act) = approved_case();
    let approved = c.read().unwrap().approved_plan().cloned().unwrap();
    let (a, b) = (worker(1), worker(2));
    let mut one = replica(&c);
    let mut two = replica(&c);
    // Apart: one changes the goal, the other adds an activity.
    one.update_problem(
        &a,
        T0 + 5000,
        &p,
        ProblemInput {
            goal: Some("Đi học 5 ngày mỗi tuần".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let added = two
        .add_activity(
            &b,
            T0 + 5000,
            &p,
            ActivityInput {
                description: Some("Đưa đón bằng xe đạp".into()),
                ..Default::default()
            },
        )
        .unwrap();
    one.merge(&mut two).unwrap();
    let f = one.read().unwrap();
    // The approved version is intact and still in force.
    assert_eq!(f.approved_plan(), Some(&approved));
    let status = f.plan_status();
    assert_eq!((status.approved_version, status.draft), (Some(1), true));
    assert_eq!(
        status.approval,
        ApprovalStatus::Approved,
        "in force while a draft waits"
    );
    // The draft holds both edits, and says what it changes.
    let changes = f.plan_changes();
    assert!(changes.iter().any(|ch| ch.kind == PlanChangeKind::Changed
        && ch.path == format!("plan/problems/{p}")
        && ch.field.as_deref() == Some("goal")
        && ch.after.as_deref() == Some("\"Đi học 5 ngày mỗi tuần\"")));
    assert!(changes.iter().any(|ch| ch.kind == PlanChangeKind::Added
        && ch.path == format!("plan/problems/{p}/activities/{added}")));
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(!changes.iter().any(|ch| ch.path.ends_with(&act)));
    // Work goes on in implementation; the draft is approved as version 2.
    assert_eq!(one.stage(), Stage::Implementation);
    one.request_plan_approval(&a, T0 + 6000).unwrap();
    assert_eq!(
        one.read().unwrap().plan_status().approved_version,
        Some(1),
        "version 1 stays in force while version 2 is asked for"
    );
    one.approve_plan(&supervisor(), T0 + 7000, "").unwrap();
    let f = one.read().unwrap();
    assert_eq!(f.plan.versions.len(), 2);
    assert_eq!(
        f.plan.versions[0], approved,
        "the first version is kept as it was"
    );
    assert_eq!(
        (f.plan_status().approved_version, f.plan_status().draft),
        (Some(2), false)
    );
}

#[test]
fn a_new_cycle_clears_the_old_decision() {
    let (mut c, _, _) = approved_case();
    let a = worker(1);
    c.change_stage(&a, T0 + 3000, Stage::Monitoring).unwrap();
    c.change_stage(&a, T0 + 3000, Stage::Review).unwrap();
    c.change_stage(&a, T0 + 4000, Stage::Planning).unwrap();
    let f = c.read().unwrap();
    let ap = &f.plan.approval;
    assert_eq!(ap.status, Some(ApprovalStatus::None));
    assert_eq!(
        (
            &ap.decided_by,
            &ap.decided_at,
            &ap.comment,
            &ap.requested_by
        ),
        (&None, &None, &None, &None),
        "no earlier decider or comment reads as if about the new plan"
    );
    assert_eq!(f.plan.versions.len(), 1, "the earlier version stays");
    assert!(c
        .change_stage(&a, T0 + 5000, Stage::Implementation)
        .is_err());
    c.request_plan_approval(&a, T0 + 5000).unwrap();
    c.approve_plan(&supervisor(), T0 + 6000, "").unwrap();
    c.change_stage(&a, T0 + 7000, Stage::Implementation)
        .unwrap();
}

#[test]
fn nobody_changes_an_approved_version_and_only_a_supervisor_adds_one() {
    let (c, _, _) = approved_case();
    let id = c.id().unwrap();
    let before = c.automerge().clone();
    let assigned = c.read().unwrap().assigned;
    let prior = Prior {
        team: "team-north",
        assigned: &assigned,
        outline: None,
    };
    let tamper = |who: &str, role: Role| {
        let mut doc = before.clone();
        doc.set_actor(automerge::ActorId::random());
        let versions = doc
            .get(
                doc.get(automerge::ROOT, "plan").unwrap().unwrap().1,
                "versions",
            )
            .unwrap()
            .unwrap()
            .1;
        let v = doc.get(&versions, 0).unwrap().unwrap().1;
        let mut tx = doc.transaction();
        tx.put(&v, "content", "{\"problems\":[]}").unwrap();
        tx.commit();
        let changes = doc.get_changes(&before.get_heads());
        let writer = Writer {
            user_id: who,
            role,
            team: Some("team-north"),
        };
        admit(writer, &before, Some(prior), id, &doc, &changes)
    };
    for (who, role) in [("u-worker-1", Role::Worker), ("u-super", Role::Supervisor)] {
        let refusal = tamper(who, role).unwrap_err();
        assert_eq!(
            refusal.kind,
            RefusalKind::NeedsAuthority,
            "{who}: {refusal}"
        );
    }
    // A worker's phone that approves its own plan by writing a version is refused.
    let mut doc = CaseDoc::load(&before.save()).unwrap();
    doc.set_actor(automerge::ActorId::random());
    let a = worker(1);
    doc.update_problem(
        &a,
        T0 + 9000,
        &c.read().unwrap().plan.problems[0].id,
        ProblemInput {
            goal: Some("Mục tiêu mới".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let self_approved =
        fieldcase_core::Author::new("u-worker-1", "Worker 1", Role::Supervisor, "phone-1");
    doc.approve_plan(&self_approved, T0 + 9000, "").unwrap();
    let changes = doc.automerge().get_changes(&before.get_heads());
    let writer = Writer {
        user_id: "u-worker-1",
        role: Role::Worker,
        team: Some("team-north"),
    };
    let refusal = admit(writer, &before, Some(prior), id, doc.automerge(), &changes).unwrap_err();
    assert_eq!(refusal.kind, RefusalKind::NeedsAuthority, "{refusal}");
}

#[test]
fn an_authoritys_decision_that_comes_later_is_added_once_by_a_supervisor() {
    let (a, s) = (worker(1), supervisor());
    let mut c = new_case(&a, NAMES[2]);
    c.change_stage(&a, T0, Stage::Assessment).unwrap();
    c.change_stage(&a, T0, Stage::Planning).unwrap();
    c.add_problem(
        &a,
        T0,
        ProblemInput {
            goal: Some("Жильё до зимы".into()),
            ..Default::default()
        },
    )
    .unwrap();
    c.approve_plan(&s, T0 + 1000, "").unwrap();
    let version = c.read().unwrap().approved_plan().unwrap().clone();
    let decision = PlanDecisionInput {
        authority: Some("Комиссия по делам несовершеннолетних".into()),
        decision_number: Some("7-р".into()),
        decision_date: Some("2026-12-01".into()),
        comment: None,
    };
    assert!(matches!(
        c.record_plan_decision(&a, T0 + 2000, &version.id, decision.clone()),
        Err(Error::Unauthorized(_))
    ));
    let before = c.automerge().clone();
    let mut later = CaseDoc::load(&before.save()).unwrap();
    later.set_actor(automerge::ActorId::random());
    later
        .record_plan_decision(&s, T0 + 3000, &version.id, decision.clone())
        .unwrap();
    let f = later.read().unwrap();
    let v = f.approved_plan().unwrap();
    assert_eq!(v.decision_number.as_deref(), Some("7-р"));
    assert_eq!(
        (v.content.clone(), v.decided_by.clone()),
        (version.content.clone(), version.decided_by.clone())
    );
    assert!(
        matches!(
            later.record_plan_decision(&s, T0 + 4000, &version.id, decision.clone()),
            Err(Error::InvalidInput { .. })
        ),
        "written once"
    );
    // The server admits the supervisor's addition, and refuses a worker's.
    let id = c.id().unwrap();
    let assigned = f.assigned.clone();
    let prior = Prior {
        team: "team-north",
        assigned: &assigned,
        outline: None,
    };
    let changes = later.automerge().get_changes(&before.get_heads());
    let as_ = |user_id, role| Writer {
        user_id,
        role,
        team: Some("team-north"),
    };
    admit(
        as_("u-super", Role::Supervisor),
        &before,
        Some(prior),
        id,
        later.automerge(),
        &changes,
    )
    .unwrap();
    let mut forged = CaseDoc::load(&before.save()).unwrap();
    forged.set_actor(automerge::ActorId::random());
    let worker_as_supervisor =
        fieldcase_core::Author::new("u-worker-1", "Worker 1", Role::Supervisor, "phone-1");
    forged
        .record_plan_decision(&worker_as_supervisor, T0 + 3000, &version.id, decision)
        .unwrap();
    let changes = forged.automerge().get_changes(&before.get_heads());
    let refusal = admit(
        as_("u-worker-1", Role::Worker),
        &before,
        Some(prior),
        id,
        forged.automerge(),
        &changes,
    )
    .unwrap_err();
    assert_eq!(refusal.kind, RefusalKind::NeedsAuthority, "{refusal}");
}
