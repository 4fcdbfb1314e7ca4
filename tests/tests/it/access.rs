//! Who may sync what: other teams, restricted cases, revoked tokens, forged actors.

use fieldcase_core::store::UserContext;
use fieldcase_core::{Error, NewCase, Role};
use fieldcase_server::Db;
use fieldcase_tests::TestServer;
use serde_json::json;

fn case(store: &fieldcase_core::CaseStore, name: &str, restricted: bool) -> fieldcase_core::CaseId {
    let mut n = NewCase {
        team: "north".into(),
        restricted,
        ..Default::default()
    };
    n.client.name = Some(name.into());
    store.create_case(n).unwrap()
}

#[test]
fn other_teams_and_unassigned_workers_see_nothing_of_a_case() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    case(&anna, "زهرا احمدی", true);
    case(&anna, "Фёдорова Анна", false);
    assert_eq!(anna.sync(&server.url, &token).unwrap().sent, 2);

    let (sam, sam_token, _s) = server.phone("sam");
    let r = sam.sync(&server.url, &sam_token).unwrap();
    assert_eq!(
        (r.new_cases, r.unchanged),
        (0, 0),
        "another team's worker gets nothing"
    );
    assert!(sam.case_ids().is_empty());

    let (bao, bao_token, _b) = server.phone("bao");
    let r = bao.sync(&server.url, &bao_token).unwrap();
    assert_eq!(
        r.new_cases, 0,
        "an unassigned worker of the same team gets nothing, restricted or not"
    );

    let (malee, malee_token, _m) = server.phone("malee");
    assert_eq!(
        malee.sync(&server.url, &malee_token).unwrap().new_cases,
        2,
        "the supervisor gets both"
    );
}

#[test]
fn a_revoked_token_is_refused() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    anna.logout(&server.url, &token).unwrap();
    assert!(matches!(
        anna.sync(&server.url, &token),
        Err(Error::Unauthorized(_))
    ));
    assert!(matches!(
        anna.sync(&server.url, "0".repeat(64).as_str()),
        Err(Error::Unauthorized(_))
    ));
}

#[test]
fn a_disabled_user_is_told_to_wipe_and_the_phone_does() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    case(&anna, "Lê Thị Hoa", false);
    anna.sync(&server.url, &token).unwrap();
    server.db.disable_user("anna").unwrap();
    assert!(matches!(anna.sync(&server.url, &token), Err(Error::Wiped)));
    assert!(anna.case_ids().is_empty());
}

#[test]
fn changes_under_an_unregistered_actor_are_refused_and_nothing_is_stored() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let id = case(&anna, "Олександр Коваленко", false);
    let other = case(&anna, "Trần Văn Hùng", false);
    anna.sync(&server.url, &token).unwrap();
    let before = heads_of(&server, &id);

    // The phone now writes with an actor the server never registered (as a tampered app
    // would): a local user switch rotates the actor without telling the server.
    let me = anna.user().unwrap();
    anna.sign_in(UserContext {
        user_id: "u-forged".into(),
        ..me.clone()
    })
    .unwrap();
    anna.sign_in(me).unwrap();
    anna.update(&id, |c, a, now| {
        c.set_field(a, now, "client/address", &json!("Київ"))
    })
    .unwrap();
    let r = anna.sync(&server.url, &token).unwrap();
    assert_eq!(r.sent, 0);
    assert_eq!(r.errors.len(), 1, "{r:?}");
    assert!(
        r.errors[0].reason.contains("not registered to this device"),
        "{r:?}"
    );
    assert_eq!(
        heads_of(&server, &id),
        before,
        "the server's copy is unchanged"
    );

    // The refused case is marked on the phone and held back: the next sync does not offer
    // the same refused change again, and the rest of the caseload still syncs.
    assert_eq!(anna.refused_cases().len(), 1);
    assert!(anna.refused_cases()[0].1.reason.contains("not registered"));
    // Meanwhile the supervisor edits the other case; Anna still receives that.
    let (malee, malee_token, _m) = server.phone("malee");
    malee.sync(&server.url, &malee_token).unwrap();
    malee
        .update(&other, |c, a, now| {
            c.set_field(a, now, "priority", &json!("high"))
        })
        .unwrap();
    malee.sync(&server.url, &malee_token).unwrap();
    let r = anna.sync(&server.url, &token).unwrap();
    assert_eq!(
        (r.held_back, r.received, r.errors.len()),
        (1, 1, 0),
        "{r:?}"
    );
    assert_eq!(
        anna.get_case(&other).unwrap().priority.as_deref(),
        Some("high")
    );

    // Repair: a fresh login registers the phone's current actor; the case syncs again.
    let token = anna
        .login(
            &server.url,
            "anna",
            fieldcase_tests::PASSWORD,
            "anna's phone",
        )
        .unwrap()
        .token;
    assert!(anna.refused_cases().is_empty());
    let r = anna.sync(&server.url, &token).unwrap();
    assert!(r.errors.is_empty() && r.held_back == 0, "{r:?}");
    let stored =
        fieldcase_core::CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    assert_eq!(
        stored.read().unwrap().client.address.as_deref(),
        Some("Київ"),
        "nothing was lost"
    );
}

#[test]
fn a_worker_cannot_approve_their_own_plan_through_sync() {
    use fieldcase_core::case::ProblemInput;
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let id = case(&anna, "Trần Văn Hùng", false);
    anna.update(&id, |c, a, now| {
        c.add_problem(
            a,
            now,
            ProblemInput {
                goal: Some("Có việc làm".into()),
                ..Default::default()
            },
        )?;
        c.request_plan_approval(a, now)
    })
    .unwrap();
    anna.sync(&server.url, &token).unwrap();
    let before = server.db.cases().unwrap()[0].1.clone();
    // A tampered app signs itself in as a supervisor locally and approves.
    let me = anna.user().unwrap();
    anna.sign_in(UserContext {
        role: Role::Supervisor,
        ..me
    })
    .unwrap();
    anna.update(&id, |c, a, now| c.approve_plan(a, now, "self-approved"))
        .unwrap();
    let r = anna.sync(&server.url, &token).unwrap();
    assert_eq!(r.errors.len(), 1, "{r:?}");
    assert!(r.errors[0].reason.contains("supervisor"), "{r:?}");
    assert_eq!(server.db.cases().unwrap()[0].1, before);
}

fn heads_of(server: &TestServer, id: &fieldcase_core::CaseId) -> Vec<automerge::ChangeHash> {
    server
        .db
        .cases()
        .unwrap()
        .into_iter()
        .find(|(a, _)| &a.id == id)
        .unwrap()
        .1
}

#[test]
fn every_read_and_sync_of_every_case_is_audited_with_ids_only() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let hidden = case(&anna, "زهرا احمدی", true);
    let open = case(&anna, "Фёдорова Анна", false);
    assert_eq!(anna.sync(&server.url, &token).unwrap().sent, 2);
    let (malee, malee_token, _m) = server.phone("malee");
    assert_eq!(malee.sync(&server.url, &malee_token).unwrap().new_cases, 2);
    for id in [hidden, open] {
        let (status, _) = server.rest("GET", &format!("/v1/cases/{id}"), Some(&malee_token), None);
        assert_eq!(status, 200);
    }
    let trail = server.db.audit_trail(None, 100).unwrap();
    let malee_id = malee.user().unwrap().user_id;
    let mut seen: Vec<(String, String, String)> = trail
        .iter()
        .map(|e| (e.user_id.clone(), e.case_id.clone(), e.action.clone()))
        .collect();
    seen.sort();
    // Anna's first push created the case (nothing was delivered to her); Malee's sync
    // and read were deliveries.
    // Every case, restricted or not (issue 18), once per delivery.
    let mut want = vec![
        (malee_id.clone(), hidden.to_string(), "sync".to_string()),
        (
            malee_id.clone(),
            hidden.to_string(),
            "read (api)".to_string(),
        ),
        (malee_id.clone(), open.to_string(), "sync".to_string()),
        (malee_id, open.to_string(), "read (api)".to_string()),
    ];
    want.sort();
    assert_eq!(seen, want, "every case, once per delivery");
    // Admins read the trail; nobody else does; it holds no names.
    let (status, _) = server.rest("GET", "/v1/admin/audit", Some(&malee_token), None);
    assert_eq!(status, 403);
    server
        .db
        .add_user(
            "root",
            "Root",
            Role::Admin,
            None,
            fieldcase_tests::PASSWORD,
            fieldcase_tests::ITERATIONS,
        )
        .unwrap();
    let (_r, root_token, _rd) = server.phone("root");
    let (status, v) = server.rest(
        "GET",
        &format!("/v1/admin/audit?case={hidden}"),
        Some(&root_token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(!v.to_string().contains("زهرا"));
}
