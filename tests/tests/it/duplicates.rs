//! Possible duplicates across the agency (issue 19): the server checks every new case
//! against the cases it holds, names only the matches the asking user may see, and tells
//! of the others only the team to ask.

use fieldcase_core::{CaseStore, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::TestServer;
use serde_json::Value;

fn new_case(store: &CaseStore, team: &str, name: &str, dob: &str, restricted: bool) -> String {
    let mut n = NewCase {
        team: team.into(),
        restricted,
        ..Default::default()
    };
    n.client.name = Some(name.into());
    n.client.date_of_birth = Some(dob.into());
    n.client.gender = Some("female".into());
    store.create_case(n).unwrap().to_string()
}

fn synced(store: &CaseStore, server: &TestServer, token: &str) {
    let r = store.sync(&server.url, token).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
}

fn matches(server: &TestServer, token: &str, case: &str) -> (u16, Value) {
    server.rest(
        "GET",
        &format!("/v1/cases/{case}/matches"),
        Some(token),
        None,
    )
}

#[test]
fn a_match_in_another_team_is_told_only_by_its_team() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let north = new_case(&anna, "north", "Фёдорова Анна", "1990-03-04", false);
    synced(&anna, &server, &anna_t);
    let (sam, sam_t, _s) = server.phone("sam");
    let south = new_case(&sam, "south", "Fedorova Anna", "1990-03-04", false);
    synced(&sam, &server, &sam_t);

    // Sam (south) may not see Anna's case: only its team, nothing of it.
    let (status, answer) = matches(&server, &sam_t, &south);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["case_id"], south.as_str());
    assert_eq!(answer["matches"], serde_json::json!([]), "{answer}");
    assert_eq!(answer["elsewhere"], serde_json::json!([{"team": "north"}]));
    let text = answer.to_string();
    for secret in [north.as_str(), "Фёдорова", "likely", "date_of_birth"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    // Nor of a case he may not see.
    assert_eq!(matches(&server, &sam_t, &north).0, 404);
    assert_eq!(matches(&server, &sam_t, "not-a-case").0, 404);

    // Anna, from her side, learns only that the match is in south.
    let (_, answer) = matches(&server, &anna_t, &north);
    assert_eq!(answer["elsewhere"], serde_json::json!([{"team": "south"}]));
    assert!(!answer.to_string().contains(&south));

    // Bảo (north) records the same client again: Malee, the supervisor, sees both north
    // cases and gets the match named, with its reasons; Bảo, who is not assigned Anna's
    // case, gets only the team.
    let (bao, bao_t, _b) = server.phone("bao");
    let again = new_case(&bao, "north", "Fedorova Anna", "1990-03-04", false);
    synced(&bao, &server, &bao_t);
    let (_m, malee_t, _md) = server.phone("malee");
    let (status, answer) = matches(&server, &malee_t, &again);
    assert_eq!(status, 200, "{answer}");
    let named = answer["matches"].as_array().unwrap();
    assert_eq!(named.len(), 1, "{answer}");
    assert_eq!(named[0]["case_id"], north.as_str());
    assert_eq!(named[0]["client_name"], "Фёдорова Анна");
    assert_eq!(named[0]["band"], "likely");
    assert_eq!(named[0]["status"], "open");
    let codes: Vec<&str> = named[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"same_date_of_birth"), "{codes:?}");
    assert_eq!(answer["elsewhere"], serde_json::json!([{"team": "south"}]));
    let (_, answer) = matches(&server, &bao_t, &again);
    assert_eq!(answer["matches"], serde_json::json!([]), "{answer}");
    assert_eq!(
        answer["elsewhere"],
        serde_json::json!([{"team": "north"}, {"team": "south"}])
    );
    assert!(server.metrics().contains("fieldcase_match_checks_total 3"));
}

#[test]
fn a_restricted_match_is_not_named_to_a_worker_not_assigned() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let hidden = new_case(&anna, "north", "Nguyễn Thị Lan", "2011-07-01", true);
    synced(&anna, &server, &anna_t);
    let (bao, bao_t, _b) = server.phone("bao");
    let mine = new_case(&bao, "north", "Nguyen Thi Lan", "2011-07-01", false);
    synced(&bao, &server, &bao_t);
    let (_, answer) = matches(&server, &bao_t, &mine);
    assert_eq!(answer["matches"], serde_json::json!([]));
    assert_eq!(answer["elsewhere"], serde_json::json!([{"team": "north"}]));
    assert!(!answer.to_string().contains(&hidden));
    // The supervisor sees it named, and the naming of a restricted client is audited.
    let (_m, malee_t, _md) = server.phone("malee");
    let (_, answer) = matches(&server, &malee_t, &mine);
    assert_eq!(answer["matches"][0]["client_name"], "Nguyễn Thị Lan");
    let trail = server
        .db
        .audit_trail(Some(&hidden.parse().unwrap()), 50)
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "named as a possible match"),
        "{trail:?}"
    );
}

#[test]
fn supervisors_of_both_teams_see_the_pair_and_a_dismissed_one_is_not_proposed_again() {
    let server = TestServer::start();
    server
        .db
        .add_user(
            "ploy",
            "ploy",
            fieldcase_core::Role::Supervisor,
            Some("south"),
            fieldcase_tests::PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    let (anna, anna_t, _a) = server.phone("anna");
    let north = new_case(&anna, "north", "محمد حسینی", "1985-02-03", false);
    synced(&anna, &server, &anna_t);
    let (sam, sam_t, _s) = server.phone("sam");
    let south = new_case(&sam, "south", "Mohammad Hosseini", "1985-02-03", false);
    synced(&sam, &server, &sam_t);

    let mut malee =
        fieldcase_tests::console::Console::sign_in(&server.url, "malee", fieldcase_tests::PASSWORD);
    let (status, page) = malee.get("/console/duplicates");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("محمد حسینی"), "north's own client is named");
    assert!(
        page.contains("a case in team south; ask its supervisor"),
        "{page}"
    );
    assert!(
        !page.contains("Mohammad Hosseini") && !page.contains(&south),
        "{page}"
    );
    assert!(page.contains("same date of birth"), "{page}");
    let malee_csrf = fieldcase_tests::console::hidden(&page, "csrf");

    let mut ploy =
        fieldcase_tests::console::Console::sign_in(&server.url, "ploy", fieldcase_tests::PASSWORD);
    let (_, page) = ploy.get("/console/duplicates");
    assert!(page.contains("Mohammad Hosseini"));
    assert!(page.contains("a case in team north; ask its supervisor"));
    assert!(
        !page.contains("محمد حسینی") && !page.contains(&north),
        "{page}"
    );
    // In Persian, the reasons are in Persian.
    let ploy_csrf = fieldcase_tests::console::hidden(&page, "csrf");
    ploy.post(
        "/console/language",
        &[
            ("csrf", &ploy_csrf),
            ("lang", "fa"),
            ("next", "/console/duplicates"),
        ],
    );
    let (_, fa) = ploy.get("/console/duplicates");
    assert!(fa.contains("پرونده‌ای در تیم"), "{fa}");
    assert!(fa.contains("همان تاریخ تولد"), "{fa}");

    // A worker has no such page.
    let mut sam_console =
        fieldcase_tests::console::Console::sign_in(&server.url, "sam", fieldcase_tests::PASSWORD);
    assert_eq!(sam_console.get("/console/duplicates").0, 403);

    // Ploy dismisses it (from the form's own fields).
    let (case, pair) = (
        fieldcase_tests::console::hidden(&page, "case"),
        fieldcase_tests::console::hidden(&page, "pair"),
    );
    assert_eq!(case, south);
    // Malee cannot dismiss it by naming the case she does not see.
    assert_eq!(
        malee.post(
            "/console/duplicates/dismiss",
            &[("csrf", &malee_csrf), ("case", &south), ("pair", &pair)]
        ),
        404
    );
    assert_eq!(
        ploy.post(
            "/console/duplicates/dismiss",
            &[("csrf", &ploy_csrf), ("case", &case), ("pair", &pair)]
        ),
        303
    );
    assert_eq!(
        ploy.post(
            "/console/duplicates/dismiss",
            &[("csrf", &ploy_csrf), ("case", &case), ("pair", &pair)]
        ),
        404,
        "decided once"
    );
    let (_, page) = malee.get("/console/duplicates");
    assert!(!page.contains("محمد حسینی"), "gone from both teams' pages");
    let (_, answer) = matches(&server, &sam_t, &south);
    assert_eq!(answer["elsewhere"], serde_json::json!([]), "{answer}");

    // Checked again as if new: found, but not proposed again.
    let id = south.parse().unwrap();
    let access = server.db.case_access(&id).unwrap().unwrap();
    let doc = automerge::Automerge::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    let entry = fieldcase_server::matching::Entry::of(&access, &doc).unwrap();
    let checked = fieldcase_server::matching::after_write(
        &server.state.matches,
        server.db.as_ref(),
        1000,
        entry,
        true,
        0,
    )
    .unwrap();
    assert_eq!((checked.found.len(), checked.new), (1, 0));
    let (_, page) = ploy.get("/console/duplicates");
    assert!(!page.contains("Mohammad Hosseini"));
}

#[test]
fn a_link_names_only_a_case_its_writer_may_see() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let child = new_case(&anna, "north", "Олександр Коваленко", "2015-05-05", false);
    let mother = new_case(&anna, "north", "Олена Коваленко", "1988-02-02", false);
    synced(&anna, &server, &anna_t);
    let (sam, sam_t, _s) = server.phone("sam");
    let south = new_case(&sam, "south", "Ivan Kovalenko", "2013-01-01", false);
    synced(&sam, &server, &sam_t);

    // Anna links the child's case to his mother's, which she may see: accepted, and the
    // supervisor's record holds the link (an id and a code, nothing of the mother's case).
    let id: fieldcase_core::CaseId = child.parse().unwrap();
    anna.update(&id, |d, a, now| {
        d.link_case(a, now, None, &mother, "parent")
    })
    .unwrap();
    synced(&anna, &server, &anna_t);
    let doc =
        fieldcase_core::CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    let linked = &doc.read().unwrap().client.household[0];
    assert_eq!(
        (
            linked.case_id.as_deref(),
            linked.case_relation.as_deref(),
            linked.name.as_deref()
        ),
        (Some(mother.as_str()), Some("parent"), None)
    );

    // A link to a case of another team is refused, as one to a case that does not exist;
    // the phone keeps its change, held back with the reason, and the server stores nothing.
    let heads = server.db.case_heads(&id).unwrap();
    for target in [south.clone(), fieldcase_core::CaseId::random().to_string()] {
        let (phone, token, _p) = server.phone("anna");
        assert_eq!(phone.sync(&server.url, &token).unwrap().new_cases, 2);
        phone
            .update(&id, |d, a, now| {
                d.link_case(a, now, None, &target, "sibling")
            })
            .unwrap();
        let r = phone.sync(&server.url, &token).unwrap();
        assert_eq!(r.errors.len(), 1, "{r:?}");
        let refused = phone.refused_cases();
        assert_eq!(refused.len(), 1);
        assert!(
            refused[0]
                .1
                .reason
                .contains("a link points only to a case its writer may see"),
            "{:?}",
            refused[0].1
        );
        assert!(phone
            .get_case(&id)
            .unwrap()
            .client
            .household
            .iter()
            .any(|m| m.case_id.as_deref() == Some(target.as_str())));
        assert_eq!(server.db.case_heads(&id).unwrap(), heads);
    }
}

#[test]
fn a_write_does_not_wait_for_the_index_and_its_check_is_done_by_the_build() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let first = new_case(&anna, "north", "Фёдорова Анна", "1990-03-04", false);
    let twin = new_case(&anna, "north", "Fedorova Anna", "1990-03-04", false);
    // No build can run: a write that waited for one would never end.
    let held = server.state.matches.hold_build();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let url = server.url.clone();
    let token = anna_t.clone();
    std::thread::scope(|s| {
        s.spawn(|| {
            let r = anna.sync(&url, &token).unwrap();
            done_tx.send(r.errors).unwrap();
        });
        let errors = done_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the sync waited for the duplicate index");
        assert!(errors.is_empty(), "{errors:?}");
    });
    assert!(!server.state.matches.is_built());
    drop(held);
    // The build (the background one, or the one this request asks for) checks the two
    // writes it deferred: the pair is there.
    let (status, answer) = matches(&server, &anna_t, &twin);
    assert_eq!(status, 200, "{answer}");
    let named: Vec<&str> = answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["case_id"].as_str().unwrap())
        .collect();
    assert_eq!(named, [first.as_str()], "{answer}");
    let metrics = server.metrics();
    assert!(
        metrics.contains("fieldcase_matches_found_total 1"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("match"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
