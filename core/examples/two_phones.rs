//! Two phones, one case, no network: what fieldcase promises when two social workers edit
//! the same case file apart.
//!
//! `cargo run -p fieldcase-core --example two_phones`
//!
//! Phone A records an intake during a home visit and hands the case to phone B (here by
//! exchanging the document; the sync server arrives with issue 3). Both then edit apart:
//! different fields, the same narrative text, the same scalar field, and a visit each.
//! After exchanging again, both encrypted stores hold the same case; every edit is there;
//! the one real disagreement is listed with who said what and when.

use std::error::Error;

use fieldcase_core::case::{CaseKind, ClientInput, Finding, IntakeInput, VisitInput};
use fieldcase_core::store::UserContext;
use fieldcase_core::{CaseStore, NewCase, Role};
use serde_json::json;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let phone_a = CaseStore::open(dir.path().join("phone-a.sqlite"), &[0xA1; 32])?;
    let phone_b = CaseStore::open(dir.path().join("phone-b.sqlite"), &[0xB2; 32])?;
    phone_a.sign_in(UserContext {
        user_id: "u-anna".into(),
        name: "Anna Petrenko".into(),
        role: Role::Worker,
        team: None,
        device_id: "phone-a".into(),
    })?;
    phone_b.sign_in(UserContext {
        user_id: "u-bao".into(),
        name: "Lê Văn Bảo".into(),
        role: Role::Worker,
        team: None,
        device_id: "phone-b".into(),
    })?;

    // Phone A, during a home visit, offline: intake.
    let mut new = NewCase {
        team: "team-north".into(),
        case_kind: Some(CaseKind::ChildProtection),
        ..Default::default()
    };
    new.client = ClientInput {
        kind: Some("family".into()),
        name: Some("Nguyễn Thị Lan".into()),
        languages: Some(vec!["vi".into()]),
        ..Default::default()
    };
    new.intake = Some(IntakeInput {
        date: Some("2026-11-20".into()),
        source: Some("school".into()),
        reason: Some("Nhà trường báo cáo: hai cháu nghỉ học nhiều ngày.".into()),
        preliminary_finding: Some(Finding::InsufficientInformation),
        ..Default::default()
    });
    let id = phone_a.create_case(new)?;
    println!("Phone A opened case {id} (intake during a home visit, offline).");

    // Back at the office: phone B receives the case.
    phone_b.import_case(&phone_a.export_case(&id)?)?;
    println!("Phone B received the case.\n");

    // Apart again. Phone A: address, a visit, an addition at the end of the intake reason.
    phone_a.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("12 Lê Lợi, Huế"))?;
        c.add_visit(
            me,
            now,
            VisitInput {
                date: Some("2026-11-21".into()),
                kind: Some("home".into()),
                note: Some("Bà ngoại đang chăm sóc hai cháu.".into()),
                ..Default::default()
            },
        )?;
        let len = c.read()?.intake.reason.chars().count();
        c.edit_text(me, now, "intake/reason", len, 0, " Mẹ đi làm xa.")
    })?;
    // Phone B: a different address, its own visit, a word inserted at the start of the reason.
    phone_b.update(&id, |c, me, now| {
        c.set_field(
            me,
            now,
            "client/address",
            &json!("12 Lê Lợi, TP Huế, Thừa Thiên Huế"),
        )?;
        c.add_visit(
            me,
            now,
            VisitInput {
                date: Some("2026-11-21".into()),
                kind: Some("phone".into()),
                note: Some("Gọi cho giáo viên chủ nhiệm.".into()),
                ..Default::default()
            },
        )?;
        c.edit_text(me, now, "intake/reason", 0, 0, "[Khẩn] ")
    })?;
    println!("Both phones edited the case apart.\n");

    // Exchange both ways.
    phone_a.import_case(&phone_b.export_case(&id)?)?;
    phone_b.import_case(&phone_a.export_case(&id)?)?;

    let a = phone_a.get_case(&id)?;
    let b = phone_b.get_case(&id)?;
    println!("Both phones hold the same case: {}", a == b);
    println!(
        "Intake reason, merged character by character:\n  {}",
        a.intake.reason
    );
    println!("Visits (both kept):");
    for v in &a.visits {
        let who = v.recorded_by.as_deref().unwrap_or("?");
        println!(
            "  {} {:<5} by {who}: {}",
            v.date.as_deref().unwrap_or(""),
            v.kind.as_deref().unwrap_or(""),
            v.note
        );
    }
    println!(
        "Address shown: {}",
        a.client.address.as_deref().unwrap_or("")
    );
    println!("\nConflicts for the supervisor:");
    for c in phone_a.conflicts(&id)? {
        println!("  {}", c.path);
        for v in &c.values {
            println!(
                "    {} {} (by {} on {}, at {})",
                if v.winner { "shown:" } else { "also: " },
                v.value,
                v.by.user_name.as_deref().unwrap_or("?"),
                v.by.device_id.as_deref().unwrap_or("?"),
                v.by.at
            );
        }
    }
    println!("\nHistory of intake/reason:");
    for h in phone_a.history(&id, "intake/reason")? {
        println!(
            "  {} {:<14} +{} -{} chars ({})",
            h.by.at,
            h.by.user_name.as_deref().unwrap_or("?"),
            h.inserted,
            h.deleted,
            h.message.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
