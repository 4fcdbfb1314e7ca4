//! Bidirectional text in the console, in a real browser: text of the other direction than
//! the page (a Persian note in an English page, a Russian name in the Persian page) is
//! isolated everywhere (`<bdi>`, a `dir` attribute, or CSS `unicode-bidi: isolate`: what
//! the browser computes is checked), so it never reorders what is around it; and, measured on screen, a Persian note's byline stays after the note and reads
//! author then time, in left-to-right and right-to-left pages alike.

use fantoccini::Locator;
use fieldcase_core::case::VisitInput;
use fieldcase_server::Db;
use fieldcase_tests::{TestServer, ITERATIONS};
use serde_json::{json, Value};

use crate::console_browser::{browser, sign_in, Driver};

/// Every text node holding a strong character of the direction opposite to the page's,
/// with no isolating element (computed `unicode-bidi` of `isolate`, `isolate-override` or
/// `plaintext`) between it and the page: its text and its parent.
const UNISOLATED: &str = r#"
const rtl = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;
const ltr = /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF\u0E00-\u0E7F\u1E00-\u1EFF]/;
const page = document.documentElement;
const opposite = page.getAttribute('dir') === 'rtl' ? ltr : rtl;
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const out = [];
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (!opposite.test(n.data)) continue;
  // Up through the inline elements around the text to the box that holds its line (a
  // block, a table cell, an inline-block, a flex item): isolated if one of those inline
  // elements isolates, or if the text is all the box holds (a paragraph of its own).
  let isolated = false;
  let e = n.parentElement;
  for (; e && e !== page; e = e.parentElement) {
    const style = getComputedStyle(e);
    // Not drawn, or (a choice of a list) drawn in a box of its own.
    if (['SCRIPT', 'STYLE', 'OPTION'].includes(e.tagName)) { isolated = true; break; }
    if (style.display !== 'inline') break;
    const bidi = style.unicodeBidi;
    if (bidi === 'isolate' || bidi === 'isolate-override' || bidi === 'plaintext') { isolated = true; break; }
  }
  if (!isolated && e && e.textContent.trim() === n.data.trim()) isolated = true;
  if (!isolated) {
    const p = n.parentElement;
    out.push(p.tagName.toLowerCase() + (p.className ? '.' + p.className.replace(/ /g, '.') : '') + ': ' + n.data.trim().slice(0, 60));
  }
}
return out;
"#;

/// Where the note of the latest visit and its byline's author and time are on screen.
const PLACES: &str = r#"
const note = document.querySelector(arguments[0]);
const dd = note.closest('dd, li, td, p, div');
const by = dd.querySelector('.by');
const name = by.querySelector('bdi');
const time = by.querySelector('time');
const r = e => { const b = e.getBoundingClientRect(); return [b.left, b.right, b.top, b.bottom]; };
return { note: r(note), by: r(by), name: r(name), time: r(time) };
"#;

fn rect(v: &Value, key: &str) -> [f64; 4] {
    let a = v[key].as_array().unwrap();
    [0, 1, 2, 3].map(|i| a[i].as_f64().unwrap())
}

#[test]
fn text_of_the_other_direction_is_isolated_and_bylines_keep_their_order() {
    let server = TestServer::start();
    let accounts = fieldcase_server::demo::seed(server.db.as_ref(), ITERATIONS).unwrap();
    let password = accounts
        .iter()
        .find(|a| a.username == "supervisor")
        .unwrap()
        .password
        .clone();
    // A Persian case with a Persian visit note recorded by a worker with a Latin name.
    let sup = server.db.user_by_username("supervisor").unwrap().unwrap();
    let persian = server
        .db
        .cases()
        .unwrap()
        .into_iter()
        .map(|(a, _)| a.id)
        .find(|id| {
            let doc = fieldcase_core::CaseDoc::load(&server.db.case_document(id).unwrap().unwrap())
                .unwrap();
            doc.read().unwrap().client.name.as_deref() == Some("زهرا احمدی")
        })
        .expect("the Persian demo case");
    let note = "مادر گفت که هفتهٔ آینده به مدرسه می‌رود.";
    rt_edit(&server, &sup, persian, note);

    let driver = Driver::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut failures = Vec::new();
    rt.block_on(async {
        let base = &server.url;
        let c = browser(&driver).await;
        sign_in(&c, base, "supervisor", &password).await;
        let cases: Vec<String> = server
            .db
            .cases()
            .unwrap()
            .iter()
            .map(|(a, _)| format!("/console/cases/{}", a.id))
            .collect();
        let pages = [
            vec![
                "/console".to_string(),
                "/console/approvals".into(),
                "/console/reports".into(),
                "/console/people".into(),
                "/console/people/worker1".into(),
                "/console/account".into(),
                format!("/console/cases/{persian}/history?path=client%2Fname"),
            ],
            cases,
        ]
        .concat();
        for lang in ["en", "fa", "ru", "uk", "th", "vi"] {
            server.db.set_user_language(&sup.id, lang).unwrap();
            for page in &pages {
                c.goto(&format!("{base}{page}")).await.unwrap();
                c.wait().for_element(Locator::Css("main")).await.unwrap();
                if lang == "fa" && page == "/console" {
                    // The check finds what it must: Latin text put bare into the page.
                    c.execute(
                        "const s = document.createElement('span'); s.textContent = 'bare Latin probe'; \
                         document.querySelector('main').appendChild(s);",
                        vec![],
                    )
                    .await
                    .unwrap();
                    let found = c.execute(UNISOLATED, vec![]).await.unwrap();
                    assert!(
                        found.to_string().contains("bare Latin probe"),
                        "the check sees unisolated text: {found}"
                    );
                    continue;
                }
                let found = c.execute(UNISOLATED, vec![]).await.unwrap();
                for f in found.as_array().unwrap() {
                    failures.push(format!("{lang} {page}: {}", f.as_str().unwrap()));
                }
            }
            // The visit note and its byline, on screen.
            c.goto(&format!("{base}/console/cases/{persian}"))
                .await
                .unwrap();
            c.wait().for_element(Locator::Css("main")).await.unwrap();
            let at = c
                .execute(PLACES, vec![json!("#visits li.entry .note")])
                .await
                .unwrap();
            let (note, by, name, time) = (
                rect(&at, "note"),
                rect(&at, "by"),
                rect(&at, "name"),
                rect(&at, "time"),
            );
            let rtl = lang == "fa";
            let same_line = |a: [f64; 4], b: [f64; 4]| a[2] < b[3] && b[2] < a[3];
            if same_line(note, by) {
                // After the note in the page's direction, not inside it.
                let after = if rtl {
                    by[1] <= note[0] + 1.0
                } else {
                    by[0] >= note[1] - 1.0
                };
                assert!(after, "{lang}: the byline is after the note: {at}");
            } else {
                assert!(
                    by[2] >= note[2],
                    "{lang}: the byline follows the note: {at}"
                );
            }
            if same_line(name, time) {
                let ordered = if rtl {
                    name[0] > time[1] - 1.0
                } else {
                    name[1] < time[0] + 1.0
                };
                assert!(ordered, "{lang}: author, then time: {at}");
            }
        }
    });
    assert!(
        failures.is_empty(),
        "{} unisolated texts:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Adds a visit with `note` to the case through the hub, as the supervisor.
fn rt_edit(
    server: &TestServer,
    by: &fieldcase_server::db::User,
    id: fieldcase_core::CaseId,
    note: &str,
) {
    let note = note.to_string();
    let state = server.state.clone();
    let by = by.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        state
            .hub
            .edit(&state, id, &by, move |doc, author, now| {
                doc.add_visit(
                    author,
                    now,
                    VisitInput {
                        date: Some("2026-12-01".into()),
                        kind: Some("home".into()),
                        note: Some(note.clone()),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            })
            .await
            .unwrap();
    });
}
