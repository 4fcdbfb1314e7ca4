//! Connections cut mid-message, in both directions, by a TCP proxy between a phone and the
//! server: the next sync completes, and nothing is lost or duplicated.

use std::collections::HashMap;

use fieldcase_core::case::VisitInput;
use fieldcase_core::{CaseDoc, CaseId, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::proxy::{CutProxy, Direction};
use fieldcase_tests::TestServer;

fn visit(round: usize, who: &str) -> VisitInput {
    VisitInput {
        date: Some("2026-11-22".into()),
        kind: Some("home".into()),
        note: Some(format!(
            "{who} round {round}: {}",
            "Đã thăm gia đình. ".repeat(20)
        )),
        ..Default::default()
    }
}

#[test]
fn connections_cut_mid_message_either_way_lose_and_duplicate_nothing() {
    let server = TestServer::start();
    let proxy = CutProxy::start(server.url.trim_start_matches("http://").parse().unwrap());
    // Anna's office tablet syncs directly; her phone through the proxy.
    let (tablet, tablet_token, _t) = server.phone("anna");
    let (phone, phone_token, _p) = server.phone("anna");
    let mut ids = Vec::new();
    for i in 0..12 {
        let mut new = NewCase {
            team: "north".into(),
            ..Default::default()
        };
        new.client.name = Some(format!("Клієнт {i}"));
        ids.push(tablet.create_case(new).unwrap());
    }
    assert_eq!(tablet.sync(&server.url, &tablet_token).unwrap().sent, 12);
    assert_eq!(
        phone.sync(&proxy.url(), &phone_token).unwrap().new_cases,
        12
    );

    let mut expected: HashMap<CaseId, usize> = HashMap::new();
    // Cut points from inside the HTTP request to deep inside the WebSocket sync.
    let cuts = [
        (Direction::Up, 40),
        (Direction::Up, 400),
        (Direction::Up, 1_500),
        (Direction::Up, 4_000),
        (Direction::Down, 40),
        (Direction::Down, 400),
        (Direction::Down, 1_500),
        (Direction::Down, 4_000),
    ];
    let mut failed = 0;
    for (round, (direction, bytes)) in cuts.into_iter().enumerate() {
        // Both record visits apart: the phone on every case, the tablet on every other.
        for id in &ids {
            phone
                .update(id, |c, me, now| c.add_visit(me, now, visit(round, "phone")))
                .unwrap();
            *expected.entry(*id).or_default() += 1;
        }
        for id in ids.iter().step_by(2) {
            tablet
                .update(id, |c, me, now| {
                    c.add_visit(me, now, visit(round, "tablet"))
                })
                .unwrap();
            *expected.entry(*id).or_default() += 1;
        }
        let r = tablet.sync(&server.url, &tablet_token).unwrap();
        assert!(r.errors.is_empty(), "{r:?}");
        // The phone's sync is cut somewhere; it may fail, it must not lose anything.
        proxy.cut_after(direction, bytes);
        let cut = phone.sync(&proxy.url(), &phone_token);
        if cut.as_ref().map_or(true, |r| !r.errors.is_empty()) {
            failed += 1;
        }
        // The next sync, through the same proxy no longer cutting, completes.
        proxy.cut_after(Direction::Up, usize::MAX);
        let r = phone.sync(&proxy.url(), &phone_token).unwrap();
        assert!(r.errors.is_empty(), "round {round}: {r:?}");
    }
    assert!(
        failed >= cuts.len() / 2,
        "the cuts hit: {failed} syncs failed"
    );
    assert!(
        proxy.cuts_made() >= cuts.len(),
        "{} cuts",
        proxy.cuts_made()
    );

    // Everything converged: tablet, phone and server hold the same documents, with every
    // visit exactly once.
    tablet.sync(&server.url, &tablet_token).unwrap();
    for id in &ids {
        let on_server = CaseDoc::load(&server.db.case_document(id).unwrap().unwrap()).unwrap();
        let mut heads = on_server.heads();
        heads.sort();
        for store in [&tablet, &phone] {
            let mut h = store.heads(id).unwrap();
            h.sort();
            assert_eq!(h, heads, "{id}");
        }
        let visits = on_server.read().unwrap().visits;
        assert_eq!(visits.len(), expected[id], "{id}");
        let mut notes: Vec<String> = visits.iter().map(|v| v.note.clone()).collect();
        notes.sort();
        notes.dedup();
        assert_eq!(notes.len(), expected[id], "no visit twice");
    }
}
