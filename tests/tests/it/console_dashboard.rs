//! The console's dashboard after a start (issue 20): its first view is built from the facts
//! kept beside each case (`fieldcase_server::db::ListFacts`) without opening the cases'
//! documents, except the few whose changes its recent activity may show, and it shows
//! exactly what a view built from the documents shows.

use std::sync::atomic::Ordering::Relaxed;

use fieldcase_core::case::{
    AppointmentInput, AssessmentInput, CaseKind, ClientInput, Finding, HouseholdMemberInput,
    IntakeInput, RiskInput, VisitInput,
};
use fieldcase_core::NewCase;
use fieldcase_server::Db;
use fieldcase_tests::console::Console;
use fieldcase_tests::{TestServer, PASSWORD};

const NAMES: [&str; 5] = [
    "สมศรี ใจดี",
    "زهرا احمدی",
    "Фёдорова Анна",
    "Олександр Коваленко",
    "Nguyễn Thị Lan",
];

/// How many cases: more than the recent activity shows changes (15).
const CASES: usize = 30;

/// The part of a page that differs from case to case (the layout around it holds the
/// session's own tokens).
fn main_of(page: &str) -> String {
    let start = page.find("<main").expect("a main element");
    let end = page.find("</main>").expect("its end");
    page[start..end].to_string()
}

/// Documents opened by the storage so far.
fn opened(server: &TestServer) -> u64 {
    server.db.sealing().documents_opened.load(Relaxed)
}

/// The pages compared: the dashboard, a search by a household member's name, and two
/// of its filters.
const VIEWS: [&str; 4] = [
    "/console",
    "/console?q=nam",
    "/console?only=emergency",
    "/console?stage=intake&finding=evidence_of_abuse",
];

#[test]
fn the_first_view_after_a_start_opens_no_case_but_those_its_recent_activity_shows() {
    let mut server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    for i in 0..CASES {
        let mut n = NewCase {
            team: "north".into(),
            restricted: i % 10 == 3,
            // Some with a kind, and a priority (which the dashboard does not show).
            case_kind: (i % 5 == 2).then_some(CaseKind::ChildProtection),
            priority: (i % 3 == 0).then(|| "high".to_string()),
            ..Default::default()
        };
        n.client.name = Some(format!("{} {i}", NAMES[i % NAMES.len()]));
        let id = anna.create_case(n).unwrap();
        anna.update(&id, |c, me, now| match i % 5 {
            0 => {
                c.update_client(
                    me,
                    now,
                    ClientInput {
                        name_latin: Some(format!("Client {i}")),
                        ..Default::default()
                    },
                )?;
                c.add_household_member(
                    me,
                    now,
                    HouseholdMemberInput {
                        name: Some("Phạm Văn Nam".into()),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }
            1 => c.record_intake(
                me,
                now,
                IntakeInput {
                    emergency: Some(true),
                    ..Default::default()
                },
            ),
            2 => c
                .add_assessment(
                    me,
                    now,
                    AssessmentInput {
                        date: Some("2026-11-02".into()),
                        risk: Some(RiskInput {
                            finding: Some(Finding::EvidenceOfAbuse),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                )
                .map(|_| ()),
            3 => c
                .add_appointment(
                    me,
                    now,
                    AppointmentInput {
                        at: Some("2026-12-01T10:00:00Z".into()),
                        purpose: Some("Khám sức khỏe".into()),
                        ..Default::default()
                    },
                )
                .map(|_| ()),
            _ => c
                .add_visit(
                    me,
                    now,
                    VisitInput {
                        note: Some("Thăm hộ gia đình.".into()),
                        ..Default::default()
                    },
                )
                .map(|_| ()),
        })
        .unwrap();
    }
    let r = anna.sync(&server.url, &anna_t).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);

    // The first view after a start: the summaries come from the facts kept beside the
    // cases; only cases whose changes the recent activity may show are opened.
    server.restart();
    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let before = opened(&server);
    let (status, first) = malee.get("/console");
    assert_eq!(status, 200);
    let read = opened(&server) - before;
    assert!(
        read <= 15,
        "{read} documents opened for the first view of {CASES} cases"
    );
    assert!(
        first.contains(&format!("{} 7", NAMES[2])),
        "the cases are listed"
    );
    assert!(first.contains("Phạm Văn Nam") || first.contains(NAMES[0]));
    let with_facts: Vec<String> = VIEWS.iter().map(|v| main_of(&malee.get(v).1)).collect();
    assert_eq!(
        opened(&server) - before,
        read,
        "later views open nothing more"
    );

    // As a server of the version before would show them: no facts beside any case, every
    // document read. The same pages.
    let raw = rusqlite::Connection::open(server.dir.path().join("server.sqlite")).unwrap();
    assert_eq!(
        raw.execute("UPDATE cases SET facts = NULL WHERE facts IS NOT NULL", [])
            .unwrap(),
        CASES
    );
    server.restart();
    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let before = opened(&server);
    let from_documents: Vec<String> = VIEWS.iter().map(|v| main_of(&malee.get(v).1)).collect();
    assert!(
        opened(&server) - before >= CASES as u64,
        "every case read from its document"
    );
    for ((view, a), b) in VIEWS.iter().zip(&with_facts).zip(&from_documents) {
        assert_eq!(a, b, "{view}: the facts show what the documents show");
    }
    assert!(with_facts[1].contains("Phạm Văn Nam") || with_facts[1].contains(NAMES[0]));

    // A start after an upgrade fills the facts of the cases stored before, once.
    raw.execute("INSERT INTO case_facts_unfilled (id) VALUES (1)", [])
        .unwrap();
    drop(raw);
    let reopened =
        fieldcase_server::SqliteDb::open(server.dir.path().join("server.sqlite")).unwrap();
    let ids: Vec<fieldcase_core::CaseId> = reopened
        .cases()
        .unwrap()
        .into_iter()
        .map(|(a, _)| a.id)
        .collect();
    let listed = reopened.list_facts(&ids).unwrap();
    assert_eq!(listed.len(), CASES);
    assert!(
        listed.iter().all(|l| l.facts.is_some()),
        "filled at the start"
    );
}

/// A write's list facts take the latest time a change of the case claims from the facts
/// before it and the write's own changes (reading the whole history at every write made a
/// case of 100,000 keystrokes cost that many reads at each of its writes: `bench/run.sh`,
/// S4), and they are what the whole document gives: also when a change in the middle of
/// the history claims a later time than the heads.
#[test]
fn a_writes_list_facts_are_the_whole_documents_without_reading_its_history() {
    use fieldcase_core::{Author, CaseDoc, CaseId, Role};
    use fieldcase_server::db::CaseAccess;
    let anna = Author::new("u-anna", "Anna", Role::Worker, "phone-1");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Nguyễn Thị Lan".into());
    let id = CaseId::random();
    let t0 = 1_795_000_000_000;
    let mut case = CaseDoc::create(id, automerge::ActorId::random(), &anna, new, t0).unwrap();
    let mut access = CaseAccess::read(id, case.automerge()).unwrap();
    // One write of two visits, the first dated far later by its phone's clock than the
    // second (the write's head); then a write of one visit dated earlier still.
    for (w, times) in [vec![t0 + 90_000_000, t0 + 1_000], vec![t0 + 2_000]]
        .into_iter()
        .enumerate()
    {
        let before = case.automerge().get_heads();
        for (i, at) in times.into_iter().enumerate() {
            case.add_visit(
                &anna,
                at,
                VisitInput {
                    date: Some("2026-11-21".into()),
                    kind: Some("home".into()),
                    note: Some(format!("write {w}, visit {i}")),
                    ..Default::default()
                },
            )
            .unwrap();
        }
        let doc = case.automerge();
        let changes = doc.get_changes(&before);
        let (file, conflicts) = CaseDoc::outline_of(doc).unwrap();
        let written = CaseAccess::of_write(id, &file, conflicts, doc, Some(&access), &changes);
        let whole = CaseAccess::read(id, doc).unwrap();
        assert_eq!(written.listing, whole.listing, "after write {w}");
        access = written;
    }
    let facts = access.listing.unwrap();
    assert_eq!(facts.latest_claim(), (t0 + 90_000_000) / 1000 * 1000);
    assert!(facts.heads_at < facts.latest_claim());
}
