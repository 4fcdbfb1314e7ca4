//! Errors in the user's language (issue 21): the phone API answers a `code` for every
//! error (a refusal's kind, a problem's code with its arguments beside it) for apps to
//! translate, and the console says the same problems in the reader's language, with our
//! English words in small print.

use fieldcase_server::Db;
use fieldcase_tests::console::{hidden, Console};
use fieldcase_tests::{TestServer, PASSWORD};
use serde_json::Value;

fn post_raw(server: &TestServer, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut res = agent
        .post(&format!("{}{path}", server.url))
        .header("content-type", content_type)
        .header(
            fieldcase_core::sync::protocol::SCHEMA_HEADER,
            &fieldcase_core::schema::SCHEMA_REVISION.to_string(),
        )
        .send(body)
        .unwrap();
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

#[test]
fn the_api_answers_a_code_for_apps_to_translate() {
    let server = TestServer::start();
    let (status, body) = post_raw(&server, "/v1/login", "application/json", b"{not json");
    assert_eq!(status, 400);
    assert_eq!(body["error"], "bad_request");
    assert_eq!(body["code"], "body_not_json", "{body}");
    let (status, body) = post_raw(&server, "/v1/login", "text/plain", b"{}");
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("body_not_json_type")),
        "{body}"
    );
    let big = vec![b' '; 70 * 1024];
    let (status, body) = post_raw(&server, "/v1/login", "application/json", &big);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "body_too_large", "{body}");
    assert_eq!(body["max_bytes"], (64 * 1024).to_string(), "{body}");
    // Every other error has a code too (here, the same as `error`).
    let (status, body) = server.rest("GET", "/v1/caseload", Some("wrong"), None);
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
}

#[test]
fn the_console_says_a_problem_in_the_readers_language() {
    let server = TestServer::start();
    let (anna, anna_t, _a) = server.phone("anna");
    let mut n = fieldcase_core::NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some("زهرا احمدی".into());
    let case = anna.create_case(n).unwrap();
    assert!(anna.sync(&server.url, &anna_t).unwrap().errors.is_empty());
    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let record = format!("/console/cases/{case}");
    let csrf = hidden(&malee.get(&record).1, "csrf");
    malee.post(
        "/console/language",
        &[("csrf", &csrf), ("lang", "fa"), ("next", &record)],
    );
    // A rule of the core on a field: said with the field's section and label.
    let (status, page) = malee.post_page(
        &format!("{record}/supervision"),
        &[("csrf", &csrf), ("kind", "case_conference"), ("date", "")],
    );
    assert_eq!(status, 400);
    assert!(
        page.contains("این مقدار پذیرفته نیست: نظارت › تاریخ"),
        "{page}"
    );
    assert!(
        page.contains("say on which day it took place"),
        "our words in small print"
    );
    // A problem of the form itself.
    let (status, page) = malee.post_page(
        &format!("{record}/supervision"),
        &[("csrf", &csrf), ("kind", "gossip"), ("date", "2026-12-01")],
    );
    assert_eq!(status, 400);
    assert!(page.contains("انتخاب کنید چه ثبت می‌شود"), "{page}");
    // A report's period, with its bound in Persian digits.
    let (status, page) = malee.get("/console/reports?from=2010-01-01&to=2026-12-01");
    assert_eq!(status, 400);
    assert!(page.contains("حداکثر ۱۲۰ ماه"), "{page}");
}

/// Signs an admin in to the REST API (added as the admin tests add one).
fn admin_token(server: &TestServer) -> String {
    server
        .db
        .add_user(
            "ada",
            "Ada",
            fieldcase_core::Role::Admin,
            None,
            PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    token(server, "ada")
}

fn token(server: &TestServer, user: &str) -> String {
    let actor = automerge::ActorId::random().to_hex_string();
    let (status, v) = server.rest(
        "POST",
        "/v1/login",
        None,
        Some(serde_json::json!({
            "username": user, "password": PASSWORD,
            "device_name": "a phone", "actor_id": actor,
        })),
    );
    assert_eq!(status, 200, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// The admin API's refusals of accounts, teams and hand-overs answer a problem code with
/// its arguments beside our English words; conflicts still answer 409 `conflict`.
#[test]
fn the_admin_api_answers_a_code_with_its_arguments() {
    use serde_json::json;
    let server = TestServer::start();
    let admin = admin_token(&server);
    let post = |path: &str, body: Value| server.rest("POST", path, Some(&admin), Some(body));
    let user = |username: &str, team: &str, password: &str| json!({"username": username, "role": "worker", "team": team, "password": password});

    let (status, v) = post("/v1/admin/users", user("anna", "north", PASSWORD));
    assert_eq!(status, 409, "{v}");
    assert_eq!(
        (&v["error"], &v["code"], &v["username"]),
        (&json!("conflict"), &json!("username_taken"), &json!("anna")),
    );
    assert_eq!(
        v["message"], "this username is taken",
        "our words as before"
    );

    let (status, v) = post("/v1/admin/users", user("kim", "north", "short"));
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        (&v["code"], &v["min"]),
        (&json!("password_too_short"), &json!("12"))
    );
    assert_eq!(v["message"], "a password has at least 12 characters");

    let (status, v) = post("/v1/admin/users", user("kim", "atlantis", PASSWORD));
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        (&v["code"], &v["team"]),
        (&json!("no_such_team"), &json!("atlantis"))
    );

    let (status, v) = post(
        "/v1/admin/users",
        json!({"username": "kim", "role": "worker", "password": PASSWORD}),
    );
    assert_eq!((status, &v["code"]), (400, &json!("team_needed")), "{v}");

    let (status, v) = post("/v1/admin/users", user("partner-x", "north", PASSWORD));
    assert_eq!(
        (status, &v["code"]),
        (400, &json!("username_reserved")),
        "{v}"
    );
    assert_eq!(v["prefix"], "partner-");

    let (status, v) = post("/v1/admin/teams", json!({"name": "north"}));
    assert_eq!(status, 409, "{v}");
    assert_eq!(
        (&v["code"], &v["team"]),
        (&json!("team_name_taken"), &json!("north"))
    );

    // Refused hand-overs: to the leaver herself, from an administrator.
    let (status, v) = post("/v1/admin/users/bao/handover", json!({"to": ["bao"]}));
    assert_eq!(
        (status, &v["code"]),
        (400, &json!("handover_to_self")),
        "{v}"
    );
    let (status, v) = post("/v1/admin/users/ada/handover", json!({"to": ["anna"]}));
    assert_eq!(
        (status, &v["code"]),
        (400, &json!("handover_from_admin")),
        "{v}"
    );

    // A move while cases are assigned: how many, for the app to say.
    let (bao, bao_t, _b) = server.phone("bao");
    for i in 0..2 {
        let mut n = fieldcase_core::NewCase {
            team: "north".into(),
            ..Default::default()
        };
        n.client.name = Some(format!("Nguyễn Văn An {i}"));
        bao.create_case(n).unwrap();
    }
    assert!(bao.sync(&server.url, &bao_t).unwrap().errors.is_empty());
    let (status, v) = post(
        "/v1/admin/users/bao/role",
        json!({"role": "worker", "team": "south"}),
    );
    assert_eq!(status, 409, "{v}");
    assert_eq!(
        (&v["code"], &v["count"]),
        (&json!("cases_assigned"), &json!("2"))
    );

    // The last administrator stays one, and does not disable herself.
    let (status, v) = post(
        "/v1/admin/users/ada/role",
        json!({"role": "worker", "team": "north"}),
    );
    assert_eq!((status, &v["code"]), (409, &json!("last_admin")), "{v}");
    let (status, v) = post("/v1/admin/users/ada/disable", json!({}));
    assert_eq!((status, &v["code"]), (400, &json!("disable_self")), "{v}");

    // A worker changing her password: the current one wrong.
    let anna = token(&server, "anna");
    let (status, v) = server.rest(
        "POST",
        "/v1/me/password",
        Some(&anna),
        Some(json!({"current_password": "not mine at all", "new_password": "a brand new passphrase"})),
    );
    assert_eq!(
        (status, &v["code"]),
        (400, &json!("current_password_wrong")),
        "{v}"
    );
}

/// An admin's and a supervisor's refused forms on the console, in Russian and in Persian:
/// the sentence in the reader's language with its argument (a username, a team, a
/// number in the language's digits), our English words in small print.
#[test]
fn the_console_says_refused_accounts_and_hand_overs_in_the_readers_language() {
    let server = TestServer::start();
    admin_token(&server);
    let mut ada = Console::sign_in(&server.url, "ada", PASSWORD);
    let csrf = hidden(&ada.get("/console/admin").1, "csrf");
    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let malee_csrf = hidden(&malee.get("/console/people/bao").1, "csrf");

    for (lang, taken, short, team, to_self, none) in [
        (
            "ru",
            "Имя пользователя «anna» уже занято",
            "не менее 12 символов",
            "Команды «atlantis» нет",
            "Случаи передаются коллегам, а не тому же специалисту",
            "Отметьте хотя бы одного коллегу",
        ),
        (
            "fa",
            "نام کاربری «anna» پیش‌تر گرفته شده است",
            "دست‌کم ۱۲ نویسه",
            "تیمی به نام «atlantis» وجود ندارد",
            "پرونده‌ها به همکاران واگذار می‌شوند، نه دوباره به همان مددکار",
            "دست‌کم یک همکار را برای واگذاری پرونده‌ها علامت بزنید",
        ),
    ] {
        for (c, csrf, next) in [
            (&mut ada, &csrf, "/console/admin"),
            (&mut malee, &malee_csrf, "/console/people/bao"),
        ] {
            c.post(
                "/console/language",
                &[("csrf", csrf), ("lang", lang), ("next", next)],
            );
        }
        let mut add = |username: &str, team: &str, password: &str| {
            ada.post_page(
                "/console/admin/users",
                &[
                    ("csrf", &csrf),
                    ("username", username),
                    ("display_name", ""),
                    ("role", "worker"),
                    ("team", team),
                    ("password", password),
                ],
            )
        };
        let (status, page) = add("anna", "north", PASSWORD);
        assert_eq!(status, 409, "{page}");
        assert!(page.contains(taken), "{lang}: {page}");
        assert!(
            page.contains("this username is taken"),
            "our words in small print"
        );
        let (status, page) = add("kim", "north", "short");
        assert_eq!(status, 400);
        assert!(page.contains(short), "{lang}: {page}");
        let (status, page) = add("kim", "atlantis", PASSWORD);
        assert_eq!(status, 400);
        assert!(page.contains(team), "{lang}: {page}");

        // A supervisor hands a caseload over to its own worker, then to nobody.
        let (status, page) = malee.post_page(
            "/console/people/bao/handover",
            &[("csrf", &malee_csrf), ("to", "bao")],
        );
        assert_eq!(status, 400);
        assert!(page.contains(to_self), "{lang}: {page}");
        let (status, page) =
            malee.post_page("/console/people/bao/handover", &[("csrf", &malee_csrf)]);
        assert_eq!(status, 400);
        assert!(page.contains(none), "{lang}: {page}");
    }
    assert!(
        server.db.user_by_username("kim").unwrap().is_none(),
        "nothing refused was written"
    );
}
