//! The encrypted store: nothing readable on disk, wrong keys, reopening, compaction,
//! the caseload index, search in five scripts, purge.

use fieldcase_core::case::{
    ActivityInput, AppointmentInput, AssessmentInput, CaseKind, Finding, ProblemInput, RiskInput,
};
use fieldcase_core::store::{AgendaKind, CaseFilter, SortBy, UserContext};
use fieldcase_core::{CaseStore, Error, NewCase, Role, Stage};
use serde_json::json;

use crate::fixtures::*;

const KEY: [u8; 32] = [42u8; 32];

fn user(n: u8) -> UserContext {
    UserContext {
        user_id: format!("u-worker-{n}"),
        name: format!("Worker {n}"),
        role: Role::Worker,
        team: None,
        device_id: format!("phone-{n}"),
    }
}

fn open(dir: &tempfile::TempDir) -> CaseStore {
    let s = CaseStore::open(dir.path().join("phone.sqlite"), &KEY).unwrap();
    if s.user().is_none() {
        s.sign_in(user(1)).unwrap();
    }
    s
}

fn new_case(name: &str) -> NewCase {
    let mut n = NewCase {
        team: "team-north".into(),
        case_kind: Some(CaseKind::ChildProtection),
        ..Default::default()
    };
    n.client.name = Some(name.into());
    n
}

fn raw_files(dir: &tempfile::TempDir) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir.path()).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    hay.windows(n.len()).any(|w| w == n)
}

#[test]
fn the_file_holds_no_names_and_no_notes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut ids = Vec::new();
    for (name, note) in NAMES.iter().zip(NOTES) {
        let id = store.create_case(new_case(name)).unwrap();
        store
            .update(&id, |c, me, now| c.add_visit(me, now, visit(note)))
            .unwrap();
        ids.push(id);
    }
    // Both while the WAL holds the writes and after they are checkpointed into the file.
    for round in 0..2 {
        let bytes = raw_files(&dir);
        assert!(bytes.len() > 10_000);
        for s in NAMES.iter().chain(NOTES) {
            assert!(
                !contains(&bytes, s),
                "round {round}: plaintext found on disk"
            );
            // Also no fragment of it (first word), in case of partial storage.
            let word = s.split_whitespace().next().unwrap();
            assert!(
                !contains(&bytes, word),
                "round {round}: a word of case content found on disk"
            );
        }
        for id in &ids {
            assert!(
                !contains(&bytes, &id.to_string()),
                "case ids are stored as opaque bytes only"
            );
        }
        drop(store.compact_all());
    }
    drop(store);
    let store = open(&dir);
    assert_eq!(store.case_ids().len(), 5);
    assert_eq!(store.get_case(&ids[1]).unwrap().visits[0].note, NOTES[1]);
}

#[test]
fn a_wrong_key_fails_cleanly_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let id = store.create_case(new_case(NAMES[0])).unwrap();
    drop(store);
    let before = raw_files(&dir);
    let err = CaseStore::open(dir.path().join("phone.sqlite"), &[7u8; 32]).unwrap_err();
    assert!(matches!(err, Error::WrongKey), "{err}");
    assert_eq!(raw_files(&dir), before, "a wrong key writes nothing");
    let store = open(&dir);
    assert_eq!(
        store.get_case(&id).unwrap().client.name.as_deref(),
        Some(NAMES[0])
    );
}

#[test]
fn a_file_that_is_not_a_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    std::fs::write(
        &path,
        b"this is not a database at all, just some bytes. ".repeat(100),
    )
    .unwrap();
    let err = CaseStore::open(&path, &KEY).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
}

#[test]
fn edits_survive_reopening_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let id = store.create_case(new_case(NAMES[2])).unwrap();
    let vid = store
        .update(&id, |c, me, now| c.add_visit(me, now, visit("Начало.")))
        .unwrap();
    // Enough edits to cross the compaction threshold several times.
    for i in 0..150 {
        let path = format!("visits/{vid}/note");
        store
            .update(&id, |c, me, now| {
                let len = c.read()?.visits[0].note.chars().count();
                c.edit_text(me, now, &path, len, 0, &format!(" {i}"))
            })
            .unwrap();
    }
    let expected = store.get_case(&id).unwrap();
    drop(store);
    let store = open(&dir);
    assert_eq!(store.get_case(&id).unwrap(), expected);
    assert!(expected.visits[0].note.ends_with(" 148 149"));
    assert_eq!(
        store
            .history(&id, &format!("visits/{vid}/note"))
            .unwrap()
            .len(),
        151
    );
}

#[test]
fn edits_need_a_signed_in_user_and_a_failed_edit_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(dir.path().join("s.sqlite"), &KEY).unwrap();
    assert!(matches!(
        store.create_case(new_case("x")),
        Err(Error::NoUser)
    ));
    store.sign_in(user(1)).unwrap();
    let id = store.create_case(new_case(NAMES[4])).unwrap();
    let before = store.summary(&id).unwrap();
    let err = store.update(&id, |c, me, now| {
        c.set_field(me, now, "client/date_of_birth", &json!("yesterday"))
    });
    assert!(matches!(err, Err(Error::InvalidInput { .. })));
    assert_eq!(store.summary(&id).unwrap(), before);
    assert!(matches!(
        store.get_case(&fieldcase_core::CaseId::random()),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn a_new_user_on_the_device_writes_with_a_new_actor() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let first = store.actor_id();
    let id = store.create_case(new_case(NAMES[0])).unwrap();
    store.sign_in(user(2)).unwrap();
    assert_ne!(store.actor_id(), first);
    store
        .update(&id, |c, me, now| {
            c.set_field(me, now, "client/address", &json!("เชียงใหม่"))
        })
        .unwrap();
    let h = store.history(&id, "client/address").unwrap();
    assert_eq!(h[0].by.user_id.as_deref(), Some("u-worker-2"));
    assert_eq!(h[0].by.device_id.as_deref(), Some("phone-2"));
    drop(store);
    let store = open(&dir);
    assert_eq!(
        store.user().unwrap().user_id,
        "u-worker-2",
        "the sign-in is kept"
    );
}

#[test]
fn search_finds_names_in_all_five_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    for n in NAMES {
        store.create_case(new_case(n)).unwrap();
    }
    let mut hh = new_case("Trần Văn Hùng");
    hh.client.name_latin = Some("Tran Van Hung".into());
    let family = store.create_case(hh).unwrap();
    store
        .update(&family, |c, me, now| {
            c.add_household_member(
                me,
                now,
                fieldcase_core::case::HouseholdMemberInput {
                    name: Some("Trần Thị Mai".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    let one =
        |q: &str| -> Vec<String> { store.search(q).into_iter().map(|s| s.client_name).collect() };
    assert_eq!(
        one("ใจดี"),
        vec![NAMES[0]],
        "Thai substring, no word boundaries"
    );
    assert_eq!(one("ศรี"), vec![NAMES[0]], "Thai in the middle of a word");
    assert_eq!(one("احمدی"), vec![NAMES[1]]);
    assert_eq!(one("احمدي"), vec![NAMES[1]], "Arabic yeh finds Persian yeh");
    assert_eq!(
        one("федорова"),
        vec![NAMES[2]],
        "Russian, lower case, ё typed as е"
    );
    assert_eq!(one("КОВАЛЕНКО"), vec![NAMES[3]], "Ukrainian upper case");
    assert_eq!(
        one("nguyen thi"),
        vec![NAMES[4]],
        "Vietnamese without diacritics"
    );
    assert_eq!(one("Nguyễn"), vec![NAMES[4]]);
    assert_eq!(
        one("thi mai"),
        vec!["Trần Văn Hùng"],
        "household members are found"
    );
    assert!(one("Smith").is_empty());
    assert_eq!(store.search("").len(), 6);
}

#[test]
fn filters_sorts_and_agenda() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let ids: Vec<_> = NAMES
        .iter()
        .map(|n| store.create_case(new_case(n)).unwrap())
        .collect();
    let risk = |finding| AssessmentInput {
        date: Some("2026-11-01".into()),
        risk: Some(RiskInput {
            finding: Some(finding),
            emergency: Some(finding == Finding::EvidenceOfAbuse),
            next_step_due: Some("2026-11-10".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    store
        .update(&ids[0], |c, me, now| {
            c.add_assessment(me, now, risk(Finding::EvidenceOfAbuse))
        })
        .unwrap();
    store
        .update(&ids[1], |c, me, now| {
            c.add_assessment(me, now, risk(Finding::InsufficientInformation))
        })
        .unwrap();
    store
        .update(&ids[2], |c, me, now| {
            c.add_assessment(me, now, risk(Finding::NoEvidenceOfAbuse))
        })
        .unwrap();
    store
        .update(&ids[0], |c, me, now| {
            c.set_next_review(me, now, "2026-10-01")
        })
        .unwrap();
    store
        .update(&ids[1], |c, me, now| {
            c.set_next_review(me, now, "2026-12-24")
        })
        .unwrap();
    store
        .update(&ids[3], |c, me, now| {
            c.change_stage(me, now, Stage::Assessment)
        })
        .unwrap();
    store
        .update(&ids[4], |c, me, now| {
            c.add_appointment(
                me,
                now,
                AppointmentInput {
                    at: Some("2026-11-25T08:30:00+07:00".into()),
                    purpose: Some("Khám sức khỏe".into()),
                    attendance_needs: Some("xe đưa đón".into()),
                    ..Default::default()
                },
            )?;
            let p = c.add_problem(
                me,
                now,
                ProblemInput {
                    goal: Some("Đi học".into()),
                    ..Default::default()
                },
            )?;
            c.add_activity(
                me,
                now,
                &p,
                ActivityInput {
                    description: Some("Đăng ký trường".into()),
                    due_date: Some("2026-11-23".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();

    let names = |f: CaseFilter| -> Vec<String> {
        store
            .list_cases(&f)
            .into_iter()
            .map(|s| s.client_name)
            .collect()
    };
    assert_eq!(
        names(CaseFilter {
            finding: Some(Finding::InsufficientInformation),
            ..Default::default()
        }),
        vec![NAMES[1]]
    );
    assert_eq!(
        names(CaseFilter {
            finding: Some(Finding::EvidenceOfAbuse),
            ..Default::default()
        }),
        vec![NAMES[0]]
    );
    assert_eq!(
        names(CaseFilter {
            emergency: Some(true),
            ..Default::default()
        }),
        vec![NAMES[0]]
    );
    assert_eq!(
        names(CaseFilter {
            stage: Some(Stage::Assessment),
            ..Default::default()
        }),
        vec![NAMES[3]]
    );
    assert_eq!(
        names(CaseFilter {
            review_overdue_on: Some("2026-11-22".into()),
            ..Default::default()
        }),
        vec![NAMES[0]]
    );
    assert_eq!(
        names(CaseFilter {
            assigned_to: Some("u-worker-1".into()),
            ..Default::default()
        })
        .len(),
        5
    );
    assert!(names(CaseFilter {
        assigned_to: Some("u-other".into()),
        ..Default::default()
    })
    .is_empty());
    let by_review = names(CaseFilter {
        sort: SortBy::NextReview,
        ..Default::default()
    });
    assert_eq!(&by_review[..2], &[NAMES[0], NAMES[1]]);
    let by_change = names(CaseFilter {
        sort: SortBy::LastChange,
        limit: Some(1),
        ..Default::default()
    });
    assert_eq!(
        by_change,
        vec![NAMES[4]],
        "the last edited case comes first"
    );
    let combined = names(CaseFilter {
        query: Some("nguyen".into()),
        stage: Some(Stage::Intake),
        ..Default::default()
    });
    assert_eq!(combined, vec![NAMES[4]]);

    let agenda = store.agenda("2026-11-30");
    let kinds: Vec<_> = agenda.iter().map(|i| (i.kind, i.when.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (AgendaKind::Review, "2026-10-01"),
            // "Not enough information" asked for an investigation by its due date.
            (AgendaKind::Investigation, "2026-11-10"),
            (AgendaKind::Activity, "2026-11-23"),
            (AgendaKind::Appointment, "2026-11-25T01:30:00Z")
        ]
    );
    assert_eq!(
        agenda[1].path,
        format!("assessments/{}", {
            let f = store.get_case(&ids[1]).unwrap();
            f.assessments[0].id.clone()
        })
    );
    assert_eq!(agenda[3].needs.as_deref(), Some("xe đưa đón"));
    // Overdue, offline: what was due before the day, and nothing due on it or later.
    let overdue: Vec<_> = store
        .overdue("2026-11-23")
        .iter()
        .map(|i| (i.kind, i.when.clone()))
        .collect();
    assert_eq!(
        overdue,
        vec![
            (AgendaKind::Review, "2026-10-01".to_string()),
            (AgendaKind::Investigation, "2026-11-10".to_string()),
        ]
    );
    assert!(store.overdue("2026-10-01").is_empty());
    assert!(store
        .agenda("2026-11-24")
        .iter()
        .all(|i| i.kind != AgendaKind::Appointment));
}

#[test]
fn purge_destroys_the_case_and_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let keep = store.create_case(new_case(NAMES[0])).unwrap();
    let gone = store.create_case(new_case(NAMES[1])).unwrap();
    store.save_sync_state(&gone, "server", b"state").unwrap();
    store.purge_case(&gone).unwrap();
    assert!(matches!(store.get_case(&gone), Err(Error::NotFound(_))));
    assert!(matches!(store.purge_case(&gone), Err(Error::NotFound(_))));
    drop(store);
    let store = open(&dir);
    assert_eq!(store.case_ids(), vec![keep]);
}

#[test]
fn sync_state_is_sealed_and_bound_to_case_and_peer() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let id = store.create_case(new_case(NAMES[3])).unwrap();
    assert_eq!(store.load_sync_state(&id, "server-a").unwrap(), None);
    store
        .save_sync_state(&id, "server-a", b"opaque sync state")
        .unwrap();
    store
        .save_sync_state(&id, "server-a", b"newer state")
        .unwrap();
    assert_eq!(
        store.load_sync_state(&id, "server-a").unwrap().as_deref(),
        Some(&b"newer state"[..])
    );
    assert_eq!(store.load_sync_state(&id, "server-b").unwrap(), None);
    assert!(!contains(&raw_files(&dir), "newer state"));
}

#[test]
fn two_phones_exchange_a_case_and_merge() {
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let one = open(&d1);
    let two = CaseStore::open(d2.path().join("phone.sqlite"), &[9u8; 32]).unwrap();
    two.sign_in(user(2)).unwrap();
    let id = one.create_case(new_case(NAMES[4])).unwrap();
    assert_eq!(two.import_case(&one.export_case(&id).unwrap()).unwrap(), id);
    one.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("Huế"))
    })
    .unwrap();
    two.update(&id, |c, me, now| {
        c.set_field(me, now, "client/address", &json!("Đà Nẵng"))
    })
    .unwrap();
    two.update(&id, |c, me, now| c.add_visit(me, now, visit(NOTES[4])))
        .unwrap();
    one.import_case(&two.export_case(&id).unwrap()).unwrap();
    two.import_case(&one.export_case(&id).unwrap()).unwrap();
    assert_eq!(one.get_case(&id).unwrap(), two.get_case(&id).unwrap());
    assert_eq!(one.summary(&id).unwrap().conflicts, 1);
    assert_eq!(one.conflicts(&id).unwrap()[0].path, "client/address");
    assert!(one.import_case(b"garbage").is_err());
}

/// The index skips rebuilding a summary after edits outside `INDEX_PATHS`; after every
/// kind of edit, the stored summary must equal one rebuilt from the document.
#[test]
fn the_index_stays_exact_after_every_kind_of_edit() {
    use fieldcase_core::case::*;
    use fieldcase_core::store::CaseSummary;
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let id = store.create_case(new_case(NAMES[4])).unwrap();
    let check = |what: &str| {
        let stored = store.summary(&id).unwrap();
        let fresh = store
            .with_doc(&id, |d| CaseSummary::of(d, stored.last_change))
            .unwrap();
        assert_eq!(stored, fresh, "index out of date after: {what}");
        // As the server keeps it beside the case (stored as JSON) and reads it back: the
        // same summary but for what the dashboard does not show (`as_kept`).
        let kept: fieldcase_core::store::Kept =
            serde_json::from_slice(&serde_json::to_vec(&fresh.kept()).unwrap()).unwrap();
        let mut assigned: Vec<String> = Vec::new();
        for a in &fresh.assigned {
            if !assigned.contains(a) {
                assigned.push(a.clone());
            }
        }
        let back = kept
            .summary(
                fresh.id.clone(),
                fresh.team.as_deref().unwrap_or_default(),
                &assigned,
                fresh.restricted,
                fresh.last_change,
            )
            .expect("of this version");
        assert_eq!(back, fresh.as_kept(), "kept summary differs after: {what}");
    };
    type Edit = Box<
        dyn Fn(
            &mut fieldcase_core::CaseDoc,
            &fieldcase_core::Author,
            i64,
        ) -> fieldcase_core::Result<()>,
    >;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "visit",
            Box::new(|c, me, now| c.add_visit(me, now, visit("x")).map(|_| ())),
        ),
        (
            "name",
            Box::new(|c, me, now| c.set_field(me, now, "client/name", &json!("Lê Thị Hoa"))),
        ),
        (
            "latin",
            Box::new(|c, me, now| {
                c.update_client(
                    me,
                    now,
                    ClientInput {
                        name_latin: Some("Le Thi Hoa".into()),
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "household",
            Box::new(|c, me, now| {
                c.add_household_member(
                    me,
                    now,
                    HouseholdMemberInput {
                        name: Some("Phạm Văn Nam".into()),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "intake emergency",
            Box::new(|c, me, now| {
                c.record_intake(
                    me,
                    now,
                    IntakeInput {
                        emergency: Some(true),
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "intake field",
            Box::new(|c, me, now| {
                c.set_field(
                    me,
                    now,
                    "intake/preliminary_finding",
                    &json!("insufficient_information"),
                )
            }),
        ),
        (
            "assessment",
            Box::new(|c, me, now| {
                c.add_assessment(
                    me,
                    now,
                    AssessmentInput {
                        date: Some("2026-11-02".into()),
                        risk: Some(RiskInput {
                            finding: Some(Finding::EvidenceOfAbuse),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "appointment",
            Box::new(|c, me, now| {
                c.add_appointment(
                    me,
                    now,
                    AppointmentInput {
                        at: Some("2026-12-01T10:00:00Z".into()),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "follow-up",
            Box::new(|c, me, now| {
                let v = c.read()?.visits[0].id.clone();
                c.add_follow_up(
                    me,
                    now,
                    &v,
                    FollowUpInput {
                        due_date: Some("2026-11-30".into()),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "follow-up done",
            Box::new(|c, me, now| {
                let f = c.read()?;
                let p = format!(
                    "visits/{}/follow_ups/{}/done",
                    f.visits[0].id, f.visits[0].follow_ups[0].id
                );
                c.set_field(me, now, &p, &json!(true))
            }),
        ),
        (
            "problem+activity",
            Box::new(|c, me, now| {
                let p = c.add_problem(me, now, ProblemInput::default())?;
                c.add_activity(
                    me,
                    now,
                    &p,
                    ActivityInput {
                        due_date: Some("2026-11-29".into()),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "next review",
            Box::new(|c, me, now| c.set_next_review(me, now, "2026-12-24")),
        ),
        (
            "note text",
            Box::new(|c, me, now| {
                let v = c.read()?.visits[0].id.clone();
                c.edit_text(me, now, &format!("visits/{v}/note"), 0, 0, "ab")
            }),
        ),
        (
            "safety secured",
            Box::new(|c, me, now| c.secure_safety(me, now, "Ở nhà bà ngoại")),
        ),
        (
            "stage",
            Box::new(|c, me, now| c.change_stage(me, now, Stage::Assessment)),
        ),
        (
            "priority",
            Box::new(|c, me, now| c.set_field(me, now, "priority", &json!("urgent"))),
        ),
        (
            "restricted",
            Box::new(|c, me, now| c.set_restricted(me, now, true)),
        ),
        (
            "retract appointment",
            Box::new(|c, me, now| {
                let a = c.read()?.appointments[0].id.clone();
                c.retract(me, now, &format!("appointments/{a}"), "wrong case")
            }),
        ),
        (
            "consent",
            Box::new(|c, me, now| {
                c.record_consent(me, now, ConsentInput::default())
                    .map(|_| ())
            }),
        ),
        (
            "referral",
            Box::new(|c, me, now| {
                let input = ReferralInput {
                    shares_information: Some(false),
                    ..Default::default()
                };
                c.add_referral(me, now, input).map(|_| ())
            }),
        ),
    ];
    for (what, edit) in &edits {
        store.update(&id, |c, me, now| edit(c, me, now)).unwrap();
        check(what);
    }
    let s = store.summary(&id).unwrap();
    assert!(s.restricted && !s.emergency && s.stage == Stage::Assessment);
    assert_eq!(s.client_name, "Lê Thị Hoa");
    drop(store);
    let reopened = open(&dir);
    assert_eq!(
        reopened.summary(&id).unwrap(),
        s,
        "the sealed summary and timestamp survive reopening"
    );
}

#[test]
fn a_closure_that_fails_halfway_leaves_nothing_behind() {
    use fieldcase_core::case::{ActivityInput, ProblemInput};
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let id = store.create_case(new_case(NAMES[2])).unwrap();
    let err = store.update(&id, |c, me, now| {
        let p = c.add_problem(me, now, ProblemInput::default())?;
        c.add_activity(
            me,
            now,
            &p,
            ActivityInput {
                due_date: Some("tomorrow".into()),
                ..Default::default()
            },
        )
    });
    assert!(err.is_err());
    assert!(
        store.get_case(&id).unwrap().plan.problems.is_empty(),
        "the first edit of the failed closure is gone too"
    );
    store
        .update(&id, |c, me, now| c.add_visit(me, now, visit("after")))
        .unwrap();
    drop(store);
    let store = open(&dir);
    let f = store.get_case(&id).unwrap();
    assert_eq!(
        f.visits.len(),
        1,
        "the next acknowledged edit survives a restart"
    );
    assert!(f.plan.problems.is_empty());
}

/// A store written by schema 1 (`tests/fixtures/store-v1.sqlite`, key [7; 32]) opens,
/// upgrades in place, and keeps every case; heads missing from old rows are filled in.
#[test]
fn a_store_from_schema_1_upgrades_and_keeps_its_cases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/store-v1.sqlite"
        ),
        &path,
    )
    .unwrap();
    let version = |p: &std::path::Path| -> i64 {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&path), 1);
    assert!(
        matches!(CaseStore::open(&path, &KEY), Err(Error::WrongKey)),
        "still checks the key first"
    );
    assert_eq!(version(&path), 1, "a wrong key does not migrate");
    let store = CaseStore::open(&path, &[7u8; 32]).unwrap();
    let mut names: Vec<String> = store
        .list_cases(&CaseFilter::default())
        .into_iter()
        .map(|s| s.client_name)
        .collect();
    names.sort();
    assert_eq!(names, vec!["Nguyễn Thị Lan", "สมศรี ใจดี"]);
    for id in store.case_ids() {
        let doc_heads = store.with_doc(&id, |d| Ok(d.heads())).unwrap();
        assert_eq!(store.heads(&id).unwrap(), doc_heads);
        assert_eq!(store.get_case(&id).unwrap().visits[0].note, "v1 store");
    }
    drop(store);
    assert_eq!(version(&path), 4, "brought to the current schema");
}

#[test]
fn the_teams_deadlines_date_the_steps_offline_and_are_kept_sealed() {
    use fieldcase_core::deadlines::Deadlines;
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut n = new_case(NAMES[3]);
    n.intake = Some(fieldcase_core::case::IntakeInput {
        date: Some("2026-11-01".into()),
        emergency: Some(true),
        ..Default::default()
    });
    let id = store.create_case(n).unwrap();
    let due = |store: &CaseStore, today: &str| -> Vec<(AgendaKind, String)> {
        store
            .overdue(today)
            .into_iter()
            .filter(|i| i.case_id == id.to_string())
            .map(|i| (i.kind, i.when))
            .collect()
    };
    // The defaults: safety a day after intake, the assessment 14, the plan 30.
    assert_eq!(
        due(&store, "2026-11-20"),
        vec![
            (AgendaKind::Safety, "2026-11-02".to_string()),
            (AgendaKind::Assessment, "2026-11-15".to_string()),
        ]
    );
    // The team's own, as a sync brings them: nothing is rebuilt, the dates move.
    store
        .set_deadlines(Deadlines {
            assessment_days: 5,
            plan_days: 10,
            ..Deadlines::default()
        })
        .unwrap();
    assert_eq!(
        due(&store, "2026-11-20"),
        vec![
            (AgendaKind::Safety, "2026-11-02".to_string()),
            (AgendaKind::Assessment, "2026-11-06".to_string()),
            (AgendaKind::Plan, "2026-11-11".to_string()),
        ]
    );
    assert!(matches!(
        store.set_deadlines(Deadlines {
            safety_days: 0,
            ..Deadlines::default()
        }),
        Err(Error::InvalidInput { .. })
    ));
    // Safety secured: that step is done.
    store
        .update(&id, |c, me, now| c.secure_safety(me, now, "Ở nhà bà ngoại"))
        .unwrap();
    assert_eq!(due(&store, "2026-11-20")[0].0, AgendaKind::Assessment);
    drop(store);
    let store = open(&dir);
    assert_eq!(store.deadlines().assessment_days, 5, "kept across restarts");
    let raw = raw_files(&dir);
    assert!(
        !raw.windows(b"assessment_days".len())
            .any(|w| w == b"assessment_days"),
        "sealed at rest"
    );
}
