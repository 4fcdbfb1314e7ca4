//! The partner directory in the console (issue 16): everyone signed in searches it and reads
//! a service's page; only an admin changes a service (status, phones, name, whom it serves,
//! languages), over the version
//! they saw; every edit is in the admin log, and a refused one changes nothing.

use fieldcase_core::directory::{sample, ServiceStatus};
use fieldcase_core::Role;
use fieldcase_server::Db;
use fieldcase_tests::console::{hidden, Console};
use fieldcase_tests::{TestServer, ITERATIONS, PASSWORD};

fn status_of(server: &TestServer, id: &str) -> (i64, ServiceStatus, Vec<String>) {
    let stored = server.db.directory().unwrap().unwrap();
    let d = stored.directory().unwrap();
    let s = d.service(id).unwrap();
    (
        stored.version,
        s.status,
        s.phones.iter().map(|p| p.number.clone()).collect(),
    )
}

#[test]
fn everyone_searches_the_directory_and_only_an_admin_edits_a_service() {
    let server = TestServer::start();
    server
        .db
        .add_user("ada", "Ada", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();

    let mut anna = Console::sign_in(&server.url, "anna", PASSWORD);
    let (status, page) = anna.get("/console/directory");
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"directory-empty\""),
        "nothing imported yet"
    );

    server
        .db
        .put_directory(&sample::generate(40), 0, "admin", 1, usize::MAX)
        .unwrap();
    // A worker: the search folds scripts like the phone's; filters by domain and area.
    let (status, page) = anna.get("/console/directory?q=benh+vien+nhi");
    assert_eq!(status, 200);
    // Names in the reader's language where the entry has one (English here).
    assert!(
        page.contains("href=\"/console/directory/svc-000002\""),
        "{page}"
    );
    assert!(page.contains("Children"), "{page}");
    assert!(
        !page.contains("svc-000000"),
        "legal aid is not a children's hospital"
    );
    assert!(
        page.contains("href=\"/console/directory\""),
        "in the navigation"
    );
    let (_, page) = anna.get("/console/directory?domain=housing&area=%D0%BA%D0%B8%D1%97%D0%B2");
    assert!(
        page.contains("href=\"/console/directory/svc-000009\""),
        "a shelter in Kyiv: {page}"
    );
    assert!(!page.contains("svc-000001\""), "a shelter in Hanoi: {page}");
    let (status, _) = anna.get("/console/directory?age=old");
    assert_eq!(status, 400);

    let (status, page) = anna.get("/console/directory/svc-000002");
    assert_eq!(status, 200);
    assert!(page.contains("+84 0002 2002"), "{page}");
    assert!(
        !page.contains("id=\"edit-service\""),
        "no edit form for a worker"
    );
    let (status, _) = anna.get("/console/directory/svc-nope");
    assert_eq!(status, 404);
    // A worker's post is refused, and nothing changes.
    let csrf = hidden(&page, "csrf");
    let status = anna.post(
        "/console/directory/svc-000002",
        &[
            ("csrf", &csrf),
            ("version", "1"),
            ("status", "inactive"),
            ("phones", ""),
        ],
    );
    assert_eq!(status, 403);
    assert_eq!(status_of(&server, "svc-000002").1, ServiceStatus::Active);

    // An admin changes the status and the phones.
    let mut ada = Console::sign_in(&server.url, "ada", PASSWORD);
    let (_, page) = ada.get("/console/directory/svc-000002");
    assert!(page.contains("id=\"edit-service\""));
    let csrf = hidden(&page, "csrf");
    assert_eq!(hidden(&page, "version"), "1");
    let status = ada.post(
        "/console/directory/svc-000002",
        &[
            ("csrf", &csrf),
            ("version", "1"),
            ("status", "temporarily closed"),
            ("phones", "+84 0002 2002\r\n+84 24 3999 0000\r\n"),
            ("name", "Khám bệnh cho trẻ em dưới 16 tuổi"),
            ("description", "Khám và điều trị ngoại trú"),
            ("minimum_age", "0"),
            ("maximum_age", "15"),
            ("genders", "female, male"),
            ("areas", "Hà Nội\r\nHưng Yên\r\n"),
            ("eligibility", "Trẻ em có thẻ bảo hiểm y tế"),
            ("languages", "vi, EN"),
        ],
    );
    assert_eq!(status, 303);
    // Who the service is for, and its name, as the admin wrote them.
    {
        let d = server.db.directory().unwrap().unwrap().directory().unwrap();
        let s = d.service("svc-000002").unwrap();
        assert_eq!(s.name, "Khám bệnh cho trẻ em dưới 16 tuổi");
        assert_eq!(s.description.as_deref(), Some("Khám và điều trị ngoại trú"));
        assert_eq!(
            (s.eligibility.minimum_age, s.eligibility.maximum_age),
            (Some(0), Some(15))
        );
        assert_eq!(s.eligibility.genders, ["female", "male"]);
        assert_eq!(s.eligibility.areas, ["Hà Nội", "Hưng Yên"]);
        assert_eq!(
            s.eligibility.description.as_deref(),
            Some("Trẻ em có thẻ bảo hiểm y tế")
        );
        let langs: Vec<&str> = s.languages.iter().map(|l| l.code.as_str()).collect();
        assert_eq!(langs, ["en", "vi"], "kept in order, lower case");
    }
    assert_eq!(
        status_of(&server, "svc-000002"),
        (
            2,
            ServiceStatus::TemporarilyClosed,
            vec!["+84 0002 2002".to_owned(), "+84 24 3999 0000".to_owned()]
        )
    );
    let log = server.db.admin_log(10).unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "edit directory service" && e.target.starts_with("svc-000002")),
        "{log:?}"
    );

    // Over a version no longer stored, or with a status that does not exist: refused.
    for (version, status, code) in [("1", "inactive", 409), ("2", "open-ish", 400)] {
        let got = ada.post(
            "/console/directory/svc-000002",
            &[
                ("csrf", &csrf),
                ("version", version),
                ("status", status),
                ("phones", ""),
                ("name", "Khám bệnh"),
            ],
        );
        assert_eq!(got, code, "{version} {status}");
    }
    assert_eq!(status_of(&server, "svc-000002").0, 2);
    // Phones the directory's check refuses (an empty list is allowed; a number of more
    // than 1,024 bytes is not).
    let long = "9".repeat(1100);
    let got = ada.post(
        "/console/directory/svc-000002",
        &[
            ("csrf", &csrf),
            ("version", "2"),
            ("status", "active"),
            ("phones", &long),
            ("name", "Khám bệnh"),
        ],
    );
    assert_eq!(got, 400);
    assert_eq!(status_of(&server, "svc-000002").0, 2);
    // No name, an age that is not one, a gender the check does not know: refused.
    for (field, value) in [("name", " "), ("maximum_age", "ten"), ("genders", "robot")] {
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("version", "2"),
            ("status", "active"),
            ("name", "Khám bệnh"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        assert_eq!(
            ada.post("/console/directory/svc-000002", &form),
            400,
            "{field}"
        );
    }
    assert_eq!(status_of(&server, "svc-000002").0, 2);

    // The worker's search finds the service by its new name, with its new status.
    let (_, page) = anna.get("/console/directory?q=kham+benh+cho+tre+em");
    assert!(page.contains("svc-000002"), "{page}");
    assert!(page.contains("Temporarily closed"), "{page}");
}
