//! The console's people pages: a supervisor sees the people of her team with their open
//! cases and phones, revokes a lost phone, hands a leaver's caseload over to the colleagues
//! the console proposes (the lightest caseloads); an admin gives someone a new role or team.
//! Every refusal changes nothing; everything done is in the administrative log.

use fieldcase_core::{NewCase, Role};
use fieldcase_server::Db;
use fieldcase_tests::console::{hidden, Console};
use fieldcase_tests::{TestServer, ITERATIONS, PASSWORD};

fn case_for(team: &str, name: &str) -> NewCase {
    let mut n = NewCase {
        team: team.into(),
        ..Default::default()
    };
    n.client.name = Some(name.into());
    n
}

/// The `<input>` of a checkbox for `value` in a page, as the browser gets it.
fn checkbox<'a>(page: &'a str, value: &str) -> &'a str {
    let marker = format!("name=\"to\" value=\"{value}\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{value} is offered"));
    &page[at..at + page[at..].find('>').unwrap()]
}

#[test]
fn a_supervisor_sees_her_team_revokes_a_phone_and_hands_a_caseload_to_the_proposed_colleagues() {
    let server = TestServer::start();
    server
        .db
        .add_user(
            "chi",
            "Chi",
            Role::Worker,
            Some("north"),
            PASSWORD,
            ITERATIONS,
        )
        .unwrap();
    let (anna, anna_token, _a) = server.phone("anna");
    let (bao, bao_token, _b) = server.phone("bao");
    let (_sam, _sam_token, _s) = server.phone("sam");
    for name in ["Фёдорова Анна", "Nguyễn Thị Lan", "مریم احمدی"] {
        anna.create_case(case_for("north", name)).unwrap();
    }
    bao.create_case(case_for("north", "Сомчай")).unwrap();
    assert!(anna
        .sync(&server.url, &anna_token)
        .unwrap()
        .errors
        .is_empty());
    assert!(bao.sync(&server.url, &bao_token).unwrap().errors.is_empty());

    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, list) = console.get("/console/people");
    assert_eq!(status, 200);
    for name in ["anna", "bao", "chi", "malee"] {
        assert!(
            list.contains(&format!("/console/people/{name}\"")),
            "{name}"
        );
    }
    assert!(
        !list.contains("/console/people/sam"),
        "another team's worker"
    );
    // Another team's worker and an unknown name answer alike.
    assert_eq!(console.get("/console/people/sam").0, 404);
    assert_eq!(console.get("/console/people/nobody").0, 404);

    // Anna's page: her phone, her three cases, and the proposal: Chi and Malee (no
    // cases) rather than Bao (one).
    let (status, page) = console.get("/console/people/anna");
    assert_eq!(status, 200);
    assert!(
        page.contains("anna&#39;s phone") || page.contains("anna's phone"),
        "her phone"
    );
    assert!(page.contains("3 open cases"), "her caseload");
    assert!(checkbox(&page, "chi").contains("checked"));
    assert!(checkbox(&page, "malee").contains("checked"));
    assert!(!checkbox(&page, "bao").contains("checked"));
    assert!(
        !page.contains("name=\"to\" value=\"anna\""),
        "not to herself"
    );
    assert!(
        !page.contains("name=\"to\" value=\"sam\""),
        "not to another team"
    );
    assert!(!page.contains("/move\""), "moving people is for admins");
    let csrf = hidden(&page, "csrf");

    // A hand-over to no one, or to someone of another team: refused, nothing changed.
    let anna_user = server.db.user_by_username("anna").unwrap().unwrap();
    assert_eq!(
        console.post("/console/people/anna/handover", &[("csrf", &csrf)]),
        400
    );
    assert_eq!(
        console.post(
            "/console/people/anna/handover",
            &[("csrf", &csrf), ("to", "sam")]
        ),
        400
    );
    assert_eq!(server.db.cases_of(&anna_user.id).unwrap().len(), 3);

    // The proposal, taken: the cases go to Chi and Malee in turn.
    assert_eq!(
        console.post(
            "/console/people/anna/handover",
            &[("csrf", &csrf), ("to", "chi"), ("to", "malee")]
        ),
        303
    );
    assert!(server.db.cases_of(&anna_user.id).unwrap().is_empty());
    let chi = server.db.user_by_username("chi").unwrap().unwrap();
    let malee = server.db.user_by_username("malee").unwrap().unwrap();
    let (to_chi, to_malee) = (
        server.db.cases_of(&chi.id).unwrap().len(),
        server.db.cases_of(&malee.id).unwrap().len(),
    );
    assert_eq!((to_chi, to_malee), (2, 1));
    // Anna's phone hands in and drops them at its next sync.
    assert!(anna
        .sync(&server.url, &anna_token)
        .unwrap()
        .errors
        .is_empty());
    assert!(anna.case_ids().is_empty());

    // Bao's phone is lost: Malee revokes it from his page; its next contact wipes it.
    let bao_user = server.db.user_by_username("bao").unwrap().unwrap();
    let bao_device = bao.user().unwrap().device_id;
    let (_, page) = console.get("/console/people/bao");
    assert!(page.contains(&format!("/console/people/bao/devices/{bao_device}/revoke")));
    // A device of another person cannot be revoked through this page.
    let sam_user = server.db.user_by_username("sam").unwrap().unwrap();
    let sam_device = server.db.devices_of(&sam_user.id, 0).unwrap()[0]
        .device
        .id
        .clone();
    assert_eq!(
        console.post(
            &format!("/console/people/bao/devices/{sam_device}/revoke"),
            &[("csrf", &csrf)]
        ),
        404
    );
    assert_eq!(
        console.post(
            &format!("/console/people/sam/devices/{sam_device}/revoke"),
            &[("csrf", &csrf)]
        ),
        404
    );
    assert!(!server.db.device(&sam_device).unwrap().unwrap().disabled);
    assert_eq!(
        console.post(
            &format!("/console/people/bao/devices/{bao_device}/revoke"),
            &[("csrf", &csrf)]
        ),
        303
    );
    assert!(server.db.device(&bao_device).unwrap().unwrap().disabled);
    assert!(matches!(
        bao.sync(&server.url, &bao_token),
        Err(fieldcase_core::Error::Wiped)
    ));
    assert_eq!(server.db.cases_of(&bao_user.id).unwrap().len(), 1);
    // A supervisor does not move people.
    assert_eq!(
        console.post(
            "/console/people/anna/move",
            &[("csrf", &csrf), ("role", "worker"), ("team", "south")]
        ),
        403
    );
    assert_eq!(
        server.db.user_by_username("anna").unwrap().unwrap(),
        anna_user
    );

    let log: Vec<(String, String)> = server
        .db
        .admin_log(10)
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.target))
        .collect();
    assert!(
        log.contains(&("hand over caseload".into(), "anna".into())),
        "{log:?}"
    );
    assert!(
        log.contains(&("revoke device".into(), bao_device.clone())),
        "{log:?}"
    );
    assert_eq!(log.len(), 2, "refusals leave no entry: {log:?}");
}

#[test]
fn an_admin_moves_a_worker_once_her_cases_are_handed_over() {
    let server = TestServer::start();
    server
        .db
        .add_user("root", "Root", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();
    let (anna, anna_token, _a) = server.phone("anna");
    anna.create_case(case_for("north", "Олександр Коваленко"))
        .unwrap();
    assert!(anna
        .sync(&server.url, &anna_token)
        .unwrap()
        .errors
        .is_empty());

    let mut console = Console::sign_in(&server.url, "root", PASSWORD);
    let (status, page) = console.get("/console/people/anna");
    assert_eq!(status, 200);
    assert!(page.contains("/console/people/anna/move\""));
    let csrf = hidden(&page, "csrf");
    let before = server.db.user_by_username("anna").unwrap().unwrap();
    // With a case still hers: refused, she stays where she is.
    assert_eq!(
        console.post(
            "/console/people/anna/move",
            &[("csrf", &csrf), ("role", "worker"), ("team", "south")]
        ),
        409
    );
    // No such team, no such role, a worker without a team: refused.
    for form in [
        [("role", "worker"), ("team", "west")],
        [("role", "boss"), ("team", "south")],
        [("role", "worker"), ("team", "")],
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        assert_eq!(
            console.post("/console/people/anna/move", &fields),
            400,
            "{form:?}"
        );
    }
    assert_eq!(server.db.user_by_username("anna").unwrap().unwrap(), before);
    // The last active admin stays one.
    assert_eq!(
        console.post(
            "/console/people/root/move",
            &[("csrf", &csrf), ("role", "worker"), ("team", "north")]
        ),
        409
    );
    // Handed over, then moved.
    assert_eq!(
        console.post(
            "/console/people/anna/handover",
            &[("csrf", &csrf), ("to", "bao")]
        ),
        303
    );
    assert_eq!(
        console.post(
            "/console/people/anna/move",
            &[("csrf", &csrf), ("role", "supervisor"), ("team", "south")]
        ),
        303
    );
    let after = server.db.user_by_username("anna").unwrap().unwrap();
    assert_eq!(
        (after.role, after.team.as_deref()),
        (Role::Supervisor, Some("south"))
    );
    let log: Vec<String> = server
        .db
        .admin_log(10)
        .unwrap()
        .into_iter()
        .map(|e| format!("{}: {}", e.action, e.target))
        .collect();
    assert!(
        log.contains(&"set role and team: anna: supervisor south".to_string()),
        "{log:?}"
    );
    // Her new team's page lists her; the admin's people list shows everyone.
    let (_, list) = console.get("/console/people");
    for name in ["anna", "bao", "malee", "sam", "root"] {
        assert!(
            list.contains(&format!("/console/people/{name}\"")),
            "{name}"
        );
    }
}

#[test]
fn an_admin_renames_a_team_and_everyone_sees_the_new_name_while_the_key_stays() {
    let server = TestServer::start();
    server
        .db
        .add_user("root", "Root", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();
    let (anna, anna_token, _a) = server.phone("anna");
    let id = anna
        .create_case(case_for("north", "Олександр Коваленко"))
        .unwrap();
    assert!(anna
        .sync(&server.url, &anna_token)
        .unwrap()
        .errors
        .is_empty());

    // A worker may not rename a team, over REST or in the console.
    let (status, _) = server.rest(
        "POST",
        "/v1/admin/teams/north/label",
        Some(&anna_token),
        Some(serde_json::json!({"label": "Mine"})),
    );
    assert_eq!(status, 403);
    let mut bao = Console::sign_in(&server.url, "bao", PASSWORD);
    let (_, page) = bao.get("/console/account");
    let csrf = hidden(&page, "csrf");
    assert_eq!(
        bao.post(
            "/console/admin/teams/north/label",
            &[("csrf", &csrf), ("label", "Mine")]
        ),
        403
    );

    // The admin renames it in the console; unknown teams and taken names are refused.
    let mut root = Console::sign_in(&server.url, "root", PASSWORD);
    let (_, page) = root.get("/console/admin");
    let csrf = hidden(&page, "csrf");
    assert_eq!(
        root.post(
            "/console/admin/teams/west/label",
            &[("csrf", &csrf), ("label", "West")]
        ),
        404
    );
    assert_eq!(
        root.post(
            "/console/admin/teams/north/label",
            &[("csrf", &csrf), ("label", "south")]
        ),
        409
    );
    assert_eq!(
        root.post(
            "/console/admin/teams/north/label",
            &[("csrf", &csrf), ("label", "Команда Північ")]
        ),
        303
    );
    // Shown everywhere by its new name; its key, the users' team and the case's, stays.
    let (_, admin) = root.get("/console/admin");
    assert!(admin.contains("Команда Північ"));
    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let (_, record) = malee.get(&format!("/console/cases/{id}"));
    assert!(record.contains("Команда Північ"), "the record's header");
    let (_, people) = malee.get("/console/people");
    assert!(people.contains("Команда Північ"), "the people list");
    assert_eq!(
        server
            .db
            .user_by_username("anna")
            .unwrap()
            .unwrap()
            .team
            .as_deref(),
        Some("north")
    );
    assert!(anna
        .sync(&server.url, &anna_token)
        .unwrap()
        .errors
        .is_empty());
    assert_eq!(anna.get_case(&id).unwrap().team.as_deref(), Some("north"));
    // Over REST, back to its own name.
    let (_, v) = server.rest(
        "POST",
        "/v1/login",
        None,
        Some(
            serde_json::json!({"username": "root", "password": PASSWORD, "device_name": "laptop",
            "actor_id": automerge::ActorId::random().to_hex_string()}),
        ),
    );
    let token = v["token"].as_str().unwrap().to_string();
    let (status, team) = server.rest(
        "POST",
        "/v1/admin/teams/north/label",
        Some(&token),
        Some(serde_json::json!({"label": "north"})),
    );
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["label"], serde_json::Value::Null);
    let log: Vec<String> = server
        .db
        .admin_log(10)
        .unwrap()
        .into_iter()
        .map(|e| format!("{}: {}", e.action, e.target))
        .collect();
    assert!(
        log.contains(&"rename team: north → Команда Північ".to_string()),
        "{log:?}"
    );
    assert!(
        log.contains(&"rename team: north → north".to_string()),
        "{log:?}"
    );
    assert_eq!(log.len(), 2, "refusals leave no entry: {log:?}");
}

/// What a phone holds unsynced, as far as the server can tell: each sync begins and ends
/// with the phone's count of cases holding changes the server has not acknowledged; the
/// server keeps the latest per device, and a supervisor sees it beside the phone.
#[test]
fn a_supervisor_sees_whether_a_phone_held_unsynced_work_at_its_last_sync() {
    use fieldcase_core::sync::protocol::Frame;
    let server = TestServer::start();
    let (anna, anna_token, _a) = server.phone("anna");
    let (bao, bao_token, _b) = server.phone("bao");
    anna.create_case(case_for("north", "Фёдорова Анна"))
        .unwrap();
    // A case for another team: the server refuses it, so it stays on the phone unsynced.
    anna.create_case(case_for("south", "Nguyễn Thị Lan"))
        .unwrap();
    let report = anna.sync(&server.url, &anna_token).unwrap();
    assert_eq!(report.errors.len(), 1, "{report:?}");
    bao.create_case(case_for("north", "Somchai Jaidee"))
        .unwrap();
    assert!(bao.sync(&server.url, &bao_token).unwrap().errors.is_empty());

    let unsynced = |user: &str| {
        let id = server.db.user_by_username(user).unwrap().unwrap().id;
        server.db.devices_of(&id, 0).unwrap()[0].unsynced
    };
    let anna_says = unsynced("anna").expect("Anna's phone said");
    assert_eq!((anna_says.cases, anna_says.done), (1, true));
    let bao_says = unsynced("bao").expect("Bảo's phone said");
    assert_eq!((bao_says.cases, bao_says.done), (0, true));

    // The supervisor sees it, in the console and over REST.
    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);
    let (_, page) = console.get("/console/people/anna");
    assert!(
        page.contains("1 case unsynced after its last sync"),
        "{page}"
    );
    let (_, page) = console.get("/console/people/bao");
    assert!(page.contains("none after its last sync"));
    let (_, malee_token, _m) = server.phone("malee");
    let (status, devices) = server.rest(
        "GET",
        "/v1/admin/users/anna/devices",
        Some(&malee_token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(devices[0]["unsynced"]["cases"], 1);
    assert_eq!(devices[0]["unsynced"]["done"], true);
    assert!(
        devices[0]["app_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("fieldcase ")),
        "{devices}"
    );

    // A sync cut after it began: the count it began with, marked as not finished.
    let mut s = fieldcase_tests::raw::joined(&server, &bao_token);
    s.send(tungstenite::Message::Binary(
        Frame::Status {
            sender_id: "raw".into(),
            unsynced_cases: 4,
            done: false,
            app_version: None,
        }
        .encode()
        .into(),
    ))
    .unwrap();
    // A probe answered after the status was handled (frames are handled in order).
    s.send(tungstenite::Message::Binary(
        Frame::Request {
            sender_id: "raw".into(),
            target_id: String::new(),
            document_id: fieldcase_core::CaseId::random().into(),
            data: {
                use automerge::sync::SyncDoc;
                automerge::Automerge::new()
                    .generate_sync_message(&mut automerge::sync::State::new())
                    .unwrap()
                    .encode()
            },
        }
        .encode()
        .into(),
    ))
    .unwrap();
    assert!(fieldcase_tests::raw::next(&mut s).is_some());
    drop(s);
    let cut = unsynced("bao").unwrap();
    assert_eq!((cut.cases, cut.done), (4, false));
    let (_, page) = console.get("/console/people/bao");
    assert!(page.contains("up to 4 unsynced: its last sync did not finish"));
    // A status that names no version keeps the last one named.
    let bao_id = server.db.user_by_username("bao").unwrap().unwrap().id;
    assert!(server.db.devices_of(&bao_id, 0).unwrap()[0]
        .app_version
        .as_deref()
        .is_some_and(|v| v.starts_with("fieldcase ")));
}
