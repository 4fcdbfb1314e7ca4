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

fn related(server: &TestServer, token: &str, case: &str) -> (u16, Value) {
    server.rest(
        "GET",
        &format!("/v1/cases/{case}/related"),
        Some(token),
        None,
    )
}

#[test]
fn related_cases_are_shown_both_ways_and_one_not_seen_only_by_its_team() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let child = new_case(&anna, "north", "Олександр Коваленко", "2015-05-05", false);
    let mother = new_case(&anna, "north", "Олена Коваленко", "1988-02-02", false);
    let id: fieldcase_core::CaseId = child.parse().unwrap();
    anna.update(&id, |d, a, now| {
        d.link_case(a, now, None, &mother, "parent")
    })
    .unwrap();
    synced(&anna, &server, &anna_t);

    // The link is seen from both ends.
    let (status, from_mother) = related(&server, &anna_t, &mother);
    assert_eq!(status, 200, "{from_mother}");
    assert_eq!(
        from_mother["related"],
        serde_json::json!([{"case_id": child, "client_name": "Олександр Коваленко",
            "restricted": false, "relation": "lists_this_client", "case_relation": "parent"}])
    );
    let (_, from_child) = related(&server, &anna_t, &child);
    assert_eq!(
        from_child["related"],
        serde_json::json!([{"case_id": mother, "client_name": "Олена Коваленко",
            "restricted": false, "relation": "listed_here", "case_relation": "parent"}])
    );
    assert_eq!(from_child["elsewhere"], serde_json::json!([]));

    // Bao is assigned to the mother's case, not the child's: he learns only the team of the
    // case that links to it.
    fieldcase_server::admin::assign_case(
        server.db.as_ref(),
        mother.parse().unwrap(),
        &["anna".to_string(), "bao".to_string()],
        None,
    )
    .unwrap();
    let (_bao, bao_t, _b) = server.phone("bao");
    let (status, seen) = related(&server, &bao_t, &mother);
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["related"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["elsewhere"], serde_json::json!([{"team": "north"}]));
    let text = seen.to_string();
    for secret in [child.as_str(), "Олександр", "parent"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    // Neither is anything said about a case one may not see.
    let (_sam, sam_t, _s) = server.phone("sam");
    assert_eq!(related(&server, &sam_t, &mother).0, 404);
    assert_eq!(related(&server, &bao_t, &child).0, 404);
    assert_eq!(related(&server, &bao_t, "not-a-case").0, 404);

    // The supervisor's record of each case says it, in the reader's words.
    let mut malee =
        fieldcase_tests::console::Console::sign_in(&server.url, "malee", fieldcase_tests::PASSWORD);
    let (status, page) = malee.get(&format!("/console/cases/{mother}"));
    assert_eq!(status, 200, "{page}");
    let related_part = &page[page.find("id=\"related\"").expect("a related section")..];
    let related_part = &related_part[..related_part.find("</section>").unwrap()];
    assert!(
        related_part.contains("Олександр Коваленко"),
        "{related_part}"
    );
    assert!(related_part.contains(&format!("/console/cases/{child}")));
    assert!(
        related_part.contains("lists this client in their household · Parent"),
        "{related_part}"
    );
    let (_, page) = malee.get(&format!("/console/cases/{child}"));
    assert!(page.contains("Own case"), "the member's own case, named");
    assert!(
        page.contains("in this client&#39;s household · Parent")
            || page.contains("in this client's household · Parent"),
        "{page}"
    );
    let csrf = fieldcase_tests::console::hidden(&page, "csrf");
    malee.post(
        "/console/language",
        &[("csrf", &csrf), ("lang", "uk"), ("next", "/console")],
    );
    let (_, uk) = malee.get(&format!("/console/cases/{mother}"));
    assert!(
        uk.contains("Пов'язані справи") || uk.contains("Пов&#39;язані справи"),
        "{uk}"
    );
    assert!(uk.contains("зазначає цього клієнта у своїй родині · Батько або мати"));

    // The same mother entered again, and the pair confirmed: the second file is closed as a
    // duplicate, and each file says where the client's file goes on.
    let again = new_case(&anna, "north", "Olena Kovalenko", "1988-02-02", false);
    synced(&anna, &server, &anna_t);
    let pair = server
        .db
        .matches_of(&again.parse().unwrap())
        .unwrap()
        .into_iter()
        .find(|r| r.other(&again.parse().unwrap()).to_string() == mother)
        .expect("the second entry matches the first");
    let (_, page) = malee.get("/console/duplicates");
    let csrf = fieldcase_tests::console::hidden(&page, "csrf");
    assert_eq!(
        malee.post(
            "/console/duplicates/confirm",
            &[("csrf", &csrf), ("case", &again), ("pair", &pair.id)]
        ),
        303
    );
    let (_, from_mother) = related(&server, &anna_t, &mother);
    let relations: Vec<(&str, &str)> = from_mother["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["case_id"].as_str().unwrap(),
                r["relation"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        relations,
        [
            (child.as_str(), "lists_this_client"),
            (again.as_str(), "duplicate_here")
        ]
    );
    let (_, from_again) = related(&server, &anna_t, &again);
    assert_eq!(from_again["related"][0]["relation"], "continues_in");
    assert_eq!(from_again["related"][0]["case_id"], mother.as_str());

    // A third entry of her is proposed with the file that goes on only.
    let third = new_case(&anna, "north", "Олена Коваленко", "1988-02-02", false);
    synced(&anna, &server, &anna_t);
    let (_, answer) = matches(&server, &anna_t, &third);
    let named: Vec<&str> = answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["case_id"].as_str().unwrap())
        .collect();
    assert_eq!(named, [mother.as_str()], "{answer}");
}

#[test]
fn a_pair_with_one_side_not_seen_cannot_be_confirmed_from_either_side() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let north = new_case(&anna, "north", "Phạm Thị Hoa", "1992-07-07", false);
    synced(&anna, &server, &anna_t);
    let (sam, sam_t, _s) = server.phone("sam");
    let south = new_case(&sam, "south", "Pham Thi Hoa", "1992-07-07", false);
    synced(&sam, &server, &sam_t);
    let north_id: fieldcase_core::CaseId = north.parse().unwrap();
    let pair = server.db.matches_of(&north_id).unwrap();
    assert_eq!(pair.len(), 1, "{pair:?}");
    let heads = (
        server.db.case_heads(&north_id).unwrap(),
        server.db.case_heads(&south.parse().unwrap()).unwrap(),
    );

    // Malee (north) sees her side only: closing either one as the other's duplicate answers
    // as for a pair that does not exist, and nothing is written.
    let mut malee =
        fieldcase_tests::console::Console::sign_in(&server.url, "malee", fieldcase_tests::PASSWORD);
    let (_, page) = malee.get("/console/duplicates");
    assert!(
        !page.contains("/console/duplicates/confirm"),
        "no confirm form: {page}"
    );
    let csrf = fieldcase_tests::console::hidden(&page, "csrf");
    for close in [&north, &south] {
        assert_eq!(
            malee.post(
                "/console/duplicates/confirm",
                &[("csrf", &csrf), ("case", close), ("pair", &pair[0].id)]
            ),
            404
        );
    }
    assert_eq!(
        (
            server.db.case_heads(&north_id).unwrap(),
            server.db.case_heads(&south.parse().unwrap()).unwrap(),
        ),
        heads
    );
    assert_eq!(
        server.db.matches_of(&north_id).unwrap()[0].status,
        fieldcase_core::matching::MatchStatus::Open
    );
}

#[test]
fn links_of_cases_stored_before_links_were_kept_are_read_at_the_next_start() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let child = new_case(&anna, "north", "Нгуєн Ван Ан", "2016-01-01", false);
    let mother = new_case(&anna, "north", "Nguyễn Thị Mai", "1987-01-01", false);
    let sister = new_case(&anna, "north", "Nguyễn Thị Bình", "2014-01-01", false);
    let id: fieldcase_core::CaseId = child.parse().unwrap();
    anna.update(&id, |d, a, now| {
        d.link_case(a, now, None, &mother, "parent")?;
        d.link_case(a, now, None, &sister, "sibling")
    })
    .unwrap();
    // Made and linked offline: one sync brings all three, the links with them (the
    // child's case, refused while its mother's was not there yet, goes again in the
    // same sync).
    synced(&anna, &server, &anna_t);
    assert!(anna.refused_cases().is_empty());
    let mother_id: fieldcase_core::CaseId = mother.parse().unwrap();
    assert_eq!(server.db.linked_from(&mother_id).unwrap(), [id]);

    // As a database of the version before: no links kept, marked to be read.
    let path = server.dir.path().join("server.sqlite");
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("DELETE FROM case_links; INSERT INTO case_links_unfilled (id) VALUES (1);")
        .unwrap();
    assert!(server.db.linked_from(&mother_id).unwrap().is_empty());

    // The next start reads each case once and keeps its links.
    let reopened = fieldcase_server::SqliteDb::open(&path).unwrap();
    assert_eq!(reopened.linked_from(&mother_id).unwrap(), [id]);
    assert_eq!(
        reopened.linked_from(&sister.parse().unwrap()).unwrap(),
        [id]
    );
    let unfilled: i64 = raw
        .query_row("SELECT count(*) FROM case_links_unfilled", [], |r| r.get(0))
        .unwrap();
    assert_eq!(unfilled, 0, "read once");
}

/// A worker in bad faith links many cases to one: its related cases read at most
/// `matching.max_related` of them (the rest counted at `/metrics`), whatever she links.
#[test]
fn a_case_many_cases_link_to_answers_at_most_its_bound() {
    let server = TestServer::start_with(fieldcase_server::Config {
        matching_max_related: 2,
        ..fieldcase_server::Config::default()
    });
    let (anna, anna_t, _a) = server.phone("anna");
    let target = new_case(&anna, "north", "Trần Thị Mai", "1980-01-01", false);
    for n in 0..5 {
        let c = new_case(
            &anna,
            "north",
            &format!("Trần Văn {n}"),
            "2010-01-01",
            false,
        );
        let id: fieldcase_core::CaseId = c.parse().unwrap();
        anna.update(&id, |d, a, now| {
            d.link_case(a, now, None, &target, "parent")
        })
        .unwrap();
    }
    synced(&anna, &server, &anna_t);
    assert_eq!(
        server
            .db
            .linked_from(&target.parse().unwrap())
            .unwrap()
            .len(),
        5
    );
    let (status, answer) = related(&server, &anna_t, &target);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["related"].as_array().unwrap().len(), 2, "{answer}");
    assert!(
        server
            .metrics()
            .contains("fieldcase_related_left_out_total 3"),
        "{}",
        server.metrics()
    );
}

/// The duplicate check's index is built from what every write keeps beside its case (the
/// client as the matcher compares people, sealed with the case's data key), not by opening
/// every document (issue 20: 100,000 documents opened at the first write after a start).
/// A case stored by an earlier version, with nothing kept beside it, is read from its
/// document, and the next start keeps its facts once.
#[test]
fn the_duplicate_check_is_built_from_facts_kept_beside_each_case() {
    use fieldcase_server::matching::MatchIndex;
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let first = new_case(&anna, "north", "Nguyễn Thị Lan", "1990-03-04", false);
    let second = new_case(&anna, "north", "Фёдорова Анна", "1985-01-01", false);
    synced(&anna, &server, &anna_t);
    let facts = server.db.match_facts().unwrap();
    let name_of = |id: &str| {
        facts
            .iter()
            .find(|(c, _)| c.to_string() == id)
            .map(|(_, f)| f.client.name.clone())
    };
    assert_eq!(name_of(&first).as_deref(), Some("Nguyễn Thị Lan"));
    assert_eq!(name_of(&second).as_deref(), Some("Фёдорова Анна"));

    // A fresh index (as after a start) opens no document and finds the pair.
    let build = |db: &dyn Db| {
        let before = db
            .sealing()
            .documents_opened
            .load(std::sync::atomic::Ordering::Relaxed);
        let index = MatchIndex::default();
        assert_eq!(index.build(db, 100).unwrap(), 0);
        let opened = db
            .sealing()
            .documents_opened
            .load(std::sync::atomic::Ordering::Relaxed);
        (index, opened - before)
    };
    let (index, opened) = build(server.db.as_ref());
    assert_eq!(opened, 0, "no document opened to build the index");
    assert_eq!(index.len(), 2);
    let like = {
        let id: fieldcase_core::CaseId = first.parse().unwrap();
        let mut e = index.get(&id).unwrap();
        e.id = fieldcase_core::CaseId::random();
        e
    };
    let found = index.check(&like, 0);
    assert_eq!(found.len(), 1, "the like client is found among the indexed");

    // As a case stored by the version before: nothing beside it. The index reads its
    // document (and only its), and still holds both.
    let path = server.dir.path().join("server.sqlite");
    let raw = rusqlite::Connection::open(&path).unwrap();
    let id: fieldcase_core::CaseId = second.parse().unwrap();
    raw.execute(
        "UPDATE cases SET facts = NULL WHERE id = ?1",
        [&id.as_bytes()[..]],
    )
    .unwrap();
    assert!(server.db.match_facts_of(&id).unwrap().is_none());
    let (index, opened) = build(server.db.as_ref());
    assert_eq!(opened, 1, "the one case with no facts is opened");
    assert_eq!(index.len(), 2);
    assert!(index.get(&id).is_some());
    // Shown by its name, read from its document while nothing is kept beside it.
    assert_eq!(
        fieldcase_server::matching::client_name(server.db.as_ref(), &id).unwrap(),
        Some("Фёдорова Анна".to_string())
    );

    // A database of the version before is marked as holding cases with no facts: the next
    // start keeps its facts, then nothing is opened again.
    raw.execute("INSERT INTO case_facts_unfilled (id) VALUES (1)", [])
        .unwrap();
    let reopened = fieldcase_server::SqliteDb::open(&path).unwrap();
    assert_eq!(
        reopened.match_facts_of(&id).unwrap().map(|f| f.client.name),
        Some("Фёдорова Анна".to_string())
    );
    let (index, opened) = build(&reopened);
    assert_eq!((opened, index.len()), (0, 2));
}
