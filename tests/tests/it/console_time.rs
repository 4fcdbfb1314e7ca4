//! Times of the reader (issue 21): the console shows instants in the user's own time zone,
//! else their team's, else the agency's (`[time_zones]`), with the zone's abbreviation; a
//! user chooses their own on the account page; a zone the IANA database lacks is refused.

use fieldcase_server::{Config, Db};
use fieldcase_tests::console::{hidden, Console};
use fieldcase_tests::{TestServer, PASSWORD};

#[test]
fn times_follow_the_users_zone_else_the_teams() {
    let server = TestServer::start_with(Config {
        time_zone: chrono_tz::Tz::Asia__Tehran,
        team_time_zones: [("north".to_string(), chrono_tz::Tz::Asia__Bangkok)].into(),
        ..Config::default()
    });
    // A case whose timeline holds the instant it was opened.
    let (anna, anna_t, _a) = server.phone("anna");
    let mut n = fieldcase_core::NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some("Олександр Коваленко".into());
    let case = anna.create_case(n).unwrap();
    assert!(anna.sync(&server.url, &anna_t).unwrap().errors.is_empty());
    let record = format!("/console/cases/{case}");
    let zone_of = |page: &str| -> Option<String> {
        ["+07", "+0330", "EET", "EEST", "UTC"]
            .into_iter()
            .find(|z| page.contains(&format!(" {z}</time>")))
            .map(str::to_string)
    };

    // malee (north): Bangkok, her team's.
    let mut malee = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, page) = malee.get("/console/account");
    assert_eq!(status, 200);
    assert!(page.contains("shown in Asia/Bangkok"));
    assert_eq!(zone_of(&malee.get(&record).1).as_deref(), Some("+07"));
    // An admin of no team: the agency's.
    server
        .db
        .add_user(
            "root",
            "root",
            fieldcase_core::Role::Admin,
            None,
            PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    let mut root = Console::sign_in(&server.url, "root", PASSWORD);
    assert!(page_of(&mut root).contains("shown in Asia/Tehran"));
    assert_eq!(zone_of(&root.get(&record).1).as_deref(), Some("+0330"));

    // malee chooses her own; a zone that does not exist is refused and changes nothing.
    let csrf = hidden(&page_of(&mut malee), "csrf");
    assert_eq!(
        malee.post(
            "/console/account/time-zone",
            &[("csrf", &csrf), ("time_zone", "Mars/Olympus")]
        ),
        400
    );
    assert!(page_of(&mut malee).contains("shown in Asia/Bangkok"));
    assert_eq!(
        malee.post(
            "/console/account/time-zone",
            &[("csrf", &csrf), ("time_zone", "Europe/Kyiv")]
        ),
        303
    );
    assert!(page_of(&mut malee).contains("shown in Europe/Kyiv"));
    let zone = zone_of(&malee.get(&record).1);
    assert!(matches!(zone.as_deref(), Some("EET" | "EEST")), "{zone:?}");
    // Back to her team's.
    assert_eq!(
        malee.post(
            "/console/account/time-zone",
            &[("csrf", &csrf), ("time_zone", "")]
        ),
        303
    );
    assert!(page_of(&mut malee).contains("shown in Asia/Bangkok"));
    assert_eq!(zone_of(&malee.get(&record).1).as_deref(), Some("+07"));
}

fn page_of(c: &mut Console) -> String {
    c.get("/console/account").1
}
