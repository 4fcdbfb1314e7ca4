//! HTTPS and `wss://`: the server's own TLS (rustls), and phones that trust its authority.

use fieldcase_core::{CaseStore, Error, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::{TestServer, PASSWORD};

#[test]
fn phones_log_in_and_sync_over_tls() {
    let server = TestServer::start_tls();
    assert!(server.url.starts_with("https://"));
    let (anna, token, _a) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("สมชาย ใจดี".into());
    let id = anna.create_case(new).unwrap();
    let r = anna.sync(&server.url, &token).unwrap();
    assert_eq!((r.sent, r.errors.len()), (1, 0), "{r:?}");
    let (malee, token, _m) = server.phone("malee");
    let r = malee.sync(&server.url, &token).unwrap();
    assert_eq!(r.new_cases, 1, "{r:?}");
    assert_eq!(
        malee.get_case(&id).unwrap().client.name.as_deref(),
        Some("สมชาย ใจดี")
    );
    assert_eq!(server.db.cases().unwrap().len(), 1);
}

#[test]
fn a_phone_that_does_not_trust_the_certificate_sends_nothing() {
    let server = TestServer::start_tls();
    let dir = tempfile::tempdir().unwrap();
    let phone = CaseStore::open(dir.path().join("phone.sqlite"), &[9; 32]).unwrap();
    // The public web's authorities do not vouch for the test authority.
    match phone.login(&server.url, "anna", PASSWORD, "phone") {
        Err(Error::Network(why)) => assert!(why.to_lowercase().contains("certificate"), "{why}"),
        other => panic!("expected a certificate error, got {other:?}"),
    }
    // Plain HTTP to the TLS port is no way round it.
    let plain = server.url.replace("https://", "http://");
    assert!(matches!(
        phone.login(&plain, "anna", PASSWORD, "phone"),
        Err(Error::Network(_))
    ));
    // Nor is a certificate that is not one.
    for bad in [
        "",
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        assert!(
            matches!(
                phone.set_trusted_roots(bad),
                Err(Error::InvalidInput { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(phone.user().is_none());
    assert!(server.db.cases().unwrap().is_empty());
}
