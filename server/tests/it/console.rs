//! The supervisor console, page by page and rule by rule: the router driven directly with
//! a cookie jar, on the demo caseload plus a second team.

use std::collections::HashMap;

use automerge::ActorId;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use fieldcase_core::case::ReferralStatus;
use fieldcase_core::case::{AssessmentInput, DomainInput, ProblemInput, ReferralInput};
use fieldcase_core::{conflicts, Author, CaseDoc, CaseId, NewCase, Role};
use fieldcase_server::db::CaseAccess;
use fieldcase_server::{app, demo, Config, Db};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::{Server, ITER};

/// A browser without JavaScript: a cookie jar and the last page.
struct Browser<'a> {
    server: &'a Server,
    cookies: HashMap<String, String>,
    extra: Vec<(&'static str, &'static str)>,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The CSRF token in the page's forms.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token");
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl<'a> Browser<'a> {
    fn new(server: &'a Server) -> Self {
        Browser {
            server,
            cookies: HashMap::new(),
            extra: Vec::new(),
        }
    }

    async fn send(&mut self, method: &str, path: &str, form: Option<String>) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", c.join("; "));
        }
        for (k, v) in &self.extra {
            req = req.header(*k, *v);
        }
        let req = match form {
            Some(f) => req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(f))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let res = app(self.server.state.clone()).oneshot(req).await.unwrap();
        for sc in res.headers().get_all("set-cookie") {
            let sc = sc.to_str().unwrap();
            let (kv, _) = sc.split_once(';').unwrap_or((sc, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.into(), v.into());
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    async fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(pairs).unwrap();
        self.send("POST", path, Some(body)).await
    }

    async fn login(&mut self, username: &str, password: &str) -> Answer {
        let page = self.get("/console/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let at = page.body.find("name=\"login_token\" value=\"").unwrap();
        let rest = &page.body[at + 26..];
        let token = rest[..rest.find('"').unwrap()].to_string();
        self.post(
            "/console/login",
            &[
                ("login_token", &token),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs in and returns the CSRF token of the session.
    async fn signed_in(server: &'a Server, username: &str, password: &str) -> (Self, String) {
        let mut b = Browser::new(server);
        let r = b.login(username, password).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/console");
        let dash = b.get("/console").await;
        assert_eq!(dash.status, StatusCode::OK, "{}", dash.body);
        let csrf = dash.csrf();
        (b, csrf)
    }
}

struct World {
    s: Server,
    pw: HashMap<String, String>,
}

impl World {
    /// The demo caseload (team `demo-team`) and a second team `south` with a supervisor,
    /// a worker and one case.
    fn new() -> World {
        Self::with_config(Config {
            password_iterations: ITER,
            ..Config::default()
        })
    }

    fn with_config(config: Config) -> World {
        let s = Server::with_config(config);
        let mut pw: HashMap<String, String> = demo::seed(s.db.as_ref(), ITER)
            .unwrap()
            .into_iter()
            .map(|a| (a.username, a.password))
            .collect();
        s.db.add_team("south").unwrap();
        for (u, role) in [("sud", Role::Supervisor), ("sam", Role::Worker)] {
            s.db.add_user(u, u, role, Some("south"), "south team passphrase", ITER)
                .unwrap();
            pw.insert(u.into(), "south team passphrase".into());
        }
        let sam = s.db.user_by_username("sam").unwrap().unwrap();
        put_case(&s, &sam, "south", "Олена Південна", |_, _| {
            Ok(())
        });
        World { s, pw }
    }

    fn pw(&self, u: &str) -> &str {
        &self.pw[u]
    }

    /// The id of the case whose client is `name`.
    fn case(&self, name: &str) -> (CaseId, CaseDoc) {
        for (a, _) in self.s.db.cases().unwrap() {
            let doc = CaseDoc::load(&self.s.db.case_document(&a.id).unwrap().unwrap()).unwrap();
            if doc.read().unwrap().client.name.as_deref() == Some(name) {
                return (a.id, doc);
            }
        }
        panic!("no case of {name}");
    }
}

/// Stores a new case of `team` made by `by` (a worker), after `f` edits it.
fn put_case(
    s: &Server,
    by: &fieldcase_server::db::User,
    team: &str,
    name: &str,
    f: impl FnOnce(&mut CaseDoc, &Author) -> fieldcase_core::Result<()>,
) -> CaseId {
    let actor = ActorId::random();
    let device =
        s.db.register_device(by, None, "test", &actor.to_hex_string())
            .unwrap();
    let author = Author::new(&by.id, &by.display_name, by.role, &device);
    let mut new = NewCase {
        team: team.into(),
        ..Default::default()
    };
    new.client.name = Some(name.into());
    let mut doc =
        CaseDoc::create(CaseId::random(), actor, &author, new, 1_700_000_000_000).unwrap();
    f(&mut doc, &author).unwrap();
    let file = doc.read().unwrap();
    let access = CaseAccess {
        id: doc.id().unwrap(),
        team: team.into(),
        restricted: doc.is_restricted(),
        assigned: file.assigned,
        links: Vec::new(),
        closed: false,
        closed_at: None,
        matching: None,
        listing: None,
    };
    s.db.put_case(&access, &doc.automerge().save(), &doc.heads(), 1)
        .unwrap();
    access.id
}

#[tokio::test]
async fn signing_in_sets_a_safe_cookie_and_every_answer_has_the_security_headers() {
    let w = World::new();
    let mut b = Browser::new(&w.s);
    let r = b.get("/console").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/console/login");

    let page = b.get("/console/login").await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("script-src"), "no scripts at all: {csp}");
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");

    // Wrong password: the form again, with a message, and no session.
    let r = b.login("supervisor", "wrong").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Wrong username or password."));
    assert!(!b.cookies.contains_key("fc_session"));

    // A login post without the form's token (cross-site) is refused.
    let mut other = Browser::new(&w.s);
    let r = other
        .post(
            "/console/login",
            &[("username", "supervisor"), ("password", w.pw("supervisor"))],
        )
        .await;
    assert!(r.body.contains("The sign-in form expired"), "{}", r.body);
    assert!(!other.cookies.contains_key("fc_session"));

    let r = b.login("supervisor", w.pw("supervisor")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("fc_session="))
        .unwrap();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/console"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    assert!(
        !r.headers.contains_key("strict-transport-security"),
        "no HSTS over plain HTTP"
    );

    // Behind a TLS proxy the cookie is Secure.
    let mut tls = Browser::new(&w.s);
    tls.extra.push(("x-forwarded-proto", "https"));
    let r = tls.login("supervisor", w.pw("supervisor")).await;
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("fc_session="))
        .unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");

    // A server serving TLS itself marks every console cookie Secure.
    let tls_server = crate::Server::with_config(fieldcase_server::Config {
        password_iterations: ITER,
        tls: true,
        ..Default::default()
    });
    tls_server
        .db
        .add_user(
            "amir",
            "Amir",
            Role::Admin,
            None,
            "a long enough phrase",
            ITER,
        )
        .unwrap();
    let mut t = Browser::new(&tls_server);
    let page = t.get("/console/login").await;
    assert_eq!(
        page.headers["strict-transport-security"], "max-age=31536000",
        "HSTS over TLS"
    );
    assert!(page.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
    let r = t.login("amir", "a long enough phrase").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r
        .headers
        .get_all("set-cookie")
        .iter()
        .all(|c| c.to_str().unwrap().contains("; Secure")));

    // Signing out ends the session on the server.
    let dash = b.get("/console").await;
    let token = b.cookies["fc_session"].clone();
    let r = b.post("/console/logout", &[("csrf", &dash.csrf())]).await;
    assert_eq!(r.location(), "/console/login");
    assert!(w
        .s
        .db
        .session(
            &token,
            w.s.state.config.sessions,
            chrono::Utc::now().timestamp_millis()
        )
        .unwrap()
        .is_none());
    b.cookies.insert("fc_session".into(), token);
    assert_eq!(b.get("/console").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_page_renders_for_a_supervisor() {
    let w = World::new();
    let (mut b, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let dash = b.get("/console").await;
    for expected in [
        "Emergencies",
        "Overdue reviews",
        "Unresolved conflicts",
        "Recent activity",
        "Фёдорова Анна Петровна",
        // A restricted case: its client's initials until the viewer chooses the name.
        "ส. จ.",
        "Nguyễn Thị Lan",
    ] {
        assert!(dash.body.contains(expected), "dashboard lacks {expected}");
    }
    assert!(!dash.body.contains("Олена Південна"), "another team's case");
    for (a, _) in w.s.db.cases().unwrap() {
        if a.team != "demo-team" {
            continue;
        }
        let r = b.get(&format!("/console/cases/{}", a.id)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("id=\"visits\""));
        let h = b
            .get(&format!("/console/cases/{}/history?path=client/name", a.id))
            .await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    }
    for path in ["/console/approvals", "/console/reports"] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    for name in ["gaps", "needs", "caseload", "closed", "referrals"] {
        let r = b.get(&format!("/console/reports/{name}.csv")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
        assert!(r.body.ends_with("\r\n"));
    }
    let caseload = b.get("/console/reports/caseload.csv").await;
    assert!(
        caseload.body.starts_with("worker,open,emergencies,"),
        "{}",
        caseload.body
    );
    assert!(
        caseload.body.contains("Anna Petrenko,"),
        "{}",
        caseload.body
    );
    assert_eq!(
        b.get("/console/reports/secrets.csv").await.status,
        StatusCode::NOT_FOUND
    );
    // Users and teams are for admins.
    assert_eq!(b.get("/console/admin").await.status, StatusCode::FORBIDDEN);
    let (mut admin, csrf) = Browser::signed_in(&w.s, "admin", w.pw("admin")).await;
    let r = admin.get("/console/admin").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("sud") && r.body.contains("demo-team"));
    let r = admin
        .post("/console/admin/teams", &[("csrf", &csrf), ("name", "east")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = admin
        .post(
            "/console/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "eve"),
                ("display_name", "Єва"),
                ("role", "worker"),
                ("team", "east"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("at least 12 characters"));
    for weak in ["password1234", "eve.eve.eve.eve", "123456789012"] {
        let r = admin
            .post(
                "/console/admin/users",
                &[
                    ("csrf", &csrf),
                    ("username", "eve"),
                    ("display_name", "Єва"),
                    ("role", "worker"),
                    ("team", "east"),
                    ("password", weak),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{weak}");
        assert!(r.body.contains("too easy to guess"), "{weak}");
    }
    let r = admin
        .post(
            "/console/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "eve"),
                ("display_name", "Єва"),
                ("role", "worker"),
                ("team", "east"),
                ("password", "a long enough phrase"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        w.s.db
            .user_by_username("eve")
            .unwrap()
            .unwrap()
            .team
            .as_deref(),
        Some("east")
    );
    let r = admin
        .post(
            "/console/admin/users/eve/password",
            &[("csrf", &csrf), ("password", "short")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = admin
        .post(
            "/console/admin/users/nobody/password",
            &[("csrf", &csrf), ("password", "another long password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = admin
        .post(
            "/console/admin/users/eve/password",
            &[("csrf", &csrf), ("password", "another long password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut eve = Browser::new(&w.s);
    let r = eve.login("eve", "another long password").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "eve signs in with the new password"
    );
    // A supervisor cannot set passwords.
    let (mut sup2, sup_csrf) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let r = sup2
        .post(
            "/console/admin/users/eve/password",
            &[("csrf", &sup_csrf), ("password", "a third long password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin
        .post("/console/admin/users/eve/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(w.s.db.user_by_username("eve").unwrap().unwrap().disabled);
}

#[tokio::test]
async fn a_supervisor_of_another_team_sees_nothing_of_it() {
    let w = World::new();
    let (fed, _) = w.case("Фёдорова Анна Петровна");
    let (mut sud, csrf) = Browser::signed_in(&w.s, "sud", w.pw("sud")).await;
    let dash = sud.get("/console").await;
    assert!(dash.body.contains("Олена Південна"));
    for name in ["Фёдорова", "สมศรี", "Nguyễn", "زهرا", "Anna Petrenko"] {
        assert!(
            !dash.body.contains(name),
            "the south supervisor sees {name}"
        );
    }
    let hidden = sud.get(&format!("/console/cases/{fed}")).await;
    let missing = sud
        .get(&format!("/console/cases/{}", CaseId::random()))
        .await;
    let garbage = sud.get("/console/cases/not-an-id").await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.body, missing.body,
        "hidden and missing look the same"
    );
    assert_eq!(garbage.body, missing.body);
    let h = sud
        .get(&format!("/console/cases/{fed}/history?path=client/address"))
        .await;
    assert_eq!(h.status, StatusCode::NOT_FOUND);
    for report in ["gaps", "needs", "caseload", "closed", "referrals"] {
        let r = sud.get(&format!("/console/reports/{report}.csv")).await;
        assert!(!r.body.contains("Anna Petrenko") && !r.body.contains(&fed.to_string()));
    }
    let approvals = sud.get("/console/approvals").await;
    assert!(!approvals.body.contains("Nguyễn"));
    // Writes to it are 404 too, and change nothing.
    let before = w.s.db.case_heads(&fed).unwrap();
    for (path, form) in [
        (
            format!("/console/cases/{fed}/resolve"),
            vec![("path", "client/address"), ("value", "\"x\"")],
        ),
        (
            format!("/console/cases/{fed}/plan"),
            vec![("decision", "approve")],
        ),
        (
            format!("/console/cases/{fed}/assignment"),
            vec![("workers", "sam")],
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        let r = sud.post(&path, &f).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(w.s.db.case_heads(&fed).unwrap(), before);
}

#[tokio::test]
async fn restricted_cases_are_hidden_from_unassigned_workers_and_admins() {
    let w = World::new();
    let worker1 = w.s.db.user_by_username("worker1").unwrap().unwrap();
    let restricted: Vec<CaseAccess> =
        w.s.db
            .cases()
            .unwrap()
            .into_iter()
            .map(|(a, _)| a)
            .filter(|a| a.restricted)
            .collect();
    assert_eq!(restricted.len(), 3);
    let (mut w2, _) = Browser::signed_in(&w.s, "worker2", w.pw("worker2")).await;
    let (mut admin, _) = Browser::signed_in(&w.s, "admin", w.pw("admin")).await;
    let (mut sup, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let mut checked = 0;
    for a in &restricted {
        let url = format!("/console/cases/{}", a.id);
        assert_eq!(
            sup.get(&url).await.status,
            StatusCode::OK,
            "the team's supervisor sees it"
        );
        assert_eq!(
            admin.get(&url).await.status,
            StatusCode::NOT_FOUND,
            "admins do not"
        );
        if a.assigned.contains(&worker1.id) {
            assert_eq!(
                w2.get(&url).await.status,
                StatusCode::NOT_FOUND,
                "unassigned worker"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
    // Each read is in the audit trail, with ids only, and admins read it in the console.
    let sup_id = w.s.db.user_by_username("supervisor").unwrap().unwrap().id;
    let trail = w.s.db.audit_trail(Some(&restricted[0].id), 100).unwrap();
    assert!(trail
        .iter()
        .any(|e| e.user_id == sup_id && e.action == "read (console)"));
    assert!(trail
        .iter()
        .any(|e| e.user_id == sup_id && e.action == "listed (console)"));
    let audit_page = admin.get("/console/admin").await;
    assert!(audit_page.body.contains("read (console)"));
    assert!(audit_page.body.contains(&restricted[0].id.to_string()));
    let dash = w2.get("/console").await;
    assert!(
        !dash.body.contains("สมศรี ใจดี")
            && !dash.body.contains("ส. จ.")
            && !dash.body.contains("Restricted")
    );
    // A worker sees their own cases, read-only: no decision or resolve forms.
    let (mut w1, _) = Browser::signed_in(&w.s, "worker1", w.pw("worker1")).await;
    let (fed, _) = w.case("Фёдорова Анна Петровна");
    let page = w1.get(&format!("/console/cases/{fed}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ул. Ленина, 5, кв. 12"));
    assert!(!page.body.contains("/resolve") && !page.body.contains("/assignment\""));
    assert_eq!(
        w1.get("/console/approvals").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let w = World::new();
    let (fed, _) = w.case("Фёдорова Анна Петровна");
    let (mut b, csrf) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let before = w.s.db.case_heads(&fed).unwrap();
    let resolve = format!("/console/cases/{fed}/resolve");
    let value = "\"ул. Ленина, 5, кв. 12\"";
    for token in ["", "0000", &csrf[..csrf.len() - 1]] {
        let r = b
            .post(
                &resolve,
                &[
                    ("csrf", token),
                    ("path", "client/address"),
                    ("value", value),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "token {token:?}");
    }
    let r = b
        .post(&resolve, &[("path", "client/address"), ("value", value)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for path in [
        "/console/language",
        "/console/logout",
        "/console/admin/teams",
    ] {
        assert_eq!(
            b.post(path, &[("lang", "fa"), ("name", "x")]).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(w.s.db.case_heads(&fed).unwrap(), before, "nothing written");
    // Another session's token does not work either.
    let (_, other_csrf) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    assert_ne!(other_csrf, csrf);
    let r = b
        .post(
            &resolve,
            &[
                ("csrf", &other_csrf),
                ("path", "client/address"),
                ("value", value),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Not signed in at all: 401, not a redirect that would lose the post.
    let mut anon = Browser::new(&w.s);
    assert_eq!(
        anon.post(&resolve, &[("csrf", &csrf)]).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_supervisor_resolves_a_conflict_as_a_normal_change() {
    let w = World::new();
    let (fed, doc) = w.case("Фёдорова Анна Петровна");
    assert_eq!(conflicts(&doc).len(), 1);
    let (mut b, csrf) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let page = b.get(&format!("/console/cases/{fed}")).await;
    for v in [
        "ул. Ленина, 5, кв. 12",
        "ул. Ленина, 5, кв. 21",
        "Anna Petrenko",
        "Lê Văn Bảo",
        "Keep this value",
        "Client and household › Address",
    ] {
        assert!(page.body.contains(v), "the conflict shows {v}");
    }
    let resolve = format!("/console/cases/{fed}/resolve");
    // Bad input gets a clear answer.
    let r = b
        .post(
            &resolve,
            &[
                ("csrf", &csrf),
                ("path", "client/address"),
                ("value", "not json"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("the chosen value is not readable"));
    let r = b
        .post(
            &resolve,
            &[
                ("csrf", &csrf),
                ("path", "client/address"),
                ("value", "\"somewhere else\""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("no longer holds that value"), "{}", r.body);
    let r = b
        .post(&resolve, &[("csrf", &csrf), ("path", "client/address")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = b
        .post(
            &resolve,
            &[
                ("csrf", &csrf),
                ("path", "client/address"),
                ("value", "\"ул. Ленина, 5, кв. 12\""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("/console/cases/{fed}#conflicts"));
    let after = CaseDoc::load(&w.s.db.case_document(&fed).unwrap().unwrap()).unwrap();
    assert!(conflicts(&after).is_empty());
    assert_eq!(
        after.read().unwrap().client.address.as_deref(),
        Some("ул. Ленина, 5, кв. 12")
    );
    // The resolution is the supervisor's change (Automerge keeps the chosen value's op when
    // it was the one shown, and removes the others).
    let changes = fieldcase_core::history(&after, "client/address").unwrap();
    assert_eq!(
        changes.last().unwrap().by.user_name.as_deref(),
        Some("Supervisor Malee")
    );
    let page = b.get(&format!("/console/cases/{fed}")).await;
    assert!(page.body.contains("No field holds concurrent values."));
    // The dashboard (cached since sign-in) sees the change.
    let dash = b.get("/console?only=conflicts").await;
    let list = &dash.body[dash.body.find("<table class=\"cases\"").unwrap()..];
    assert!(!list[..list.find("</table>").unwrap()].contains("Фёдорова"));
    let link = format!("/console/cases/{fed}/history?path=client%2Faddress");
    assert!(page.body.contains(&link), "the history link is encoded");
    let h = b.get(&link).await;
    assert!(
        h.body.contains("Supervisor Malee")
            && h.body.contains("Lê Văn Bảo")
            && h.body.contains("set client/address")
    );
    // A field that does not exist: a clear error.
    let h = b
        .get(&format!(
            "/console/cases/{fed}/history?path=client/shoe_size"
        ))
        .await;
    assert_eq!(h.status, StatusCode::BAD_REQUEST);
    assert!(h.body.contains("no such field"));
}

#[tokio::test]
async fn plans_and_closures_are_approved_or_returned_from_the_queue() {
    let w = World::new();
    let worker = w.s.db.user_by_username("worker1").unwrap().unwrap();
    let id = put_case(&w.s, &worker, "demo-team", "Trần Thị Mai", |doc, a| {
        doc.change_stage(a, 1_700_000_001_000, fieldcase_core::Stage::Assessment)?;
        doc.change_stage(a, 1_700_000_002_000, fieldcase_core::Stage::Planning)?;
        doc.add_problem(
            a,
            1_700_000_003_000,
            ProblemInput {
                domain: Some("housing".into()),
                goal: Some("Nhà ở an toàn".into()),
                ..Default::default()
            },
        )?;
        doc.request_plan_approval(a, 1_700_000_004_000)
    });
    let (mut b, csrf) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let q = b.get("/console/approvals").await;
    assert!(
        q.body.contains("Trần Thị Mai") && q.body.contains("Nhà ở an toàn"),
        "{}",
        q.body
    );
    let plan = format!("/console/cases/{id}/plan");
    let r = b
        .post(
            &plan,
            &[("csrf", &csrf), ("decision", "return"), ("comment", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("returning needs a comment"));
    let r = b
        .post(&plan, &[("csrf", &csrf), ("decision", "maybe")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A worker cannot decide, even on their own case.
    let (mut w1, w1_csrf) = Browser::signed_in(&w.s, "worker1", w.pw("worker1")).await;
    let r = w1
        .post(&plan, &[("csrf", &w1_csrf), ("decision", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = b
        .post(
            &plan,
            &[
                ("csrf", &csrf),
                ("decision", "approve"),
                ("comment", "Đồng ý"),
                ("authority", "Ủy ban nhân dân xã"),
                ("decision_number", "12/QĐ-UBND"),
                ("decision_date", "2026-11-28"),
                ("next", "/console/approvals"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/console/approvals")
    );
    let doc = CaseDoc::load(&w.s.db.case_document(&id).unwrap().unwrap()).unwrap();
    let ap = doc.read().unwrap().plan.approval;
    let sup = w.s.db.user_by_username("supervisor").unwrap().unwrap();
    assert_eq!(
        ap.status,
        Some(fieldcase_core::case::ApprovalStatus::Approved)
    );
    assert_eq!(ap.decided_by.as_deref(), Some(sup.id.as_str()));
    assert_eq!(ap.comment.as_deref(), Some("Đồng ý"));
    let file = doc.read().unwrap();
    let version = file.approved_plan().unwrap();
    assert_eq!(
        (
            version.number,
            version.authority.as_deref(),
            version.decision_number.as_deref(),
            version.decision_date.as_deref()
        ),
        (
            Some(1),
            Some("Ủy ban nhân dân xã"),
            Some("12/QĐ-UBND"),
            Some("2026-11-28")
        )
    );
    assert!(!b
        .get("/console/approvals")
        .await
        .body
        .contains("Trần Thị Mai"));
    // The version in force is not approved twice: a clear error, nothing written.
    let r = b
        .post(&plan, &[("csrf", &csrf), ("decision", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let record = b.get(&format!("/console/cases/{id}")).await.body;
    assert!(record.contains("12/QĐ-UBND") && record.contains("Ủy ban nhân dân xã"));
    // The worker changes the approved plan: a draft, shown against the approved version.
    let mut changed = doc;
    changed.set_actor(ActorId::random());
    let me = Author::new(&worker.id, "w", Role::Worker, "d");
    let problem = file.plan.problems[0].id.clone();
    changed
        .update_problem(
            &me,
            1_800_000_000_000,
            &problem,
            ProblemInput {
                goal: Some("Nhà ở an toàn trước Tết".into()),
                ..Default::default()
            },
        )
        .unwrap();
    changed
        .request_plan_approval(&me, 1_800_000_000_000)
        .unwrap();
    let access = w.s.db.case_access(&id).unwrap().unwrap();
    w.s.db
        .put_case(&access, &changed.automerge().save(), &changed.heads(), 5)
        .unwrap();
    let q = b.get("/console/approvals").await.body;
    let mine = q.split("Trần Thị Mai").nth(1).unwrap_or_default();
    let draft = mine.split("class=\"draft\"").nth(1).unwrap_or_default();
    assert!(
        draft.contains("<del><bdi>Nhà ở an toàn</bdi></del>")
            && draft.contains("<ins><bdi>Nhà ở an toàn trước Tết</bdi></ins>"),
        "{q}"
    );
    // An open redirect is not followed (a return, which may be repeated, goes back).
    let r = b
        .post(
            &plan,
            &[
                ("csrf", &csrf),
                ("decision", "return"),
                ("comment", "Thêm lịch thăm"),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.location(), format!("/console/cases/{id}#plan"));
    for next in [
        "/console\r\nSet-Cookie: x=1",
        "/console/ü",
        "https://evil.example/console",
    ] {
        let r = b
            .post(
                &plan,
                &[
                    ("csrf", &csrf),
                    ("decision", "return"),
                    ("comment", "Thêm lịch thăm"),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(r.location(), format!("/console/cases/{id}#plan"));
    }

    // A closure request on a demo case in monitoring: a case closes at any open stage.
    let (review_id, mut doc) = w.case("Trần Văn Hùng");
    let me = Author::new(&worker.id, "w", Role::Worker, "d");
    let closure = doc
        .request_closure(
            &me,
            1_800_000_000_000,
            fieldcase_core::case::ClosureInput {
                reason: Some("goals_achieved".into()),
                outcome: Some("Цели достигнуты".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let access = w.s.db.case_access(&review_id).unwrap().unwrap();
    w.s.db
        .put_case(&access, &doc.automerge().save(), &doc.heads(), 2)
        .unwrap();
    // The supervisor cannot approve before the request says the client was told.
    let r = b
        .post(
            &format!("/console/cases/{review_id}/closures/{closure}"),
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let stored = CaseDoc::load(&w.s.db.case_document(&review_id).unwrap().unwrap()).unwrap();
    assert_eq!(stored.stage(), fieldcase_core::Stage::Monitoring);
    doc.record_informed(
        &me,
        1_800_000_001_000,
        &closure,
        fieldcase_core::case::InformedInput {
            informed: Some(true),
            informed_on: Some("2026-11-30".into()),
            informed_how: Some(fieldcase_core::case::InformedHow::HomeVisit),
            informed_note: None,
        },
    )
    .unwrap();
    w.s.db
        .put_case(&access, &doc.automerge().save(), &doc.heads(), 3)
        .unwrap();
    let q = b.get("/console/approvals").await;
    assert!(q.body.contains("Цели достигнуты"));
    let r = b
        .post(
            &format!("/console/cases/{review_id}/closures/{closure}"),
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let doc = CaseDoc::load(&w.s.db.case_document(&review_id).unwrap().unwrap()).unwrap();
    assert_eq!(doc.stage(), fieldcase_core::Stage::Closed);
    let closed = b.get("/console/reports/closed.csv").await;
    assert!(
        closed.body.contains(&review_id.to_string()) && closed.body.contains("Цели достигнуты")
    );
    assert!(
        !closed.body.contains("Trần Văn Hùng"),
        "no client names in exports"
    );
    // Deciding twice is a clear error.
    let r = b
        .post(
            &format!("/console/cases/{review_id}/closures/{closure}"),
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_supervisor_assigns_and_transfers_within_the_team() {
    let w = World::new();
    let (fed, _) = w.case("Фёдорова Анна Петровна");
    let (mut b, csrf) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let url = format!("/console/cases/{fed}/assignment");
    let r = b.post(&url, &[("csrf", &csrf), ("workers", "sam")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "sam is of another team");
    assert!(r
        .body
        .contains("not an active worker or supervisor of the case"));
    let r = b.post(&url, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b
        .post(
            &url,
            &[
                ("csrf", &csrf),
                ("workers", "worker2"),
                ("case_manager", "worker2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let w2 = w.s.db.user_by_username("worker2").unwrap().unwrap();
    let access = w.s.db.case_access(&fed).unwrap().unwrap();
    assert_eq!(access.assigned, vec![w2.id.clone()]);
    let (mut worker1, _) = Browser::signed_in(&w.s, "worker1", w.pw("worker1")).await;
    assert_eq!(
        worker1.get(&format!("/console/cases/{fed}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_language_is_per_user_and_persian_is_right_to_left() {
    let w = World::new();
    let (mut b, csrf) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    assert!(b
        .get("/console")
        .await
        .body
        .contains("<html lang=\"en\" dir=\"ltr\">"));
    let r = b
        .post("/console/language", &[("csrf", &csrf), ("lang", "xx")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b
        .post(
            "/console/language",
            &[
                ("csrf", &csrf),
                ("lang", "fa"),
                ("next", "/console/reports"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/console/reports");
    let dash = b.get("/console").await;
    assert!(dash.body.contains("<html lang=\"fa\" dir=\"rtl\">"));
    assert!(dash.body.contains('۱'), "Persian digits");
    assert!(dash.body.contains("بار کاری"), "Persian text");
    // Another user keeps their own language; a new session of the same user keeps fa.
    let (mut w1, _) = Browser::signed_in(&w.s, "worker1", w.pw("worker1")).await;
    assert!(w1.get("/console").await.body.contains("lang=\"en\""));
    let (mut again, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    assert!(again.get("/console").await.body.contains("lang=\"fa\""));
    for code in ["th", "ru", "uk", "vi", "en"] {
        b.post("/console/language", &[("csrf", &csrf), ("lang", code)])
            .await;
        let page = b.get("/console/approvals").await;
        assert!(
            page.body.contains(&format!("lang=\"{code}\" dir=\"ltr\"")),
            "{code}"
        );
    }
    // Before sign-in, the browser's language is used.
    let mut anon = Browser::new(&w.s);
    anon.extra.push(("accept-language", "uk-UA,uk;q=0.9"));
    assert!(anon
        .get("/console/login")
        .await
        .body
        .contains("lang=\"uk\""));
}

#[tokio::test]
async fn filters_and_search_follow_the_phone_rules_and_bad_filters_are_explained() {
    let w = World::new();
    let (mut b, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let table = |body: &str| {
        let t = &body[body.find("<table class=\"cases\"").unwrap()..];
        t[..t.find("</table>").unwrap()].to_string()
    };
    let r = b.get("/console?q=nguyen").await;
    let t = table(&r.body);
    assert!(
        t.contains("Nguyễn Thị Lan") && !t.contains("Trần Văn Hùng"),
        "Vietnamese without marks"
    );
    let r = b
        .get(&format!(
            "/console?q={}",
            serde_urlencoded::to_string([("", "федорова")]).unwrap()[1..].to_owned()
        ))
        .await;
    assert!(table(&r.body).contains("Фёдорова"), "ё as е");
    let r = b
        .get(&format!(
            "/console?q={}",
            serde_urlencoded::to_string([("", "ใจดี")]).unwrap()[1..].to_owned()
        ))
        .await;
    // The match is a restricted case: listed by its initials.
    let t = table(&r.body);
    assert!(t.contains("ส. จ.") && !t.contains("สมศรี"), "Thai substring");
    let r = b.get("/console?only=conflicts").await;
    let t = table(&r.body);
    assert!(t.contains("Фёдорова") && !t.contains("Nguyễn"));
    let r = b
        .get("/console?stage=assessment&finding=insufficient_information")
        .await;
    let t = table(&r.body);
    assert!(t.contains("Nguyễn Thị Lan") && !t.contains("สมศรี"), "{t}");
    let r = b.get("/console?kind=veteran").await;
    let t = table(&r.body);
    assert!(t.contains("Смирнов Игорь") && !t.contains("Nguyễn"), "{t}");
    for bad in [
        "/console?stage=done",
        "/console?finding=extreme",
        "/console?kind=robot",
        "/console?only=everything",
    ] {
        let r = b.get(bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.body.contains("unknown"), "{}", r.body);
    }
}

#[tokio::test]
async fn client_text_is_escaped_everywhere() {
    let w = World::new();
    let worker = w.s.db.user_by_username("worker1").unwrap().unwrap();
    let evil = "<script>alert(1)</script>\"'><img src=x>";
    let id = put_case(&w.s, &worker, "demo-team", evil, |doc, a| {
        doc.add_assessment(
            a,
            1_700_000_001_000,
            AssessmentInput {
                date: Some("2026-11-01".into()),
                domains: Some(
                    [(
                        "housing".to_string(),
                        DomainInput {
                            needs: Some(evil.into()),
                            ..Default::default()
                        },
                    )]
                    .into(),
                ),
                ..Default::default()
            },
        )?;
        doc.add_referral(
            a,
            1_700_000_002_000,
            ReferralInput {
                organisation: Some(format!("=cmd|{evil}")),
                shares_information: Some(false),
                domain: Some("housing".into()),
                status: Some(ReferralStatus::Unavailable),
                ..Default::default()
            },
        )?;
        Ok(())
    });
    let (mut b, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    for path in [
        format!("/console/cases/{id}"),
        "/console".into(),
        "/console/reports".into(),
        format!("/console/cases/{id}/history?path=client/name"),
    ] {
        let r = b.get(&path).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            !r.body.contains("<script>") && !r.body.contains("<img src=x>"),
            "{path}"
        );
        assert!(r.body.contains("&lt;script&gt;"), "{path}");
    }
    let gaps = b.get("/console/reports/gaps.csv").await;
    assert!(
        gaps.body.contains("\"'=cmd|"),
        "a formula is neutralised: {}",
        gaps.body
    );
    let needs = b.get("/console/reports/needs.csv").await;
    assert!(needs.body.contains("housing,1,1,1"), "{}", needs.body);
}

#[tokio::test]
async fn formulas_in_report_cells_are_neutralised() {
    let w = World::new();
    let worker = w.s.db.user_by_username("worker1").unwrap().unwrap();
    let cells = [
        (
            "=HYPERLINK(\"http://x\")",
            "\"'=HYPERLINK(\"\"http://x\"\")\"",
        ),
        ("@SUM(1)", "\"'@SUM(1)\""),
        ("a;=1", "\"a;'=1\""),
        ("+1+1", "\"'+1+1\""),
        ("-1-1", "\"'-1-1\""),
    ];
    put_case(
        &w.s,
        &worker,
        "demo-team",
        "=HYPERLINK(\"http://x\")",
        |doc, a| {
            for (i, (organisation, _)) in cells.iter().enumerate() {
                doc.add_referral(
                    a,
                    1_700_000_002_000 + i as i64,
                    ReferralInput {
                        organisation: Some(organisation.to_string()),
                        shares_information: Some(false),
                        domain: Some("housing".into()),
                        status: Some(ReferralStatus::Unavailable),
                        ..Default::default()
                    },
                )?;
            }
            Ok(())
        },
    );
    let (mut b, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let gaps = b.get("/console/reports/gaps.csv").await;
    assert_eq!(gaps.status, StatusCode::OK);
    for (cell, written) in cells {
        assert!(gaps.body.contains(written), "{cell}: {}", gaps.body);
    }
    // No cell of any report starts a formula, and counts stay plain numbers.
    for report in ["gaps", "needs", "caseload", "closed", "referrals"] {
        let csv = b.get(&format!("/console/reports/{report}.csv")).await.body;
        for line in csv.lines() {
            for field in line.split(',') {
                let field = field.trim_start_matches('"');
                assert!(
                    !field.starts_with(['=', '+', '-', '@', '\t']),
                    "{report}: {line}"
                );
            }
        }
    }
    let needs = b.get("/console/reports/needs.csv").await;
    assert!(needs.body.contains("housing,"), "{}", needs.body);
}

/// Every console form fuzzed: arbitrary fields and values (a valid CSRF token or not),
/// arbitrary bytes and content types, on every route that takes a form, signed in as an
/// admin, a supervisor, a worker or nobody. Never a 5xx or a panic; a refused form
/// changes no user, team or case. The sign-in form is among them.
#[tokio::test]
async fn no_form_breaks_a_console_route() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};

    let w = World::new();
    let (demo_case, doc) = w.case("Nguyễn Thị Lan");
    let closure = doc
        .read()
        .unwrap()
        .closures
        .first()
        .map(|c| c.id.clone())
        .unwrap_or_else(|| "no-closure".into());
    let mut sessions = vec![(Browser::new(&w.s), String::new())];
    for u in ["admin", "supervisor", "worker1"] {
        sessions.push(Browser::signed_in(&w.s, u, w.pw(u)).await);
    }
    let routes: Vec<String> = vec![
        "/console/login".into(),
        "/console/logout".into(),
        "/console/language".into(),
        format!("/console/cases/{demo_case}/resolve"),
        format!("/console/cases/{demo_case}/plan"),
        format!("/console/cases/{demo_case}/closures/{closure}"),
        format!("/console/cases/{demo_case}/assignment"),
        format!("/console/cases/{}/plan", CaseId::random()),
        "/console/admin/teams".into(),
        "/console/admin/users".into(),
        "/console/admin/users/worker2/disable".into(),
        "/console/admin/users/worker2/password".into(),
        "/console/admin/users/nobody/password".into(),
    ];
    let keys = prop_oneof![
        Just("csrf".to_string()),
        Just("login_token".to_string()),
        Just("username".to_string()),
        Just("password".to_string()),
        Just("name".to_string()),
        Just("role".to_string()),
        Just("team".to_string()),
        Just("path".to_string()),
        Just("value".to_string()),
        Just("decision".to_string()),
        Just("comment".to_string()),
        Just("workers".to_string()),
        Just("case_manager".to_string()),
        Just("language".to_string()),
        Just("next".to_string()),
        "[a-z_]{1,10}",
    ];
    let values = prop_oneof![
        Just(String::new()),
        Just("approve".to_string()),
        Just("return".to_string()),
        Just("worker2".to_string()),
        Just("supervisor".to_string()),
        Just("fa".to_string()),
        Just("client/address".to_string()),
        Just("\"قدیم\"".to_string()),
        Just("//evil.example/".to_string()),
        ".{0,60}",
    ];
    let form = proptest::collection::vec((keys, values), 0..8);
    let body = prop_oneof![
        form.prop_map(|pairs| (pairs, None)),
        proptest::collection::vec(any::<u8>(), 0..400).prop_map(|b| (Vec::new(), Some(b))),
    ];
    let strategy = (
        0..routes.len(),
        0..sessions.len(),
        body,
        any::<bool>(),
        prop::sample::select(
            &[
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "application/json",
                "",
            ][..],
        ),
    );
    // A new seed each run, printed (FIELDCASE_FUZZ_SEED repeats a run); a failure also
    // prints its input.
    let seed: u64 = std::env::var("FIELDCASE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("console form fuzz: FIELDCASE_FUZZ_SEED={seed}");
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &seed_bytes,
        ),
    );
    let mut cases = Vec::new();
    for _ in 0..250 {
        let tree = strategy.new_tree(&mut runner).unwrap();
        cases.push(tree.current());
    }
    for (route, who, (mut pairs, raw), with_csrf, content_type) in cases {
        let (browser, csrf) = &mut sessions[who];
        if with_csrf && !csrf.is_empty() {
            pairs.push(("csrf".into(), csrf.clone()));
        }
        let bytes = raw.unwrap_or_else(|| serde_urlencoded::to_string(&pairs).unwrap().into());
        let before = (
            w.s.db.users().unwrap(),
            w.s.db.teams().unwrap(),
            w.s.db.cases().unwrap(),
        );
        let mut req = Request::builder().method("POST").uri(&routes[route]);
        let cookies: Vec<String> = browser
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookies.is_empty() {
            req = req.header("cookie", cookies.join("; "));
        }
        if !content_type.is_empty() {
            req = req.header("content-type", content_type);
        }
        let res = app(w.s.state.clone())
            .oneshot(req.body(Body::from(bytes.clone())).unwrap())
            .await
            .unwrap();
        let status = res.status();
        assert!(
            !status.is_server_error(),
            "{} with {:?}: {status}",
            routes[route],
            String::from_utf8_lossy(&bytes)
        );
        if status.is_client_error() {
            let after = (
                w.s.db.users().unwrap(),
                w.s.db.teams().unwrap(),
                w.s.db.cases().unwrap(),
            );
            assert!(
                after == before,
                "{} with {:?}: a refused form changed something",
                routes[route],
                String::from_utf8_lossy(&bytes)
            );
        }
    }
    // The console still serves everyone afterwards.
    let (mut b, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    assert_eq!(b.get("/console").await.status, StatusCode::OK);
}

/// The record reads in the user's language: stored codes (gender, urgency, vulnerabilities,
/// contact kind, consent topic, problem and appointment status, review decision, who is
/// responsible) are words, not codes; fields beyond the headline ones are shown.
#[tokio::test]
async fn the_record_shows_codes_as_words_in_the_users_language() {
    use fieldcase_core::case::{
        ActivityInput, AppointmentInput, AppointmentStatus, ConsentInput, ContactInput,
        ProgressInput, ResponsibleInput, ReviewInput, VisitInput,
    };
    use serde_json::json;

    let w = World::new();
    let worker = w.s.db.user_by_username("worker1").unwrap().unwrap();
    let id = put_case(
        &w.s,
        &worker,
        "demo-team",
        "Ткаченко Ірина",
        |c, a| {
            let t = 1_795_000_000_000;
            c.set_field(a, t, "client/gender", &json!("female"))?;
            c.set_field(
                a,
                t,
                "client/vulnerabilities",
                &json!(["domestic_violence"]),
            )?;
            c.set_field(a, t, "intake/urgency", &json!("urgent"))?;
            c.add_contact(
                a,
                t,
                ContactInput {
                    kind: Some("messenger".into()),
                    value: Some("@iryna".into()),
                    ..Default::default()
                },
            )?;
            c.record_consent(
                a,
                t,
                ConsentInput {
                    topic: Some("information_sharing".into()),
                    scope: Some("school only".into()),
                    granted: Some(true),
                    ..Default::default()
                },
            )?;
            let problem = c.add_problem(
                a,
                t,
                ProblemInput {
                    description: Some("Житло".into()),
                    goal: Some("Оренда до весни".into()),
                    status: Some("in_progress".into()),
                    ..Default::default()
                },
            )?;
            c.add_activity(
                a,
                t,
                &problem,
                ActivityInput {
                    description: Some("Заява на субсидію".into()),
                    responsible: Some(ResponsibleInput {
                        kind: Some("partner".into()),
                        organisation: Some("Центр соціальних служб".into()),
                        ..Default::default()
                    }),
                    frequency: Some("щотижня".into()),
                    ..Default::default()
                },
            )?;
            c.add_visit(
                a,
                t,
                VisitInput {
                    kind: Some("home".into()),
                    duration_minutes: Some(45),
                    note: Some("Зустріч удома".into()),
                    ..Default::default()
                },
            )?;
            c.add_appointment(
                a,
                t,
                AppointmentInput {
                    purpose: Some("ЦНАП".into()),
                    status: Some(AppointmentStatus::Missed),
                    ..Default::default()
                },
            )?;
            c.add_review(
                a,
                t,
                ReviewInput {
                    decision: Some("close".into()),
                    satisfaction_note: Some("задоволена".into()),
                    progress: Some(vec![ProgressInput {
                        problem_id: Some(problem.clone()),
                        status: Some("achieved".into()),
                        note: Some("знайшли квартиру".into()),
                    }]),
                    ..Default::default()
                },
            )?;
            Ok(())
        },
    );
    let (mut b, csrf) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    b.post("/console/language", &[("csrf", &csrf), ("lang", "uk")])
        .await;
    let page = b.get(&format!("/console/cases/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for words in [
        "Жіноча",
        "Домашнє насильство",
        "Терміново",
        "Месенджер",
        "Передавання відомостей",
        "school only",
        "У роботі",
        "Організація-партнер",
        "щотижня",
        "Пропущено",
        "Закрити справу",
        "задоволена",
        "Поступ за цілями",
        "Досягнуто",
        "знайшли квартиру",
        "Оренда до весни",
        "Тривалість (хвилини)",
        "Справу відкрито",
    ] {
        assert!(page.body.contains(words), "the record lacks {words}");
    }
    for code in [
        ">female<",
        "domestic_violence<",
        ">urgent<",
        ">messenger<",
        ">information_sharing<",
        ">in_progress<",
        ">missed<",
        ">close<",
        ">achieved<",
    ] {
        assert!(!page.body.contains(code), "a raw code is shown: {code}");
    }
}

/// A worker's console is read-only: resolving a conflict, assigning and deciding on a
/// closure are refused on their own case, and the case is unchanged.
#[tokio::test]
async fn a_worker_cannot_resolve_assign_or_decide() {
    let w = World::new();
    let (fed, _) = w.case("Фёдорова Анна Петровна");
    let before = w.s.db.case_document(&fed).unwrap().unwrap();
    let (mut w1, csrf) = Browser::signed_in(&w.s, "worker1", w.pw("worker1")).await;
    let page = w1.get(&format!("/console/cases/{fed}")).await;
    assert_eq!(page.status, StatusCode::OK, "the worker reads their case");
    for (path, form) in [
        (
            format!("/console/cases/{fed}/resolve"),
            vec![
                ("path", "client/address"),
                ("value", "\"ул. Ленина, 5, кв. 21\""),
            ],
        ),
        (
            format!("/console/cases/{fed}/assignment"),
            vec![("workers", "worker1")],
        ),
        (
            format!("/console/cases/{fed}/closures/some-closure"),
            vec![("decision", "approve")],
        ),
        (
            format!("/console/cases/{fed}/plan"),
            vec![("decision", "return"), ("comment", "no")],
        ),
    ] {
        let mut pairs = vec![("csrf", csrf.as_str())];
        pairs.extend(form);
        let r = w1.post(&path, &pairs).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    assert_eq!(
        w.s.db.case_document(&fed).unwrap().unwrap(),
        before,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_contact_that_is_not_safe_is_marked_and_never_printed() {
    let w = World::new();
    let worker = w.s.db.user_by_username("worker1").unwrap().unwrap();
    let id = put_case(
        &w.s,
        &worker,
        "demo-team",
        "زهرا احمدی",
        |doc, a| {
            doc.add_contact(
                a,
                1_700_000_001_000,
                fieldcase_core::case::ContactInput {
                    kind: Some("phone".into()),
                    value: Some("+98 21 0000 0000".into()),
                    safe_to_contact: Some(false),
                    ..Default::default()
                },
            )?;
            doc.record_safety(
                a,
                1_700_000_002_000,
                fieldcase_core::case::SafetyInput {
                    perpetrator_relationship: Some("همسر".into()),
                    safe_places: Some("خانه خواهر".into()),
                    ..Default::default()
                },
            )
        },
    );
    let (mut b, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let page = b.get(&format!("/console/cases/{id}")).await.body;
    let contact = page
        .split("unsafe-contact")
        .nth(1)
        .expect("the unsafe contact is marked");
    assert!(contact.contains("+98 21 0000 0000") && contact.contains("Not safe to contact"));
    assert!(page.contains("id=\"safety\"") && page.contains("خانه خواهر"));
    let css = include_str!("../../src/console/console.css");
    let print = css.split("@media print").nth(1).unwrap();
    assert!(print.contains(".unsafe-contact, #safety { display: none; }"));
}

#[tokio::test]
async fn an_authoritys_later_decision_is_added_to_the_approved_version_from_the_record() {
    let w = World::new();
    let worker = w.s.db.user_by_username("worker1").unwrap().unwrap();
    let id = put_case(
        &w.s,
        &worker,
        "demo-team",
        "Phạm Minh Tuấn",
        |doc, a| {
            doc.change_stage(a, 1_700_000_001_000, fieldcase_core::Stage::Assessment)?;
            doc.change_stage(a, 1_700_000_002_000, fieldcase_core::Stage::Planning)?;
            doc.add_problem(
                a,
                1_700_000_003_000,
                ProblemInput {
                    goal: Some("Đi học lại".into()),
                    ..Default::default()
                },
            )?;
            doc.request_plan_approval(a, 1_700_000_004_000)
        },
    );
    let (mut b, csrf) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let plan = format!("/console/cases/{id}/plan");
    let r = b
        .post(&plan, &[("csrf", &csrf), ("decision", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let doc = CaseDoc::load(&w.s.db.case_document(&id).unwrap().unwrap()).unwrap();
    let version = doc.read().unwrap().approved_plan().unwrap().id.clone();
    let url = format!("/console/cases/{id}/plan/versions/{version}/decision");
    assert!(b
        .get(&format!("/console/cases/{id}"))
        .await
        .body
        .contains(&url));
    let r = b
        .post(
            &url,
            &[
                ("csrf", &csrf),
                ("authority", "Ủy ban nhân dân xã"),
                ("decision_number", "31/QĐ-UBND"),
                ("decision_date", "2026-12-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let doc = CaseDoc::load(&w.s.db.case_document(&id).unwrap().unwrap()).unwrap();
    let v = doc.read().unwrap().approved_plan().unwrap().clone();
    assert_eq!(v.decision_number.as_deref(), Some("31/QĐ-UBND"));
    // Once recorded, it is not changed.
    let r = b
        .post(&url, &[("csrf", &csrf), ("decision_number", "32/QĐ-UBND")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A worker cannot.
    let (mut w1, w1_csrf) = Browser::signed_in(&w.s, "worker1", w.pw("worker1")).await;
    let r = w1
        .post(&url, &[("csrf", &w1_csrf), ("authority", "x")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another team's supervisor gets what an unknown case or version gets, and nothing
    // changes; an overlong field is refused before anything is read.
    let (mut sud, sud_csrf) = Browser::signed_in(&w.s, "sud", w.pw("sud")).await;
    let unknown = format!(
        "/console/cases/{}/plan/versions/{version}/decision",
        CaseId::random()
    );
    let form = [("csrf", sud_csrf.as_str()), ("authority", "x")];
    let hidden = sud.post(&url, &form).await;
    let missing = sud.post(&unknown, &form).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        (hidden.status, hidden.body.replace(&id.to_string(), "")),
        (
            missing.status,
            missing.body.replace(&unknown, "").replace(&url, "")
        )
    );
    let no_version = format!("/console/cases/{id}/plan/versions/nope/decision");
    let r = b
        .post(&no_version, &[("csrf", &csrf), ("authority", "x")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let long = "x".repeat(201);
    let r = b
        .post(
            &url,
            &[("csrf", csrf.as_str()), ("authority", long.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let after = CaseDoc::load(&w.s.db.case_document(&id).unwrap().unwrap()).unwrap();
    assert_eq!(after.read().unwrap().approved_plan().unwrap(), &v);
}

/// A legal-aid case's assessment shows the items of its kind (seed 003: the client's
/// question, steps, what should come of them, whether a lawyer takes the case).
#[tokio::test]
async fn the_record_shows_the_assessment_items_of_the_cases_kind() {
    let w = World::new();
    let worker = w.s.db.user_by_username("worker1").unwrap().unwrap();
    let id = put_case(&w.s, &worker, "demo-team", "Микола Н.", |doc, a| {
        doc.set_field(
            a,
            1_700_000_001_000,
            "case_kind",
            &serde_json::json!("legal_aid"),
        )?;
        doc.add_assessment(
            a,
            1_700_000_002_000,
            fieldcase_core::case::AssessmentInput {
                legal_question: Some("Розмір щорічної грошової виплати".into()),
                action_steps: Some("Спершу подати заяву до управління".into()),
                lawyer_needed: Some(true),
                ..Default::default()
            },
        )
        .map(|_| ())
    });
    let (mut b, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let page = b.get(&format!("/console/cases/{id}")).await.body;
    let assessments = page.split("id=\"assessments\"").nth(1).unwrap();
    let assessments = assessments.split("id=\"plan\"").next().unwrap();
    assert!(
        !assessments.contains("Ready to talk about what happened"),
        "another kind's item is not offered"
    );
    for shown in [
        "Legal question",
        "Розмір щорічної грошової виплати",
        "The client's steps (where to start)",
        "Спершу подати заяву до управління",
        "A lawyer or the centre's representative needs to take the case",
        "What should come of it",
    ] {
        assert!(assessments.contains(shown), "{shown} in {assessments}");
    }
}

/// The dashboard shows a supervisor the deadlines of their team, an admin every team's, as
/// set in the configuration (read only); a worker gets no such card.
#[tokio::test]
async fn supervisors_and_admins_see_their_teams_deadlines() {
    let mut config = Config {
        password_iterations: ITER,
        ..Config::default()
    };
    config.deadlines.plan_days = 45;
    config.team_deadlines.insert(
        "south".into(),
        fieldcase_core::deadlines::Deadlines {
            plan_days: 21,
            review_days_insufficient_information: 7,
            ..config.deadlines
        },
    );
    let w = World::with_config(config);
    let card = |page: &str| -> Option<String> {
        let after = page.split("id=\"deadlines\"").nth(1)?;
        Some(after.split("</section>").next().unwrap().to_string())
    };
    // The row of a step, as text between its header cell and the end of the row.
    let row = |card: &str, step: &str| -> String {
        let at = card
            .find(step)
            .unwrap_or_else(|| panic!("{step} in {card}"));
        card[at..].split("</tr>").next().unwrap().to_string()
    };

    let (mut b, _) = Browser::signed_in(&w.s, "supervisor", w.pw("supervisor")).await;
    let own = card(&b.get("/console").await.body).expect("the supervisor sees the card");
    assert!(own.contains("demo-team") && !own.contains("south"), "{own}");
    assert!(row(&own, "approved plan").contains("45 days"), "{own}");
    assert!(row(&own, "safety measures").contains("1 day<"), "{own}");

    let (mut b, _) = Browser::signed_in(&w.s, "sud", w.pw("sud")).await;
    let south = card(&b.get("/console").await.body).expect("the supervisor sees the card");
    assert!(row(&south, "approved plan").contains("21 days"), "{south}");
    assert!(
        row(&south, "Not enough information to conclude").contains("7 days"),
        "{south}"
    );

    let (mut b, _) = Browser::signed_in(&w.s, "admin", w.pw("admin")).await;
    let all = card(&b.get("/console").await.body).expect("the admin sees the card");
    let plan = row(&all, "approved plan");
    assert!(
        plan.contains("45 days") && plan.contains("21 days"),
        "{plan}"
    );
    assert!(all.contains("demo-team") && all.contains("south"));

    let (mut b, _) = Browser::signed_in(&w.s, "worker1", w.pw("worker1")).await;
    assert!(card(&b.get("/console").await.body).is_none());
}
