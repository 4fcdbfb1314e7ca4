//! Stopping the server (SIGTERM, Ctrl-C) while phones sync: every sync under way completes.

use std::time::{Duration, Instant};

use fieldcase_core::{CaseDoc, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::raw::{exchange_on, joined, open};
use fieldcase_tests::TestServer;

/// A connection that is syncing when the stop comes keeps being answered (it sends its
/// next case after the stop and that case is stored); no new connection is taken; the
/// server stops once it has gone quiet. The order is fixed by the test, not by timing: the
/// stop is asked for between two exchanges of the same connection.
#[test]
fn a_stopping_server_finishes_the_syncs_under_way_then_refuses_new_ones() {
    let mut server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let mut docs: Vec<(fieldcase_core::CaseId, CaseDoc)> = (0..3)
        .map(|i| {
            let mut new = NewCase {
                team: "north".into(),
                ..Default::default()
            };
            new.client.name = Some(format!("Client {i}"));
            let id = anna.create_case(new).unwrap();
            let doc = CaseDoc::load(&anna.export_case(&id).unwrap()).unwrap();
            (id, doc)
        })
        .collect();
    let mut s = joined(&server, &token);
    // Before the stop: the first case.
    let (first, doc) = &mut docs[0];
    assert!(exchange_on(&mut s, doc, &first.to_string()).is_none());
    assert!(server.db.case_document(first).unwrap().is_some());

    // The stop is asked for; the server is stopping once it says so.
    server.begin_stop();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.state.is_shutting_down() {
        assert!(Instant::now() < deadline, "the server never began to stop");
        std::thread::sleep(Duration::from_millis(1));
    }
    // No new connection is taken...
    assert!(open(&server, &token).is_err());
    // ...but the connection under way is still answered: the other cases are stored.
    for (id, doc) in docs.iter_mut().skip(1) {
        assert!(exchange_on(&mut s, doc, &id.to_string()).is_none());
        assert!(server.db.case_document(id).unwrap().is_some(), "{id}");
    }
    assert_eq!(server.db.cases().unwrap().len(), 3);
    drop(s);
    server.stop_gracefully();
    // Stopped: a new connection cannot reach it.
    assert!(open(&server, &token).is_err());
    assert!(anna.sync(&server.url, &token).is_err());
}
