//! The console by keyboard alone, in headless Chromium: sign in, open a case from the
//! caseload, and keep one value of a conflicting field, pressing only Tab, Enter and
//! letters; every control on the way is reached in order and shows where focus is.

use fantoccini::{Client, Locator};
use fieldcase_core::{conflicts, CaseDoc};
use fieldcase_server::Db;
use fieldcase_tests::{TestServer, PASSWORD};
use serde_json::json;

use crate::console_browser::{browser, Driver};

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// What has focus: its tag, and its text or name.
async fn focused(c: &Client) -> String {
    c.execute(
        "const e = document.activeElement; \
         return e.tagName.toLowerCase() + ' ' + (e.innerText || e.name || e.value || '').trim().slice(0, 80);",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap()
    .to_string()
}

/// Presses Tab until what has focus matches, at most `limit` times; the presses it took.
async fn tab_to(c: &Client, want: impl Fn(&str) -> bool, limit: usize) -> usize {
    for n in 1..=limit {
        c.active_element()
            .await
            .unwrap()
            .send_keys(TAB)
            .await
            .unwrap();
        if want(&focused(c).await) {
            return n;
        }
    }
    panic!("not reached by Tab in {limit} presses");
}

/// Whether the focused element draws a visible outline.
async fn focus_visible(c: &Client) -> bool {
    c.execute(
        "const s = getComputedStyle(document.activeElement); \
         return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;",
        vec![],
    )
    .await
    .unwrap()
    .as_bool()
    .unwrap()
}

#[test]
fn a_supervisor_resolves_a_conflict_by_keyboard_alone() {
    let server = TestServer::start();
    let (id, (anna, anna_token, _a), (bao, bao_token, _b)) =
        server.shared_case("Олександр Коваленко");
    anna.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("вул. Шевченка, 3"))
    })
    .unwrap();
    bao.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("вул. Франка, 7"))
    })
    .unwrap();
    for (phone, token) in [(&anna, &anna_token), (&bao, &bao_token)] {
        assert!(phone.sync(&server.url, token).unwrap().errors.is_empty());
    }
    let stored = || CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    assert_eq!(conflicts(&stored()).len(), 1);

    let driver = Driver::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(&driver).await;
        c.goto(&format!("{}/console/login", server.url))
            .await
            .unwrap();
        // Sign in: Tab to the username, type, Tab, type the password, Enter.
        tab_to(&c, |f| f.starts_with("input username"), 10).await;
        assert!(focus_visible(&c).await, "focus is visible");
        c.active_element()
            .await
            .unwrap()
            .send_keys("malee")
            .await
            .unwrap();
        tab_to(&c, |f| f.starts_with("input password"), 3).await;
        c.active_element()
            .await
            .unwrap()
            .send_keys(&format!("{PASSWORD}{ENTER}"))
            .await
            .unwrap();
        c.wait()
            .for_element(Locator::Css("header.top"))
            .await
            .unwrap();

        // The caseload: Tab to the case, Enter.
        tab_to(&c, |f| f.contains("Олександр Коваленко"), 60).await;
        assert!(focus_visible(&c).await, "a link shows its focus");
        c.active_element()
            .await
            .unwrap()
            .send_keys(ENTER)
            .await
            .unwrap();
        c.wait()
            .for_element(Locator::Css("#conflicts"))
            .await
            .unwrap();

        // The record: the fold control, then a value of the conflict, kept with Enter.
        tab_to(
            &c,
            |f| f.starts_with("input show-empty") || f.starts_with("input on"),
            80,
        )
        .await;
        tab_to(
            &c,
            |f| f.starts_with("button") && f.to_lowercase().contains("keep"),
            120,
        )
        .await;
        assert!(focus_visible(&c).await, "a button shows its focus");
        c.active_element()
            .await
            .unwrap()
            .send_keys(ENTER)
            .await
            .unwrap();
        c.wait()
            .for_element(Locator::Css("#conflicts p.muted"))
            .await
            .expect("no conflict left");
    });
    assert!(
        conflicts(&stored()).is_empty(),
        "the conflict was resolved by keyboard"
    );
}
