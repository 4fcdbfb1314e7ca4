//! An app of an earlier case schema revision (a phone still running the version before the
//! case process of the seeds: it says no revision at all) is told to update, clearly, at
//! login and at the sync upgrade, before anything is exchanged; and a phone of this version
//! told the same by a server that needs a newer one keeps every change it holds.

use fieldcase_core::schema::SCHEMA_REVISION;
use fieldcase_core::sync::protocol::SCHEMA_HEADER;
use fieldcase_core::{Error, NewCase};
use fieldcase_server::Config;
use fieldcase_tests::{TestServer, PASSWORD};
use serde_json::json;
use tungstenite::client::IntoClientRequest;

/// A request as a phone of 047b1d0 sent it: no schema revision.
fn earlier_app(
    server: &TestServer,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut res = agent
        .post(&format!("{}{path}", server.url))
        .header("content-type", "application/json")
        .send(body.to_string())
        .expect("request");
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(json!(text)))
}

fn counter(server: &TestServer) -> u64 {
    server
        .metrics()
        .lines()
        .find_map(|l| l.strip_prefix("fieldcase_update_app_total "))
        .expect("the counter is exposed")
        .parse()
        .unwrap()
}

#[test]
fn an_earlier_app_is_told_to_update_at_login_and_at_the_sync_upgrade() {
    let server = TestServer::start();
    let login = json!({
        "username": "anna", "password": PASSWORD, "device_name": "old phone",
        "actor_id": automerge::ActorId::random().to_hex_string(),
    });
    let (status, body) = earlier_app(&server, "/v1/login", login.clone());
    assert_eq!(status, 426, "{body}");
    assert_eq!(body["error"], "update_app");
    assert_eq!(body["needed"], SCHEMA_REVISION);
    assert!(body["message"].as_str().unwrap().contains("update the app"));
    assert_eq!(counter(&server), 1);
    // A wrong password gets the same answer: the app learns nothing else first.
    let mut wrong = login.clone();
    wrong["password"] = json!("not the password");
    assert_eq!(earlier_app(&server, "/v1/login", wrong).0, 426);

    // A token from before the upgrade (here: from a current login) used by the earlier app.
    let (_, token, _dir) = server.phone("anna");
    let url = server.url.replace("http://", "ws://") + "/v1/sync";
    let mut req = url.clone().into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tungstenite::connect(req) {
        Err(tungstenite::Error::Http(r)) => {
            assert_eq!(r.status().as_u16(), 426);
            let body: serde_json::Value =
                serde_json::from_slice(r.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"], "update_app");
        }
        other => panic!(
            "expected 426 before the upgrade, got {:?}",
            other.map(|_| ())
        ),
    }
    assert_eq!(counter(&server), 3);
    // The same socket with the revision (header, or query for clients without headers).
    let mut req = url.clone().into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    req.headers_mut()
        .insert(SCHEMA_HEADER, SCHEMA_REVISION.into());
    assert!(tungstenite::connect(req).is_ok());
    let query = format!("{url}?token={token}&schema={SCHEMA_REVISION}");
    assert!(tungstenite::connect(query).is_ok());
    // A revision that is not a number is no revision.
    let mut odd = json!({});
    odd["x"] = json!(1);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .post(&format!("{}/v1/login", server.url))
        .header("content-type", "application/json")
        .header(SCHEMA_HEADER, "two")
        .send(login.to_string())
        .unwrap();
    assert_eq!(res.status().as_u16(), 426);
}

#[test]
fn a_phone_told_to_update_keeps_its_changes_and_says_why() {
    let server = TestServer::start_with(Config {
        min_app_schema: SCHEMA_REVISION + 1,
        ..Config::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let store = fieldcase_core::CaseStore::open(dir.path().join("p.sqlite"), &[4; 32]).unwrap();
    match store.login(&server.url, "anna", PASSWORD, "anna's phone") {
        Err(Error::UpdateApp { needed, this }) => {
            assert_eq!((needed, this), (SCHEMA_REVISION + 1, SCHEMA_REVISION))
        }
        other => panic!("expected UpdateApp, got {:?}", other.map(|_| ())),
    }
    // Signed in before the server was upgraded: the sync is refused, nothing is lost.
    let old = TestServer::start();
    let (phone, token, _d) = old.phone("anna");
    let mut n = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    n.client.name = Some("Nguyễn Thị Lan".into());
    let id = phone.create_case(n).unwrap();
    let heads = phone.heads(&id).unwrap();
    let upgraded = TestServer::start_with(Config {
        min_app_schema: SCHEMA_REVISION + 1,
        ..Config::default()
    });
    let err = phone.sync(&upgraded.url, &token).unwrap_err();
    assert!(
        matches!(err, Error::UpdateApp { needed, .. } if needed == SCHEMA_REVISION + 1),
        "{err}"
    );
    assert!(err.to_string().contains("update the app"));
    assert_eq!(phone.heads(&id).unwrap(), heads, "the case is still there");
    assert_eq!(
        phone.get_case(&id).unwrap().client.name.as_deref(),
        Some("Nguyễn Thị Lan")
    );
}
