//! The case record reads summary first: who the client is, what is due or overdue, open
//! referrals and the latest visits; empty fields are folded away until the reader asks for
//! them (one control, no JavaScript), in a real browser.

use fantoccini::Locator;
use fieldcase_core::case::ReferralStatus;
use fieldcase_core::case::{AppointmentInput, FollowUpInput, ReferralInput, VisitInput};
use fieldcase_core::NewCase;
use fieldcase_tests::console::Console;
use fieldcase_tests::{TestServer, PASSWORD};
use serde_json::json;

use crate::console_browser::{browser, sign_in, Driver};

fn day(offset_days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(offset_days))
        .format("%Y-%m-%d")
        .to_string()
}

#[test]
fn the_record_opens_with_its_summary_and_folds_empty_fields() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Nguyễn Thị Lan".into());
    let id = anna.create_case(new).unwrap();
    let (yesterday, next_week) = (day(-1), day(7));
    anna.update(&id, |c, me, now| {
        c.set_field(me, now, "client/date_of_birth", &json!("2015-03-21"))?;
        c.set_field(me, now, "client/gender", &json!("female"))?;
        let visit = c.add_visit(
            me,
            now,
            VisitInput {
                date: Some(day(-3)),
                kind: Some("home".into()),
                note: Some("Gia đình đã nhận hỗ trợ lương thực.".into()),
                ..Default::default()
            },
        )?;
        c.add_follow_up(
            me,
            now,
            &visit,
            FollowUpInput {
                text: Some("Gọi cho nhà trường".into()),
                due_date: Some(yesterday.clone()),
                done: None,
            },
        )?;
        c.add_referral(
            me,
            now,
            ReferralInput {
                date: Some(day(-2)),
                organisation: Some("Bệnh viện Nhi".into()),
                shares_information: Some(false),
                domain: Some("physical_health".into()),
                status: Some(ReferralStatus::Sent),
                ..Default::default()
            },
        )?;
        c.add_referral(
            me,
            now,
            ReferralInput {
                organisation: Some("Trung tâm cũ".into()),
                shares_information: Some(false),
                status: Some(ReferralStatus::Delivered),
                ..Default::default()
            },
        )?;
        c.add_appointment(
            me,
            now,
            AppointmentInput {
                at: Some(format!("{next_week}T09:00:00Z")),
                purpose: Some("Khám sức khỏe".into()),
                ..Default::default()
            },
        )
        .map(|_| ())
    })
    .unwrap();
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());

    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, page) = console.get(&format!("/console/cases/{id}"));
    assert_eq!(status, 200);
    let summary = &page
        [page.find("id=\"summary\"").expect("a summary")..page.find("id=\"conflicts\"").unwrap()];
    let age = {
        let today = chrono::Utc::now().date_naive();
        let born = chrono::NaiveDate::from_ymd_opt(2015, 3, 21).unwrap();
        today.years_since(born).unwrap()
    };
    for shown in [
        format!("{age} years old"),
        "Female".into(),
        "Overdue".into(),
        "Gọi cho nhà trường".into(),
        "Khám sức khỏe".into(),
        "Bệnh viện Nhi".into(),
        "Gia đình đã nhận hỗ trợ lương thực.".into(),
    ] {
        assert!(
            summary.contains(&shown),
            "{shown} in the summary: {summary}"
        );
    }
    assert!(
        !summary.contains("Trung tâm cũ"),
        "a delivered referral is not open"
    );
    // The timeline: the case's steps from its history, newest first (opening the case
    // last), not every field set.
    let timeline = &page
        [page.find("id=\"timeline\"").expect("a timeline")..page.find("id=\"conflicts\"").unwrap()];
    let steps = timeline.matches("<li>").count();
    assert_eq!(
        steps, 5,
        "opened, a visit, two referrals, an appointment: {timeline}"
    );
    assert!(
        timeline.rfind("opened the case") > timeline.find("anna"),
        "{timeline}"
    );
    assert!(
        !timeline.contains("Date of birth"),
        "fields set are not steps: {timeline}"
    );
    // The summary comes before every section.
    assert!(page.find("id=\"summary\"").unwrap() < page.find("id=\"client\"").unwrap());

    // Folding: in a browser, an empty field is hidden until the control is ticked.
    let driver = Driver::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let accounts_password = PASSWORD;
    rt.block_on(async {
        let c = browser(&driver).await;
        sign_in(&c, &server.url, "malee", accounts_password).await;
        c.goto(&format!("{}/console/cases/{id}", server.url))
            .await
            .unwrap();
        let shown = |sel: &'static str| {
            let c = c.clone();
            async move {
                c.find(Locator::Css(sel))
                    .await
                    .unwrap()
                    .is_displayed()
                    .await
                    .unwrap()
            }
        };
        // The client's address is empty; the name is not.
        let empty_field = "#client .field.empty";
        assert!(!c
            .find_all(Locator::Css(empty_field))
            .await
            .unwrap()
            .is_empty());
        assert!(!shown(empty_field).await, "folded away");
        assert!(shown("#client .field:not(.empty)").await);
        // The control, by keyboard: focus it and press space.
        let control = c.find(Locator::Css("#show-empty")).await.unwrap();
        control.send_keys(" ").await.unwrap();
        assert!(shown(empty_field).await, "shown when asked for");
    });
}
