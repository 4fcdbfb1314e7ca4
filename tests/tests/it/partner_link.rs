//! A partner answers a referral through a link, without an account (issue 16, ADR 0006),
//! over a real server: a supervisor makes the link on the record page (shown once, in the
//! partner's language); the partner's page shows what the referral letter shows; the
//! partner accepts and then records the service delivered with feedback, in headless
//! Chromium; the worker's phone sees both steps, as the partner's, after its sync. An
//! expired, revoked or unknown link gets one and the same page; the link reaches nothing
//! but its referral; a link answers a bounded number of requests an hour.

use fieldcase_core::case::{ConsentInput, ReferralInput, ReferralStatus};
use fieldcase_core::{CaseId, CaseStore, NewCase};
use fieldcase_server::db::links::NewLink;
use fieldcase_server::{Config, Db};
use fieldcase_tests::console::{hidden, Console};
use fieldcase_tests::{TestServer, PASSWORD};

use crate::console_browser::{browser, Driver};

const CLIENT: &str = "Коваленко Олена";

/// A case of Anna's with a referral that shares the client's information under her
/// consent, synced; its id and the referral's.
fn referred(server: &TestServer, anna: &CaseStore, token: &str) -> (CaseId, String) {
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some(CLIENT.into());
    let id = anna.create_case(new).unwrap();
    let referral = anna
        .update(&id, |c, me, now| {
            let consent = c.record_consent(
                me,
                now,
                ConsentInput {
                    topic: Some("referral".into()),
                    granted: Some(true),
                    given_by: Some("Олена".into()),
                    date: Some("2026-11-20".into()),
                    ..Default::default()
                },
            )?;
            c.add_referral(
                me,
                now,
                ReferralInput {
                    date: Some("2026-11-21".into()),
                    organisation: Some("Центр правової допомоги".into()),
                    service: Some("Безоплатна правова допомога".into()),
                    reason: Some("розлучення, поділ майна".into()),
                    consent_id: Some(consent),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert!(anna.sync(&server.url, token).unwrap().errors.is_empty());
    (id, referral)
}

/// Malee makes a link for the referral in Ukrainian; the token shown once.
fn make_link(server: &TestServer, id: &CaseId, referral: &str) -> (Console, String) {
    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, record) = malee.get(&format!("/console/cases/{id}"));
    assert_eq!(status, 200);
    let action = format!("/console/cases/{id}/referrals/{referral}/link");
    assert!(record.contains(&action), "the record offers a link");
    let csrf = hidden(&record, "csrf");
    let (status, page) = malee.post_page(&action, &[("csrf", &csrf), ("language", "uk")]);
    assert_eq!(status, 200, "{page}");
    let at = page.find("/p/").expect("the link is shown") + 3;
    let token: String = page[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(token.len(), 64, "{page}");
    (malee, token)
}

fn get(server: &TestServer, path: &str) -> (u16, String) {
    Console::new(&server.url).get(path)
}

#[test]
fn a_partner_answers_through_the_link_and_the_workers_phone_sees_it() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let (id, referral) = referred(&server, &anna, &token);
    let (mut malee, link) = make_link(&server, &id, &referral);
    // The token is stored as its hash only.
    let stored = server.db.referral_links(&id).unwrap();
    assert_eq!(stored.len(), 1);
    assert!(server.db.open_referral_link(&link, 0).unwrap().is_some());

    // The partner's page: no session, in Ukrainian, the referral letter's content.
    let (status, page) = get(&server, &format!("/p/{link}"));
    assert_eq!(status, 200);
    assert!(page.contains("lang=\"uk\""));
    for shown in [CLIENT, "розлучення, поділ майна", "Надіслати відповідь"]
    {
        assert!(page.contains(shown), "{shown}");
    }

    // In a real browser: the partner accepts, then records the service delivered.
    let driver = Driver::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use fantoccini::Locator;
        let c = browser(&driver).await;
        let url = format!("{}/p/{link}", server.url);
        for (status, feedback) in [
            ("accepted", None),
            ("delivered", Some("Позов подано, засідання 12 січня.")),
        ] {
            c.goto(&url).await.unwrap();
            c.find(Locator::Css(&format!("input[name=status][value={status}]")))
                .await
                .unwrap_or_else(|_| panic!("{status} is offered"))
                .click()
                .await
                .unwrap();
            if let Some(f) = feedback {
                c.find(Locator::Css("textarea[name=feedback]"))
                    .await
                    .unwrap()
                    .send_keys(f)
                    .await
                    .unwrap();
            }
            c.find(Locator::Css("button[type=submit]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            // The answer's page says it was recorded (waited for: the form navigates).
            let said = c
                .wait()
                .for_element(Locator::Css("p.ok"))
                .await
                .expect("the answer is confirmed")
                .text()
                .await
                .unwrap();
            assert!(said.contains("Вашу відповідь записано"), "{said}");
        }
        c.close().await.unwrap();
    });

    // The worker's phone, after its sync: both steps, as the partner's.
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());
    let file = anna.get_case(&id).unwrap();
    let r = file.referrals.iter().find(|r| r.id == referral).unwrap();
    assert_eq!(r.status, Some(ReferralStatus::Delivered));
    assert_eq!(
        r.feedback.as_deref(),
        Some("Позов подано, засідання 12 січня.")
    );
    let partner = &stored[0].partner_user;
    let by_partner: Vec<_> = r
        .steps
        .iter()
        .filter(|s| s.recorded_by.as_deref() == Some(partner.as_str()))
        .map(|s| s.status)
        .collect();
    assert_eq!(
        by_partner,
        [
            Some(ReferralStatus::Accepted),
            Some(ReferralStatus::Delivered)
        ]
    );
    // Every view and answer is on the audit trail as the partner.
    let trail = server.db.audit_trail(Some(&id), 200).unwrap();
    let of = |a: &str| {
        trail
            .iter()
            .filter(|e| e.action == a && &e.user_id == partner)
            .count()
    };
    assert!(of("partner view") >= 3, "{trail:?}");
    assert_eq!(of("partner answer"), 2);
    // The record shows the steps with the organisation as who made them.
    let (_, record) = malee.get(&format!("/console/cases/{id}"));
    assert!(record.contains("Центр правової допомоги"));

    // An ended loop asks nothing more; a step it does not allow is refused.
    let (_, page) = get(&server, &format!("/p/{link}"));
    assert!(!page.contains("name=\"status\""), "nothing more is asked");
    let (status, _) =
        Console::new(&server.url).post_page(&format!("/p/{link}"), &[("status", "received")]);
    assert_eq!(status, 400);
}

#[test]
fn expired_revoked_and_unknown_links_look_alike_and_reach_nothing_else() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let (id, referral) = referred(&server, &anna, &token);
    let (mut malee, link) = make_link(&server, &id, &referral);
    let (unknown_status, unknown) = get(&server, &format!("/p/{}", "0".repeat(64)));
    assert_eq!(unknown_status, 404);
    assert!(!unknown.contains(CLIENT));

    // The token is no session: the phone API and the console refuse it.
    let (status, _) = server.rest("GET", &format!("/v1/cases/{id}"), Some(&link), None);
    assert_eq!(status, 401);
    let (status, _) = Console::new(&server.url).get("/console");
    assert_eq!(status, 303, "to the sign-in page");

    // An expired link (made in the past), then the revoked one.
    let now = chrono::Utc::now().timestamp_millis();
    let (_, expired) = server
        .db
        .create_referral_link(&NewLink {
            case_id: id,
            referral_id: &referral,
            team: "north",
            organisation: "Центр правової допомоги",
            language: "uk",
            created_by: "cli",
            now: now - 2_000,
            expires_at: now - 1_000,
        })
        .unwrap();
    assert_eq!(
        get(&server, &format!("/p/{expired}")),
        (404, unknown.clone())
    );
    let (_, record) = malee.get(&format!("/console/cases/{id}"));
    let lid = &server
        .db
        .referral_links(&id)
        .unwrap()
        .iter()
        .find(|l| l.expires_at > now)
        .unwrap()
        .id
        .clone();
    let status = malee.post(
        &format!("/console/cases/{id}/links/{lid}/revoke"),
        &[("csrf", &hidden(&record, "csrf"))],
    );
    assert_eq!(status, 303);
    assert_eq!(get(&server, &format!("/p/{link}")), (404, unknown.clone()));
    let (status, page) =
        Console::new(&server.url).post_page(&format!("/p/{link}"), &[("status", "accepted")]);
    assert_eq!((status, page), (404, unknown));
    let file = fieldcase_core::CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(
        file.referrals[0].status,
        Some(ReferralStatus::Sent),
        "nothing written"
    );
    let trail = server.db.audit_trail(Some(&id), 200).unwrap();
    assert!(trail
        .iter()
        .any(|e| e.action == "partner link revoked (console)"));
}

#[test]
fn a_link_answers_a_bounded_number_of_requests_an_hour() {
    let server = TestServer::start_with(Config {
        partner_requests_per_hour: 3,
        ..Config::default()
    });
    let (anna, token, _a) = server.phone("anna");
    let (id, referral) = referred(&server, &anna, &token);
    let (_malee, link) = make_link(&server, &id, &referral);
    for _ in 0..3 {
        assert_eq!(get(&server, &format!("/p/{link}")).0, 200);
    }
    let (status, page) = get(&server, &format!("/p/{link}"));
    assert_eq!(status, 429);
    assert!(!page.contains(CLIENT));
    assert_eq!(
        server
            .state
            .metrics
            .partner_limited
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

/// The referral letter (issue 17) in the partner's language: the referral, who refers, and
/// the client's details only while a consent covers sharing them; contacts not safe to
/// contact never; the print on the audit trail.
#[test]
fn the_referral_letter_prints_in_the_partners_language_with_the_minimum() {
    use fieldcase_core::case::ContactInput;
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let (id, referral) = referred(&server, &anna, &token);
    let told = anna
        .update(&id, |c, me, now| {
            c.add_contact(
                me,
                now,
                ContactInput {
                    kind: Some("phone".into()),
                    value: Some("+380 50 111 2233".into()),
                    safe_to_contact: Some(true),
                    ..Default::default()
                },
            )?;
            c.add_contact(
                me,
                now,
                ContactInput {
                    kind: Some("phone".into()),
                    value: Some("+380 67 999 0000".into()),
                    safe_to_contact: Some(false),
                    ..Default::default()
                },
            )?;
            c.add_referral(
                me,
                now,
                ReferralInput {
                    organisation: Some("Жіночий центр".into()),
                    reason: Some("житло".into()),
                    shares_information: Some(false),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());
    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let (_, record) = malee.get(&format!("/console/cases/{id}"));
    let path = format!("/console/cases/{id}/print/referral-letter?referral={referral}");
    assert!(record.contains(&path.replace('&', "&amp;")) || record.contains(&path));
    let (status, letter) = malee.get(&format!("{path}&lang=uk"));
    assert_eq!(status, 200);
    assert!(letter.contains("lang=\"uk\"") && letter.contains("Направлення"));
    for shown in [
        CLIENT,
        "+380 50 111 2233",
        "Центр правової допомоги",
        "2026-11-20",
    ] {
        assert!(
            letter.contains(shown) || letter.contains("20.11.2026"),
            "{shown}"
        );
    }
    assert!(letter.contains(CLIENT) && letter.contains("+380 50 111 2233"));
    assert!(!letter.contains("+380 67 999 0000"), "not safe to contact");
    // A referral that shares nothing: no client details.
    let (status, bare) = malee.get(&format!(
        "/console/cases/{id}/print/referral-letter?referral={told}&lang=uk"
    ));
    assert_eq!(status, 200);
    assert!(bare.contains("Жіночий центр") && !bare.contains(CLIENT));
    assert!(!bare.contains("+380 50 111 2233"));
    let (status, _) = malee.get(&format!(
        "/console/cases/{id}/print/referral-letter?referral=nope"
    ));
    assert_eq!(status, 400);
    let trail = server.db.audit_trail(Some(&id), 100).unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "printed referral-letter (console)")
            .count(),
        2
    );
}

/// A phone makes a link over the API when online, with the console's rules: the user sees
/// the case and is assigned to it or answers for it; the language is one of ours; the
/// referral's loop is still open. Everyone else gets the answer of a missing case.
#[test]
fn a_phone_makes_a_link_over_the_api_with_the_consoles_rules() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let (id, referral) = referred(&server, &anna, &token);
    let path = format!("/v1/cases/{id}/referrals/{referral}/links");
    let body = || Some(serde_json::json!({"language": "vi"}));
    let (status, made) = server.rest("POST", &path, Some(&token), body());
    assert_eq!(status, 201, "{made}");
    let page = made["path"].as_str().unwrap();
    let (status, text) = get(&server, page);
    assert_eq!(status, 200);
    assert!(text.contains("lang=\"vi\"") && text.contains("Gửi câu trả lời"));
    // Not assigned (a worker of the team), another team's supervisor, no session.
    for user in ["bao", "sam"] {
        let other = fieldcase_tests::raw::sign_in(&server, user, "phone");
        let (status, _) = server.rest("POST", &path, Some(&other.token), body());
        assert_eq!(status, 404, "{user}");
    }
    assert_eq!(server.rest("POST", &path, None, body()).0, 401);
    let (status, said) = server.rest(
        "POST",
        &path,
        Some(&token),
        Some(serde_json::json!({"language": "klingon"})),
    );
    assert_eq!(status, 400, "{said}");
    let (status, _) = server.rest(
        "POST",
        &format!("/v1/cases/{id}/referrals/no-such/links"),
        Some(&token),
        body(),
    );
    assert_eq!(status, 404);
    // An ended loop takes no link.
    anna.update(&id, |c, me, now| {
        c.set_referral_status(
            me,
            now,
            &referral,
            ReferralStatus::DeclinedByClient,
            None,
            None,
        )
    })
    .unwrap();
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());
    let (status, said) = server.rest("POST", &path, Some(&token), body());
    assert_eq!(status, 400, "{said}");
    assert_eq!(server.db.referral_links(&id).unwrap().len(), 1);
}
