//! Supervision on the record and duplicates confirmed (schema revision 4), over a real
//! server: a supervisor records a case conference and a review on the console, a worker's
//! phone records its own review and receives the supervisor's; a worker may not post the
//! console's form; a supervisor who sees both cases closes one as a duplicate of the other.

use fieldcase_core::case::{SupervisionInput, SupervisionKind};
use fieldcase_core::{CaseId, CaseStore, NewCase, Stage};
use fieldcase_tests::console::{hidden, Console};
use fieldcase_tests::{TestServer, PASSWORD};

fn new_case(store: &CaseStore, name: &str, dob: &str) -> CaseId {
    let mut n = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some(name.into());
    n.client.date_of_birth = Some(dob.into());
    n.client.gender = Some("female".into());
    store.create_case(n).unwrap()
}

fn synced(store: &CaseStore, server: &TestServer, token: &str) {
    let r = store.sync(&server.url, token).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
}

#[test]
fn supervision_is_recorded_on_the_console_and_reaches_the_phone() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let case = new_case(&anna, "Nguyễn Thị Lan", "2014-05-06");
    anna.update(&case, |c, me, now| {
        c.add_supervision(
            me,
            now,
            SupervisionInput {
                kind: Some(SupervisionKind::SelfReview),
                date: Some("2026-12-01".into()),
                learning: Some("Hỏi ý kiến của trẻ sớm hơn".into()),
                ..Default::default()
            },
        )
    })
    .unwrap();
    // The phone's typed edit refuses a worker a supervisor's review.
    assert!(anna
        .update(&case, |c, me, now| {
            c.add_supervision(
                me,
                now,
                SupervisionInput {
                    kind: Some(SupervisionKind::SupervisorReview),
                    date: Some("2026-12-01".into()),
                    ..Default::default()
                },
            )
        })
        .is_err());
    synced(&anna, &server, &anna_t);

    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let record = format!("/console/cases/{case}");
    let (status, page) = malee.get(&record);
    assert_eq!(status, 200);
    assert!(
        page.contains("Worker&#39;s own review") || page.contains("Worker's own review"),
        "{page}"
    );
    assert!(page.contains("Hỏi ý kiến của trẻ sớm hơn"));
    let csrf = hidden(&page, "csrf");
    let form = format!("{record}/supervision");
    assert_eq!(
        malee.post(
            &form,
            &[
                ("csrf", &csrf),
                ("kind", "supervisor_review"),
                ("date", "2026-12-02"),
                ("participants", "Anna Petrenko\n  \nMalee Suksan"),
                ("summary", "Đánh giá lại hoạt động quản lý trường hợp"),
                ("went_well", "Liên hệ với nhà trường kịp thời"),
                ("changes", "Gặp trẻ riêng trước"),
            ],
        ),
        303
    );
    // A kind the schema does not have, or no day, is refused and writes nothing.
    assert_eq!(
        malee.post(
            &form,
            &[("csrf", &csrf), ("kind", "gossip"), ("date", "2026-12-02")]
        ),
        400
    );
    assert_eq!(
        malee.post(
            &form,
            &[("csrf", &csrf), ("kind", "case_conference"), ("date", "")]
        ),
        400
    );
    let (_, page) = malee.get(&record);
    assert!(page.contains("Supervisor&#39;s review") || page.contains("Supervisor's review"));
    assert!(page.contains("Gặp trẻ riêng trước"));

    // A worker may not post the console's form (her own review comes from the phone).
    let mut anna_console = Console::sign_in(&server.url, "anna", PASSWORD);
    let (_, page) = anna_console.get(&record);
    assert!(
        !page.contains(&format!("action=\"{form}\"")),
        "no form for a worker"
    );
    let anna_csrf = hidden(&page, "csrf");
    assert_eq!(
        anna_console.post(
            &form,
            &[
                ("csrf", &anna_csrf),
                ("kind", "self_review"),
                ("date", "2026-12-02")
            ]
        ),
        403
    );

    // The phone receives the supervisor's review, with its author and the participants
    // one per line.
    synced(&anna, &server, &anna_t);
    let file = anna.get_case(&case).unwrap();
    assert_eq!(file.supervision.len(), 2, "{:?}", file.supervision);
    let review = file
        .supervision
        .iter()
        .find(|s| s.kind == Some(SupervisionKind::SupervisorReview))
        .unwrap();
    assert_eq!(review.participants, ["Anna Petrenko", "Malee Suksan"]);
    assert_eq!(
        review.went_well.as_deref(),
        Some("Liên hệ với nhà trường kịp thời")
    );
    let malee_id = fieldcase_server::Db::user_by_username(server.db.as_ref(), "malee")
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(review.recorded_by.as_deref(), Some(malee_id.as_str()));

    // In Vietnamese, the review speaks seed 004's words.
    malee.post(
        "/console/language",
        &[("csrf", &csrf), ("lang", "vi"), ("next", &record)],
    );
    let (_, vi) = malee.get(&record);
    assert!(vi.contains("Người giám sát đánh giá lại hoạt động quản lý trường hợp"));
    assert!(vi.contains("Chuyển đổi"));
}

#[test]
fn a_supervisor_who_sees_both_closes_one_as_the_others_duplicate() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let kept = new_case(&anna, "Фёдорова Анна", "1990-03-04");
    synced(&anna, &server, &anna_t);
    let (bao, bao_t, _b) = server.phone("bao");
    let twin = new_case(&bao, "Fedorova Anna", "1990-03-04");
    let twin_s = twin.to_string();
    synced(&bao, &server, &bao_t);

    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, page) = malee.get("/console/duplicates");
    assert_eq!(status, 200);
    assert!(page.contains("Same person: keep"), "{page}");
    let csrf = hidden(&page, "csrf");
    let pair = hidden(&page, "pair");
    // A worker cannot confirm; a made-up pair is not found.
    let mut bao_console = Console::sign_in(&server.url, "bao", PASSWORD);
    let (_, bp) = bao_console.get(&format!("/console/cases/{twin}"));
    let bao_csrf = hidden(&bp, "csrf");
    assert_eq!(
        bao_console.post(
            "/console/duplicates/confirm",
            &[
                ("csrf", &bao_csrf),
                ("case", twin_s.as_str()),
                ("pair", &pair)
            ]
        ),
        403
    );
    assert_eq!(
        malee.post(
            "/console/duplicates/confirm",
            &[
                ("csrf", &csrf),
                ("case", twin_s.as_str()),
                ("pair", "no-such-pair")
            ]
        ),
        404
    );
    assert_eq!(
        malee.post(
            "/console/duplicates/confirm",
            &[("csrf", &csrf), ("case", twin_s.as_str()), ("pair", &pair)]
        ),
        303
    );
    // Decided once: the pair is gone from the page and not confirmed again.
    let (_, page) = malee.get("/console/duplicates");
    assert!(!page.contains("Same person: keep"), "{page}");
    assert_eq!(
        malee.post(
            "/console/duplicates/confirm",
            &[("csrf", &csrf), ("case", twin_s.as_str()), ("pair", &pair)]
        ),
        404
    );
    // The twin is closed, pointing to the case that goes on; bao's phone gets it.
    synced(&bao, &server, &bao_t);
    let file = bao.get_case(&twin).unwrap();
    assert_eq!(file.stage, Stage::Closed);
    let c = file.closures.last().unwrap();
    assert_eq!(c.reason.as_deref(), Some("duplicate"));
    assert_eq!(c.duplicate_of.as_deref(), Some(kept.to_string().as_str()));
    let kept_file = anna.get_case(&kept).unwrap();
    assert_ne!(
        kept_file.stage,
        Stage::Closed,
        "the case that goes on stays open"
    );
    let (_, record) = malee.get(&format!("/console/cases/{twin}"));
    assert!(record.contains("Duplicate of another case of the same client"));
    assert!(record.contains(&format!("href=\"/console/cases/{kept}\"")));
}

#[test]
fn another_teams_supervisor_finds_the_form_as_for_no_case() {
    use fieldcase_server::Db;
    let server = TestServer::start();
    server
        .db
        .add_user(
            "ploy",
            "ploy",
            fieldcase_core::Role::Supervisor,
            Some("south"),
            PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    let (anna, anna_t, _a) = server.phone("anna");
    let case = new_case(&anna, "สมศรี ใจดี", "2012-01-02");
    synced(&anna, &server, &anna_t);
    let mut ploy = Console::sign_in(&server.url, "ploy", PASSWORD);
    let csrf = hidden(&ploy.get("/console").1, "csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("kind", "supervisor_review"),
        ("date", "2026-12-02"),
    ];
    let hidden_case = ploy.post(&format!("/console/cases/{case}/supervision"), &form);
    let unknown = ploy.post(
        &format!("/console/cases/{}/supervision", CaseId::random()),
        &form,
    );
    assert_eq!((hidden_case, unknown), (404, 404));
    assert!(anna.get_case(&case).unwrap().supervision.is_empty());
    synced(&anna, &server, &anna_t);
    assert!(anna.get_case(&case).unwrap().supervision.is_empty());
}
