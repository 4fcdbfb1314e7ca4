//! The storage contract: what every storage must do, one test per behaviour, generated for
//! each backend by [`storage_contract!`] (as matrix-rust-sdk generates its store tests):
//! `storage_contract::sqlite::<behaviour>` on a fresh SQLite file,
//! `storage_contract::postgres::<behaviour>` on a throwaway PostgreSQL cluster
//! ([`PgCluster`]; without the PostgreSQL binaries those fail, saying so).
//!
//! A behaviour is a function of `&dyn Db` that starts from an empty storage.

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ReadDoc};
use fieldcase_core::{CaseId, Role};
use fieldcase_server::db::{
    AdminEntry, CaseAccess, CaseWrite, SessionPolicy, Stored, TimeMark, Unsynced, User,
};
use fieldcase_server::{AppError, Db, PostgresDb, SqliteDb};
use fieldcase_tests::pg::PgCluster;
use fieldcase_tests::{ITERATIONS, PASSWORD};

/// The problem code of a refusal, the same from either storage (`None` for another error).
fn problem<T: std::fmt::Debug>(r: &Result<T, AppError>) -> Option<&'static str> {
    match r {
        Err(AppError::Invalid { problem, .. }) => Some(problem.code()),
        _ => None,
    }
}

/// One test per behaviour and backend: `$name` is a function of `&dyn Db` in this module.
macro_rules! storage_contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let db = super::SqliteDb::open(dir.path().join("server.sqlite")).unwrap();
                    super::$name(&db);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let pg = super::PgCluster::start();
                    let db = super::PostgresDb::connect(&pg.database("contract")).unwrap();
                    super::$name(&db);
                }
            )*
        }
    };
}

storage_contract!(
    match_facts_follow_each_write_and_go_with_an_erasure,
    list_facts_follow_each_write_and_go_with_an_erasure,
    teams_are_trimmed_unique_and_listed_by_name,
    areas_are_added_renamed_by_code_checked_and_bounded,
    a_team_is_renamed_by_its_label_and_keeps_its_name,
    users_are_checked_on_the_way_in_and_found_by_name_and_id,
    a_password_is_checked_and_rehashed_at_a_higher_work_factor,
    a_new_password_ends_sessions_and_replaces_the_old_one,
    an_actor_is_bound_once_to_one_device,
    the_server_writes_for_a_user_under_one_device,
    a_revoked_device_is_told_to_wipe_and_the_server_writes_under_a_new_one,
    a_session_ends_when_idle_and_at_its_absolute_expiry,
    a_used_session_stays_open_and_malformed_tokens_find_nothing,
    a_revoked_session_ends_without_a_wipe,
    cases_are_appended_under_compare_and_swap,
    a_read_recorded_with_a_write_is_on_the_trail_stored_or_stale,
    the_team_and_the_restriction_follow_appended_changes_and_snapshots,
    a_late_writer_stores_nothing,
    a_snapshot_folds_the_appended_changes,
    assignees_keep_their_order_once_each,
    seeding_puts_cases_unconditionally_and_unknown_cases_are_none,
    a_missing_case_is_not_the_one_expected_and_its_first_changes_are_its_snapshot,
    an_unconditional_write_replaces_whatever_is_stored,
    the_audit_trail_is_newest_first,
    audit_entries_written_at_once_form_one_chain,
    the_console_language_is_kept,
    the_console_time_zone_is_kept_and_cleared,
    a_decision_to_keep_past_retention_is_kept_replaced_and_erased_with_its_case,
    disabling_a_user_ends_sessions_and_wipes_their_devices,
    devices_are_listed_with_their_sessions_and_revoked,
    a_devices_word_on_its_unsynced_work_is_kept_and_the_servers_device_not_listed,
    a_refused_role_change_changes_nothing_and_an_admin_has_no_team,
    a_departure_is_claimed_once_and_can_be_given_back,
    assignment_ends_are_recorded_and_cleared,
    a_users_cases_are_listed_in_id_order,
    time_marks_are_kept_once,
    throttles_count_within_a_window_and_forgive_one,
    a_throttle_long_past_is_forgotten_and_forgiving_starts_no_window,
    concurrent_events_are_each_counted,
    records_of_the_same_moment_are_listed_latest_written_first,
    roles_and_teams_change_and_users_are_enabled_again,
    the_admin_log_is_newest_first,
    the_directory_is_written_under_compare_and_swap_and_checked,
    a_partner_link_opens_by_its_token_until_it_expires_or_is_revoked,
    a_possible_duplicate_is_stored_once_and_a_dismissed_one_stays_dismissed,
    an_erased_case_leaves_a_tombstone_only_and_is_never_stored_again,
    an_attachment_is_stored_in_order_checked_whole_and_dropped_when_wrong,
    the_caseload_read_through_the_indexes_is_exactly_what_the_rule_allows,
    links_follow_each_write_and_a_linked_case_finds_who_links_to_it,
    the_closure_columns_follow_a_closure_a_reopening_and_an_erasure,
);

pub(crate) fn access(id: CaseId, assigned: &[&str]) -> CaseAccess {
    CaseAccess {
        id,
        team: "north".into(),
        restricted: false,
        assigned: assigned.iter().map(|s| s.to_string()).collect(),
        links: Vec::new(),
        closed: false,
        closed_at: None,
        matching: None,
        listing: None,
    }
}

/// A document with key `key` set, grown from `doc`: (changes since, new heads).
pub(crate) fn grow(doc: &mut Automerge, key: &str) -> (Vec<u8>, Vec<ChangeHash>) {
    let before = doc.get_heads();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(automerge::ROOT, key, 1)?;
        Ok(())
    })
    .unwrap();
    (doc.save_after(&before), doc.get_heads())
}

pub(crate) fn keys(bytes: &[u8]) -> Vec<String> {
    Automerge::load(bytes)
        .unwrap()
        .keys(automerge::ROOT)
        .collect()
}

/// Teams north and south, and Anna, a worker of north.
fn anna(db: &dyn Db) -> User {
    db.add_team("north").unwrap();
    db.add_team("south").unwrap();
    db.add_user(
        "anna",
        "Anna",
        Role::Worker,
        Some("north"),
        PASSWORD,
        ITERATIONS,
    )
    .unwrap()
}

/// Anna with a phone (actor `aa11`): (Anna, the phone's device id).
fn anna_with_phone(db: &dyn Db) -> (User, String) {
    let anna = anna(db);
    let phone = db.register_device(&anna, None, "phone", "aa11").unwrap();
    (anna, phone)
}

const POLICY: SessionPolicy = SessionPolicy {
    idle_ms: 1_000,
    absolute_ms: 10_000,
};

fn teams_are_trimmed_unique_and_listed_by_name(db: &dyn Db) {
    let north = db.add_team(" north ").unwrap();
    assert_eq!(north.name, "north");
    db.add_team("south").unwrap();
    assert_eq!(problem(&db.add_team("north")), Some("team_name_taken"));
    assert_eq!(problem(&db.add_team(" ")), Some("team_name_invalid"));
    let names: Vec<_> = db.teams().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["north", "south"]);
}

fn areas_are_added_renamed_by_code_checked_and_bounded(db: &dyn Db) {
    use fieldcase_server::db::areas::{AreaLimits, AreaWrite};
    let limits = AreaLimits {
        max_areas: 3,
        max_name_chars: 20,
    };
    assert!(db.areas().unwrap().is_empty());
    let (a, w) = db.put_area(" 00004 ", " Xã Phú Mỹ ", limits).unwrap();
    assert_eq!(
        (a.code.as_str(), a.name.as_str(), w),
        ("00004", "Xã Phú Mỹ", AreaWrite::Added)
    );
    db.put_area("00001", "Xã Tân Phú", limits).unwrap();
    // The same code again renames it (the code, which cases hold, stays).
    let (_, w) = db.put_area("00004", "Phường Phú Mỹ", limits).unwrap();
    assert_eq!(w, AreaWrite::Renamed);
    let listed: Vec<(String, String)> = db
        .areas()
        .unwrap()
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    assert_eq!(
        listed,
        [
            ("00001".to_string(), "Xã Tân Phú".to_string()),
            ("00004".to_string(), "Phường Phú Mỹ".to_string())
        ]
    );
    // Refused, nothing written: a code not shaped like one, a name empty or too long.
    for bad in ["", "Xã Tân Phú", "a/b", &"9".repeat(33)] {
        assert_eq!(
            problem(&db.put_area(bad, "Name", limits)),
            Some("area_code_invalid"),
            "{bad:?}"
        );
    }
    assert_eq!(
        problem(&db.put_area("00007", "  ", limits)),
        Some("area_name_invalid")
    );
    assert_eq!(
        problem(&db.put_area("00007", &"я".repeat(21), limits)),
        Some("area_name_invalid")
    );
    db.put_area("00007", &"я".repeat(20), limits).unwrap();
    // Past areas.max: a new code is refused, a rename still goes.
    assert_eq!(
        problem(&db.put_area("00010", "Xã Mới", limits)),
        Some("too_many_areas")
    );
    db.put_area("00001", "Thị trấn Tân Phú", limits).unwrap();
    assert_eq!(db.areas().unwrap().len(), 3);
}

fn a_team_is_renamed_by_its_label_and_keeps_its_name(db: &dyn Db) {
    let anna = anna(db);
    let renamed = db.rename_team("north", " Команда Північ ").unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.shown()),
        ("north", "Команда Північ")
    );
    let listed = db.teams().unwrap();
    assert_eq!(listed[0].label.as_deref(), Some("Команда Північ"));
    assert_eq!(listed[1].label, None);
    // The key stays: the user is still of team north.
    assert_eq!(
        db.user_by_id(&anna.id).unwrap().unwrap().team.as_deref(),
        Some("north")
    );
    // Refused, nothing changed: an unknown team, an empty label, another team's name or
    // label.
    assert!(matches!(
        db.rename_team("west", "West"),
        Err(AppError::NotFound)
    ));
    assert_eq!(
        problem(&db.rename_team("north", "  ")),
        Some("team_name_invalid")
    );
    assert_eq!(
        problem(&db.rename_team("north", "south")),
        Some("team_name_taken")
    );
    db.rename_team("south", "Південь").unwrap();
    assert_eq!(
        problem(&db.rename_team("north", "Південь")),
        Some("team_name_taken")
    );
    assert_eq!(db.teams().unwrap()[0].shown(), "Команда Північ");
    // Back to its own name: no label.
    assert_eq!(db.rename_team("north", "north").unwrap().label, None);
    assert_eq!(db.teams().unwrap()[0].label, None);
}

fn users_are_checked_on_the_way_in_and_found_by_name_and_id(db: &dyn Db) {
    let anna = anna(db);
    assert_eq!(
        (anna.role, anna.team.as_deref(), anna.disabled),
        (Role::Worker, Some("north"), false)
    );
    let admin = db
        .add_user("root", "", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();
    assert_eq!((admin.display_name.as_str(), admin.team), ("root", None));
    for (bad, code) in [
        (
            db.add_user(
                "anna",
                "",
                Role::Worker,
                Some("north"),
                PASSWORD,
                ITERATIONS,
            ),
            "username_taken",
        ),
        (
            db.add_user("x y", "", Role::Worker, Some("north"), PASSWORD, ITERATIONS),
            "username_invalid",
        ),
        (
            db.add_user("bao", "", Role::Worker, Some("north"), "short", ITERATIONS),
            "password_too_short",
        ),
        (
            db.add_user("bao", "", Role::Worker, None, PASSWORD, ITERATIONS),
            "team_needed",
        ),
        (
            db.add_user("bao", "", Role::Worker, Some("west"), PASSWORD, ITERATIONS),
            "no_such_team",
        ),
    ] {
        assert_eq!(problem(&bad), Some(code), "{bad:?}");
    }
    assert_eq!(db.users().unwrap().len(), 2);
    assert_eq!(db.user_by_username("anna").unwrap(), Some(anna.clone()));
    assert_eq!(db.user_by_username("nobody").unwrap(), None);
    assert_eq!(db.user_by_id(&anna.id).unwrap(), Some(anna.clone()));
    assert_eq!(db.user_by_id("u-nobody").unwrap(), None);
}

fn a_password_is_checked_and_rehashed_at_a_higher_work_factor(db: &dyn Db) {
    let anna = anna(db);
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
    // A higher work factor re-hashes at the next login; the password still works, at
    // either work factor.
    assert!(db
        .check_password("anna", PASSWORD, ITERATIONS * 2)
        .unwrap()
        .is_some());
    assert!(db
        .check_password("anna", PASSWORD, ITERATIONS)
        .unwrap()
        .is_some());
    assert!(db
        .check_password("anna", "a wrong password", ITERATIONS * 2)
        .unwrap()
        .is_none());
}

fn a_new_password_ends_sessions_and_replaces_the_old_one(db: &dyn Db) {
    let (anna, phone) = anna_with_phone(db);
    let (token, _) = db.create_session(&anna, &phone, POLICY, 0).unwrap();
    db.set_password("anna", "another long password", ITERATIONS)
        .unwrap();
    assert!(
        db.session(&token, POLICY, 1).unwrap().is_none(),
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
    assert!(db
        .check_password("anna", "another long password", ITERATIONS)
        .unwrap()
        .is_some());
}

fn an_actor_is_bound_once_to_one_device(db: &dyn Db) {
    let (anna, device) = anna_with_phone(db);
    assert_eq!(
        db.actor_device("aa11").unwrap().as_deref(),
        Some(device.as_str())
    );
    assert_eq!(db.actor_device("bb22").unwrap(), None);
    assert_eq!(
        db.register_device(&anna, Some(&device), "phone", "aa11")
            .unwrap(),
        device,
        "signing in again on the same device"
    );
    let other = db.register_device(&anna, None, "tablet", "cc33").unwrap();
    assert_ne!(other, device);
    assert_eq!(
        problem(&db.register_device(&anna, Some(&other), "tablet", "aa11")),
        Some("actor_elsewhere")
    );
    assert_eq!(
        problem(&db.register_device(&anna, Some("d-unknown"), "tablet", "dd44")),
        Some("no_such_device")
    );
    assert!(matches!(
        db.register_device(&anna, None, "phone", "XYZ"),
        Err(AppError::BadRequest(_))
    ));
    let d = db.actor_owner("aa11").unwrap().unwrap();
    assert_eq!(
        (d.id.as_str(), d.name.as_str(), d.user_id.as_str()),
        (device.as_str(), "phone", anna.id.as_str())
    );
    assert_eq!(db.actor_owner("ffff").unwrap(), None);
}

fn the_server_writes_for_a_user_under_one_device(db: &dyn Db) {
    let anna = anna(db);
    let server_device = db.server_device(&anna, "ee55").unwrap();
    assert_eq!(db.server_device(&anna, "ff66").unwrap(), server_device);
}

fn a_revoked_device_is_told_to_wipe_and_the_server_writes_under_a_new_one(db: &dyn Db) {
    let (anna, phone) = anna_with_phone(db);
    let (token, expires) = db.create_session(&anna, &phone, POLICY, 100).unwrap();
    assert_eq!(expires, 100 + POLICY.absolute_ms);
    assert!(!db.token_disabled(&token).unwrap());
    assert!(!db.token_disabled(&"0".repeat(64)).unwrap(), "unknown");
    db.revoke_device(&phone).unwrap();
    assert!(db.token_disabled(&token).unwrap(), "the phone must wipe");
    assert!(db.session(&token, POLICY, 101).unwrap().is_none());
    let server = db.server_device(&anna, "ee55").unwrap();
    db.revoke_device(&server).unwrap();
    let again = db.server_device(&anna, "ff66").unwrap();
    assert_ne!(again, server, "a revoked device is not written under again");
    assert_eq!(db.server_device(&anna, "ff66").unwrap(), again);
    assert_eq!(db.actor_device("ff66").unwrap(), Some(again));
}

fn a_session_ends_when_idle_and_at_its_absolute_expiry(db: &dyn Db) {
    let (anna, device) = anna_with_phone(db);
    let (token, expires) = db.create_session(&anna, &device, POLICY, 0).unwrap();
    assert_eq!((token.len(), expires), (64, 10_000));
    let s = db.session(&token, POLICY, 500).unwrap().expect("valid");
    assert_eq!(
        (s.user.id.as_str(), s.device_id.as_str()),
        (anna.id.as_str(), device.as_str())
    );
    assert!(
        db.session(&token, POLICY, 1_400).unwrap().is_some(),
        "used at 500"
    );
    assert!(db.session(&token, POLICY, 2_600).unwrap().is_none(), "idle");
}

fn a_used_session_stays_open_and_malformed_tokens_find_nothing(db: &dyn Db) {
    let (anna, device) = anna_with_phone(db);
    let (token, _) = db.create_session(&anna, &device, POLICY, 0).unwrap();
    for t in (900..10_000).step_by(900) {
        assert!(db.session(&token, POLICY, t).unwrap().is_some(), "at {t}");
    }
    assert!(
        db.session(&token, POLICY, 10_000).unwrap().is_none(),
        "absolute"
    );
    assert!(db.session(&"0".repeat(64), POLICY, 0).unwrap().is_none());
    assert!(db.session("short", POLICY, 0).unwrap().is_none());
}

fn a_revoked_session_ends_without_a_wipe(db: &dyn Db) {
    let (anna, device) = anna_with_phone(db);
    let (token, _) = db.create_session(&anna, &device, POLICY, 0).unwrap();
    db.revoke_session(&token).unwrap();
    assert!(db.session(&token, POLICY, 1).unwrap().is_none());
    assert!(!db.token_disabled(&token).unwrap());
}

/// A case stored as a snapshot: (its id, the document, its heads).
fn stored_case(db: &dyn Db) -> (CaseId, Automerge, Vec<ChangeHash>) {
    let id = CaseId::random();
    let mut doc = Automerge::new();
    let (_, h1) = grow(&mut doc, "a");
    let got = db
        .store_case(
            &access(id, &["u-1"]),
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
    (id, doc, h1)
}

/// A case stored as a snapshot (key `a`), then a change appended (key `b`): (its id, the
/// document, the snapshot's heads, the heads after the change).
fn stored_case_with_a_change(db: &dyn Db) -> (CaseId, Automerge, Vec<ChangeHash>, Vec<ChangeHash>) {
    let (id, mut doc, h1) = stored_case(db);
    let (c2, h2) = grow(&mut doc, "b");
    db.store_case(
        &access(id, &["u-1"]),
        CaseWrite::Changes(&c2),
        &h2,
        Some(&h1),
        6,
    )
    .unwrap();
    (id, doc, h1, h2)
}

fn a_read_recorded_with_a_write_is_on_the_trail_stored_or_stale(db: &dyn Db) {
    let (id, mut doc, h1) = stored_case(db);
    let read = |at: i64| fieldcase_server::db::AuditRead {
        user_id: "u-1".into(),
        device: "d-1".into(),
        case: id,
        action: "sync",
        at,
    };
    let (c2, h2) = grow(&mut doc, "b");
    let got = db
        .store_case_read(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c2),
            &h2,
            Some(&h1),
            6,
            &read(6),
        )
        .unwrap();
    assert!(matches!(got, Stored::Written { .. }), "{got:?}");
    assert_eq!(keys(&db.case_document(&id).unwrap().unwrap()), ["a", "b"]);
    // A late writer stores nothing, and its read is recorded all the same.
    let (c3, h3) = grow(&mut doc, "c");
    let got = db
        .store_case_read(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c3),
            &h3,
            Some(&h1),
            7,
            &read(7),
        )
        .unwrap();
    assert_eq!(got, Stored::Stale);
    assert_eq!(keys(&db.case_document(&id).unwrap().unwrap()), ["a", "b"]);
    let trail = db.audit_trail(Some(&id), 10).unwrap();
    let reads: Vec<(i64, &str, &str, &str)> = trail
        .iter()
        .map(|e| {
            (
                e.at,
                e.user_id.as_str(),
                e.device.as_str(),
                e.action.as_str(),
            )
        })
        .collect();
    assert_eq!(
        reads,
        [(7, "u-1", "d-1", "sync"), (6, "u-1", "d-1", "sync")]
    );
    let check = db.verify_audit().unwrap();
    assert_eq!(check.broken, None, "{check:?}");
}

fn the_team_and_the_restriction_follow_appended_changes_and_snapshots(db: &dyn Db) {
    let (id, mut doc, h1) = stored_case(db);
    let mut a = access(id, &["u-1"]);
    a.restricted = true;
    let (c2, h2) = grow(&mut doc, "b");
    db.store_case(&a, CaseWrite::Changes(&c2), &h2, Some(&h1), 6)
        .unwrap();
    assert_eq!(db.case_access(&id).unwrap().as_ref(), Some(&a));
    // Unchanged by a write that leaves them as they were.
    let (c3, h3) = grow(&mut doc, "c");
    db.store_case(&a, CaseWrite::Changes(&c3), &h3, Some(&h2), 7)
        .unwrap();
    assert_eq!(db.case_access(&id).unwrap().as_ref(), Some(&a));
    a.team = "south".into();
    a.restricted = false;
    let (c4, h4) = grow(&mut doc, "d");
    db.store_case(&a, CaseWrite::Changes(&c4), &h4, Some(&h3), 8)
        .unwrap();
    assert_eq!(db.case_access(&id).unwrap().as_ref(), Some(&a));
    a.team = "north".into();
    a.restricted = true;
    db.store_case(&a, CaseWrite::Snapshot(&doc.save()), &h4, Some(&h4), 9)
        .unwrap();
    assert_eq!(db.case_access(&id).unwrap().as_ref(), Some(&a));
    assert_eq!(
        keys(&db.case_document(&id).unwrap().unwrap()),
        ["a", "b", "c", "d"]
    );
    // Closed, then reopened (its closure's time back to none), by appended changes.
    a.closed = true;
    a.closed_at = Some(1_000);
    let (c5, h5) = grow(&mut doc, "e");
    db.store_case(&a, CaseWrite::Changes(&c5), &h5, Some(&h4), 10)
        .unwrap();
    assert_eq!(db.case_access(&id).unwrap().as_ref(), Some(&a));
    a.closed = false;
    a.closed_at = None;
    let (c6, h6) = grow(&mut doc, "f");
    db.store_case(&a, CaseWrite::Changes(&c6), &h6, Some(&h5), 11)
        .unwrap();
    assert_eq!(db.case_access(&id).unwrap().as_ref(), Some(&a));
}

fn cases_are_appended_under_compare_and_swap(db: &dyn Db) {
    let (id, mut doc, h1) = stored_case(db);
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
    let (c3, h3) = grow(&mut doc, "c");
    let got = db
        .store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c3),
            &h3,
            Some(&h2),
            7,
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
    assert_eq!(db.case_heads(&id).unwrap(), Some(h3));
}

fn a_late_writer_stores_nothing(db: &dyn Db) {
    let (id, _, h1, h2) = stored_case_with_a_change(db);
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
    assert_eq!(db.case_heads(&id).unwrap(), Some(h2));
    assert_eq!(db.case_access(&id).unwrap().unwrap().assigned, ["u-1"]);
}

fn a_snapshot_folds_the_appended_changes(db: &dyn Db) {
    let (id, doc, _, h2) = stored_case_with_a_change(db);
    let got = db
        .store_case(
            &access(id, &["u-1"]),
            CaseWrite::Snapshot(&doc.save()),
            &h2,
            Some(&h2),
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
    assert_eq!(keys(&db.case_document(&id).unwrap().unwrap()), ["a", "b"]);
    assert_eq!(db.case_heads(&id).unwrap(), Some(h2));
}

fn assignees_keep_their_order_once_each(db: &dyn Db) {
    let id = CaseId::random();
    let mut doc = Automerge::new();
    let (_, h1) = grow(&mut doc, "a");
    db.store_case(
        &access(id, &["u-2", "u-1", "u-2"]),
        CaseWrite::Snapshot(&doc.save()),
        &h1,
        Some(&[]),
        5,
    )
    .unwrap();
    assert_eq!(
        db.case_access(&id).unwrap().unwrap().assigned,
        ["u-2", "u-1"]
    );
    let (c2, h2) = grow(&mut doc, "b");
    db.store_case(
        &access(id, &["u-3", "u-1", "u-2"]),
        CaseWrite::Changes(&c2),
        &h2,
        Some(&h1),
        6,
    )
    .unwrap();
    assert_eq!(
        db.case_access(&id).unwrap().unwrap().assigned,
        ["u-3", "u-1", "u-2"]
    );
    assert_eq!(db.cases().unwrap()[0].0.assigned, ["u-3", "u-1", "u-2"]);
    // The same people in another order: the order is what changed, and it is kept.
    let (c3, h3) = grow(&mut doc, "c");
    db.store_case(
        &access(id, &["u-2", "u-3", "u-1"]),
        CaseWrite::Changes(&c3),
        &h3,
        Some(&h2),
        7,
    )
    .unwrap();
    assert_eq!(
        db.case_access(&id).unwrap().unwrap().assigned,
        ["u-2", "u-3", "u-1"]
    );
    assert_eq!(db.cases().unwrap()[0].0.assigned, ["u-2", "u-3", "u-1"]);
    // And the same again: nothing to rewrite, the order stays.
    let (c4, h4) = grow(&mut doc, "d");
    db.store_case(
        &access(id, &["u-2", "u-3", "u-1"]),
        CaseWrite::Changes(&c4),
        &h4,
        Some(&h3),
        8,
    )
    .unwrap();
    assert_eq!(
        db.case_access(&id).unwrap().unwrap().assigned,
        ["u-2", "u-3", "u-1"]
    );
}

fn seeding_puts_cases_unconditionally_and_unknown_cases_are_none(db: &dyn Db) {
    let (id, doc, h1) = stored_case(db);
    let second = CaseId::random();
    let mut restricted = access(second, &["u-3"]);
    restricted.restricted = true;
    restricted.team = "south".into();
    db.put_case(&restricted, &doc.save(), &h1, 10).unwrap();
    db.put_case(&restricted, &doc.save(), &h1, 11).unwrap();
    assert_eq!(db.case_access(&second).unwrap(), Some(restricted.clone()));
    let unknown = CaseId::random();
    assert_eq!(db.case_document(&unknown).unwrap(), None);
    assert_eq!(db.case_heads(&unknown).unwrap(), None);
    assert_eq!(db.case_access(&unknown).unwrap(), None);
    let mut all = db.cases().unwrap();
    all.sort_by_key(|(a, _)| a.id);
    let mut want = vec![(access(id, &["u-1"]), h1.clone()), (restricted, h1)];
    want.sort_by_key(|(a, _)| a.id);
    assert_eq!(all, want);
}

fn a_missing_case_is_not_the_one_expected_and_its_first_changes_are_its_snapshot(db: &dyn Db) {
    let id = CaseId::random();
    let mut doc = Automerge::new();
    let (c1, h1) = grow(&mut doc, "a");
    // A writer that read heads of a case the storage does not hold stores nothing.
    assert_eq!(
        db.store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c1),
            &h1,
            Some(&h1),
            5
        )
        .unwrap(),
        Stored::Stale
    );
    assert_eq!(db.case_access(&id).unwrap(), None);
    // Changes of a case that expected none become its snapshot.
    // (Its size as stored: packed and sealed.)
    let stored = db
        .store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c1),
            &h1,
            Some(&[]),
            5,
        )
        .unwrap();
    assert!(
        matches!(
            stored,
            Stored::Written {
                pending_changes: 0,
                pending_bytes: 0,
                snapshot_bytes,
            } if snapshot_bytes > 0
        ),
        "{stored:?}"
    );
    assert_eq!(keys(&db.case_document(&id).unwrap().unwrap()), ["a"]);
    assert_eq!(db.case_heads(&id).unwrap(), Some(h1));
}

fn an_unconditional_write_replaces_whatever_is_stored(db: &dyn Db) {
    let (id, _, _, _) = stored_case_with_a_change(db);
    // Another document altogether, put without looking (an import): it replaces the
    // snapshot and the changes appended to the old one.
    let mut other = Automerge::new();
    let (_, h) = grow(&mut other, "z");
    let mut moved = access(id, &["u-2"]);
    moved.team = "south".into();
    db.put_case(&moved, &other.save(), &h, 7).unwrap();
    assert_eq!(keys(&db.case_document(&id).unwrap().unwrap()), ["z"]);
    assert_eq!(db.case_heads(&id).unwrap(), Some(h));
    assert_eq!(db.case_access(&id).unwrap(), Some(moved));
    assert_eq!(db.assignment_ended(&id, "u-1").unwrap(), Some(7));
}

fn the_audit_trail_is_newest_first(db: &dyn Db) {
    let anna = anna(db);
    let root = db
        .add_user("root", "", Role::Admin, None, PASSWORD, ITERATIONS)
        .unwrap();
    let (first, second) = (CaseId::random(), CaseId::random());
    db.audit(&anna.id, "d-1", &second, "read", 100).unwrap();
    db.audit(&anna.id, "d-1", &first, "sync", 200).unwrap();
    db.audit(&root.id, "d-2", &second, "sync", 300).unwrap();
    let trail = db.audit_trail(None, 10).unwrap();
    let seen: Vec<_> = trail.iter().map(|e| (e.at, e.action.as_str())).collect();
    assert_eq!(seen, [(300, "sync"), (200, "sync"), (100, "read")]);
    assert_eq!(trail[0].case_id, second.to_string());
    let one = db.audit_trail(Some(&second), 1).unwrap();
    assert_eq!((one.len(), one[0].user_id.as_str()), (1, root.id.as_str()));
    assert_eq!(one[0].device, "d-2");
}

/// Every audit entry is chained to the one before, also when many are written at once
/// (the chain's end is held while each is appended), and when they share their commit with
/// case writes (SQLite's group commit) and a write beside them fails: the whole trail
/// verifies, and every case write but the failed one is there.
fn audit_entries_written_at_once_form_one_chain(db: &dyn Db) {
    let empty = db.verify_audit().unwrap();
    assert_eq!((empty.entries, empty.broken), (0, None));
    let case = CaseId::random();
    let written: Vec<(CaseId, Vec<ChangeHash>)> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                s.spawn(move || {
                    let own = CaseId::random();
                    let mut doc = Automerge::new();
                    let mut heads: Vec<ChangeHash> = Vec::new();
                    for i in 0..10 {
                        db.audit(
                            "u-anna",
                            &format!("d-{t}"),
                            &case,
                            "read (console)",
                            1_000 + i,
                        )
                        .unwrap();
                        let (bytes, next) = grow(&mut doc, &format!("k{i}"));
                        let write = match i {
                            0 => CaseWrite::Snapshot(&bytes),
                            _ => CaseWrite::Changes(&bytes),
                        };
                        let stored = db
                            .store_case(&access(own, &["u-1"]), write, &next, Some(&heads), i)
                            .unwrap();
                        assert!(matches!(stored, Stored::Written { .. }), "{stored:?}");
                        heads = next;
                        // A stale write beside the others: refused alone.
                        if i == 4 {
                            let (bytes, wrong) = grow(&mut doc.clone(), "stale");
                            let stale = db
                                .store_case(
                                    &access(own, &["u-1"]),
                                    CaseWrite::Changes(&bytes),
                                    &wrong,
                                    Some(&wrong),
                                    i,
                                )
                                .unwrap();
                            assert_eq!(stale, Stored::Stale);
                        }
                    }
                    (own, heads)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let check = db.verify_audit().unwrap();
    assert_eq!(check.entries, 80);
    assert_eq!(check.before_chain, 0);
    assert_eq!(check.broken, None, "{check:?}");
    for (id, heads) in written {
        let doc = Automerge::load(&db.case_document(&id).unwrap().unwrap()).unwrap();
        assert_eq!(doc.get_heads(), heads);
        assert_eq!(
            doc.keys(automerge::ROOT).count(),
            10,
            "the stale write left nothing"
        );
    }
}

fn the_console_language_is_kept(db: &dyn Db) {
    let anna = anna(db);
    assert_eq!(db.user_language(&anna.id).unwrap(), None);
    db.set_user_language(&anna.id, "fa").unwrap();
    db.set_user_language(&anna.id, "th").unwrap();
    assert_eq!(db.user_language(&anna.id).unwrap().as_deref(), Some("th"));
}

fn the_console_time_zone_is_kept_and_cleared(db: &dyn Db) {
    let anna = anna(db);
    assert_eq!(db.user_time_zone(&anna.id).unwrap(), None);
    db.set_user_time_zone(&anna.id, Some("Asia/Tehran"))
        .unwrap();
    db.set_user_time_zone(&anna.id, Some("Asia/Bangkok"))
        .unwrap();
    assert_eq!(
        db.user_time_zone(&anna.id).unwrap().as_deref(),
        Some("Asia/Bangkok")
    );
    // The language is another setting, untouched.
    assert_eq!(db.user_language(&anna.id).unwrap(), None);
    db.set_user_time_zone(&anna.id, None).unwrap();
    assert_eq!(db.user_time_zone(&anna.id).unwrap(), None);
}

fn a_decision_to_keep_past_retention_is_kept_replaced_and_erased_with_its_case(db: &dyn Db) {
    use fieldcase_server::db::erasure::RetentionHold;
    let (id, _, _) = stored_case(db);
    let (other, _, _) = stored_case(db);
    let hold = |case, until, reason: &str| RetentionHold {
        case_id: case,
        until,
        by: "u-admin".into(),
        reason: reason.into(),
        at: 5,
    };
    assert!(db.retention_holds().unwrap().is_empty());
    // A reason is needed, on one line.
    for bad in ["", "  ", "two\nlines"] {
        assert!(
            db.keep_past_retention(&hold(id, 100, bad)).is_err(),
            "{bad:?}"
        );
    }
    assert!(db.retention_holds().unwrap().is_empty());
    db.keep_past_retention(&hold(id, 100, " court case pending "))
        .unwrap();
    db.keep_past_retention(&hold(other, 50, "Рішення суду очікується"))
        .unwrap();
    db.keep_past_retention(&hold(id, 200, "court case still pending"))
        .unwrap();
    let held = db.retention_holds().unwrap();
    assert_eq!(held.len(), 2, "{held:?}");
    assert_eq!(
        (held[0].case_id, held[0].until),
        (id, 200),
        "latest until first"
    );
    assert_eq!(held[0].reason, "court case still pending");
    assert_eq!(held[1].reason, "Рішення суду очікується");
    // Erasing the case takes its decision with it.
    db.erase_case(&id, "u-admin", "retention", 300).unwrap();
    let held = db.retention_holds().unwrap();
    assert_eq!(
        held.iter().map(|h| h.case_id).collect::<Vec<_>>(),
        vec![other]
    );
}

fn disabling_a_user_ends_sessions_and_wipes_their_devices(db: &dyn Db) {
    let (anna, device) = anna_with_phone(db);
    let (token, _) = db.create_session(&anna, &device, POLICY, 0).unwrap();
    db.disable_user("anna").unwrap();
    assert!(db.session(&token, POLICY, 1).unwrap().is_none());
    assert!(db.token_disabled(&token).unwrap());
    assert!(db.user_by_username("anna").unwrap().unwrap().disabled);
    assert!(db
        .check_password("anna", PASSWORD, ITERATIONS)
        .unwrap()
        .is_none());
    assert!(matches!(
        db.register_device(&anna, Some(&device), "phone", "aa11"),
        Err(AppError::Disabled)
    ));
    assert!(matches!(db.disable_user("nobody"), Err(AppError::NotFound)));
}

fn devices_are_listed_with_their_sessions_and_revoked(db: &dyn Db) {
    let anna = anna(db);
    let phone = db
        .register_device(&anna, None, "Anna's phone", "a1b2")
        .unwrap();
    let tablet = db
        .register_device(&anna, None, "Anna's tablet", "c3d4")
        .unwrap();
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
}

fn a_devices_word_on_its_unsynced_work_is_kept_and_the_servers_device_not_listed(db: &dyn Db) {
    let (anna, phone) = anna_with_phone(db);
    db.server_device(&anna, "ee55").unwrap();
    let listed = db.devices_of(&anna.id, 0).unwrap();
    assert_eq!(listed.len(), 1, "not the server's own device");
    assert_eq!(
        (
            listed[0].device.id.as_str(),
            listed[0].unsynced,
            listed[0].app_version.as_deref()
        ),
        (phone.as_str(), None, None)
    );
    let first = Unsynced {
        cases: 3,
        done: false,
        at: 1_800_000_000_000,
    };
    db.record_status(&phone, first, Some("1.4.0")).unwrap();
    let then = Unsynced {
        cases: 0,
        done: true,
        at: 1_800_000_060_000,
    };
    db.record_status(&phone, then, None).unwrap();
    let listed = db.devices_of(&anna.id, 0).unwrap();
    assert_eq!(
        (listed[0].unsynced, listed[0].app_version.as_deref()),
        (Some(then), Some("1.4.0")),
        "the latest word replaces the last; a version not given leaves the last"
    );
    db.record_status(&phone, first, Some("1.5.0")).unwrap();
    assert_eq!(
        db.devices_of(&anna.id, 0).unwrap()[0]
            .app_version
            .as_deref(),
        Some("1.5.0")
    );
}

fn a_refused_role_change_changes_nothing_and_an_admin_has_no_team(db: &dyn Db) {
    let anna = anna(db);
    match db.set_role_team("anna", Role::Supervisor, Some("west")) {
        Err(e @ AppError::Invalid { .. }) => {
            assert_eq!(e.to_string(), "no such team");
            assert_eq!(problem::<()>(&Err(e)), Some("no_such_team"));
        }
        other => panic!("{other:?}"),
    }
    match db.set_role_team("anna", Role::Supervisor, None) {
        Err(e @ AppError::Invalid { .. }) => {
            assert_eq!(e.to_string(), "workers and supervisors belong to a team")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        problem(&db.set_role_team("nobody", Role::Worker, Some("west"))),
        Some("no_such_team"),
        "the team is looked at first"
    );
    assert_eq!(db.user_by_id(&anna.id).unwrap(), Some(anna.clone()));
    let admin = db
        .set_role_team("anna", Role::Admin, Some("north"))
        .unwrap();
    assert_eq!((admin.role, admin.team.as_deref()), (Role::Admin, None));
    assert_eq!(db.user_by_username("anna").unwrap(), Some(admin));
}

fn a_departure_is_claimed_once_and_can_be_given_back(db: &dyn Db) {
    let (_, phone) = anna_with_phone(db);
    let now = 1_800_000_000_000;
    let id = CaseId::random();
    assert!(!db.departed(&id, &phone).unwrap());
    assert!(db.record_departure(&id, &phone, 2, now).unwrap());
    assert!(!db.record_departure(&id, &phone, 3, now).unwrap(), "once");
    assert!(db.departed(&id, &phone).unwrap());
    db.forget_departure(&id, &phone).unwrap();
    assert!(!db.departed(&id, &phone).unwrap());
    assert!(db.record_departure(&id, &phone, 2, now).unwrap());
    assert!(!db.departed(&id, "d-other").unwrap());
}

fn assignment_ends_are_recorded_and_cleared(db: &dyn Db) {
    let anna = anna(db);
    let now = 1_800_000_000_000;
    let id = CaseId::random();
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
    assert_eq!(db.assignment_ended(&id, &anna.id).unwrap(), None);
    let (more, heads) = grow(&mut doc, "y");
    db.store_case(
        &access(id, &["u-other"]),
        CaseWrite::Changes(&more),
        &heads,
        None,
        now + 5,
    )
    .unwrap();
    assert_eq!(db.assignment_ended(&id, &anna.id).unwrap(), Some(now + 5));
    assert!(db.cases_of(&anna.id).unwrap().is_empty());
    let (more, heads) = grow(&mut doc, "z");
    db.store_case(
        &access(id, &[&anna.id]),
        CaseWrite::Changes(&more),
        &heads,
        None,
        now + 9,
    )
    .unwrap();
    assert_eq!(
        db.assignment_ended(&id, &anna.id).unwrap(),
        None,
        "assigned again"
    );
}

/// A hand-over deals a leaver's cases out in the order the storage lists them: both
/// storages list them alike, by case id.
fn a_users_cases_are_listed_in_id_order(db: &dyn Db) {
    let anna = anna(db);
    let mut ids: Vec<CaseId> = (0..12).map(|_| CaseId::random()).collect();
    for (i, id) in ids.iter().enumerate() {
        let mut doc = Automerge::new();
        let (_, heads) = grow(&mut doc, "x");
        db.put_case(&access(*id, &[&anna.id]), &doc.save(), &heads, i as i64)
            .unwrap();
    }
    ids.sort();
    assert_eq!(db.cases_of(&anna.id).unwrap(), ids);
}

fn time_marks_are_kept_once(db: &dyn Db) {
    let id = CaseId::random();
    let mut doc = Automerge::new();
    let (_, heads) = grow(&mut doc, "x");
    let mark = TimeMark {
        change: heads[0],
        claimed: 1_577_836_800_000,
        received: 1_800_000_000_000,
    };
    db.mark_times(&id, &[mark, mark]).unwrap();
    assert_eq!(db.time_marks(&id).unwrap(), vec![mark]);
    assert!(db.time_marks(&CaseId::random()).unwrap().is_empty());
}

fn throttles_count_within_a_window_and_forgive_one(db: &dyn Db) {
    let now = 1_800_000_000_000;
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
}

fn a_throttle_long_past_is_forgotten_and_forgiving_starts_no_window(db: &dyn Db) {
    let now = 1_800_000_000_000;
    let window = 60_000;
    // Forgiving what was never counted starts nothing, and never goes below none.
    db.throttle_forgive("username:bao").unwrap();
    assert_eq!(db.throttle_count("username:bao", now, window).unwrap(), 0);
    assert_eq!(db.throttle_hit("username:bao", now, window).unwrap(), 1);
    db.throttle_forgive("username:bao").unwrap();
    db.throttle_forgive("username:bao").unwrap();
    assert_eq!(
        db.throttle_hit("username:bao", now + window - 1, window)
            .unwrap(),
        1,
        "the window started at the first event stays"
    );
    assert_eq!(
        db.throttle_count("username:bao", now + window, window)
            .unwrap(),
        0,
        "and passes"
    );
    // A window that started two windows before another key's event is forgotten: asked
    // about as of its own time, it holds nothing any more.
    db.throttle_hit("username:anna", now, window).unwrap();
    db.throttle_hit("address:10.0.0.1", now + 2 * window, window)
        .unwrap();
    assert_eq!(
        db.throttle_count("username:anna", now + 1, window).unwrap(),
        1
    );
    db.throttle_hit("address:10.0.0.1", now + 2 * window + 1, window)
        .unwrap();
    assert_eq!(
        db.throttle_count("username:anna", now + 1, window).unwrap(),
        0,
        "forgotten"
    );
}

fn concurrent_events_are_each_counted(db: &dyn Db) {
    let now = 1_800_000_000_000;
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for i in 0..10 {
                    db.throttle_hit("address:10.0.0.9", now + i, 60_000)
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(
        db.throttle_count("address:10.0.0.9", now + 10, 60_000)
            .unwrap(),
        40
    );
}

fn records_of_the_same_moment_are_listed_latest_written_first(db: &dyn Db) {
    let at = 1_800_000_000_000;
    let case = CaseId::random();
    for action in ["read", "sync"] {
        db.audit("u-anna", "d-1", &case, action, at).unwrap();
    }
    let trail = db.audit_trail(Some(&case), 10).unwrap();
    assert_eq!(
        trail
            .iter()
            .map(|e| (e.action.as_str(), e.case_id.clone(), e.user_id.as_str()))
            .collect::<Vec<_>>(),
        [
            ("sync", case.to_string(), "u-anna"),
            ("read", case.to_string(), "u-anna")
        ]
    );
    assert!(db
        .audit_trail(Some(&CaseId::random()), 10)
        .unwrap()
        .is_empty());
    for target in ["anna", "bao"] {
        db.log_admin(&AdminEntry {
            at,
            by: "admin-cli".into(),
            action: "disable user".into(),
            target: target.into(),
        })
        .unwrap();
    }
    let log = db.admin_log(10).unwrap();
    assert_eq!(
        log.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(),
        ["bao", "anna"]
    );
    assert_eq!(
        log[0],
        AdminEntry {
            at,
            by: "admin-cli".into(),
            action: "disable user".into(),
            target: "bao".into()
        }
    );
}

fn roles_and_teams_change_and_users_are_enabled_again(db: &dyn Db) {
    anna(db);
    assert_eq!(
        problem(&db.set_role_team("anna", Role::Worker, Some("west"))),
        Some("no_such_team")
    );
    assert_eq!(
        problem(&db.set_role_team("anna", Role::Worker, None)),
        Some("team_needed")
    );
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
}

fn the_admin_log_is_newest_first(db: &dyn Db) {
    let now = 1_800_000_000_000;
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

/// PostgreSQL only: opening again finds the schema in place, and the login throttle is
/// shared by two storages on one database (two server instances).
#[test]
fn postgres_opens_again_and_two_storages_share_the_login_throttle() {
    let pg = PgCluster::start();
    let url = pg.database("shared");
    let a = PostgresDb::connect(&url).unwrap();
    a.add_team("north").unwrap();
    let b = PostgresDb::connect(&url).unwrap();
    assert_eq!(b.teams().unwrap().len(), 1);
    let now = 1_900_000_000_000;
    a.throttle_hit("address:10.0.0.1", now, 60_000).unwrap();
    b.throttle_hit("address:10.0.0.1", now, 60_000).unwrap();
    assert_eq!(
        a.throttle_count("address:10.0.0.1", now, 60_000).unwrap(),
        2
    );
}

fn the_directory_is_written_under_compare_and_swap_and_checked(db: &dyn Db) {
    use fieldcase_core::directory::{sample, ServiceStatus};
    assert_eq!(db.directory_version().unwrap(), 0);
    assert!(db.directory().unwrap().is_none());
    let d = sample::generate(20);
    assert_eq!(db.put_directory(&d, 0, "u1", 10, usize::MAX).unwrap(), 1);
    let stored = db.directory().unwrap().unwrap();
    assert_eq!(
        (
            stored.version,
            stored.updated_at,
            stored.updated_by.as_str()
        ),
        (1, 10, "u1")
    );
    assert_eq!(stored.directory().unwrap(), d);
    assert_eq!(db.directory_version().unwrap(), 1);

    // A writer that read version 0 (or any but the stored one) stores nothing.
    let mut d2 = d.clone();
    d2.services[0].status = ServiceStatus::Inactive;
    for stale in [0, 2, 7] {
        let r = db.put_directory(&d2, stale, "u2", 20, usize::MAX);
        assert_eq!(problem(&r), Some("directory_changed"), "{stale}: {r:?}");
    }
    // A directory that fails its check, or is too large, is refused; nothing changes.
    let mut broken = d2.clone();
    broken.services[0].organization_id = "nobody".into();
    let r = db.put_directory(&broken, 1, "u2", 20, usize::MAX);
    assert!(
        matches!(&r, Err(e @ AppError::Invalid { .. }) if e.to_string().contains("organization_id"))
            && problem(&r) == Some("directory_invalid"),
        "{r:?}"
    );
    let r = db.put_directory(&d2, 1, "u2", 20, 100);
    assert!(
        matches!(&r, Err(e @ AppError::Invalid { .. }) if e.to_string().contains("directory.max_bytes"))
            && problem(&r) == Some("directory_too_large"),
        "{r:?}"
    );
    assert_eq!(db.directory().unwrap().unwrap().directory().unwrap(), d);

    assert_eq!(db.put_directory(&d2, 1, "u2", 20, usize::MAX).unwrap(), 2);
    let stored = db.directory().unwrap().unwrap();
    assert_eq!((stored.version, stored.updated_by.as_str()), (2, "u2"));
    assert_eq!(stored.directory().unwrap(), d2);
}

fn a_partner_link_opens_by_its_token_until_it_expires_or_is_revoked(db: &dyn Db) {
    use fieldcase_server::db::links::NewLink;
    anna(db);
    let (id, _, _) = stored_case(db);
    let new = |now: i64, expires_at: i64| NewLink {
        case_id: id,
        referral_id: "r-1",
        team: "north",
        organisation: "Центр правової допомоги",
        language: "uk",
        created_by: "u-1",
        now,
        expires_at,
    };
    let (link, token) = db.create_referral_link(&new(1_000, 5_000)).unwrap();
    let (later, _) = db.create_referral_link(&new(2_000, 9_000)).unwrap();
    assert_eq!(
        db.open_referral_link(&token, 4_999).unwrap(),
        Some(link.clone())
    );
    assert_eq!(
        db.open_referral_link(&token, 5_000).unwrap(),
        None,
        "expired"
    );
    assert_eq!(db.open_referral_link(&"0".repeat(64), 1_000).unwrap(), None);
    // The partner's user: disabled, of the case's team, named as the organisation.
    let partner = db.user_by_id(&link.partner_user).unwrap().unwrap();
    assert!(partner.disabled && partner.is_partner());
    // No account is made of it: it is not enabled, and no password is set for it.
    assert!(db.enable_user(&partner.username).is_err());
    assert!(db
        .set_password(
            &partner.username,
            "a long enough passphrase here",
            ITERATIONS
        )
        .is_err());
    assert!(db.user_by_id(&link.partner_user).unwrap().unwrap().disabled);
    assert_eq!(
        (partner.team.as_deref(), partner.display_name.as_str()),
        (Some("north"), "Центр правової допомоги")
    );
    // Newest first; revoked once.
    let listed: Vec<String> = db
        .referral_links(&id)
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(listed, [later.id.clone(), link.id.clone()]);
    assert!(db.revoke_referral_link(&link.id, "u-2", 3_000).unwrap());
    assert!(
        !db.revoke_referral_link(&link.id, "u-2", 3_001).unwrap(),
        "already"
    );
    assert_eq!(
        db.open_referral_link(&token, 3_500).unwrap(),
        None,
        "revoked"
    );
    let revoked = db
        .referral_links(&id)
        .unwrap()
        .into_iter()
        .find(|l| l.id == link.id)
        .unwrap();
    assert_eq!(
        (revoked.revoked_at, revoked.revoked_by.as_deref()),
        (Some(3_000), Some("u-2"))
    );
    // A link for a team that does not exist makes nothing.
    let mut elsewhere = new(1_000, 5_000);
    elsewhere.team = "nowhere";
    assert!(db.create_referral_link(&elsewhere).is_err());
    assert_eq!(db.referral_links(&id).unwrap().len(), 2);
}

/// Erasure (issue 18, ADR 0007): every row of the case goes (its data key with its row),
/// a tombstone with id, team, when, who and why stays; the audit trail keeps its ids; no
/// write of any kind makes the case again; a bad reason, an unknown case and a second
/// erasure are refused and change nothing.
fn an_erased_case_leaves_a_tombstone_only_and_is_never_stored_again(db: &dyn Db) {
    use fieldcase_server::db::links::NewLink;
    let (anna, phone) = anna_with_phone(db);
    let (id, mut doc, _, h2) = stored_case_with_a_change(db);
    let (other, _, _) = stored_case(db);
    db.audit(&anna.id, &phone, &id, "read (api)", 7).unwrap();
    db.record_departure(&id, &phone, 1, 8).unwrap();
    db.mark_times(
        &id,
        &[TimeMark {
            change: h2[0],
            claimed: 1,
            received: 9,
        }],
    )
    .unwrap();
    db.create_referral_link(&NewLink {
        case_id: id,
        referral_id: "r-1",
        team: "north",
        organisation: "Центр",
        language: "uk",
        created_by: "u-1",
        now: 10,
        expires_at: 100_000,
    })
    .unwrap();

    // Refused, nothing changed: no reason, a reason over its length, an unknown case.
    for bad in ["", "   ", &"x".repeat(501), "two\nlines"] {
        let r = db.erase_case(&id, "u-admin", bad, 11);
        assert_eq!(problem(&r), Some("reason_invalid"), "{r:?}");
    }
    assert!(matches!(
        db.erase_case(&CaseId::random(), "u-admin", "asked", 11),
        Err(AppError::NotFound)
    ));
    assert!(db.case_document(&id).unwrap().is_some());

    let t = db
        .erase_case(&id, "u-admin", "  the client asked to be forgotten ", 12)
        .unwrap();
    assert_eq!(
        (
            t.case_id,
            t.team.as_str(),
            t.erased_at,
            t.erased_by.as_str(),
            t.reason.as_str()
        ),
        (
            id,
            "north",
            12,
            "u-admin",
            "the client asked to be forgotten"
        )
    );
    assert_eq!(db.erased_case(&id).unwrap(), Some(t.clone()));
    assert_eq!(db.erased_cases().unwrap(), vec![t]);
    // Unknown everywhere.
    assert_eq!(db.case_document(&id).unwrap(), None);
    assert_eq!(db.case_heads(&id).unwrap(), None);
    assert_eq!(db.case_access(&id).unwrap(), None);
    assert!(db.cases().unwrap().iter().all(|(a, _)| a.id != id));
    assert!(db.cases_of("u-1").unwrap().iter().all(|c| *c != id));
    assert!(db.time_marks(&id).unwrap().is_empty());
    assert!(db.referral_links(&id).unwrap().is_empty());
    assert!(!db.departed(&id, &phone).unwrap());
    // The other case is as it was; the audit trail keeps the ids.
    assert!(db.case_document(&other).unwrap().is_some());
    assert_eq!(db.audit_trail(Some(&id), 10).unwrap().len(), 1);
    // A second erasure is refused.
    assert_eq!(
        problem(&db.erase_case(&id, "u-admin", "again", 13)),
        Some("erased_already")
    );
    // No write makes it again: conditional or not, a snapshot or changes.
    let (c3, h3) = grow(&mut doc, "c");
    for write in [CaseWrite::Snapshot(&doc.save()), CaseWrite::Changes(&c3)] {
        for expected in [None, Some(&[][..])] {
            let e = db
                .store_case(&access(id, &["u-1"]), write, &h3, expected, 14)
                .unwrap_err();
            let refusal = e.refusal().expect("a refusal");
            assert_eq!(refusal.kind, fieldcase_core::RefusalKind::Erased, "{e}");
        }
    }
    assert_eq!(db.case_document(&id).unwrap(), None);
}

/// A sync's read recorded with a write that fails (a write to an erased case): how many
/// reads it left on the trail, which stays unbroken. Asked of each backend below: the
/// answers differ by design (`Db::store_case_read`).
fn reads_left_by_a_failed_write(db: &dyn Db) -> usize {
    let (id, mut doc, _) = stored_case(db);
    db.erase_case(&id, "u-admin", "the client asked to be forgotten", 12)
        .unwrap();
    let before = db.audit_trail(Some(&id), 10).unwrap().len();
    let (c, h) = grow(&mut doc, "b");
    let read = fieldcase_server::db::AuditRead {
        user_id: "u-1".into(),
        device: "d-1".into(),
        case: id,
        action: "sync",
        at: 15,
    };
    let e = db
        .store_case_read(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c),
            &h,
            None,
            15,
            &read,
        )
        .unwrap_err();
    assert_eq!(
        e.refusal().map(|r| r.kind),
        Some(fieldcase_core::RefusalKind::Erased),
        "{e}"
    );
    assert_eq!(db.case_document(&id).unwrap(), None);
    assert_eq!(db.verify_audit().unwrap().broken, None);
    db.audit_trail(Some(&id), 10).unwrap().len() - before
}

/// On SQLite the read is in the write's transaction: a group commit of one write that
/// fails rolls back whole, the read with it.
#[test]
fn a_failed_writes_read_goes_with_it_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDb::open(dir.path().join("server.sqlite")).unwrap();
    assert_eq!(reads_left_by_a_failed_write(&db), 0);
}

/// On PostgreSQL the read is recorded first: a write that then fails leaves it, a read that
/// showed nothing (the trail may say more than was shown, never less).
#[test]
fn a_failed_writes_read_stays_recorded_on_postgres() {
    let pg = PgCluster::start();
    let db = PostgresDb::connect(&pg.database("failed_read")).unwrap();
    assert_eq!(reads_left_by_a_failed_write(&db), 1);
}

/// Attachments (issue 17): chunks in order only, each once; the whole file checked against
/// its hash at its last chunk (and dropped whole when it fails); served only whole; gone
/// with its case's other rows when the reference names another case.
fn an_attachment_is_stored_in_order_checked_whole_and_dropped_when_wrong(db: &dyn Db) {
    use fieldcase_core::attachment::{hash_of, CHUNK_BYTES};
    use fieldcase_server::db::attachments::{Reference, Refused};
    let (id, _, _) = stored_case(db);
    let mut file = b"%PDF-1.7\n".to_vec();
    file.resize(CHUNK_BYTES + 100, b'x');
    let reference = Reference {
        hash: hash_of(&file),
        size: file.len() as i64,
        media_type: "application/pdf".into(),
    };
    let max = 10 * CHUNK_BYTES as u64;
    let status = db.attachment_upload_status(&id, &reference).unwrap();
    assert_eq!(
        (status.received, status.chunks, status.complete),
        (0, 2, false)
    );
    let put = |seq: i64, bytes: &[u8]| {
        db.put_attachment_chunk(&id, &reference, seq, bytes, max, "u-1", 7)
            .unwrap()
    };
    assert_eq!(
        put(1, &file[CHUNK_BYTES..]),
        Err(Refused::OutOfOrder { received: 0 })
    );
    let first = put(0, &file[..CHUNK_BYTES]).unwrap();
    assert_eq!((first.received, first.complete), (1, false));
    assert_eq!(
        put(0, &file[..CHUNK_BYTES]).unwrap(),
        first,
        "a chunk is kept once"
    );
    assert_eq!(
        db.attachment_chunk(&id, &reference.hash, 0).unwrap(),
        None,
        "not whole yet"
    );
    let done = put(1, &file[CHUNK_BYTES..]).unwrap();
    assert!(done.complete);
    assert_eq!(
        db.attachment_chunk(&id, &reference.hash, 1)
            .unwrap()
            .as_deref(),
        Some(&file[CHUNK_BYTES..])
    );
    assert_eq!(db.attachment_chunk(&id, &reference.hash, 2).unwrap(), None);
    let row = db.stored_attachment(&id, &reference.hash).unwrap().unwrap();
    assert_eq!(
        (row.size, row.media_type.as_str(), row.created_by.as_str()),
        (file.len() as i64, "application/pdf", "u-1")
    );
    // Another case knows nothing of it.
    assert_eq!(
        db.attachment_chunk(&CaseId::random(), &reference.hash, 0)
            .unwrap(),
        None
    );

    // Bytes that are not the hash: dropped whole at the end.
    let mut forged = file.clone();
    forged[CHUNK_BYTES + 50] = b'y';
    let lie = Reference {
        hash: hash_of(b"something else"),
        ..reference.clone()
    };
    let put_lie = |seq: i64, bytes: &[u8]| {
        db.put_attachment_chunk(&id, &lie, seq, bytes, max, "u-1", 8)
            .unwrap()
    };
    assert!(put_lie(0, &forged[..CHUNK_BYTES]).is_ok());
    assert_eq!(
        put_lie(1, &forged[CHUNK_BYTES..]),
        Err(Refused::HashMismatch)
    );
    let status = db.attachment_upload_status(&id, &lie).unwrap();
    assert_eq!((status.received, status.complete), (0, false));
    assert!(db.stored_attachment(&id, &lie.hash).unwrap().is_none());
    // Over the limit, or a chunk of the wrong length: refused before anything is kept.
    assert_eq!(
        db.put_attachment_chunk(&id, &lie, 0, &forged[..CHUNK_BYTES], 1000, "u-1", 9)
            .unwrap(),
        Err(Refused::TooLarge { max: 1000 })
    );
    assert_eq!(put_lie(0, &forged[..10]), Err(Refused::BadChunk));
    assert_eq!(db.attachment_upload_status(&id, &lie).unwrap().received, 0);
}

/// The caseload read through the indexes (issue 20) is, for every role, exactly the cases
/// the access rule lets the user see, with their assignees in order and their heads.
fn the_caseload_read_through_the_indexes_is_exactly_what_the_rule_allows(db: &dyn Db) {
    let user = |id: &str, role: Role, team: Option<&str>, disabled: bool| User {
        id: id.into(),
        username: id.into(),
        display_name: id.into(),
        role,
        team: team.map(Into::into),
        disabled,
    };
    let mut doc = Automerge::new();
    let (_, heads) = grow(&mut doc, "a");
    let cases = [
        ("north", false, vec!["u-anna", "u-bao"]),
        ("north", true, vec!["u-bao", "u-anna"]),
        ("north", true, vec!["u-bao"]),
        ("south", false, vec!["u-sam"]),
        ("south", true, vec!["u-sam", "u-anna"]),
        ("south", false, vec![]),
        ("east", true, vec![]),
    ];
    for (team, restricted, assigned) in &cases {
        let access = CaseAccess {
            id: CaseId::random(),
            team: (*team).into(),
            restricted: *restricted,
            assigned: assigned.iter().map(|s| s.to_string()).collect(),
            links: Vec::new(),
            closed: false,
            closed_at: None,
            matching: None,
            listing: None,
        };
        db.store_case(
            &access,
            CaseWrite::Snapshot(&doc.save()),
            &heads,
            Some(&[]),
            5,
        )
        .unwrap();
    }
    let everyone = [
        user("u-anna", Role::Worker, Some("north"), false),
        user("u-bao", Role::Worker, Some("north"), false),
        user("u-sam", Role::Worker, Some("south"), false),
        user("u-malee", Role::Supervisor, Some("north"), false),
        user("u-sup-south", Role::Supervisor, Some("south"), false),
        user("u-admin", Role::Admin, None, false),
        user("u-anna", Role::Worker, Some("north"), true),
        user("u-nobody", Role::Worker, Some("north"), false),
    ];
    let all = db.cases().unwrap();
    for u in &everyone {
        let expected: Vec<_> = all
            .iter()
            .filter(|(a, _)| a.visible_to(u))
            .cloned()
            .collect();
        let got = db.visible_cases(u).unwrap();
        assert_eq!(
            got, expected,
            "{} ({:?}, disabled {})",
            u.id, u.role, u.disabled
        );
    }
    // Not vacuous: each role sees some and not all.
    let count = |u: &User| db.visible_cases(u).unwrap().len();
    assert_eq!(count(&everyone[0]), 3, "Anna: her three");
    assert_eq!(count(&everyone[3]), 3, "Malee: the north team's");
    assert_eq!(count(&everyone[5]), 3, "the admin: the unrestricted");
    assert_eq!(count(&everyone[6]), 0, "disabled: none");
}

/// Possible duplicates (issue 19): a pair is stored once whichever case found it, read
/// back from both cases best first, listed while open, decided once; a dismissed pair is
/// not stored again.
fn a_possible_duplicate_is_stored_once_and_a_dismissed_one_stays_dismissed(db: &dyn Db) {
    use fieldcase_core::matching::{MatchBand, MatchReason, MatchStatus};
    use fieldcase_server::db::matches::MatchRow;
    let (x, _, _) = stored_case(db);
    let (y, _, _) = stored_case(db);
    let (z, _, _) = stored_case(db);
    let reasons = vec![
        MatchReason::NameDiffers {
            letters: 1,
            transliterated: true,
        },
        MatchReason::SameDateOfBirth,
    ];
    let xy = MatchRow::found(x, y, 85, MatchBand::Likely, reasons.clone(), 10);
    let xz = MatchRow::found(
        z,
        x,
        45,
        MatchBand::Possible,
        vec![MatchReason::SamePhone],
        20,
    );
    assert_eq!(db.record_matches(&[xy.clone(), xz.clone()]).unwrap(), 2);
    // The same pair found from the other case is the same pair.
    let yx = MatchRow::found(y, x, 90, MatchBand::Likely, Vec::new(), 30);
    assert_eq!(db.record_matches(&[yx]).unwrap(), 0);
    let of_x = db.matches_of(&x).unwrap();
    assert_eq!(of_x, vec![xy.clone(), xz.clone()], "best first, as found");
    assert_eq!(of_x[0].reasons, reasons);
    assert_eq!(of_x[0].other(&x), y);
    assert_eq!(db.matches_of(&y).unwrap(), vec![xy.clone()]);
    assert_eq!(
        db.open_matches(10).unwrap(),
        vec![xz.clone(), xy.clone()],
        "newest first"
    );
    assert_eq!(db.open_matches(1).unwrap().len(), 1, "bounded");

    assert!(db
        .decide_match(&y, &x, MatchStatus::Dismissed, "u-2", 40)
        .unwrap());
    assert!(
        !db.decide_match(&x, &y, MatchStatus::Confirmed, "u-3", 50)
            .unwrap(),
        "decided once"
    );
    assert!(matches!(
        db.decide_match(&x, &z, MatchStatus::Open, "u-3", 50),
        Err(AppError::BadRequest(_))
    ));
    let dismissed = &db.matches_of(&y).unwrap()[0];
    assert_eq!(
        (
            dismissed.status,
            dismissed.decided_by.as_deref(),
            dismissed.decided_at
        ),
        (MatchStatus::Dismissed, Some("u-2"), Some(40))
    );
    assert_eq!(db.open_matches(10).unwrap(), vec![xz]);
    // Found again later: not proposed again.
    let again = MatchRow::found(x, y, 95, MatchBand::Likely, Vec::new(), 60);
    assert_eq!(db.record_matches(&[again]).unwrap(), 0);
    assert_eq!(db.matches_of(&x).unwrap()[0].status, MatchStatus::Dismissed);
    assert!(db.matches_of(&CaseId::random()).unwrap().is_empty());
}

/// Issue 19: the cases a case links to are written with it, replaced by its next write,
/// and go with it when it is erased; a linked case (stored or not) finds who links to it.
fn links_follow_each_write_and_a_linked_case_finds_who_links_to_it(db: &dyn Db) {
    let (b, c) = (CaseId::random(), CaseId::random());
    let with_links = |id: CaseId, links: &[CaseId]| CaseAccess {
        links: links.to_vec(),
        ..access(id, &["u-1"])
    };
    let a = CaseId::random();
    let mut doc = Automerge::new();
    let (_, h1) = grow(&mut doc, "a");
    db.store_case(
        &with_links(a, &[b, c, b]),
        CaseWrite::Snapshot(&doc.save()),
        &h1,
        Some(&[]),
        5,
    )
    .unwrap();
    assert_eq!(db.linked_from(&b).unwrap(), [a]);
    assert_eq!(db.linked_from(&c).unwrap(), [a]);
    assert!(db.linked_from(&a).unwrap().is_empty());

    // The next write says which links remain.
    let (c2, h2) = grow(&mut doc, "b");
    db.store_case(
        &with_links(a, &[c]),
        CaseWrite::Changes(&c2),
        &h2,
        Some(&h1),
        6,
    )
    .unwrap();
    assert!(db.linked_from(&b).unwrap().is_empty(), "a link taken away");
    assert_eq!(db.linked_from(&c).unwrap(), [a]);

    // A stale write changes no link.
    let (c3, h3) = grow(&mut doc, "c");
    let got = db
        .store_case(
            &with_links(a, &[b]),
            CaseWrite::Changes(&c3),
            &h3,
            Some(&h1),
            7,
        )
        .unwrap();
    assert_eq!(got, Stored::Stale);
    assert!(db.linked_from(&b).unwrap().is_empty());

    // A second case links to c too: both, in id order.
    let d = CaseId::random();
    let mut other = Automerge::new();
    let (_, hd) = grow(&mut other, "a");
    db.store_case(
        &with_links(d, &[c]),
        CaseWrite::Snapshot(&other.save()),
        &hd,
        Some(&[]),
        8,
    )
    .unwrap();
    let mut both = vec![a, d];
    both.sort_by_key(|x| *x.as_bytes());
    assert_eq!(db.linked_from(&c).unwrap(), both);

    // Erased: its links go with it.
    db.erase_case(&a, "admin", "the client asked", 9).unwrap();
    assert_eq!(db.linked_from(&c).unwrap(), [d]);
}

/// What the retention reads beside each case (SQLite migration 19, PostgreSQL schema 16):
/// every case write sets it from the facts it carries, by whichever path (appended
/// changes, a snapshot, a new case), and an erasure takes it away with the case.
fn the_closure_columns_follow_a_closure_a_reopening_and_an_erasure(db: &dyn Db) {
    use fieldcase_server::db::ClosedCase;
    let (id, mut doc, h1) = stored_case(db);
    let (other, _, _) = stored_case(db);
    let listed = |before: i64| -> Vec<(CaseId, String, i64)> {
        db.closed_cases(before)
            .unwrap()
            .into_iter()
            .map(
                |ClosedCase {
                     id,
                     team,
                     closed_at,
                 }| (id, team, closed_at),
            )
            .collect()
    };
    assert!(listed(i64::MAX).is_empty(), "open cases are no candidates");
    // Closed by appended changes, and moved to another team on the way.
    let closed = |at: i64| CaseAccess {
        team: "south".into(),
        closed: true,
        closed_at: Some(at),
        ..access(id, &["u-1"])
    };
    let (c2, h2) = grow(&mut doc, "b");
    db.store_case(&closed(1_000), CaseWrite::Changes(&c2), &h2, Some(&h1), 6)
        .unwrap();
    assert_eq!(listed(i64::MAX), [(id, "south".to_string(), 1_000)]);
    assert_eq!(listed(1_000), [(id, "south".to_string(), 1_000)]);
    assert!(listed(999).is_empty(), "closed after the bound");
    assert_eq!(db.case_access(&id).unwrap().unwrap(), closed(1_000));
    let all = db.cases().unwrap();
    let of = |c: CaseId| all.iter().find(|(a, _)| a.id == c).unwrap().0.clone();
    assert_eq!(of(id), closed(1_000));
    assert!(!of(other).closed && of(other).closed_at.is_none());
    // A stale write changes nothing of it.
    let (c3, h3) = grow(&mut doc, "c");
    assert_eq!(
        db.store_case(
            &access(id, &["u-1"]),
            CaseWrite::Changes(&c3),
            &h3,
            Some(&h1),
            7
        )
        .unwrap(),
        Stored::Stale
    );
    assert_eq!(listed(i64::MAX).len(), 1);
    // Reopened, by a snapshot: no longer a candidate.
    db.store_case(
        &access(id, &["u-1"]),
        CaseWrite::Snapshot(&doc.save()),
        &h3,
        Some(&h2),
        8,
    )
    .unwrap();
    assert!(listed(i64::MAX).is_empty());
    let reopened = db.case_access(&id).unwrap().unwrap();
    assert!(!reopened.closed && reopened.closed_at.is_none());
    // Closed again later; a case closed without an approved closure is no candidate.
    let (c4, h4) = grow(&mut doc, "d");
    db.store_case(&closed(5_000), CaseWrite::Changes(&c4), &h4, Some(&h3), 9)
        .unwrap();
    let undated = CaseAccess {
        closed: true,
        closed_at: None,
        ..access(CaseId::random(), &["u-1"])
    };
    let mut fresh = Automerge::new();
    let (_, hf) = grow(&mut fresh, "a");
    db.store_case(
        &undated,
        CaseWrite::Snapshot(&fresh.save()),
        &hf,
        Some(&[]),
        9,
    )
    .unwrap();
    // A new case stored closed (an import) is one from its first write.
    let imported = CaseAccess {
        closed: true,
        closed_at: Some(2_000),
        ..access(CaseId::random(), &["u-2"])
    };
    let mut third = Automerge::new();
    let (_, ht) = grow(&mut third, "a");
    db.put_case(&imported, &third.save(), &ht, 10).unwrap();
    assert_eq!(
        listed(i64::MAX),
        [
            (imported.id, "north".to_string(), 2_000),
            (id, "south".to_string(), 5_000)
        ],
        "oldest closure first"
    );
    assert_eq!(db.case_access(&undated.id).unwrap().unwrap(), undated);
    // Erased: gone from the columns with its row.
    db.erase_case(&id, "u-admin", "retention: closed long ago", 11)
        .unwrap();
    assert_eq!(
        listed(i64::MAX),
        [(imported.id, "north".to_string(), 2_000)]
    );
}

fn match_facts_follow_each_write_and_go_with_an_erasure(db: &dyn Db) {
    use fieldcase_core::matching::Person;
    use fieldcase_server::db::{MatchFacts, MATCH_FACTS_VERSION};
    let facts = |name: &str| MatchFacts {
        version: MATCH_FACTS_VERSION,
        client: Person {
            name: name.into(),
            date_of_birth: Some("1990-03-04".into()),
            phones: vec!["+84 912 345 678".into()],
            ..Person::default()
        },
        closed_as_duplicate: false,
    };
    let with = |id: CaseId, f: Option<MatchFacts>| CaseAccess {
        matching: f,
        ..access(id, &["u-1"])
    };
    let id = CaseId::random();
    let mut doc = Automerge::new();
    let (_, h1) = grow(&mut doc, "a");
    db.store_case(
        &with(id, Some(facts("Nguyễn Thị Lan"))),
        CaseWrite::Snapshot(&doc.save()),
        &h1,
        Some(&[]),
        5,
    )
    .unwrap();
    assert_eq!(
        db.match_facts_of(&id).unwrap(),
        Some(facts("Nguyễn Thị Lan"))
    );
    // A write that states none (a read's access facts) leaves them as they are.
    let (c2, h2) = grow(&mut doc, "b");
    db.store_case(&with(id, None), CaseWrite::Changes(&c2), &h2, Some(&h1), 6)
        .unwrap();
    assert_eq!(
        db.match_facts_of(&id).unwrap(),
        Some(facts("Nguyễn Thị Lan"))
    );
    // The next write's facts replace them; a stale write's do not.
    let (c3, h3) = grow(&mut doc, "c");
    db.store_case(
        &with(id, Some(facts("Nguyễn Thị Lan Anh"))),
        CaseWrite::Changes(&c3),
        &h3,
        Some(&h2),
        7,
    )
    .unwrap();
    let (c4, h4) = grow(&mut doc, "d");
    assert_eq!(
        db.store_case(
            &with(id, Some(facts("stale"))),
            CaseWrite::Changes(&c4),
            &h4,
            Some(&h2),
            8
        )
        .unwrap(),
        Stored::Stale
    );
    // A case stored with none (by an earlier version) is left out of the list.
    let (other, _, _) = stored_case(db);
    let all = db.match_facts().unwrap();
    assert_eq!(all, [(id, facts("Nguyễn Thị Lan Anh"))]);
    assert!(db.match_facts_of(&other).unwrap().is_none());
    assert!(db.match_facts_of(&CaseId::random()).unwrap().is_none());
    // Erased: gone with the case.
    db.erase_case(&id, "u-admin", "retention: closed long ago", 9)
        .unwrap();
    assert!(db.match_facts().unwrap().is_empty());
    assert!(db.match_facts_of(&id).unwrap().is_none());
}

/// What the console's lists keep of a case ([`fieldcase_server::db::ListFacts`]) is written
/// by each write that states it, deleted by one that does not (never facts of another
/// version of the case), read back with the heads it was written with and the latest
/// receipt of a change marked as far off, and erased with the case.
fn list_facts_follow_each_write_and_go_with_an_erasure(db: &dyn Db) {
    use fieldcase_server::db::{ListFacts, Listing, LIST_FACTS_VERSION};
    let facts = |name: &str, at: i64| -> ListFacts {
        serde_json::from_str(&format!(
            r#"{{"v":{LIST_FACTS_VERSION},"s":{{"v":3,"n":"{name}","s":"intake"}},"h":{at}}}"#
        ))
        .unwrap()
    };
    let with = |id: CaseId, f: Option<ListFacts>| CaseAccess {
        listing: f,
        ..access(id, &["u-1"])
    };
    let read = |ids: &[CaseId]| {
        let mut l = db.list_facts(ids).unwrap();
        l.sort_by_key(|l| l.id);
        l
    };
    let id = CaseId::random();
    let mut doc = Automerge::new();
    let (_, h1) = grow(&mut doc, "a");
    db.store_case(
        &with(id, Some(facts("Nguyễn Thị Lan", 1))),
        CaseWrite::Snapshot(&doc.save()),
        &h1,
        Some(&[]),
        5,
    )
    .unwrap();
    assert_eq!(
        read(&[id]),
        [Listing {
            id,
            heads: h1.clone(),
            facts: Some(facts("Nguyễn Thị Lan", 1)),
            marked_receipt: None,
        }]
    );
    // A write that states none deletes them: the lists read the document.
    let (c2, h2) = grow(&mut doc, "b");
    db.store_case(&with(id, None), CaseWrite::Changes(&c2), &h2, Some(&h1), 6)
        .unwrap();
    assert_eq!(read(&[id])[0].facts, None);
    assert_eq!(read(&[id])[0].heads, h2);
    // The next write's facts are kept; a stale write's are not.
    let (c3, h3) = grow(&mut doc, "c");
    db.store_case(
        &with(id, Some(facts("Nguyễn Thị Lan Anh", 3))),
        CaseWrite::Changes(&c3),
        &h3,
        Some(&h2),
        7,
    )
    .unwrap();
    let (c4, h4) = grow(&mut doc, "d");
    assert_eq!(
        db.store_case(
            &with(id, Some(facts("stale", 4))),
            CaseWrite::Changes(&c4),
            &h4,
            Some(&h2),
            8
        )
        .unwrap(),
        Stored::Stale
    );
    // A change marked as far off: its receipt is read with the facts (the latest).
    db.mark_times(
        &id,
        &[
            TimeMark {
                change: h3[0],
                claimed: 1,
                received: 70,
            },
            TimeMark {
                change: h2[0],
                claimed: 1,
                received: 77,
            },
        ],
    )
    .unwrap();
    // A case stored with none (by an earlier version) has none; one unknown is left out.
    let (other, _, other_heads) = stored_case(db);
    let mut expected = vec![
        Listing {
            id,
            heads: h3.clone(),
            facts: Some(facts("Nguyễn Thị Lan Anh", 3)),
            marked_receipt: Some(77),
        },
        Listing {
            id: other,
            heads: other_heads,
            facts: None,
            marked_receipt: None,
        },
    ];
    expected.sort_by_key(|l| l.id);
    assert_eq!(read(&[id, other, CaseId::random()]), expected);
    // Erased: gone with the case.
    db.erase_case(&id, "u-admin", "retention: closed long ago", 9)
        .unwrap();
    assert!(read(&[id]).is_empty());
}
