//! Writes the preset dictionary of what storage keeps beside each case
//! (`fieldcase_core::packing::Dictionary::Facts`) to standard output: the facts of
//! synthetic cases (no person's data), as storage writes them, so that their field names,
//! codes and structure are found in it.
//!
//! `cargo run -p fieldcase-server --example facts_dictionary > core/src/packing/facts-1.bin`
//!
//! A dictionary, once records were stored with it, never changes: a new one is a new
//! version beside it, and every earlier one stays.

use std::io::Write;

use automerge::ActorId;
use fieldcase_core::case::{ClientInput, IntakeInput, VisitInput};
use fieldcase_core::{Author, CaseDoc, CaseId, NewCase, Role};
use fieldcase_server::db::cases::kept_json;
use fieldcase_server::db::CaseAccess;

/// The record storage keeps for `doc`, before it is packed and sealed.
fn kept(doc: &CaseDoc) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let a = CaseAccess::read(doc.id()?, doc.automerge())?;
    Ok(kept_json(a.matching.as_ref(), a.listing.as_ref()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let worker = Author::new("worker", "worker", Role::Worker, &"0".repeat(32));
    let t = 1_800_000_000_000;
    let new = |client: ClientInput| {
        let mut n = NewCase {
            team: "team".into(),
            client,
            ..Default::default()
        };
        n.intake = Some(IntakeInput {
            date: Some("2026-01-01".into()),
            reason: Some("reason".into()),
            ..Default::default()
        });
        n
    };
    // A client with a date of birth, a sex and a visit.
    let mut detailed = CaseDoc::create(
        CaseId::random(),
        ActorId::random(),
        &worker,
        new(ClientInput {
            name: Some("a b".into()),
            name_latin: Some("a b".into()),
            date_of_birth: Some("1990-01-01".into()),
            gender: Some("female".into()),
            ..Default::default()
        }),
        t,
    )?;
    detailed.add_visit(
        &worker,
        t + 1,
        VisitInput {
            date: Some("2026-01-02".into()),
            kind: Some("home".into()),
            ..Default::default()
        },
    )?;
    // A new case, as an intake on a phone makes it: most stored cases look like this one,
    // so it comes last (nearest to what is packed, the shortest distances).
    let fresh = CaseDoc::create(
        CaseId::random(),
        ActorId::random(),
        &worker,
        new(ClientInput {
            name: Some("c d".into()),
            ..Default::default()
        }),
        t,
    )?;
    let mut out = kept(&detailed)?;
    out.extend(kept(&fresh)?);
    std::io::stdout().write_all(&out)?;
    Ok(())
}
