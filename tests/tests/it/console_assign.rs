//! Assignment from the supervisor console, end to end: the supervisor transfers a case with
//! the console's form over HTTP; the new worker's phone receives it at its next sync, and
//! the old worker's phone hands in its last changes and drops it.

use fieldcase_core::case::VisitInput;
use fieldcase_core::{CaseDoc, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::console::{hidden, Console};
use fieldcase_tests::{TestServer, PASSWORD};

#[test]
fn a_transfer_from_the_console_moves_the_case_between_phones() {
    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Олександр Коваленко".into());
    let id = anna.create_case(new).unwrap();
    anna.sync(&server.url, &anna_token).unwrap();
    let (bao, bao_token, _b) = server.phone("bao");
    assert_eq!(bao.sync(&server.url, &bao_token).unwrap().new_cases, 0);

    // Anna records a visit offline; meanwhile the supervisor transfers the case to Bảo.
    anna.update(&id, |c, me, now| {
        c.add_visit(
            me,
            now,
            VisitInput {
                date: Some("2026-11-22".into()),
                kind: Some("home".into()),
                note: Some("Потрібне житло до зими.".into()),
                ..Default::default()
            },
        )
    })
    .unwrap();

    let mut console = Console::new(&server.url);
    let (_, login) = console.get("/console/login");
    let token = hidden(&login, "login_token");
    let status = console.post(
        "/console/login",
        &[
            ("login_token", &token),
            ("username", "malee"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(status, 303);
    let (status, page) = console.get(&format!("/console/cases/{id}"));
    assert_eq!(status, 200);
    assert!(page.contains("Олександр Коваленко"));
    let csrf = hidden(&page, "csrf");
    let status = console.post(
        &format!("/console/cases/{id}/assignment"),
        &[("csrf", &csrf), ("workers", "bao"), ("case_manager", "bao")],
    );
    assert_eq!(status, 303);

    // Bảo's phone gets the case; Anna's hands in her visit and drops it.
    assert_eq!(bao.sync(&server.url, &bao_token).unwrap().new_cases, 1);
    let r = anna.sync(&server.url, &anna_token).unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    assert!(!anna.case_ids().contains(&id), "the case left Anna's phone");
    let stored = CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(stored.visits.len(), 1, "Anna's last visit was kept");
    let bao_id = server.db.user_by_username("bao").unwrap().unwrap().id;
    assert_eq!(stored.assigned, vec![bao_id.clone()]);
    assert_eq!(stored.case_manager.as_deref(), Some(bao_id.as_str()));
    bao.sync(&server.url, &bao_token).unwrap();
    assert_eq!(bao.get_case(&id).unwrap().visits.len(), 1);
}

/// A refused assignment is said in the reader's language by its kind, with the rule's
/// own words in small print, and nothing changes.
#[test]
fn a_refusal_is_said_in_the_readers_language() {
    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Фёдорова Анна".into());
    let id = anna.create_case(new).unwrap();
    anna.sync(&server.url, &anna_token).unwrap();
    let before = server.db.case_document(&id).unwrap();
    let malee = server.db.user_by_username("malee").unwrap().unwrap();
    server.db.set_user_language(&malee.id, "ru").unwrap();
    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);
    let (_, page) = console.get(&format!("/console/cases/{id}"));
    let csrf = hidden(&page, "csrf");
    // Sam is of another team.
    let (status, refused) = console.post_page(
        &format!("/console/cases/{id}/assignment"),
        &[("csrf", &csrf), ("workers", "sam")],
    );
    assert_eq!(status, 400);
    assert_eq!(
        server.db.case_document(&id).unwrap(),
        before,
        "nothing changed"
    );
    assert!(
        refused.contains("Случай назначают только активным работникам и супервизорам его команды"),
        "{refused}"
    );
    assert!(
        refused.contains("lang=\"en\""),
        "the rule's own words, marked as English"
    );
}
