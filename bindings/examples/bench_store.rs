//! Writes the store the FFI benchmarks read (`bindings/bench/run.sh`): one case with 20
//! visits, key `[1; 32]`, at the path given; prints the case id.

use fieldcase_core::case::VisitInput;
use fieldcase_core::store::UserContext;
use fieldcase_core::{CaseStore, NewCase, Role};

fn main() {
    let path = std::env::args().nth(1).expect("usage: bench_store PATH");
    let store = CaseStore::open(&path, &[1; 32]).expect("store");
    store
        .sign_in(UserContext {
            user_id: "u-bench".into(),
            name: "Bench".into(),
            role: Role::Worker,
            team: None,
            device_id: "bench".into(),
        })
        .expect("sign in");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Nguyễn Thị Lan".into());
    let id = store.create_case(new).expect("case");
    for i in 0..20 {
        store
            .update(&id, |c, a, now| {
                c.add_visit(
                    a,
                    now,
                    VisitInput {
                        date: Some("2026-11-22".into()),
                        kind: Some("home".into()),
                        note: Some(format!("Visit {i}: {}", "Đã gặp gia đình. ".repeat(25))),
                        ..Default::default()
                    },
                )
            })
            .expect("visit");
    }
    println!("{id}");
}
