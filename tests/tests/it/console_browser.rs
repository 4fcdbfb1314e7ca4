//! The supervisor console in a real browser: headless Debian Chromium driven over
//! WebDriver (chromedriver). Two phones edit one case apart; the supervisor signs in, sees
//! both values of the conflicting field, keeps one, approves the plan, and switches to
//! Persian, where the whole page is right-to-left. The phones then sync and get both
//! decisions. Screenshots go to `target/test-artifacts/console/`.
//!
//! Chromium and chromedriver must be installed (`scripts/test.sh` installs them): without
//! them this test fails, it is never skipped.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use fieldcase_core::case::ProblemInput;
use fieldcase_core::{conflicts, CaseDoc, Stage};
use fieldcase_server::Db;
use fieldcase_tests::{TestServer, PASSWORD};
use serde_json::json;

/// chromedriver, started by this test on a free loopback port and killed when dropped.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub(crate) fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // In a process group of its own, with the browsers it starts: dropped, the whole
        // group goes (killed alone, chromedriver left its Chromium running when a test did
        // not close its session, or failed first). The price: a run interrupted with
        // Ctrl-C (no drop) leaves them running.
        let child = Command::new("chromedriver")
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is needed for the console's browser test: \
                 apt-get install chromium chromium-driver (scripts/test.sh does this)",
            );
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("test-artifacts")
        .join("console");
    std::fs::create_dir_all(&dir).expect("artifact folder");
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(artifacts().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Clicks something that loads a new page (a link, a form's button) and waits until the
/// new page is there: the old document has gone stale and the new one has its `main`.
async fn click_and_load(c: &Client, el: fantoccini::elements::Element) {
    let old = c.find(Locator::Css("html")).await.expect("a page");
    el.click().await.expect("click");
    let deadline = Instant::now() + Duration::from_secs(15);
    while old.tag_name().await.is_ok() {
        assert!(Instant::now() < deadline, "the click loaded no new page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("main"))
        .await
        .expect("the new page");
}

pub(crate) async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    let mut opts = json!({
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--lang=en-GB"],
    });
    if std::path::Path::new("/usr/bin/chromium").exists() {
        opts["binary"] = json!("/usr/bin/chromium");
    }
    caps.insert("goog:chromeOptions".into(), opts);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session (is chromium installed?)")
}

/// Signs in through the console's form in the browser and waits for the signed-in page.
pub(crate) async fn sign_in(c: &Client, base: &str, username: &str, password: &str) {
    c.goto(&format!("{base}/console/login")).await.unwrap();
    c.find(Locator::Css("input[name=username]"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("header.top"))
        .await
        .expect("signed in");
}

#[test]
fn a_supervisor_resolves_a_conflict_and_approves_a_plan_in_a_real_browser() {
    let server = TestServer::start();

    // Two phones edit one case apart.
    let (id, (anna, anna_token, _a), (bao, bao_token, _b)) =
        server.shared_case("Фёдорова Анна Петровна");
    anna.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("ул. Ленина, 5, кв. 12"))?;
        c.change_stage(me, now, Stage::Assessment)?;
        c.change_stage(me, now, Stage::Planning)?;
        c.add_problem(
            me,
            now,
            ProblemInput {
                domain: Some("housing".into()),
                goal: Some("Безопасное жильё до зимы".into()),
                ..Default::default()
            },
        )?;
        c.request_plan_approval(me, now)
    })
    .unwrap();
    bao.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("ул. Ленина, 5, кв. 21"))
    })
    .unwrap();
    for (phone, token) in [
        (&anna, &anna_token),
        (&bao, &bao_token),
        (&anna, &anna_token),
    ] {
        let r = phone.sync(&server.url, token).unwrap();
        assert!(r.errors.is_empty(), "{r:?}");
    }
    let stored = || CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    assert_eq!(conflicts(&stored()).len(), 1, "the address is in conflict");

    let driver = Driver::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(&driver).await;
        let base = &server.url;

        // Sign in as the supervisor.
        c.goto(&format!("{base}/console")).await.unwrap();
        assert!(c
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/login"));
        shot(&c, "01-login").await;
        c.find(Locator::Css("input[name=username]"))
            .await
            .unwrap()
            .send_keys("malee")
            .await
            .unwrap();
        c.find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys(PASSWORD)
            .await
            .unwrap();
        let submit = c
            .find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap();
        click_and_load(&c, submit).await;
        let h1 = c
            .find(Locator::Css("main h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(h1, "Caseload");
        let dash = c.source().await.unwrap();
        assert!(dash.contains("Фёдорова Анна Петровна") && dash.contains("1 conflict"));
        shot(&c, "02-dashboard").await;

        // Open the case: both values of the address, with their authors.
        let link = c
            .find(Locator::LinkText("Фёдорова Анна Петровна"))
            .await
            .unwrap();
        click_and_load(&c, link).await;
        let values = c
            .find_all(Locator::Css(".conflict-field li.value-choice"))
            .await
            .unwrap();
        assert_eq!(values.len(), 2);
        let mut texts = Vec::new();
        for v in &values {
            texts.push(v.text().await.unwrap());
        }
        assert!(
            texts
                .iter()
                .any(|t| t.contains("кв. 12") && t.contains("anna")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("кв. 21") && t.contains("bao")),
            "{texts:?}"
        );
        shot(&c, "03-case-with-conflict").await;

        // Keep Bảo's value.
        let mut chosen = false;
        for v in &values {
            if v.text().await.unwrap().contains("кв. 21") {
                let button = v.find(Locator::Css("button")).await.unwrap();
                click_and_load(&c, button).await;
                chosen = true;
                break;
            }
        }
        assert!(chosen);
        assert!(c
            .find_all(Locator::Css(".conflict-field"))
            .await
            .unwrap()
            .is_empty());
        let address = c
            .find(Locator::XPath(
                "//dt[.='Address']/following-sibling::dd//span[@class='value']",
            ))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(address, "ул. Ленина, 5, кв. 21");
        shot(&c, "04-conflict-resolved").await;

        // Approve the plan with a comment.
        let form = c.find(Locator::Css("#plan form.decision")).await.unwrap();
        form.find(Locator::Css("textarea[name=comment]"))
            .await
            .unwrap()
            .send_keys("Согласовано")
            .await
            .unwrap();
        let approve = form
            .find(Locator::Css("button[value=approve]"))
            .await
            .unwrap();
        click_and_load(&c, approve).await;
        let plan = c
            .find(Locator::Css("#plan"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            plan.contains("Approved") && plan.contains("Согласовано"),
            "{plan}"
        );
        assert!(c
            .find_all(Locator::Css("#plan form.decision"))
            .await
            .unwrap()
            .is_empty());
        shot(&c, "05-plan-approved").await;

        // Switch to Persian: the whole layout turns right-to-left.
        c.find(Locator::Css("select[name=lang]"))
            .await
            .unwrap()
            .select_by_value("fa")
            .await
            .unwrap();
        let switch = c
            .find(Locator::Css("form[action='/console/language'] button"))
            .await
            .unwrap();
        click_and_load(&c, switch).await;
        let html = c.find(Locator::Css("html")).await.unwrap();
        assert_eq!(html.attr("dir").await.unwrap().as_deref(), Some("rtl"));
        assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some("fa"));
        let main = c.find(Locator::Css("main")).await.unwrap();
        assert_eq!(main.css_value("direction").await.unwrap(), "rtl");
        // The navigation starts at the right edge.
        let (x, _, w, _) = c
            .find(Locator::Css("header.top .brand"))
            .await
            .unwrap()
            .rectangle()
            .await
            .unwrap();
        assert!(x + w > 1000.0, "the brand sits on the right: x={x} w={w}");
        let nav = c
            .find(Locator::Css("header.top nav"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(nav.contains("بار کاری"), "{nav}");
        shot(&c, "06-persian-rtl").await;
        c.set_window_size(820, 1180).await.unwrap();
        c.goto(&format!("{base}/console")).await.unwrap();
        // Under load the resized window's page is read a moment later, at most three times.
        let mut persian = false;
        for _ in 0..3 {
            persian = c.source().await.unwrap().contains('۱');
            if persian {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        assert!(persian, "Persian digits");
        shot(&c, "07-persian-dashboard-tablet").await;
        c.close().await.unwrap();
    });

    // Both decisions are normal changes by the supervisor, and the phones get them.
    let doc = stored().read().unwrap();
    assert_eq!(doc.client.address.as_deref(), Some("ул. Ленина, 5, кв. 21"));
    assert_eq!(
        doc.plan.approval.status,
        Some(fieldcase_core::case::ApprovalStatus::Approved)
    );
    let malee = server.db.user_by_username("malee").unwrap().unwrap();
    assert_eq!(
        doc.plan.approval.decided_by.as_deref(),
        Some(malee.id.as_str())
    );
    anna.sync(&server.url, &anna_token).unwrap();
    let on_phone = anna.get_case(&id).unwrap();
    assert_eq!(
        on_phone.client.address.as_deref(),
        Some("ул. Ленина, 5, кв. 21")
    );
    assert_eq!(
        on_phone.plan.approval.comment.as_deref(),
        Some("Согласовано")
    );
    assert!(anna.conflicts(&id).unwrap().is_empty());
}
