//! Shared test data: authors, and client names in our users' scripts (from the seeds).

use automerge::ActorId;
use fieldcase_core::case::{CaseKind, IntakeInput, VisitInput};
use fieldcase_core::{Author, CaseDoc, CaseId, NewCase, Role};

pub const T0: i64 = 1_795_000_000_000;

pub fn worker(n: u8) -> Author {
    Author::new(
        &format!("u-worker-{n}"),
        &format!("Worker {n}"),
        Role::Worker,
        &format!("phone-{n}"),
    )
}

pub fn supervisor() -> Author {
    Author::new("u-super", "Supervisor", Role::Supervisor, "office-1")
}

/// Client names in Thai, Persian, Russian, Ukrainian and Vietnamese.
pub const NAMES: &[&str] = &[
    "สมศรี ใจดี",
    "زهرا احمدی",
    "Фёдорова Анна Петровна",
    "Олександр Коваленко",
    "Nguyễn Thị Lan",
];

/// Visit notes in the same languages, echoing the seeds' vocabulary.
pub const NOTES: &[&str] = &[
    "เยี่ยมบ้าน ครอบครัวต้องการความช่วยเหลือด้านที่อยู่อาศัย",
    "بازدید از منزل؛ خانواده به کمک فوری نیاز دارد",
    "Посещение на дому: семья в трудной жизненной ситуации",
    "Відвідування вдома: дитина потребує підтримки",
    "Thăm hộ gia đình: trẻ em có hoàn cảnh đặc biệt",
];

pub fn new_case(author: &Author, name: &str) -> CaseDoc {
    let mut new = NewCase {
        team: "team-north".into(),
        case_kind: Some(CaseKind::ChildProtection),
        ..Default::default()
    };
    new.client.name = Some(name.into());
    new.intake = Some(IntakeInput {
        date: Some("2026-11-20".into()),
        reason: Some("Báo cáo từ trường học".into()),
        ..Default::default()
    });
    CaseDoc::create(CaseId::random(), ActorId::random(), author, new, T0).unwrap()
}

/// A second replica of `case` on another device (as if synced to it).
pub fn replica(case: &CaseDoc) -> CaseDoc {
    let mut r = CaseDoc::load(&case.automerge().save()).unwrap();
    r.set_actor(ActorId::random());
    r
}

pub fn visit(note: &str) -> VisitInput {
    VisitInput {
        date: Some("2026-11-21".into()),
        kind: Some("home".into()),
        note: Some(note.into()),
        ..Default::default()
    }
}
