//! The bindings' own behaviour, from Rust (the generated Kotlin and Python are executed by
//! `tests/run.sh`): every kind of core error arrives as its own variant; opening is async
//! and runs off the caller's thread; case observers hear local edits and can be removed;
//! the core's records are what the app receives, codes from a newer app included.

use std::sync::{Arc, Mutex};

use fieldcase_bindings::{
    open_store, CaseObserver, CaseStore, ChangeOrigin, FieldcaseError, SyncObserver, SyncState,
};
use fieldcase_core::case::{ClientInput, NewCase, RiskLevel, VisitInput};
use fieldcase_core::store::UserContext;
use fieldcase_core::{Role, Stage};

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn every_core_error_kind_has_its_own_variant() {
    use fieldcase_core::Error as E;
    let all = vec![
        E::WrongKey,
        E::Corrupt("x".into()),
        E::NotFound("case".into()),
        E::InvalidInput {
            path: "p".into(),
            reason: "r".into(),
        },
        E::InvalidTransition {
            from: Stage::Intake,
            to: Stage::Closed,
            reason: "r".into(),
        },
        E::Unauthorized("r".into()),
        E::NoUser,
        E::Automerge(automerge::AutomergeError::Fail),
        E::Sqlite(rusqlite_error()),
        E::NewerStore { found: 9, known: 1 },
        E::Network("r".into()),
        E::Wiped,
        E::Cancelled,
        E::Encoding("r".into()),
    ];
    let n = all.len();
    let kinds: std::collections::HashSet<_> = all
        .into_iter()
        .map(|e| std::mem::discriminant(&FieldcaseError::from(e)))
        .collect();
    assert_eq!(kinds.len(), n, "two core errors share a variant");
    match FieldcaseError::from(E::InvalidTransition {
        from: Stage::Review,
        to: Stage::Intake,
        reason: "r".into(),
    }) {
        FieldcaseError::InvalidTransition { from, to, .. } => {
            assert_eq!((from, to), (Stage::Review, Stage::Intake))
        }
        other => panic!("{other:?}"),
    }
}

fn rusqlite_error() -> rusqlite::Error {
    rusqlite::Error::QueryReturnedNoRows
}

#[derive(Default)]
struct Seen {
    cases: Mutex<Vec<(ChangeOrigin, Vec<String>)>>,
    states: Mutex<Vec<SyncState>>,
}

impl CaseObserver for Seen {
    fn on_cases_changed(&self, case_ids: Vec<String>, origin: ChangeOrigin) {
        self.cases.lock().unwrap().push((origin, case_ids));
    }
}

impl SyncObserver for Seen {
    fn on_sync_state(&self, state: SyncState) {
        self.states.lock().unwrap().push(state);
    }
}

fn signed_in(dir: &tempfile::TempDir) -> Arc<CaseStore> {
    let path = dir.path().join("p.sqlite");
    // Signed in through the core (the bindings sign in with a server's login).
    let core = fieldcase_core::CaseStore::open(&path, &[7; 32]).unwrap();
    core.sign_in(UserContext {
        user_id: "u-anna".into(),
        name: "Anna".into(),
        role: Role::Worker,
        team: None,
        device_id: "phone-1".into(),
    })
    .unwrap();
    drop(core);
    block_on(open_store(path.to_string_lossy().into(), vec![7; 32])).unwrap()
}

#[test]
fn opening_is_async_and_errors_keep_their_kind() {
    let dir = tempfile::tempdir().unwrap();
    let path: String = dir.path().join("p.sqlite").to_string_lossy().into();
    let caller = std::thread::current().id();
    let store = block_on(async {
        // The work runs on the blocking pool, never on the polling thread.
        let s = open_store(path.clone(), vec![1; 32]).await.unwrap();
        assert_eq!(std::thread::current().id(), caller);
        s
    });
    assert!(!store.device_id().is_empty());
    drop(store);
    assert!(matches!(
        block_on(open_store(path.clone(), vec![2; 32])),
        Err(FieldcaseError::WrongKey)
    ));
    assert!(matches!(
        block_on(open_store(path, vec![1; 5])),
        Err(FieldcaseError::InvalidInput { .. })
    ));
}

#[test]
fn case_observers_hear_local_edits_until_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = signed_in(&dir);
    let seen = Arc::new(Seen::default());
    let id = store.add_case_observer(seen.clone());
    let sync_id = store.add_sync_observer(seen.clone());
    let case = store
        .create_case(NewCase {
            team: "north".into(),
            client: ClientInput {
                name: Some("Lan".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
    store
        .add_visit(
            case.clone(),
            VisitInput {
                note: Some("home visit".into()),
                ..Default::default()
            },
        )
        .unwrap();
    // A refused edit changes nothing, and is not told.
    assert!(matches!(
        store.add_visit(
            case.clone(),
            VisitInput {
                kind: Some("teleport".into()),
                ..Default::default()
            },
        ),
        Err(FieldcaseError::InvalidInput { .. })
    ));
    let told = seen.cases.lock().unwrap().clone();
    assert_eq!(
        told,
        vec![
            (ChangeOrigin::Local, vec![case.clone()]),
            (ChangeOrigin::Local, vec![case.clone()]),
        ]
    );
    assert!(store.remove_observer(id));
    assert!(!store.remove_observer(id));
    store
        .add_visit(case.clone(), VisitInput::default())
        .unwrap();
    assert_eq!(seen.cases.lock().unwrap().len(), 2);
    assert!(store.remove_observer(sync_id));
    assert!(seen.states.lock().unwrap().is_empty());
    assert!(store.refused_cases().is_empty());
}

#[test]
fn a_case_from_a_newer_app_reads_with_its_codes() {
    let dir = tempfile::tempdir().unwrap();
    let store = signed_in(&dir);
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/fixtures/forward_compat/newer_codes.automerge"
    ))
    .unwrap();
    let case = store.import_case(bytes).unwrap();
    let file = store.get_case(case.clone()).unwrap();
    assert_eq!(file.stage.code(), "verification");
    assert!(matches!(file.stage, Stage::Unknown { .. }));
    assert_eq!(
        file.intake.preliminary_risk.map(RiskLevel::code),
        Some("imminent_danger")
    );
    // Editing elsewhere keeps it; writing an unknown code is refused.
    store
        .add_visit(case.clone(), VisitInput::default())
        .unwrap();
    assert_eq!(
        store.get_case(case.clone()).unwrap().stage.code(),
        "verification"
    );
    assert!(matches!(
        store.change_stage(case, Stage::parse("verification")),
        Err(FieldcaseError::InvalidTransition { .. })
    ));
}
