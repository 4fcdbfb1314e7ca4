//! Stopping the server (SIGTERM, Ctrl-C) while phones sync: every sync under way completes.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fieldcase_core::NewCase;
use fieldcase_server::Db;
use fieldcase_tests::TestServer;

const CASES: usize = 300;

#[test]
fn a_stopping_server_finishes_the_syncs_under_way_then_refuses_new_ones() {
    let mut server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    for i in 0..CASES {
        let mut new = NewCase {
            team: "north".into(),
            ..Default::default()
        };
        new.client.name = Some(format!("Client {i}"));
        anna.create_case(new).unwrap();
    }
    let url = server.url.clone();
    let phone = std::thread::spawn(move || {
        let report = anna.sync(&url, &token);
        (anna, token, report)
    });
    // Stop as soon as the server has stored the first of the phone's cases.
    let accepted = &server.state.metrics.changes_accepted;
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted.load(Ordering::Relaxed) == 0 {
        assert!(Instant::now() < deadline, "the sync never started");
        std::thread::sleep(Duration::from_millis(1));
    }
    let at_stop = accepted.load(Ordering::Relaxed) as usize;
    server.stop_gracefully();
    let (anna, token, report) = phone.join().unwrap();
    let report = report.expect("the sync under way completed");
    assert!(
        at_stop < CASES,
        "the stop came while the sync was under way"
    );
    assert_eq!((report.sent, report.errors.len()), (CASES, 0), "{report:?}");
    assert_eq!(server.db.cases().unwrap().len(), CASES);
    // Stopped: a new sync cannot reach it.
    assert!(anna.sync(&server.url, &token).is_err());
}
