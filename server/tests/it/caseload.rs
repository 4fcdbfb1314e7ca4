//! Access rules on the demo caseload: who sees which case, and unknown looks like forbidden.

use axum::http::StatusCode;
use fieldcase_core::Role;
use fieldcase_server::{demo, Db};

use crate::{Server, ITER};

async fn seeded() -> (Server, Vec<demo::DemoAccount>) {
    let s = Server::new();
    let accounts = demo::seed(s.db.as_ref(), ITER).unwrap();
    (s, accounts)
}

fn pw<'a>(accounts: &'a [demo::DemoAccount], user: &str) -> &'a str {
    &accounts
        .iter()
        .find(|a| a.username == user)
        .unwrap()
        .password
}

#[tokio::test]
async fn each_role_sees_exactly_its_cases() {
    let (s, acc) = seeded().await;
    let all = s.db.cases().unwrap();
    assert_eq!(all.len(), 12);
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    let sup = s.login("supervisor", pw(&acc, "supervisor")).await;
    let (st, v) = s.call("GET", "/v1/caseload", Some(&sup), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        ids(&v).len(),
        12,
        "a supervisor sees the whole team, restricted included"
    );
    assert!(v[0]["heads"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h.as_str().unwrap().len() == 64));

    let w1 = s.db.user_by_username("worker1").unwrap().unwrap();
    let expected: Vec<String> = all
        .iter()
        .filter(|(a, _)| a.assigned.contains(&w1.id))
        .map(|(a, _)| a.id.to_string())
        .collect();
    let t1 = s.login("worker1", pw(&acc, "worker1")).await;
    let (_, v) = s.call("GET", "/v1/caseload", Some(&t1), None).await;
    assert_eq!(ids(&v), expected);
    assert!(!expected.is_empty() && expected.len() < 12);

    let admin = s.login("admin", pw(&acc, "admin")).await;
    let (_, v) = s.call("GET", "/v1/caseload", Some(&admin), None).await;
    let restricted = all.iter().filter(|(a, _)| a.restricted).count();
    assert!(restricted >= 2);
    assert_eq!(
        ids(&v).len(),
        12 - restricted,
        "admins do not see restricted cases"
    );
}

#[tokio::test]
async fn another_teams_case_is_indistinguishable_from_a_missing_one() {
    let (s, acc) = seeded().await;
    s.db.add_team("south").unwrap();
    s.db.add_user(
        "sam",
        "Sam",
        Role::Supervisor,
        Some("south"),
        "south supervisor pw",
        ITER,
    )
    .unwrap();
    let sam = s.login("sam", "south supervisor pw").await;
    let (_, v) = s.call("GET", "/v1/caseload", Some(&sam), None).await;
    assert_eq!(v, serde_json::json!([]));
    let existing = s.db.cases().unwrap()[0].0.id.to_string();
    let missing = fieldcase_core::CaseId::random().to_string();
    let a = s
        .call("GET", &format!("/v1/cases/{existing}"), Some(&sam), None)
        .await;
    let b = s
        .call("GET", &format!("/v1/cases/{missing}"), Some(&sam), None)
        .await;
    let c = s
        .call("GET", "/v1/cases/not-a-case-id", Some(&sam), None)
        .await;
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(a.0, StatusCode::NOT_FOUND);
    // The team's own supervisor reads it.
    let sup = s.login("supervisor", pw(&acc, "supervisor")).await;
    let (st, case) = s
        .call("GET", &format!("/v1/cases/{existing}"), Some(&sup), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(case["schema"], "fieldcase/case/1");
}

#[tokio::test]
async fn a_restricted_case_is_hidden_from_an_unassigned_worker_of_the_same_team() {
    let (s, acc) = seeded().await;
    let all = s.db.cases().unwrap();
    let w2 = s.db.user_by_username("worker2").unwrap().unwrap();
    let hidden = all
        .iter()
        .find(|(a, _)| a.restricted && !a.assigned.contains(&w2.id))
        .expect("a restricted case of worker1")
        .0
        .id;
    let t2 = s.login("worker2", pw(&acc, "worker2")).await;
    let (st, _) = s
        .call("GET", &format!("/v1/cases/{hidden}"), Some(&t2), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = s.call("GET", "/v1/caseload", Some(&t2), None).await;
    assert!(!v.to_string().contains(&hidden.to_string()));
}

#[tokio::test]
async fn the_demo_has_a_conflict_and_reseeding_keeps_cases_and_renews_passwords() {
    let (s, acc) = seeded().await;
    let shared =
        s.db.cases()
            .unwrap()
            .into_iter()
            .find(|(a, _)| a.assigned.len() == 2)
            .unwrap()
            .0
            .id;
    let doc =
        fieldcase_core::CaseDoc::load(&s.db.case_document(&shared).unwrap().unwrap()).unwrap();
    let conflicts = fieldcase_core::conflicts(&doc);
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].path, "client/address");
    let again = demo::seed(s.db.as_ref(), ITER).unwrap();
    assert_eq!(s.db.cases().unwrap().len(), 12);
    assert_ne!(pw(&again, "worker1"), pw(&acc, "worker1"));
}
