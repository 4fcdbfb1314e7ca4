//! The stage machine: every invalid transition refused, authority steps, reopening.

use fieldcase_core::case::{ClosureInput, InformedHow, InformedInput, ProblemInput};
use fieldcase_core::{Error, Stage};

use crate::fixtures::*;

#[test]
fn every_invalid_transition_is_refused() {
    let a = worker(1);
    for from in Stage::ALL {
        for to in Stage::ALL {
            if from.can_move_to(to)
                && to != Stage::Closed
                && to != Stage::Intake
                && to != Stage::Implementation
            {
                continue;
            }
            let mut c = new_case(&a, NAMES[0]);
            force_stage(&mut c, from);
            let heads = c.heads();
            let err = c.change_stage(&a, T0, to).unwrap_err();
            assert!(
                matches!(err, Error::InvalidTransition { .. }),
                "{from} -> {to}: {err}"
            );
            assert_eq!(c.stage(), from);
            assert_eq!(c.heads(), heads);
        }
    }
}

/// Walks a case to `stage` through the allowed steps (approving the plan on the way).
pub fn force_stage(c: &mut fieldcase_core::CaseDoc, stage: Stage) {
    let a = worker(1);
    let s = supervisor();
    let path = [
        Stage::Assessment,
        Stage::Planning,
        Stage::Implementation,
        Stage::Monitoring,
        Stage::Review,
    ];
    if stage == Stage::Intake {
        return;
    }
    for step in path {
        if step == Stage::Implementation {
            c.add_problem(
                &a,
                T0,
                ProblemInput {
                    goal: Some("goal".into()),
                    ..Default::default()
                },
            )
            .unwrap();
            c.request_plan_approval(&a, T0).unwrap();
            c.approve_plan(&s, T0, "").unwrap();
        }
        c.change_stage(&a, T0, step).unwrap();
        if step == stage {
            return;
        }
    }
    let id = c
        .request_closure(
            &a,
            T0,
            ClosureInput {
                reason: Some("goals_achieved".into()),
                ..informed()
            },
        )
        .unwrap();
    c.approve_closure(&s, T0, &id, "").unwrap();
    assert_eq!(c.stage(), Stage::Closed);
}

/// A closure request saying the family was told at a home visit.
pub fn informed() -> ClosureInput {
    ClosureInput {
        informed: Some(true),
        informed_on: Some("2026-11-30".into()),
        informed_how: Some(InformedHow::HomeVisit),
        ..Default::default()
    }
}

#[test]
fn implementation_needs_an_approved_plan_and_approval_needs_a_supervisor() {
    let (a, s) = (worker(1), supervisor());
    let mut c = new_case(&a, NAMES[1]);
    force_stage(&mut c, Stage::Planning);
    assert!(matches!(
        c.change_stage(&a, T0, Stage::Implementation),
        Err(Error::InvalidTransition { .. })
    ));
    assert!(
        c.request_plan_approval(&a, T0).is_err(),
        "an empty plan cannot be submitted"
    );
    c.add_problem(
        &a,
        T0,
        ProblemInput {
            goal: Some("Đi học đều".into()),
            ..Default::default()
        },
    )
    .unwrap();
    c.request_plan_approval(&a, T0).unwrap();
    assert!(matches!(
        c.approve_plan(&a, T0, "self-approval"),
        Err(Error::Unauthorized(_))
    ));
    assert!(matches!(
        c.change_stage(&a, T0, Stage::Implementation),
        Err(Error::InvalidTransition { .. })
    ));
    c.return_plan(&s, T0, "add a timeline").unwrap();
    assert!(c.change_stage(&a, T0, Stage::Implementation).is_err());
    c.approve_plan(&s, T0, "good").unwrap();
    c.change_stage(&a, T0, Stage::Implementation).unwrap();
    let f = c.read().unwrap();
    assert_eq!(f.plan.approval.decided_by.as_deref(), Some("u-super"));
}

#[test]
fn closing_at_any_open_stage_needs_a_reason_the_family_told_and_a_supervisor() {
    let (a, s) = (worker(1), supervisor());
    let mut c = new_case(&a, NAMES[2]);
    force_stage(&mut c, Stage::Monitoring);
    let bare = ClosureInput {
        reason: Some("moved_away".into()),
        outcome: Some("Семья переехала в другую область".into()),
        ..Default::default()
    };
    assert!(
        c.request_closure(&a, T0, ClosureInput::default()).is_err(),
        "a closure needs a reason"
    );
    let told_without_when = ClosureInput {
        informed: Some(true),
        ..bare.clone()
    };
    assert!(matches!(
        c.request_closure(&a, T0, told_without_when),
        Err(Error::InvalidInput { .. })
    ));
    // Mid-plan, without a review: the client moved away.
    let id = c.request_closure(&a, T0, bare.clone()).unwrap();
    assert!(
        c.request_closure(&a, T0, bare.clone()).is_err(),
        "one request waits at a time"
    );
    assert!(matches!(
        c.approve_closure(&a, T0, &id, ""),
        Err(Error::Unauthorized(_))
    ));
    let heads = c.heads();
    assert!(
        matches!(
            c.approve_closure(&s, T0, &id, ""),
            Err(Error::InvalidInput { .. })
        ),
        "the supervisor needs to know the family was told"
    );
    assert_eq!(c.heads(), heads);
    assert!(c
        .record_informed(
            &a,
            T0,
            &id,
            InformedInput {
                informed: Some(false),
                ..Default::default()
            }
        )
        .is_err());
    c.record_informed(
        &a,
        T0,
        &id,
        InformedInput {
            informed: Some(true),
            informed_on: Some("2026-11-29".into()),
            informed_how: Some(InformedHow::Phone),
            informed_note: None,
        },
    )
    .unwrap();
    assert_eq!(c.stage(), Stage::Monitoring);
    c.approve_closure(&s, T0, &id, "well done").unwrap();
    assert_eq!(c.stage(), Stage::Closed);
    let f = c.read().unwrap();
    assert_eq!(f.closures[0].stage_at_request, Some(Stage::Monitoring));
    assert_eq!(f.closures[0].informed_how, Some(InformedHow::Phone));
    assert!(c.approve_closure(&s, T0, &id, "twice").is_err());
    assert!(
        c.change_stage(&a, T0, Stage::Intake).is_err(),
        "reopen needs its action"
    );
    assert!(c.reopen(&a, T0, " ").is_err(), "reopen needs a reason");
    c.reopen(&a, T0 + 86_400_000, "new report from school")
        .unwrap();
    assert_eq!(c.stage(), Stage::Intake);
    let f = c.read().unwrap();
    assert_eq!(f.closures.len(), 1);
    assert_eq!(f.closures[0].outcome, "Семья переехала в другую область");
    assert_eq!(
        f.closures[0].reopen_reason.as_deref(),
        Some("new report from school")
    );
    assert!(f.current_closure().is_none());
    // A second cycle adds a second closure; the first is still there.
    force_stage(&mut c, Stage::Closed);
    let f = c.read().unwrap();
    assert_eq!(f.closures.len(), 2);
    assert_eq!(f.current_closure().unwrap().id, f.closures[1].id);
    // Returned closures leave the case open where it was.
    let mut d = new_case(&a, NAMES[3]);
    force_stage(&mut d, Stage::Assessment);
    let id = d.request_closure(&a, T0, informed_closure()).unwrap();
    d.return_closure(&s, T0, &id, "risk remains").unwrap();
    assert_eq!(d.stage(), Stage::Assessment);
    assert!(
        d.approve_closure(&s, T0, &id, "").is_err(),
        "a returned request is decided"
    );
    // A closed case is not closed again.
    let mut e = new_case(&a, NAMES[4]);
    force_stage(&mut e, Stage::Closed);
    assert!(matches!(
        e.request_closure(&a, T0, informed_closure()),
        Err(Error::InvalidTransition { .. })
    ));
}

fn informed_closure() -> ClosureInput {
    ClosureInput {
        reason: Some("transferred".into()),
        ..informed()
    }
}

#[test]
fn a_new_plan_after_review_needs_a_new_approval() {
    let (a, s) = (worker(1), supervisor());
    let mut c = new_case(&a, NAMES[4]);
    force_stage(&mut c, Stage::Review);
    c.change_stage(&a, T0, Stage::Planning).unwrap();
    assert!(
        matches!(
            c.change_stage(&a, T0, Stage::Implementation),
            Err(Error::InvalidTransition { .. })
        ),
        "the old approval does not carry over"
    );
    c.request_plan_approval(&a, T0).unwrap();
    c.approve_plan(&s, T0, "").unwrap();
    c.change_stage(&a, T0, Stage::Implementation).unwrap();
}

#[test]
fn closures_cannot_be_retracted_by_any_spelling_of_their_path() {
    let (a, s) = (worker(1), supervisor());
    let mut c = new_case(&a, NAMES[3]);
    force_stage(&mut c, Stage::Review);
    let id = c
        .request_closure(
            &a,
            T0,
            ClosureInput {
                reason: Some("goals_achieved".into()),
                ..informed()
            },
        )
        .unwrap();
    c.approve_closure(&s, T0, &id, "").unwrap();
    for path in [
        format!("closures/{id}"),
        format!("/closures/{id}"),
        format!("closures//{id}"),
    ] {
        assert!(c.retract(&a, T0, &path, "oops").is_err(), "{path}");
    }
    assert!(c.read().unwrap().current_closure().is_some());
}
