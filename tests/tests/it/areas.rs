//! Counts by area (issue 21): the agency's areas kept by the server (an admin adds and
//! renames them on the console), sent to phones at sync, the client's area set on the
//! phone from that list and by a supervisor on the console record, refused when the list
//! lacks it on every write path, and counted in the period's reports with "area not
//! recorded" a row of its own.

use fieldcase_core::case::{ClientInput, IntakeInput};
use fieldcase_core::{NewCase, RefusalKind, Role};
use fieldcase_server::db::areas::AreaLimits;
use fieldcase_server::Db;
use fieldcase_tests::console::{hidden, Console};
use fieldcase_tests::{TestServer, ITERATIONS, PASSWORD};

fn new_case(name: &str, day: &str, area: Option<&str>) -> NewCase {
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some(name.into());
    new.client.area = area.map(str::to_string);
    new.intake = Some(IntakeInput {
        date: Some(day.into()),
        ..Default::default()
    });
    new
}

/// The count in the row labelled `label` of the period's report `id`.
fn count_in(page: &str, id: &str, label: &str) -> Option<String> {
    let start = page.find(&format!("id=\"period-{id}\""))?;
    let part = &page[start..];
    let end = part[1..].find("id=\"period-").map_or(part.len(), |e| e + 1);
    let part = &part[..end];
    let row = &part[part.find(&format!("<bdi>{label}</bdi></th>"))?..];
    let first = row.find("<td class=\"num\">")? + "<td class=\"num\">".len();
    Some(row[first..first + row[first..].find('<')?].to_string())
}

#[test]
fn areas_reach_phones_are_checked_on_every_write_and_cases_count_by_area() {
    let server = TestServer::start();
    server
        .db
        .add_user("ada", "Ada", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();
    server
        .db
        .add_user(
            "sue",
            "Sue",
            Role::Supervisor,
            Some("south"),
            PASSWORD,
            ITERATIONS,
        )
        .unwrap();

    // An admin adds two communes on the console; a bad code and a bad name are refused in
    // words, and nothing is written.
    let mut ada = Console::sign_in(&server.url, "ada", PASSWORD);
    let (status, page) = ada.get("/console/admin");
    assert_eq!(status, 200);
    assert!(page.contains("id=\"areas\""));
    let csrf = hidden(&page, "csrf");
    for (code, name) in [("00001", "Xã Tân Phú"), ("00004", "Xã Phú Mỹ")] {
        let status = ada.post(
            "/console/admin/areas",
            &[("csrf", &csrf), ("code", code), ("name", name)],
        );
        assert_eq!(status, 303, "{code}");
    }
    let (status, page) = ada.post_page(
        "/console/admin/areas",
        &[("csrf", &csrf), ("code", "Xã 7"), ("name", "Xã Bảy")],
    );
    assert_eq!(status, 400);
    assert!(page.contains("An area code has 1 to 32 letters"), "{page}");
    let (status, page) = ada.post_page(
        "/console/admin/areas",
        &[("csrf", &csrf), ("code", "00007"), ("name", " ")],
    );
    assert_eq!(status, 400);
    assert!(
        page.contains("An area&#39;s name has 1 to 100 characters")
            || page.contains("An area's name has 1 to 100 characters"),
        "{page}"
    );
    let (_, page) = ada.get("/console/admin");
    assert!(page.contains("Xã Tân Phú") && page.contains("Xã Phú Mỹ"));
    assert!(!page.contains("Xã Bảy"));
    assert_eq!(server.db.areas().unwrap().len(), 2);
    // A worker may not add one.
    let mut anna_console = Console::sign_in(&server.url, "anna", PASSWORD);
    let (_, page) = anna_console.get("/console");
    let anna_csrf = hidden(&page, "csrf");
    assert_eq!(
        anna_console.post(
            "/console/admin/areas",
            &[("csrf", &anna_csrf), ("code", "00010"), ("name", "Xã Mười")]
        ),
        403
    );
    assert_eq!(server.db.areas().unwrap().len(), 2);

    // The phone gets the list at sync, and sets the client's area from it only.
    let (anna, token, _dir) = server.phone("anna");
    let report = anna.sync(&server.url, &token).unwrap();
    assert!(report.errors.is_empty());
    let codes: Vec<String> = anna.areas().unwrap().into_iter().map(|a| a.code).collect();
    assert_eq!(codes, ["00001", "00004"]);
    let refused = anna.create_case(new_case("Lan", "2026-10-02", Some("99999")));
    assert!(
        matches!(refused, Err(fieldcase_core::Error::InvalidInput { .. })),
        "{refused:?}"
    );
    let in_phu_my = anna
        .create_case(new_case("Nguyễn Thị Lan", "2026-10-01", Some("00004")))
        .unwrap();
    let unrecorded = anna
        .create_case(new_case("Trần Văn Minh", "2026-10-05", None))
        .unwrap();
    let later = anna
        .create_case(new_case("Lê Thị Hoa", "2026-10-07", None))
        .unwrap();
    anna.update(&later, |c, me, now| {
        c.update_client(
            me,
            now,
            ClientInput {
                area: Some("00001".into()),
                ..Default::default()
            },
        )
    })
    .unwrap();
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());

    // A code the list lacks, written past the phone's check (an app of its own, a list
    // changed meanwhile): the server refuses the changes.
    anna.update(&unrecorded, |c, me, now| {
        c.set_field(me, now, "client/area", &serde_json::json!("99999"))
    })
    .unwrap();
    let report = anna.sync(&server.url, &token).unwrap();
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].refusal, Some(RefusalKind::InvalidDocument));
    assert_eq!(
        server
            .state
            .metrics
            .case_area_refused
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );

    // The supervisor's record shows the area by its name, and sets it from the list.
    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, page) = malee.get(&format!("/console/cases/{in_phu_my}"));
    assert_eq!(status, 200);
    assert!(page.contains("Xã Phú Mỹ"), "the area's name on the record");
    let csrf = hidden(&page, "csrf");
    let area_path = format!("/console/cases/{in_phu_my}/area");
    assert_eq!(
        malee.post(&area_path, &[("csrf", &csrf), ("area", "00001")]),
        303
    );
    let (_, page) = malee.get(&format!("/console/cases/{in_phu_my}"));
    let client = &page[page.find("id=\"client\"").unwrap()..];
    let field = &client[client.find("<dt>Area</dt>").expect("the area field")..];
    let field = &field[..field.find("</dd>").unwrap()];
    assert!(
        field.contains("Xã Tân Phú") && field.contains("00001"),
        "{field}"
    );
    // Not in the list: refused in words, nothing written.
    let (status, page) = malee.post_page(&area_path, &[("csrf", &csrf), ("area", "77777")]);
    assert_eq!(status, 400);
    assert!(
        page.contains("There is no area with the code “77777”"),
        "{page}"
    );
    // A worker may not set it on the console; a supervisor of another team does not find
    // the case; an unknown case is not found.
    assert_eq!(
        anna_console.post(&area_path, &[("csrf", &anna_csrf), ("area", "00004")]),
        403
    );
    let mut sue = Console::sign_in(&server.url, "sue", PASSWORD);
    let (_, page) = sue.get("/console");
    let sue_csrf = hidden(&page, "csrf");
    assert_eq!(
        sue.post(&area_path, &[("csrf", &sue_csrf), ("area", "00004")]),
        404
    );
    assert_eq!(
        sue.post(&area_path, &[("csrf", &sue_csrf), ("area", "77777")]),
        404
    );
    let unknown = format!("/console/cases/{}/area", fieldcase_core::CaseId::random());
    assert_eq!(
        malee.post(&unknown, &[("csrf", &csrf), ("area", "00004")]),
        404
    );
    let file =
        fieldcase_core::CaseDoc::load(&server.db.case_document(&in_phu_my).unwrap().unwrap())
            .unwrap()
            .read()
            .unwrap();
    assert_eq!(file.client.area.as_deref(), Some("00001"));

    // Renamed by the admin: the record and the reports say the new name (the case keeps
    // the code).
    let csrf_ada = hidden(&ada.get("/console/admin").1, "csrf");
    assert_eq!(
        ada.post(
            "/console/admin/areas",
            &[
                ("csrf", &csrf_ada),
                ("code", "00001"),
                ("name", "Thị trấn Tân Phú")
            ]
        ),
        303
    );

    // The period's reports: two cases in 00001 (one set on the phone, one on the
    // console), none left in 00004, one with no area recorded.
    let (status, page) = malee.get("/console/reports?from=2026-09-01&to=2026-11-30");
    assert_eq!(status, 200);
    assert_eq!(
        count_in(&page, "area", "Thị trấn Tân Phú (00001)").as_deref(),
        Some("2"),
        "{page}"
    );
    assert_eq!(count_in(&page, "area", "Xã Phú Mỹ (00004)"), None);
    assert_eq!(
        count_in(&page, "area", "Area not recorded").as_deref(),
        Some("1")
    );
    let (status, csv) = malee.get("/console/reports/period-area.csv?from=2026-09-01&to=2026-11-30");
    assert_eq!(status, 200);
    assert_eq!(
        csv,
        "Group,Cases\r\nThị trấn Tân Phú (00001),2\r\nArea not recorded,1\r\n"
    );
    assert!(!csv.contains("Lan") && !csv.contains("Minh"), "no names");
    let (status, _) =
        malee.get("/console/reports/period-nothing.csv?from=2026-09-01&to=2026-11-30");
    assert_eq!(status, 404);
}

#[test]
fn areas_past_their_bound_are_refused_and_counted() {
    let server = TestServer::start_with(fieldcase_server::Config {
        areas: AreaLimits {
            max_areas: 1,
            max_name_chars: 10,
        },
        ..Default::default()
    });
    server
        .db
        .add_user("ada", "Ada", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();
    let mut ada = Console::sign_in(&server.url, "ada", PASSWORD);
    let (_, page) = ada.get("/console/admin");
    let csrf = hidden(&page, "csrf");
    assert_eq!(
        ada.post(
            "/console/admin/areas",
            &[("csrf", &csrf), ("code", "A1"), ("name", "Xã Một")]
        ),
        303
    );
    let (status, page) = ada.post_page(
        "/console/admin/areas",
        &[("csrf", &csrf), ("code", "A2"), ("name", "Xã Hai")],
    );
    assert_eq!(status, 409);
    assert!(page.contains("The server keeps at most 1 areas"), "{page}");
    let (status, _) = ada.post_page(
        "/console/admin/areas",
        &[
            ("csrf", &csrf),
            ("code", "A1"),
            ("name", "Xã Một Hai Ba Bốn"),
        ],
    );
    assert_eq!(status, 400);
    assert_eq!(
        server
            .state
            .metrics
            .areas_refused
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    assert_eq!(server.db.areas().unwrap()[0].name, "Xã Một");
}

/// `POST /v1/admin/areas` and `GET /v1/areas` as a phone in bad faith meets them: a worker's
/// token adding an area is refused and nothing is written; malformed bodies and bad codes
/// are clear errors that write nothing; the list answers only the signed-in.
#[test]
fn the_areas_api_refuses_a_worker_and_bad_input_and_writes_nothing() {
    let server = TestServer::start();
    server
        .db
        .add_user("ada", "Ada", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();
    let (_w, worker, _wd) = server.phone("anna");
    let (_a, admin, _ad) = server.phone("ada");
    let put = |token: &str, body: serde_json::Value| {
        server.rest("POST", "/v1/admin/areas", Some(token), Some(body))
    };
    let (status, _) = put(
        &worker,
        serde_json::json!({"code": "00001", "name": "Xã Một"}),
    );
    assert_eq!(status, 403);
    let (status, body) = put(
        &admin,
        serde_json::json!({"code": "no spaces!", "name": "Xã Một"}),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("area_code_invalid"))
    );
    let (status, _) = put(&admin, serde_json::json!({"code": "00001"}));
    assert_eq!(status, 400, "a body without a name");
    let (status, _) = put(&admin, serde_json::json!("00001 Xã Một"));
    assert_eq!(status, 400, "a body of another shape");
    let (status, _) = put(&admin, serde_json::json!({"code": 1, "name": "Xã Một"}));
    assert_eq!(status, 400, "a code that is not a string");
    assert!(server.db.areas().unwrap().is_empty(), "nothing written");

    let (status, _) = put(
        &admin,
        serde_json::json!({"code": "00001", "name": "Xã Một"}),
    );
    assert_eq!(status, 200);
    assert_eq!(server.rest("GET", "/v1/areas", None, None).0, 401);
    assert_eq!(
        server.rest("GET", "/v1/areas", Some("not a token"), None).0,
        401
    );
    let (status, list) = server.rest("GET", "/v1/areas", Some(&worker), None);
    assert_eq!(status, 200);
    assert_eq!(list[0]["code"].as_str(), Some("00001"));
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}
