//! Conflicts in words: each concurrent value of a field is shown as the record shows that
//! field (a date in the reader's calendar, a code in the reader's language), with its
//! author and device, and one click keeps it. A field's history shows values the same way.

use fieldcase_core::{conflicts, CaseDoc};
use fieldcase_server::Db;
use fieldcase_tests::console::{hidden, Console};
use fieldcase_tests::{TestServer, PASSWORD};
use serde_json::json;

#[test]
fn concurrent_values_are_shown_in_words_and_one_click_keeps_one() {
    let server = TestServer::start();
    let (id, (anna, anna_token, _a), (bao, bao_token, _b)) = server.shared_case("Nguyễn Thị Lan");
    // Apart: a date of birth and a gender, each set differently on each phone.
    anna.update(&id, |c, me, now| {
        c.set_field(me, now, "client/date_of_birth", &json!("2015-03-21"))?;
        c.set_field(me, now, "client/gender", &json!("female"))
    })
    .unwrap();
    bao.update(&id, |c, me, now| {
        c.set_field(me, now, "client/date_of_birth", &json!("2015-03-12"))?;
        c.set_field(me, now, "client/gender", &json!("undisclosed"))
    })
    .unwrap();
    for (phone, token) in [(&anna, &anna_token), (&bao, &bao_token)] {
        assert!(phone.sync(&server.url, token).unwrap().errors.is_empty());
    }
    let stored = || CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    assert_eq!(conflicts(&stored()).len(), 2);

    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, page) = console.get(&format!("/console/cases/{id}"));
    assert_eq!(status, 200);
    let section =
        &page[page.find("id=\"conflicts\"").unwrap()..page.find("id=\"client\"").unwrap()];
    // In words: dates in the reader's calendar, codes in the reader's language.
    for shown in [
        "21 Mar 2015",
        "12 Mar 2015",
        "Female",
        "Not disclosed",
        "anna",
        "bao",
    ] {
        assert!(section.contains(shown), "{shown} in {section}");
    }
    for raw in [
        ">2015-03-21<",
        ">\"2015-03-21\"<",
        ">female<",
        ">undisclosed<",
    ] {
        assert!(!section.contains(raw), "no raw value {raw}");
    }
    // In Persian: the Solar Hijri calendar (21 March 2015 is 1 Farvardin 1394).
    let malee = server.db.user_by_username("malee").unwrap().unwrap();
    server.db.set_user_language(&malee.id, "fa").unwrap();
    let (_, page) = console.get(&format!("/console/cases/{id}"));
    assert!(page.contains("۱ فروردین ۱۳۹۴"), "the Persian calendar");
    server.db.set_user_language(&malee.id, "en").unwrap();

    // One click keeps Anna's date: the field is no longer in conflict.
    let csrf = hidden(&page, "csrf");
    assert_eq!(
        console.post(
            &format!("/console/cases/{id}/resolve"),
            &[
                ("csrf", &csrf),
                ("path", "client/date_of_birth"),
                ("value", "\"2015-03-21\""),
            ]
        ),
        303
    );
    let after = stored();
    assert_eq!(conflicts(&after).len(), 1);
    assert_eq!(
        after.read().unwrap().client.date_of_birth.as_deref(),
        Some("2015-03-21")
    );
    // The field's history shows its values in words too.
    let (status, history) =
        console.get(&format!("/console/cases/{id}/history?path=client%2Fgender"));
    assert_eq!(status, 200);
    assert!(
        history.contains("Female") && history.contains("Not disclosed"),
        "{history}"
    );
}
