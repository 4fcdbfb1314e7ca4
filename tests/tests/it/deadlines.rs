//! Deadlines an agency sets reach phones by sync; phones date the steps with them offline,
//! and the supervisor's dashboard shows what is overdue, per worker.

use fieldcase_core::case::IntakeInput;
use fieldcase_core::deadlines::Deadlines;
use fieldcase_core::store::AgendaKind;
use fieldcase_core::NewCase;
use fieldcase_server::Config;
use fieldcase_tests::console::Console;
use fieldcase_tests::{TestServer, PASSWORD};

#[test]
fn a_teams_deadlines_reach_the_phone_and_the_dashboard_shows_what_is_late() {
    let mut config = Config::default();
    config.team_deadlines.insert(
        "north".into(),
        Deadlines {
            assessment_days: 3,
            ..Deadlines::default()
        },
    );
    let server = TestServer::start_with(config);
    let (anna, token, _a) = server.phone("anna");
    assert_eq!(anna.deadlines(), Deadlines::default(), "before a sync");
    let mut n = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some("Марія Шевченко".into());
    n.intake = Some(IntakeInput {
        date: Some("2026-11-01".into()),
        ..Default::default()
    });
    let id = anna.create_case(n).unwrap();
    anna.sync(&server.url, &token).unwrap();
    assert_eq!(anna.deadlines().assessment_days, 3, "the team's, by sync");
    // Offline from here: the phone dates the steps itself.
    let late: Vec<_> = anna
        .overdue("2026-11-10")
        .into_iter()
        .map(|i| (i.kind, i.when, i.case_id))
        .collect();
    assert_eq!(
        late,
        vec![(
            AgendaKind::Assessment,
            "2026-11-04".to_string(),
            id.to_string()
        )]
    );
    assert!(anna.overdue("2026-11-04").is_empty());
    // A worker of another team gets that team's (the agency's) deadlines.
    let (sam, sam_token, _s) = server.phone("sam");
    sam.sync(&server.url, &sam_token).unwrap();
    assert_eq!(sam.deadlines(), Deadlines::default());
    // A worker in bad faith learns no other team's settings: the route takes no team, and
    // without a token it answers nothing.
    let (status, body) = server.rest("GET", "/v1/settings?team=north", Some(&sam_token), None);
    assert_eq!((status, body["assessment_days"].as_u64()), (200, Some(14)));
    let (status, _) = server.rest("GET", "/v1/settings", None, None);
    assert_eq!(status, 401);

    // The supervisor's dashboard (today is after every date above).
    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, page) = console.get("/console");
    assert_eq!(status, 200);
    let card = page
        .split("Steps overdue")
        .nth(1)
        .expect("the overdue card")
        .split("</section>")
        .next()
        .unwrap()
        .to_string();
    assert!(card.contains("Марія Шевченко"), "{card}");
    assert!(card.contains("first assessment"), "{card}");
}
