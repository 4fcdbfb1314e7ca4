//! Running fieldcase in an agency (issue 22, first part): a lost phone revoked while its
//! worker carries on from another, a user who changes their own password, a user enabled
//! again, readiness, and every administrative action in the log.

use fieldcase_core::{Error, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::{TestServer, PASSWORD};
use serde_json::json;

fn login(server: &TestServer, user: &str, password: &str) -> (u16, serde_json::Value) {
    let actor = automerge::ActorId::random().to_hex_string();
    server.rest(
        "POST",
        "/v1/login",
        None,
        Some(json!({"username": user, "password": password, "device_name": "a phone", "actor_id": actor})),
    )
}

#[test]
fn a_lost_phone_is_revoked_and_wiped_while_its_worker_carries_on_from_another() {
    let server = TestServer::start();
    let (lost, lost_token, _l) = server.phone("anna");
    let (spare, spare_token, _s) = server.phone("anna");
    let mut n = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some("Ông Nguyễn Văn Bình".into());
    let id = lost.create_case(n).unwrap();
    lost.sync(&server.url, &lost_token).unwrap();
    spare.sync(&server.url, &spare_token).unwrap();
    assert_eq!(spare.case_ids(), vec![id]);

    // Her supervisor sees her two phones, and revokes the lost one.
    let (_, malee) = login(&server, "malee", PASSWORD);
    let malee = malee["token"].as_str().unwrap().to_string();
    let (status, devices) = server.rest("GET", "/v1/admin/users/anna/devices", Some(&malee), None);
    assert_eq!(status, 200, "{devices}");
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert!(devices.iter().all(|d| d["name"] == "anna's phone"
        && d["open_sessions"] == 1
        && d["disabled"] == false
        && d["last_seen"].is_i64()));
    let lost_device = lost.user().unwrap().device_id;
    let (status, v) = server.rest(
        "POST",
        &format!("/v1/admin/devices/{lost_device}/revoke"),
        Some(&malee),
        None,
    );
    assert_eq!(status, 200, "{v}");

    // The lost phone's next contact wipes it; the other goes on.
    assert!(matches!(
        lost.sync(&server.url, &lost_token),
        Err(Error::Wiped)
    ));
    assert!(lost.case_ids().is_empty(), "the lost phone holds no case");
    let report = spare.sync(&server.url, &spare_token).unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(spare.case_ids(), vec![id]);

    // Anna sees her own devices, the revoked one marked.
    let (status, mine) = server.rest("GET", "/v1/me/devices", Some(&spare_token), None);
    assert_eq!(status, 200);
    let revoked: Vec<bool> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["disabled"].as_bool().unwrap())
        .collect();
    assert_eq!(revoked.iter().filter(|r| **r).count(), 1);

    // Nobody else learns of her devices: a worker, or a worker of another team.
    for user in ["bao", "sam"] {
        let (_, v) = login(&server, user, PASSWORD);
        let t = v["token"].as_str().unwrap();
        let (status, _) = server.rest("GET", "/v1/admin/users/anna/devices", Some(t), None);
        assert_eq!(status, 404, "{user}");
        let (status, _) = server.rest(
            "POST",
            &format!("/v1/admin/devices/{lost_device}/revoke"),
            Some(t),
            None,
        );
        assert_eq!(status, 404, "{user}");
    }
    // Unknown users and devices: a clear 404, nothing changed.
    let (status, _) = server.rest("GET", "/v1/admin/users/nobody/devices", Some(&malee), None);
    assert_eq!(status, 404);
    let (status, _) = server.rest(
        "POST",
        "/v1/admin/devices/d-0000/revoke",
        Some(&malee),
        None,
    );
    assert_eq!(status, 404);
    let log = server.db.admin_log(10).unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].action.as_str(), log[0].target.as_str()),
        ("revoke device", lost_device.as_str())
    );
}

#[test]
fn a_user_changes_their_own_password_and_every_session_ends() {
    let server = TestServer::start();
    let (status, v) = login(&server, "anna", PASSWORD);
    assert_eq!(status, 200);
    let token = v["token"].as_str().unwrap().to_string();
    let change = |current: &str, new: &str| {
        server.rest(
            "POST",
            "/v1/me/password",
            Some(&token),
            Some(json!({"current_password": current, "new_password": new})),
        )
    };
    let (status, v) = change("not my password", "a brand new passphrase");
    assert_eq!(status, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("current password"));
    let (status, v) = change(PASSWORD, "a brand new passphrase");
    assert_eq!(status, 200, "{v}");
    let (status, _) = server.rest("GET", "/v1/me", Some(&token), None);
    assert_eq!(status, 401, "the session ended");
    assert_eq!(login(&server, "anna", PASSWORD).0, 401);
    assert_eq!(login(&server, "anna", "a brand new passphrase").0, 200);
}

#[test]
fn an_admin_enables_a_user_again_and_readiness_answers() {
    let server = TestServer::start();
    server
        .db
        .add_user(
            "root",
            "Root",
            fieldcase_core::Role::Admin,
            None,
            PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    let (_, v) = login(&server, "root", PASSWORD);
    let admin = v["token"].as_str().unwrap().to_string();
    let (status, _) = server.rest("POST", "/v1/admin/users/bao/disable", Some(&admin), None);
    assert_eq!(status, 200);
    assert_eq!(login(&server, "bao", PASSWORD).0, 401);
    let (status, _) = server.rest("POST", "/v1/admin/users/bao/enable", Some(&admin), None);
    assert_eq!(status, 200);
    assert_eq!(login(&server, "bao", PASSWORD).0, 200);
    let (status, _) = server.rest("POST", "/v1/admin/users/nobody/enable", Some(&admin), None);
    assert_eq!(status, 404);
    let (status, log) = server.rest("GET", "/v1/admin/log", Some(&admin), None);
    assert_eq!(status, 200);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["enable user", "disable user"]);
    // Only admins read the log.
    let (_, v) = login(&server, "malee", PASSWORD);
    let (status, _) = server.rest("GET", "/v1/admin/log", v["token"].as_str(), None);
    assert_eq!(status, 403);
    let (status, body) = server.rest("GET", "/readyz", None, None);
    assert_eq!((status, body), (200, json!("ready")));
}

/// A worker moves to another team: refused while cases are assigned to him; his supervisor
/// hands his caseload over to named colleagues in one action (his phone drops the cases at
/// its next sync, the colleagues' phones get them); then the move goes through.
#[test]
fn a_leavers_caseload_is_handed_over_in_one_action_before_he_moves() {
    let server = TestServer::start();
    server
        .db
        .add_user(
            "root",
            "Root",
            fieldcase_core::Role::Admin,
            None,
            PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    let (bao, bao_token, _b) = server.phone("bao");
    let ids: Vec<_> = (0..3)
        .map(|i| {
            let mut n = NewCase {
                team: "north".into(),
                ..Default::default()
            };
            n.client.name = Some(format!("Дмитро Шевченко {i}"));
            bao.create_case(n).unwrap()
        })
        .collect();
    bao.sync(&server.url, &bao_token).unwrap();
    let token = |user: &str| {
        let (_, v) = login(&server, user, PASSWORD);
        v["token"].as_str().unwrap().to_string()
    };
    let (admin, malee) = (token("root"), token("malee"));
    let move_bao = || {
        server.rest(
            "POST",
            "/v1/admin/users/bao/role",
            Some(&admin),
            Some(json!({"role": "worker", "team": "south"})),
        )
    };
    let (status, v) = move_bao();
    assert_eq!(status, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("hand them over"));

    // Bad hand-overs change nothing.
    let hand_over = |by: &str, to: serde_json::Value| {
        server.rest(
            "POST",
            "/v1/admin/users/bao/handover",
            Some(by),
            Some(json!({ "to": to })),
        )
    };
    for (to, status) in [
        (json!(["sam"]), 400),
        (json!(["nobody"]), 400),
        (json!([]), 400),
        (json!(["bao"]), 400),
    ] {
        assert_eq!(hand_over(&malee, to.clone()).0, status, "{to}");
    }
    let sam = token("sam");
    assert_eq!(
        hand_over(&sam, json!(["anna"])).0,
        404,
        "a worker of another team"
    );
    let bao_id = server.db.user_by_username("bao").unwrap().unwrap().id;
    assert_eq!(server.db.cases_of(&bao_id).unwrap().len(), 3);

    let (status, v) = hand_over(&malee, json!(["anna", "malee"]));
    assert_eq!((status, v["handed_over"].as_u64()), (200, Some(3)), "{v}");
    assert!(server.db.cases_of(&bao_id).unwrap().is_empty());
    let anna_id = server.db.user_by_username("anna").unwrap().unwrap().id;
    assert_eq!(server.db.cases_of(&anna_id).unwrap().len(), 2);
    let report = bao.sync(&server.url, &bao_token).unwrap();
    assert_eq!(report.removed, 3, "{report:?}");
    let (anna, anna_token, _a) = server.phone("anna");
    assert_eq!(anna.sync(&server.url, &anna_token).unwrap().new_cases, 2);
    let mut all: Vec<_> = server.db.cases_of(&anna_id).unwrap();
    all.extend(
        server
            .db
            .cases_of(&server.db.user_by_username("malee").unwrap().unwrap().id)
            .unwrap(),
    );
    all.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(all, want);

    let (status, v) = move_bao();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["team"], "south");
    // The last admin stays one.
    let (status, _) = server.rest(
        "POST",
        "/v1/admin/users/root/role",
        Some(&admin),
        Some(json!({"role": "worker", "team": "north"})),
    );
    assert_eq!(status, 409);
    let actions: Vec<String> = server
        .db
        .admin_log(10)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"hand over caseload".to_string()),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a.starts_with("set role worker team south")),
        "{actions:?}"
    );
}

/// The console's own-account page: one's devices, and one's own password changed there
/// (a wrong current password changes nothing; then every session ends).
#[test]
fn the_console_shows_my_devices_and_changes_my_password() {
    use fieldcase_tests::console::{hidden, Console};
    let server = TestServer::start();
    let (status, v) = login(&server, "anna", PASSWORD);
    assert_eq!(status, 200);
    let phone_token = v["token"].as_str().unwrap().to_string();
    let mut console = Console::sign_in(&server.url, "anna", PASSWORD);
    let (status, page) = console.get("/console/account");
    assert_eq!(status, 200);
    assert!(page.contains("a phone"), "her phone is listed");
    let csrf = hidden(&page, "csrf");
    let status = console.post(
        "/console/account/password",
        &[
            ("csrf", &csrf),
            ("current_password", "not my password"),
            ("new_password", "a brand new passphrase"),
        ],
    );
    assert_eq!(status, 400);
    assert_eq!(
        server.rest("GET", "/v1/me", Some(&phone_token), None).0,
        200
    );
    let status = console.post(
        "/console/account/password",
        &[
            ("csrf", &csrf),
            ("current_password", PASSWORD),
            ("new_password", "a brand new passphrase"),
        ],
    );
    assert_eq!(status, 303);
    assert_eq!(
        server.rest("GET", "/v1/me", Some(&phone_token), None).0,
        401
    );
    assert_eq!(
        console.get("/console/account").0,
        303,
        "the console signs in anew"
    );
    assert_eq!(login(&server, "anna", "a brand new passphrase").0, 200);
}

/// A worker acting in bad faith against every administration route, over REST and in the
/// console: each refused, answering for an unknown user or device as for one of another
/// team where it names one, and nothing changes.
#[test]
fn a_worker_cannot_administer_anyone() {
    use fieldcase_tests::console::{hidden, Console};
    let server = TestServer::start();
    let (_anna, _anna_token, _a) = server.phone("anna");
    let anna = server.db.user_by_username("anna").unwrap().unwrap();
    let device = server.db.devices_of(&anna.id, 0).unwrap()[0]
        .device
        .id
        .clone();
    server.db.disable_user("sam").unwrap();
    let (_, v) = login(&server, "bao", PASSWORD);
    let bao = v["token"].as_str().unwrap().to_string();
    for (path, body, status) in [
        ("/v1/admin/users/sam/enable", None, 403),
        (
            "/v1/admin/users/anna/role",
            Some(json!({"role": "supervisor", "team": "north"})),
            403,
        ),
        (
            "/v1/admin/users/anna/handover",
            Some(json!({"to": ["bao"]})),
            404,
        ),
        (
            "/v1/admin/users/nobody/handover",
            Some(json!({"to": ["bao"]})),
            404,
        ),
        (&format!("/v1/admin/devices/{device}/revoke"), None, 404),
        ("/v1/admin/devices/d-nothing/revoke", None, 404),
    ] {
        let (got, v) = server.rest("POST", path, Some(&bao), body);
        assert_eq!(got, status, "{path}: {v}");
    }
    for (path, status) in [
        ("/v1/admin/users/anna/devices", 404),
        ("/v1/admin/users/nobody/devices", 404),
        ("/v1/admin/log", 403),
    ] {
        assert_eq!(
            server.rest("GET", path, Some(&bao), None).0,
            status,
            "{path}"
        );
    }
    let mut console = Console::sign_in(&server.url, "bao", PASSWORD);
    let (_, page) = console.get("/console/account");
    let csrf = hidden(&page, "csrf");
    for (path, form) in [
        ("/console/admin/users/sam/enable".to_string(), vec![]),
        (format!("/console/admin/devices/{device}/revoke"), vec![]),
        (
            format!("/console/people/anna/devices/{device}/revoke"),
            vec![],
        ),
        (
            "/console/people/anna/handover".to_string(),
            vec![("to", "bao")],
        ),
        (
            "/console/people/anna/move".to_string(),
            vec![("role", "supervisor"), ("team", "north")],
        ),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        assert_eq!(console.post(&path, &fields), 403, "{path}");
    }
    for path in ["/console/people", "/console/people/anna"] {
        assert_eq!(console.get(path).0, 403, "{path}");
    }
    assert!(!server.db.device(&device).unwrap().unwrap().disabled);
    assert!(server.db.user_by_username("sam").unwrap().unwrap().disabled);
    assert_eq!(server.db.user_by_username("anna").unwrap().unwrap(), anna);
    assert_eq!(server.db.cases_of(&anna.id).unwrap().len(), 0);
    assert!(server.db.admin_log(10).unwrap().is_empty());
}
