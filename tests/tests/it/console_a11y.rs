//! Accessibility: every page of the console passes axe-core's WCAG 2.0, 2.1 and 2.2 A and
//! AA rules in headless Chromium, in all six languages, on the demo caseload (five
//! scripts, a right-to-left language). axe-core is pinned in `tests/js/package.json`
//! (`npm ci` in `scripts/test.sh`).

use fantoccini::{Client, Locator};
use fieldcase_server::Db;
use fieldcase_tests::{TestServer, ITERATIONS};
use serde_json::Value;

use crate::console_browser::{browser, sign_in, Driver};

fn axe_source() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("js/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is needed at {} ({e}): npm ci --prefix tests/js (scripts/test.sh does this)",
            path.display()
        )
    })
}

/// The WCAG A and AA violations axe-core finds on the page now: rule, impact, where.
async fn violations(c: &Client, axe: &str) -> Vec<String> {
    c.execute(axe, vec![]).await.expect("axe-core loads");
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: { type: 'tag',
                   values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
                 .then(r => done(r.violations.map(v =>
                     v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                     v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
                 .catch(e => done(['axe failed: ' + e]));"#,
            vec![],
        )
        .await
        .expect("axe-core runs");
    match found {
        Value::Array(v) => v
            .into_iter()
            .map(|x| x.as_str().unwrap_or_default().to_string())
            .collect(),
        other => vec![format!("unexpected answer {other}")],
    }
}

#[test]
fn every_console_page_passes_axe_in_every_language() {
    let server = TestServer::start();
    let accounts = fieldcase_server::demo::seed(server.db.as_ref(), ITERATIONS).unwrap();
    let password = |u: &str| {
        accounts
            .iter()
            .find(|a| a.username == u)
            .unwrap()
            .password
            .clone()
    };
    let cases = server.db.cases().unwrap();
    assert!(cases.len() >= 5, "the demo caseload");
    let axe = axe_source();
    let driver = Driver::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut failures = Vec::new();
    rt.block_on(async {
        let base = &server.url;
        let c = browser(&driver).await;
        // The check itself finds what it must: an image without a text alternative and a
        // button without a name.
        c.goto("data:text/html,<html lang=en><title>t</title><main><img src=x.png><button></button></main></html>")
            .await
            .unwrap();
        let found = violations(&c, &axe).await;
        assert!(
            found.iter().any(|v| v.starts_with("image-alt"))
                && found.iter().any(|v| v.starts_with("button-name")),
            "{found:?}"
        );
        // The sign-in page, as anyone first sees it.
        c.goto(&format!("{base}/console/login")).await.unwrap();
        for v in violations(&c, &axe).await {
            failures.push(format!("/console/login: {v}"));
        }
        for (username, pages) in [
            (
                "supervisor",
                [
                    vec![
                        "/console".to_string(),
                        "/console/approvals".into(),
                        "/console/reports".into(),
                        "/console/people".into(),
                        "/console/people/worker1".into(),
                        "/console/account".into(),
                    ],
                    cases
                        .iter()
                        .map(|c| format!("/console/cases/{}", c.0.id))
                        .collect(),
                    // A field's history (one case: the page is the same for every case).
                    vec![format!(
                        "/console/cases/{}/history?path=client%2Fname",
                        cases[0].0.id
                    )],
                ]
                .concat(),
            ),
            ("admin", vec!["/console/admin".to_string()]),
        ] {
            let c = browser(&driver).await;
            sign_in(&c, base, username, &password(username)).await;
            let user = server.db.user_by_username(username).unwrap().unwrap();
            for lang in ["en", "th", "fa", "ru", "uk", "vi"] {
                server.db.set_user_language(&user.id, lang).unwrap();
                for page in &pages {
                    c.goto(&format!("{base}{page}")).await.unwrap();
                    c.wait()
                        .for_element(Locator::Css("main"))
                        .await
                        .expect("the page");
                    for v in violations(&c, &axe).await {
                        failures.push(format!("{lang} {page}: {v}"));
                    }
                }
            }
            c.close().await.unwrap();
        }
    });
    assert!(
        failures.is_empty(),
        "{} violations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
