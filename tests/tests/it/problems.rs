//! Errors in the user's language (issue 21): the phone API answers a `code` for every
//! error (a refusal's kind, a problem's code with its arguments beside it) for apps to
//! translate, and the console says the same problems in the reader's language, with our
//! English words in small print.

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
