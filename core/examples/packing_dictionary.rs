//! Writes a preset dictionary for [`fieldcase_core::packing`] to standard output: the
//! uncompressed saves of synthetic cases (no person's data), so that a stored case's field
//! names, codes and structure are found in it.
//!
//! `cargo run -p fieldcase-core --example packing_dictionary > core/src/packing/dictionary-N.bin`
//!
//! A dictionary, once cases were stored with it, never changes: a new one is a new
//! version beside it (`packing::Dictionary`), and every earlier one stays.

use std::io::Write;

use automerge::ActorId;
use fieldcase_core::case::{
    ActivityInput, AssessmentInput, IntakeDecision, IntakeDecisionInput, IntakeInput, ProblemInput,
    VisitInput,
};
use fieldcase_core::{Author, CaseDoc, CaseId, NewCase, Role, Stage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let worker = Author::new("worker", "worker", Role::Worker, &"0".repeat(32));
    let t = 1_800_000_000_000;
    let new = |name: &str| {
        let mut n = NewCase {
            team: "team".into(),
            ..Default::default()
        };
        n.client.name = Some(name.into());
        n.intake = Some(IntakeInput {
            date: Some("2026-01-01".into()),
            reason: Some("reason".into()),
            ..Default::default()
        });
        n
    };
    // A case worked through assessment into a plan waiting for approval.
    let mut worked = CaseDoc::create(CaseId::random(), ActorId::random(), &worker, new("a b"), t)?;
    worked.decide_intake(
        &worker,
        t + 1,
        IntakeDecisionInput {
            decision: Some(IntakeDecision::Accepted),
            ..Default::default()
        },
    )?;
    worked.add_assessment(
        &worker,
        t + 2,
        AssessmentInput {
            date: Some("2026-01-02".into()),
            ..Default::default()
        },
    )?;
    worked.add_visit(
        &worker,
        t + 3,
        VisitInput {
            date: Some("2026-01-03".into()),
            kind: Some("home".into()),
            note: Some("note".into()),
            ..Default::default()
        },
    )?;
    worked.change_stage(&worker, t + 4, Stage::Planning)?;
    let problem = worked.add_problem(
        &worker,
        t + 5,
        ProblemInput {
            priority: Some(1),
            domain: Some("safety".into()),
            goal: Some("goal".into()),
            ..Default::default()
        },
    )?;
    worked.add_activity(
        &worker,
        t + 6,
        &problem,
        ActivityInput {
            description: Some("activity".into()),
            due_date: Some("2026-02-01".into()),
            ..Default::default()
        },
    )?;
    worked.set_next_review(&worker, t + 7, "2026-03-01")?;
    worked.request_plan_approval(&worker, t + 8)?;
    // A new case, as an intake on a phone makes it: most stored cases look like this one,
    // so it comes last (nearest to what is packed, the shortest distances).
    let fresh = CaseDoc::create(CaseId::random(), ActorId::random(), &worker, new("c d"), t)?;
    let mut out = worked.automerge().save_nocompress();
    out.extend(fresh.automerge().save_nocompress());
    std::io::stdout().write_all(&out)?;
    Ok(())
}
