//! The PostgreSQL storage: the storage contract (the same test on SQLite and PostgreSQL),
//! two storages on one database (compare-and-swap and the external version across them),
//! and two real server processes on one database with phones syncing to either.
//!
//! Each test starts a throwaway PostgreSQL cluster ([`PgCluster`]); without the PostgreSQL
//! binaries they fail, saying so.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ReadDoc};
use fieldcase_core::case::VisitInput;
use fieldcase_core::{CaseDoc, CaseId, CaseStore, NewCase, Role};
use fieldcase_server::db::{CaseAccess, CaseWrite, SessionPolicy, Stored};
use fieldcase_server::{AppError, Db, PostgresDb, SqliteDb};
use fieldcase_tests::pg::{server_binary, PgCluster};
use fieldcase_tests::{ITERATIONS, PASSWORD};
use serde_json::json;

fn access(id: CaseId, assigned: &[&str]) -> CaseAccess {
    CaseAccess {
        id,
        team: "north".into(),
        restricted: false,
        assigned: assigned.iter().map(|s| s.to_string()).collect(),
    }
}

/// A document with key `key` set, grown from `doc`: (changes since, new heads).
fn grow(doc: &mut Automerge, key: &str) -> (Vec<u8>, Vec<ChangeHash>) {
    let before = doc.get_heads();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(automerge::ROOT, key, 1)?;
        Ok(())
    })
    .unwrap();
    (doc.save_after(&before), doc.get_heads())
}

fn keys(bytes: &[u8]) -> Vec<String> {
    Automerge::load(bytes)
        .unwrap()
        .keys(automerge::ROOT)
        .collect()
}

/// What every storage must do, the same on SQLite and PostgreSQL.
fn contract(db: &dyn Db) {
    // Teams.
    let north = db.add_team(" north ").unwrap();
    assert_eq!(north.name, "north");
    db.add_team("south").unwrap();
    assert!(matches!(db.add_team("north"), Err(AppError::Conflict(_))));
    assert!(matches!(db.add_team(" "), Err(AppError::BadRequest(_))));
    let names: Vec<_> = db.teams().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["north", "south"]);

    // Users and passwords.
    let anna = db
        .add_user(
            "anna",
            "Anna",
            Role::Worker,
            Some("north"),
            PASSWORD,
            ITERATIONS,
        )
        .unwrap();
    assert_eq!(
        (anna.role, anna.team.as_deref(), anna.disabled),
        (Role::Worker, Some("north"), false)
    );
    let admin = db
        .add_user("root", "", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();
    assert_eq!((admin.display_name.as_str(), admin.team), ("root", None));
    for bad in [
        db.add_user(
            "anna",
            "",
            Role::Worker,
            Some("north"),
            PASSWORD,
            ITERATIONS,
        ),
        db.add_user("x y", "", Role::Worker, Some("north"), PASSWORD, ITERATIONS),
        db.add_user("bao", "", Role::Worker, Some("north"), "short", ITERATIONS),
        db.add_user("bao", "", Role::Worker, None, PASSWORD, ITERATIONS),
        db.add_user("bao", "", Role::Worker, Some("west"), PASSWORD, ITERATIONS),
    ] {
        assert!(
            matches!(bad, Err(AppError::Conflict(_) | AppError::BadRequest(_))),
            "{bad:?}"
        );
    }
    assert_eq!(db.users().unwrap().len(), 2);
    assert_eq!(db.user_by_username("anna").unwrap(), Some(anna.clone()));
    assert_eq!(db.user_by_username("nobody").unwrap(), None);
    assert_eq!(
        db.check_password("anna", PASSWORD, ITERATIONS).unwrap(),
        Some(anna.clone())
    );
    assert_eq!(
        db.check_password("anna", "a wrong password", ITERATIONS)
            .unwrap(),
        None
    );
    assert_eq!(
        db.check_password("nobody", PASSWORD, ITERATIONS).unwrap(),
        None
    );
    // A higher work factor re-hashes at the next login; the password still works.
    assert!(db
        .check_password("anna", PASSWORD, ITERATIONS * 2)
        .unwrap()
        .is_some());
    assert!(db
        .check_password("anna", PASSWORD, ITERATIONS)
        .unwrap()
        .is_some());

    // Devices and actors.
    let device = db.register_device(&anna, None, "phone", "aa11").unwrap();
    assert_eq!(
        db.actor_device("aa11").unwrap().as_deref(),
        Some(device.as_str())
    );
    assert_eq!(db.actor_device("bb22").unwrap(), None);
    assert_eq!(
        db.register_device(&anna, Some(&device), "phone", "aa11")
            .unwrap(),
        device
    );
    let other = db.register_device(&anna, None, "tablet", "cc33").unwrap();
    assert_ne!(other, device);
    assert!(matches!(
        db.register_device(&anna, Some(&other), "tablet", "aa11"),
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        db.register_device(&anna, Some("d-unknown"), "tablet", "dd44"),
        Err(AppError::BadRequest(_))
    ));
    assert!(matches!(
        db.register_device(&anna, None, "phone", "XYZ"),
        Err(AppError::BadRequest(_))
    ));
    let server_device = db.server_device(&anna, "ee55").unwrap();
    assert_eq!(db.server_device(&anna, "ff66").unwrap(), server_device);

    // Sessions: idle and absolute expiry, revocation.
    let policy = SessionPolicy {
        idle_ms: 1_000,
        absolute_ms: 10_000,
    };
    let (token, expires) = db.create_session(&anna, &device, policy, 0).unwrap();
    assert_eq!((token.len(), expires), (64, 10_000));
    let s = db.session(&token, policy, 500).unwrap().expect("valid");
    assert_eq!(
        (s.user.id.as_str(), s.device_id.as_str()),
        (anna.id.as_str(), device.as_str())
    );
    assert!(
        db.session(&token, policy, 1_400).unwrap().is_some(),
        "used at 500"
    );
    assert!(db.session(&token, policy, 2_600).unwrap().is_none(), "idle");
    let (token, _) = db.create_session(&anna, &device, policy, 0).unwrap();
    for t in (900..10_000).step_by(900) {
        assert!(db.session(&token, policy, t).unwrap().is_some(), "at {t}");
    }
    assert!(
        db.session(&token, policy, 10_000).unwrap().is_none(),
        "absolute"
    );
    assert!(db.session(&"0".repeat(64), policy, 0).unwrap().is_none());
    assert!(db.session("short", policy, 0).unwrap().is_none());
    let (token, _) = db.create_session(&anna, &device, policy, 0).unwrap();
    db.revoke_session(&token).unwrap();
    assert!(db.session(&token, policy, 1).unwrap().is_none());
    assert!(!db.token_disabled(&token).unwrap());
    let (token, _) = db.create_session(&anna, &device, policy, 0).unwrap();
    db.set_password("anna", "another long password", ITERATIONS)
        .unwrap();
    assert!(
        db.session(&token, policy, 1).unwrap().is_none(),
        "a new password ends sessions"
    );
    assert!(matches!(
        db.set_password("nobody", "another long password", ITERATIONS),
        Err(AppError::NotFound)
    ));
    assert!(db
        .check_password("anna", PASSWORD, ITERATIONS)
        .unwrap()
        .is_none());
    let (token, _) = db.create_session(&anna, &device, policy, 0).unwrap();

    // Cases: a snapshot, changes appended under compare-and-swap, a snapshot replacing.
    let id = CaseId::random();
    let mut doc = Automerge::new();
    let (_, h1) = grow(&mut doc, "a");
    let got = db
        .store_case(
            &access(id, &["u-2", "u-1", "u-2"]),
            CaseWrite::Snapshot(&doc.save()),
            &h1,
            Some(&[]),
            5,
        )
        .unwrap();
    assert!(
        matches!(
            got,
            Stored::Written {
                pending_changes: 0,
                ..
            }
        ),
        "{got:?}"
    );
    assert_eq!(
        db.case_access(&id).unwrap().unwrap().assigned,
        ["u-2", "u-1"]
    );
    let (c2, h2) = grow(&mut doc, "b");
    let got = db
        .store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c2),
            &h2,
            Some(&h1),
            6,
        )
        .unwrap();
    assert!(
        matches!(
            got,
            Stored::Written {
                pending_changes: 1,
                ..
            }
        ),
        "{got:?}"
    );
    // A writer that grew from the old heads is too late, and nothing of it is stored.
    let mut late = Automerge::load(&db.case_document(&id).unwrap().unwrap()).unwrap();
    let (c3, h3) = grow(&mut late, "late");
    assert_eq!(
        db.store_case(
            &access(id, &["u-9"]),
            CaseWrite::Changes(&c3),
            &h3,
            Some(&h1),
            7
        )
        .unwrap(),
        Stored::Stale
    );
    assert_eq!(
        db.store_case(
            &access(id, &["u-9"]),
            CaseWrite::Snapshot(&late.save()),
            &h3,
            Some(&[]),
            7
        )
        .unwrap(),
        Stored::Stale,
        "a case that exists is not new"
    );
    assert_eq!(keys(&db.case_document(&id).unwrap().unwrap()), ["a", "b"]);
    assert_eq!(db.case_heads(&id).unwrap(), Some(h2.clone()));
    assert_eq!(db.case_access(&id).unwrap().unwrap().assigned, ["u-1"]);
    let (c4, h4) = grow(&mut doc, "c");
    let got = db
        .store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c4),
            &h4,
            Some(&h2),
            8,
        )
        .unwrap();
    assert!(
        matches!(
            got,
            Stored::Written {
                pending_changes: 2,
                ..
            }
        ),
        "{got:?}"
    );
    assert_eq!(
        keys(&db.case_document(&id).unwrap().unwrap()),
        ["a", "b", "c"]
    );
    let got = db
        .store_case(
            &access(id, &["u-1"]),
            CaseWrite::Snapshot(&doc.save()),
            &h4,
            Some(&h4),
            9,
        )
        .unwrap();
    assert!(
        matches!(
            got,
            Stored::Written {
                pending_changes: 0,
                pending_bytes: 0,
                ..
            }
        ),
        "{got:?}"
    );
    assert_eq!(
        keys(&db.case_document(&id).unwrap().unwrap()),
        ["a", "b", "c"]
    );
    // Unconditional (seeding), and restricted.
    let second = CaseId::random();
    let mut restricted = access(second, &["u-3"]);
    restricted.restricted = true;
    restricted.team = "south".into();
    db.put_case(&restricted, &doc.save(), &h4, 10).unwrap();
    db.put_case(&restricted, &doc.save(), &h4, 11).unwrap();
    assert_eq!(db.case_access(&second).unwrap(), Some(restricted.clone()));
    let unknown = CaseId::random();
    assert_eq!(db.case_document(&unknown).unwrap(), None);
    assert_eq!(db.case_heads(&unknown).unwrap(), None);
    assert_eq!(db.case_access(&unknown).unwrap(), None);
    let mut all = db.cases().unwrap();
    all.sort_by_key(|(a, _)| a.id);
    let mut want = vec![(access(id, &["u-1"]), h4.clone()), (restricted, h4.clone())];
    want.sort_by_key(|(a, _)| a.id);
    assert_eq!(all, want);

    // Audit, newest first.
    db.audit(&anna.id, &second, "read", 100).unwrap();
    db.audit(&anna.id, &id, "sync", 200).unwrap();
    db.audit(&admin.id, &second, "sync", 300).unwrap();
    let trail = db.audit_trail(None, 10).unwrap();
    let seen: Vec<_> = trail.iter().map(|e| (e.at, e.action.as_str())).collect();
    assert_eq!(seen, [(300, "sync"), (200, "sync"), (100, "read")]);
    assert_eq!(trail[0].case_id, second.to_string());
    let one = db.audit_trail(Some(&second), 1).unwrap();
    assert_eq!((one.len(), one[0].user_id.as_str()), (1, admin.id.as_str()));

    // Console language.
    assert_eq!(db.user_language(&anna.id).unwrap(), None);
    db.set_user_language(&anna.id, "fa").unwrap();
    db.set_user_language(&anna.id, "th").unwrap();
    assert_eq!(db.user_language(&anna.id).unwrap().as_deref(), Some("th"));

    // Disabling a user ends sessions and tells their devices to wipe.
    db.disable_user("anna").unwrap();
    assert!(db.session(&token, policy, 1).unwrap().is_none());
    assert!(db.token_disabled(&token).unwrap());
    assert!(db.user_by_username("anna").unwrap().unwrap().disabled);
    assert!(db
        .check_password("anna", "another long password", ITERATIONS)
        .unwrap()
        .is_none());
    assert!(matches!(
        db.register_device(&anna, Some(&device), "phone", "aa11"),
        Err(AppError::Disabled)
    ));
    assert!(matches!(db.disable_user("nobody"), Err(AppError::NotFound)));
}

#[test]
fn the_storage_contract_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    contract(&SqliteDb::open(dir.path().join("server.sqlite")).unwrap());
}

#[test]
fn the_storage_contract_holds_on_postgres() {
    let pg = PgCluster::start();
    let url = pg.database("contract");
    contract(&PostgresDb::connect(&url).unwrap());
    // Opening again finds the schema in place.
    let again = PostgresDb::connect(&url).unwrap();
    assert_eq!(again.teams().unwrap().len(), 2);
}

/// What the hostile-insider and administration rules keep in the storage: departures,
/// marked times, login throttles, devices, the administrative log, roles and teams, and
/// the cases of a user. The same on both storages.
fn insider_contract(db: &dyn Db) {
    use fieldcase_server::db::{AdminEntry, TimeMark};
    db.add_team("north").unwrap();
    db.add_team("south").unwrap();
    let anna = db
        .add_user(
            "anna",
            "Anna",
            Role::Worker,
            Some("north"),
            PASSWORD,
            ITERATIONS,
        )
        .unwrap();
    assert_eq!(db.user_by_id(&anna.id).unwrap(), Some(anna.clone()));
    assert_eq!(db.user_by_id("u-nobody").unwrap(), None);
    let phone = db
        .register_device(&anna, None, "Anna's phone", "a1b2")
        .unwrap();
    let tablet = db
        .register_device(&anna, None, "Anna's tablet", "c3d4")
        .unwrap();
    let d = db.actor_owner("a1b2").unwrap().unwrap();
    assert_eq!(
        (d.id.as_str(), d.name.as_str(), d.user_id.as_str()),
        (phone.as_str(), "Anna's phone", anna.id.as_str())
    );
    assert_eq!(db.actor_owner("ffff").unwrap(), None);
    let now = 1_800_000_000_000;
    db.create_session(&anna, &phone, SessionPolicy::default(), now)
        .unwrap();
    let devices = db.devices_of(&anna.id, now).unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!((devices[0].open_sessions, devices[1].open_sessions), (1, 0));
    assert_eq!(devices[0].last_seen, Some(now));
    db.revoke_device(&phone).unwrap();
    assert!(db.device(&phone).unwrap().unwrap().disabled);
    assert!(!db.device(&tablet).unwrap().unwrap().disabled);
    assert_eq!(db.devices_of(&anna.id, now).unwrap()[0].open_sessions, 0);
    assert!(matches!(
        db.revoke_device("d-nothing"),
        Err(AppError::NotFound)
    ));

    let id = CaseId::random();
    assert!(!db.departed(&id, &phone).unwrap());
    db.record_departure(&id, &phone, 2, now).unwrap();
    db.record_departure(&id, &phone, 3, now).unwrap();
    assert!(db.departed(&id, &phone).unwrap());
    assert!(!db.departed(&id, &tablet).unwrap());

    let mut doc = Automerge::new();
    let (changes, heads) = grow(&mut doc, "x");
    db.store_case(
        &access(id, &[&anna.id]),
        CaseWrite::Snapshot(&changes),
        &heads,
        None,
        now,
    )
    .unwrap();
    assert_eq!(db.cases_of(&anna.id).unwrap(), vec![id]);
    let mark = TimeMark {
        change: heads[0],
        claimed: 1_577_836_800_000,
        received: now,
    };
    db.mark_times(&id, &[mark, mark]).unwrap();
    assert_eq!(db.time_marks(&id).unwrap(), vec![mark]);
    assert!(db.time_marks(&CaseId::random()).unwrap().is_empty());

    let window = 60_000;
    assert_eq!(db.throttle_count("username:anna", now, window).unwrap(), 0);
    for n in 1..=3 {
        assert_eq!(
            db.throttle_hit("username:anna", now + n, window).unwrap(),
            n as u32
        );
    }
    db.throttle_forgive("username:anna").unwrap();
    assert_eq!(
        db.throttle_count("username:anna", now + 10, window)
            .unwrap(),
        2
    );
    assert_eq!(
        db.throttle_count("username:anna", now + 1 + window, window)
            .unwrap(),
        0,
        "the window passed"
    );
    assert_eq!(
        db.throttle_hit("username:anna", now + 1 + window, window)
            .unwrap(),
        1,
        "a new window"
    );
    db.throttle_clear("username:anna").unwrap();
    assert_eq!(
        db.throttle_count("username:anna", now + 1 + window, window)
            .unwrap(),
        0
    );

    assert!(matches!(
        db.set_role_team("anna", Role::Worker, Some("west")),
        Err(AppError::BadRequest(_))
    ));
    assert!(matches!(
        db.set_role_team("anna", Role::Worker, None),
        Err(AppError::BadRequest(_))
    ));
    let moved = db
        .set_role_team("anna", Role::Supervisor, Some("south"))
        .unwrap();
    assert_eq!(
        (moved.role, moved.team.as_deref()),
        (Role::Supervisor, Some("south"))
    );
    assert!(matches!(
        db.set_role_team("nobody", Role::Worker, Some("north")),
        Err(AppError::NotFound)
    ));
    db.disable_user("anna").unwrap();
    db.enable_user("anna").unwrap();
    assert!(!db.user_by_username("anna").unwrap().unwrap().disabled);
    assert!(matches!(db.enable_user("nobody"), Err(AppError::NotFound)));

    for (i, action) in ["revoke device", "enable user"].iter().enumerate() {
        db.log_admin(&AdminEntry {
            at: now + i as i64,
            by: "u-root".into(),
            action: (*action).into(),
            target: "anna".into(),
        })
        .unwrap();
    }
    let log = db.admin_log(10).unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["enable user", "revoke device"]
    );
    assert_eq!(db.admin_log(1).unwrap().len(), 1);
}

#[test]
fn the_insider_and_administration_contract_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    insider_contract(&SqliteDb::open(dir.path().join("server.sqlite")).unwrap());
}

/// On PostgreSQL, and the login throttle is shared by two storages on one database (two
/// server instances): attempts counted by one are seen by the other.
#[test]
fn the_insider_and_administration_contract_holds_on_postgres_and_throttles_are_shared() {
    let pg = PgCluster::start();
    let url = pg.database("insiders");
    insider_contract(&PostgresDb::connect(&url).unwrap());
    let a = PostgresDb::connect(&url).unwrap();
    let b = PostgresDb::connect(&url).unwrap();
    let now = 1_900_000_000_000;
    a.throttle_hit("address:10.0.0.1", now, 60_000).unwrap();
    b.throttle_hit("address:10.0.0.1", now, 60_000).unwrap();
    assert_eq!(
        a.throttle_count("address:10.0.0.1", now, 60_000).unwrap(),
        2
    );
}

#[test]
fn two_storages_on_one_database_see_each_others_writes_and_keep_compare_and_swap() {
    let pg = PgCluster::start();
    let url = pg.database("shared");
    let a = Arc::new(PostgresDb::connect(&url).unwrap());
    let b = Arc::new(PostgresDb::connect(&url).unwrap());
    let version = |db: &PostgresDb| loop {
        if let Some(v) = db.external_version().unwrap() {
            return v;
        }
    };

    // The external version moves when the other one writes, not for one's own writes.
    let id = CaseId::random();
    let mut doc = Automerge::new();
    let (_, h1) = grow(&mut doc, "a");
    let (va, vb) = (version(&a), version(&b));
    let at_h1 = doc.save();
    a.put_case(&access(id, &["u-1"]), &at_h1, &h1, 1).unwrap();
    assert_eq!(version(&a), va, "a's own write");
    let vb1 = version(&b);
    assert_ne!(vb1, vb, "b sees a's write");
    let (c2, h2) = grow(&mut doc, "b");
    let got = b
        .store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c2),
            &h2,
            Some(&h1),
            2,
        )
        .unwrap();
    assert!(matches!(got, Stored::Written { .. }), "{got:?}");
    assert_eq!(version(&b), vb1, "b's own write");
    assert_ne!(version(&a), va, "a sees b's write");
    assert_eq!(keys(&a.case_document(&id).unwrap().unwrap()), ["a", "b"]);

    // A writer on the other storage that grew from the old heads is stale.
    let mut behind = Automerge::load(&at_h1).unwrap();
    let (c3, h3) = grow(&mut behind, "x");
    assert_eq!(
        a.store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c3),
            &h3,
            Some(&h1),
            3
        )
        .unwrap(),
        Stored::Stale
    );

    // New cases created on both at once: exactly one of each pair is written.
    let ids: Vec<CaseId> = (0..20).map(|_| CaseId::random()).collect();
    let racers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .enumerate()
        .map(|(n, db)| {
            let ids = ids.clone();
            std::thread::spawn(move || {
                ids.iter()
                    .map(|id| {
                        let mut d = Automerge::new();
                        let (_, h) = grow(&mut d, &format!("by{n}"));
                        db.store_case(
                            &access(*id, &["u-1"]),
                            CaseWrite::Snapshot(&d.save()),
                            &h,
                            Some(&[]),
                            4,
                        )
                        .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<Vec<Stored>> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    for (i, id) in ids.iter().enumerate() {
        let written = outcomes.iter().filter(|o| o[i] != Stored::Stale).count();
        assert_eq!(
            written, 1,
            "case {i}: {:?} {:?}",
            outcomes[0][i], outcomes[1][i]
        );
        assert_eq!(keys(&a.case_document(id).unwrap().unwrap()).len(), 1);
    }

    // Writers on both storages append to one case, each retrying when stale: every write
    // is there.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = if w % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                for r in 0..10 {
                    loop {
                        let bytes = db.case_document(&id).unwrap().unwrap();
                        let mut d = Automerge::load(&bytes).unwrap();
                        let heads = d.get_heads();
                        let (changes, new_heads) = grow(&mut d, &format!("w{w}r{r}"));
                        let got = db
                            .store_case(
                                &access(id, &["u-1"]),
                                CaseWrite::Changes(&changes),
                                &new_heads,
                                Some(&heads),
                                5,
                            )
                            .unwrap();
                        if got != Stored::Stale {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let bytes = b.case_document(&id).unwrap().unwrap();
    let all = keys(&bytes);
    assert_eq!(all.len(), 2 + 4 * 10, "{all:?}");
    // The stored heads are the document's: no write slipped past another's compare.
    assert_eq!(
        b.case_heads(&id).unwrap().unwrap(),
        Automerge::load(&bytes).unwrap().get_heads()
    );
}

/// A `fieldcase-server` process, killed when dropped.
struct Instance {
    url: String,
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli(bin: &std::path::Path, db: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(["--db", db])
        .args(args)
        .env("FIELDCASE_PASSWORD", PASSWORD)
        .env("FIELDCASE_PASSWORD_ITERATIONS", ITERATIONS.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn serve(bin: &std::path::Path, db: &str) -> Instance {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(bin)
        .args(["serve", "--listen", &listen])
        .env("FIELDCASE_DB", db)
        .env("FIELDCASE_PASSWORD_ITERATIONS", ITERATIONS.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut instance = Instance {
        url: format!("http://{listen}"),
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(&listen).is_ok() {
            return instance;
        }
        if let Some(status) = instance.child.try_wait().unwrap() {
            panic!("the server stopped: {status}");
        }
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn phone(url: &str, user: &str) -> (CaseStore, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(dir.path().join("phone.sqlite"), &[user.len() as u8; 32]).unwrap();
    let token = store
        .login(url, user, PASSWORD, &format!("{user}'s phone"))
        .unwrap()
        .token;
    (store, token, dir)
}

fn case_on(url: &str, token: &str, id: &CaseId) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let text = agent
        .get(format!("{url}/v1/cases/{id}"))
        .header("authorization", format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A sync connection to `url` that has asked for case `id` and stays open (the server
/// keeps the case in memory while a connection syncs it).
fn watch(url: &str, token: &str, id: &CaseId) -> fieldcase_tests::raw::Socket {
    use fieldcase_core::sync::protocol::Frame;
    use tungstenite::client::IntoClientRequest;
    use tungstenite::Message;
    let mut req = format!("{}/v1/sync", url.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut s, _) = tungstenite::connect(req).unwrap();
    let join = Frame::Join {
        sender_id: "watcher".into(),
        metadata: Default::default(),
        versions: None,
    };
    s.send(Message::Binary(join.encode().into())).unwrap();
    assert!(matches!(
        fieldcase_tests::raw::next(&mut s),
        Some(Frame::Peer { .. })
    ));
    let empty = Automerge::new();
    let data =
        automerge::sync::SyncDoc::generate_sync_message(&empty, &mut automerge::sync::State::new())
            .unwrap()
            .encode();
    let request = Frame::Request {
        sender_id: "watcher".into(),
        target_id: String::new(),
        document_id: id.to_string(),
        data,
    };
    s.send(Message::Binary(request.encode().into())).unwrap();
    assert!(matches!(
        fieldcase_tests::raw::next(&mut s),
        Some(Frame::Sync { .. })
    ));
    s
}

fn visit(note: &str) -> VisitInput {
    VisitInput {
        date: Some("2026-11-21".into()),
        kind: Some("home".into()),
        note: Some(note.into()),
        ..Default::default()
    }
}

#[test]
fn two_server_instances_on_one_database_merge_what_phones_send_to_either() {
    let pg = PgCluster::start();
    let db = pg.database("fieldcase");
    let bin = server_binary();
    // The administration commands work on PostgreSQL as on SQLite.
    cli(&bin, &db, &["team", "add", "north"]);
    for user in ["anna", "bao"] {
        cli(
            &bin,
            &db,
            &["user", "add", user, "--role", "worker", "--team", "north"],
        );
    }
    assert!(cli(&bin, &db, &["user", "list"]).contains("bao"));
    let one = serve(&bin, &db);
    let two = serve(&bin, &db);

    // Anna records a case and syncs it to instance 1.
    let (anna, anna_token, _a) = phone(&one.url, "anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Nguyễn Thị Lan".into());
    let id = anna.create_case(new).unwrap();
    let r = anna.sync(&one.url, &anna_token).unwrap();
    assert_eq!((r.sent, r.errors.len()), (1, 0), "{r:?}");
    // An administrator assigns Bảo as well, from the command line (a third writer).
    cli(
        &bin,
        &db,
        &["case", "assign", &id.to_string(), "anna", "bao"],
    );
    assert!(cli(&bin, &db, &["case", "list"]).contains("anna,bao"));

    // Bảo's phone syncs with instance 2 and gets the case.
    let (bao, bao_token, _b) = phone(&two.url, "bao");
    let r = bao.sync(&two.url, &bao_token).unwrap();
    assert_eq!((r.new_cases, r.errors.len()), (1, 0), "{r:?}");

    // A connection that keeps the case in instance 1's memory meanwhile: the instance
    // must notice the other instance's writes (external_version), not just load anew.
    let _watching = watch(&one.url, &anna_token, &id);

    // Anna edits and syncs to instance 1; Bảo, offline, edits the same case, then syncs
    // to instance 2.
    anna.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("Huế"))?;
        c.add_visit(me, now, visit("Bà ngoại chăm sóc hai cháu."))
    })
    .unwrap();
    bao.update(&id, |c, me, now| {
        c.set_field(me, now, "priority", &json!("high"))?;
        c.add_visit(me, now, visit("Gọi cho giáo viên chủ nhiệm."))
    })
    .unwrap();
    let ra = anna.sync(&one.url, &anna_token).unwrap();
    let rb = bao.sync(&two.url, &bao_token).unwrap();
    assert!(
        ra.errors.is_empty() && rb.errors.is_empty(),
        "{ra:?} {rb:?}"
    );
    assert_eq!(
        rb.received, 1,
        "instance 2 has Anna's edit from instance 1: {rb:?}"
    );

    // Both sync again, each with its own instance.
    let ra = anna.sync(&one.url, &anna_token).unwrap();
    let rb = bao.sync(&two.url, &bao_token).unwrap();
    assert!(
        ra.errors.is_empty() && rb.errors.is_empty(),
        "{ra:?} {rb:?}"
    );
    assert_eq!(
        ra.received, 1,
        "instance 1 has Bảo's edit from instance 2: {ra:?}"
    );

    let a = anna.get_case(&id).unwrap();
    let b = bao.get_case(&id).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.client.address.as_deref(), Some("Huế"));
    assert_eq!(a.priority.as_deref(), Some("high"));
    assert_eq!(a.visits.len(), 2);
    assert_eq!(a.assigned.len(), 2);
    let stored = PostgresDb::connect(&db).unwrap();
    let on_db = CaseDoc::load(&stored.case_document(&id).unwrap().unwrap())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(a, on_db);
    // Each instance serves the same document as the phones hold.
    let json_a: serde_json::Value = serde_json::from_str(&anna.case_json(&id).unwrap()).unwrap();
    assert_eq!(case_on(&one.url, &anna_token, &id), json_a);
    assert_eq!(case_on(&two.url, &bao_token, &id), json_a);
    // Nothing left to exchange on either side.
    let ra = anna.sync(&one.url, &anna_token).unwrap();
    let rb = bao.sync(&two.url, &bao_token).unwrap();
    assert_eq!(
        (ra.sent, ra.received, rb.sent, rb.received),
        (0, 0, 0, 0),
        "{ra:?} {rb:?}"
    );
}
