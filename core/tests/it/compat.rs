//! Compatibility (issue 15): a phone store written by commit 047b1d0
//! (`tests/fixtures/v047b1d0/phone.sqlite`, see the README there) opens with the current
//! code, upgrades, and keeps every case as it was; edits after the upgrade save, reload and
//! merge. Each test works on a copy in a temporary folder, never on the committed file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fieldcase_core::case::{
    admission, inspect, upgrade, Author, ClientInput, NewCase, PlanDecisionInput, SafetyInput,
    VisitInput,
};
use fieldcase_core::store::{CaseFilter, UserContext};
use fieldcase_core::{schema, CaseDoc, CaseFile, CaseId, CaseStore, RefusalKind, Role, Stage};
use serde_json::{json, Value};

/// How many upgrade changes a case of revision 1 gets: one per later revision that added
/// containers (revision 5 added a scalar only, which needs none).
fn upgrades() -> usize {
    (2..=schema::SCHEMA_REVISION)
        .filter(|r| !fieldcase_core::case::upgrade::added_containers(*r).is_empty())
        .count()
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/v047b1d0");

/// The phone store's device key (the fixture README's).
const KEY: [u8; 32] = *b"fieldcase-fixture-v047b1d0-key!!";

fn expected() -> Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A copy of the fixture store in a new temporary folder.
fn copy_of_fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    std::fs::copy(format!("{FIXTURES}/phone.sqlite"), &path).unwrap();
    (dir, path)
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// The fixture's cases by the generator's names.
fn ids(expected: &Value) -> BTreeMap<String, CaseId> {
    expected["cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["id"].as_str().unwrap().parse().unwrap()))
        .collect()
}

fn sorted_heads(store: &CaseStore, id: &CaseId) -> Vec<String> {
    let mut h: Vec<String> = store
        .heads(id)
        .unwrap()
        .iter()
        .map(|h| h.to_string())
        .collect();
    h.sort();
    h
}

/// The same view of a case as the generator's `summarise` (generator/gen_fixture.rs),
/// written with today's types: a field lost or read differently shows as a difference.
fn summarise(file: &CaseFile) -> Value {
    json!({
        "id": file.id,
        "stage": file.stage.code(),
        "sensitivity": file.sensitivity.map(|s| s.code()),
        "priority": file.priority,
        "team": file.team,
        "assigned": file.assigned,
        "case_manager": file.case_manager,
        "client_name": file.client.name,
        "client_name_latin": file.client.name_latin,
        "client_address": file.client.address,
        "contacts": file.client.contacts.len(),
        "household": file.client.household.len(),
        "intake": {
            "reason": file.intake.reason,
            "emergency": file.intake.emergency,
            "urgency": file.intake.urgency,
            "preliminary_risk": file.intake.preliminary_risk.map(|r| r.code()),
            "safety_measures": file.intake.safety_measures,
            "presenting_problems": file.intake.presenting_problems,
            "criteria": {
                "multiple_problems": file.intake.criteria.multiple_problems,
                "basic_needs_met": file.intake.criteria.basic_needs_met,
                "cannot_access_alone": file.intake.criteria.cannot_access_alone,
            },
        },
        "consents": file.consents.len(),
        "assessments": file.assessments.iter().map(|a| json!({
            "id": a.id,
            "risk_level": a.risk.level.map(|r| r.code()),
            "emergency": a.risk.emergency,
            "conclusion": a.risk.conclusion,
            "domains": a.domains.iter().map(|(k, d)| (k.clone(), json!(d.rating))).collect::<BTreeMap<_, _>>(),
        })).collect::<Vec<_>>(),
        "plan": {
            "problems": file.plan.problems.iter().map(|p| json!({
                "id": p.id,
                "description": p.description,
                "status": p.status,
                "activities": p.activities.iter().map(|a| json!({
                    "id": a.id,
                    "description": a.description,
                    "status": a.status.map(|s| s.code()),
                    "responsible_kind": a.responsible.kind,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "next_review": file.plan.next_review,
            "family_agreement": file.plan.family_agreement.agreed,
            "approval_status": file.plan.approval.status.map(|s| s.code()),
            "approval_decided_by": file.plan.approval.decided_by,
            "approval_comment": file.plan.approval.comment,
        },
        "referrals": file.referrals.iter().map(|r| json!({
            "id": r.id,
            "organisation": r.organisation,
            "status": r.status.map(|s| s.code()),
            "status_reason": r.status_reason,
        })).collect::<Vec<_>>(),
        "visits": file.visits.iter().filter(|v| v.retracted.is_none()).map(|v| json!({
            "id": v.id,
            "note": v.note,
            "follow_ups": v.follow_ups.len(),
        })).collect::<Vec<_>>(),
        "appointments": file.appointments.len(),
        "reviews": file.reviews.iter().map(|r| json!({
            "id": r.id,
            "decision": r.decision,
            "risk_level": r.risk.level.map(|l| l.code()),
        })).collect::<Vec<_>>(),
        "closures": file.closures.iter().map(|c| json!({
            "id": c.id,
            "status": c.status.map(|s| s.code()),
            "reason": c.reason,
            "outcome": c.outcome,
            "decided_by": c.decided_by,
            "reopen_reason": c.reopen_reason,
        })).collect::<Vec<_>>(),
    })
}

/// The generator's record of a case without what the summary does not cover.
fn recorded(expected: &Value, name: &str) -> Value {
    let mut v = expected["cases"][name].clone();
    let m = v.as_object_mut().unwrap();
    for k in ["phone_heads", "server_heads", "conflicts"] {
        m.remove(k);
    }
    v
}

#[test]
fn the_047b1d0_phone_store_upgrades_and_every_case_reads_as_it_was_written() {
    let e = expected();
    let (dir, path) = copy_of_fixture();
    assert_eq!(user_version(&path), 3, "the fixture is store schema 3");
    let store = CaseStore::open(&path, &KEY).unwrap();

    // Signed in as before, writing with the same actor on the same device.
    let user = store.user().expect("still signed in");
    assert_eq!(user.user_id, e["phone"]["user_id"].as_str().unwrap());
    assert_eq!(user.name, e["phone"]["user_name"].as_str().unwrap());
    assert_eq!(user.role, Role::Worker);
    assert_eq!(user.device_id, e["phone"]["device_id"].as_str().unwrap());
    assert_eq!(store.device_id(), e["phone"]["device_id"].as_str().unwrap());
    assert_eq!(
        store.actor_id().to_hex_string(),
        e["phone"]["actor"].as_str().unwrap()
    );

    let ids = ids(&e);
    assert_eq!(ids.len() as u64, e["phone"]["cases"].as_u64().unwrap());
    let mut on_phone = store.case_ids();
    on_phone.sort_by_key(|id| id.to_string());
    let mut recorded_ids: Vec<CaseId> = ids.values().copied().collect();
    recorded_ids.sort_by_key(|id| id.to_string());
    assert_eq!(on_phone, recorded_ids, "every case and no other");

    for (name, id) in &ids {
        let file = store
            .get_case(id)
            .unwrap_or_else(|err| panic!("{name} does not read: {err}"));
        assert_eq!(
            summarise(&file),
            recorded(&e, name),
            "{name} reads differently"
        );
        assert_eq!(
            json!(sorted_heads(&store, id)),
            e["cases"][name]["phone_heads"],
            "{name}: heads"
        );
        let doc_heads = store.with_doc(id, |d| Ok(d.heads())).unwrap();
        assert_eq!(store.heads(id).unwrap(), doc_heads, "{name}: index heads");
        assert_eq!(
            store.conflicts(id).unwrap().len() as u64,
            e["cases"][name]["conflicts"].as_u64().unwrap(),
            "{name}: conflicts"
        );
        // The caseload index agrees with the document.
        let s = store.summary(id).unwrap();
        assert_eq!(s.stage, file.stage, "{name}: indexed stage");
        assert_eq!(
            s.restricted,
            e["cases"][name]["sensitivity"] == "restricted",
            "{name}: indexed restriction"
        );
        assert_eq!(
            Some(s.client_name.as_str()),
            e["cases"][name]["client_name"].as_str()
        );
    }
    assert_eq!(store.list_cases(&CaseFilter::default()).len(), ids.len());
    drop(store);
    // Brought to the schema a new store has.
    let fresh = tempfile::tempdir().unwrap();
    drop(CaseStore::open(fresh.path().join("new.sqlite"), &[1u8; 32]).unwrap());
    assert_eq!(
        user_version(&path),
        user_version(&fresh.path().join("new.sqlite"))
    );
    drop(dir);
}

#[test]
fn the_lifecycle_of_the_047b1d0_cases_survives_in_detail() {
    let e = expected();
    let (_dir, path) = copy_of_fixture();
    let store = CaseStore::open(&path, &KEY).unwrap();
    let ids = ids(&e);
    let case = |name: &str| store.get_case(&ids[name]).unwrap();

    // The five scripts, byte for byte, in order.
    let visits = case("visits");
    let notes: Vec<&str> = visits.visits.iter().map(|v| v.note.as_str()).collect();
    let seeds: Vec<&str> = e["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["note"].as_str().unwrap())
        .collect();
    assert_eq!(seeds.len(), 5);
    assert_eq!(&notes[..5], &seeds[..]);
    assert_eq!(visits.visits[0].follow_ups.len(), 1);

    let intake = case("intake_emergency");
    assert_eq!(intake.stage, Stage::Intake);
    assert_eq!(intake.intake.emergency, Some(true));
    assert_eq!(
        intake.intake.preliminary_risk.map(|r| r.code()),
        Some("evidence_of_harm")
    );
    // The earlier code reads as the seed's conclusion it meant; the emergency is open.
    let j = intake.current_judgement().unwrap();
    assert_eq!(
        (j.finding, j.earlier_level, j.emergency),
        (
            Some(fieldcase_core::case::Finding::EvidenceOfAbuse),
            None,
            true
        )
    );
    assert!(intake.emergency_open());
    let summary = store.summary(&ids["intake_emergency"]).unwrap();
    assert!(summary.emergency);
    assert_eq!(
        summary.finding,
        Some(fieldcase_core::case::Finding::EvidenceOfAbuse),
        "summaries sealed by the old version are rebuilt at open"
    );
    assert_eq!(intake.client.contacts[0].safe_to_contact, Some(false));

    let insufficient = case("assessment_insufficient_info");
    assert_eq!(insufficient.stage, Stage::Assessment);
    assert_eq!(
        insufficient.assessments[0].risk.level.map(|r| r.code()),
        Some("insufficient_info")
    );
    assert_eq!(
        insufficient.current_judgement().unwrap().finding,
        Some(fieldcase_core::case::Finding::InsufficientInformation)
    );
    // `concern` is in no seed: kept as it was, and shown as needing a new conclusion.
    let concern = case("assessment_concern");
    let j = concern.current_judgement().unwrap();
    assert_eq!(
        (j.finding, j.earlier_level.map(|l| l.code())),
        (None, Some("concern"))
    );
    let summary = store.summary(&ids["assessment_concern"]).unwrap();
    assert_eq!(
        (summary.finding, summary.earlier_level.map(|l| l.code())),
        (None, Some("concern"))
    );

    let plan = case("plan_approved");
    assert_eq!(plan.stage, Stage::Implementation);
    assert_eq!(
        plan.plan.approval.status.map(|s| s.code()),
        Some("approved")
    );
    let statuses: Vec<&str> = plan
        .plan
        .problems
        .iter()
        .flat_map(|p| &p.activities)
        .map(|a| a.status.map_or("", |s| s.code()))
        .collect();
    assert_eq!(statuses, ["in_progress", "planned", "done"]);
    assert_eq!(plan.plan.family_agreement.agreed, Some(true));
    assert_eq!(plan.appointments.len(), 1);

    let referral = case("referral_declined");
    assert_eq!(
        referral.referrals[0].status.map(|s| s.code()),
        Some("declined")
    );
    assert_eq!(
        referral.referrals[0].status_reason.as_deref(),
        Some("Không còn chỗ trống")
    );

    let closed = case("closed");
    assert_eq!(closed.stage, Stage::Closed);
    let closure = closed.current_closure().expect("the approved closure");
    assert_eq!(closure.status.map(|s| s.code()), Some("approved"));
    assert_eq!(closure.reason.as_deref(), Some("goals_achieved"));
    assert_eq!(closed.reviews[0].decision.as_deref(), Some("close"));

    let reopened = case("reopened");
    assert_eq!(reopened.stage, Stage::Intake);
    assert!(reopened.current_closure().is_none(), "reopened");
    assert_eq!(reopened.closures.len(), 1, "the earlier closure is kept");
    assert!(reopened.closures[0].reopened_at.is_some());
    assert_eq!(
        reopened.plan.approval.status.map(|s| s.code()),
        Some("none"),
        "a new cycle needs a new approval"
    );

    let restricted = case("restricted");
    assert_eq!(restricted.sensitivity.map(|s| s.code()), Some("restricted"));
    assert!(restricted.sensitivity.unwrap().restricts());
    assert!(store.summary(&ids["restricted"]).unwrap().restricted);
}

#[test]
fn the_changes_made_after_the_last_sync_of_047b1d0_are_still_unsynced() {
    let e = expected();
    let (_dir, path) = copy_of_fixture();
    let store = CaseStore::open(&path, &KEY).unwrap();
    let ids = ids(&e);
    let unsynced = &e["phone"]["unsynced"];
    for (name, c) in e["cases"].as_object().unwrap() {
        let local = json!(sorted_heads(&store, &ids[name]));
        let changed_here =
            ["visits", "assessment_insufficient_info", "offline_new"].contains(&name.as_str());
        assert_eq!(local != c["server_heads"], changed_here, "{name}");
    }
    assert!(e["cases"]["offline_new"]["server_heads"].is_null());
    let visits = store.get_case(&ids["visits"]).unwrap();
    assert_eq!(visits.visits.len(), 6);
    assert_eq!(
        visits.visits[5].note,
        unsynced["visit_note"].as_str().unwrap()
    );
    let address = store
        .get_case(&ids["assessment_insufficient_info"])
        .unwrap()
        .client
        .address;
    assert_eq!(address.as_deref(), unsynced["address"].as_str());
    let offline = store.get_case(&ids["offline_new"]).unwrap();
    assert_eq!(offline.client.name.as_deref(), Some("Ярослава Бондаренко"));
    assert_eq!(offline.stage, Stage::Intake);
}

#[test]
fn an_edit_after_the_upgrade_saves_and_reloads() {
    let e = expected();
    let (_dir, path) = copy_of_fixture();
    let ids = ids(&e);
    let note = "Після оновлення: візит записано новою версією";
    {
        let store = CaseStore::open(&path, &KEY).unwrap();
        for id in ids.values() {
            store
                .update(id, |c, me, now| {
                    c.add_visit(
                        me,
                        now,
                        VisitInput {
                            date: Some("2026-12-01".into()),
                            kind: Some("home".into()),
                            note: Some(note.into()),
                            ..Default::default()
                        },
                    )
                })
                .unwrap();
        }
        store
            .update(&ids["intake_emergency"], |c, me, now| {
                c.update_client(
                    me,
                    now,
                    ClientInput {
                        address: Some("กรุงเทพมหานคร".into()),
                        ..Default::default()
                    },
                )
            })
            .unwrap();
    }
    let store = CaseStore::open(&path, &KEY).unwrap();
    for (name, id) in &ids {
        let file = store.get_case(id).unwrap();
        let before = e["cases"][name]["visits"].as_array().unwrap().len();
        assert_eq!(file.visits.len(), before + 1, "{name}");
        assert_eq!(file.visits.last().unwrap().note, note, "{name}");
        assert_eq!(
            file.stage.code(),
            e["cases"][name]["stage"].as_str().unwrap(),
            "{name}: stage kept"
        );
        let doc_heads = store.with_doc(id, |d| Ok(d.heads())).unwrap();
        assert_eq!(store.heads(id).unwrap(), doc_heads, "{name}");
    }
    assert_eq!(
        store
            .get_case(&ids["intake_emergency"])
            .unwrap()
            .client
            .address
            .as_deref(),
        Some("กรุงเทพมหานคร")
    );
}

/// Two replicas of every upgraded case, one on the upgraded store and one on another
/// phone, edited concurrently and exchanged both ways: no conflict, both edits, the same
/// heads.
#[test]
fn two_copies_of_an_upgraded_case_edited_on_two_stores_merge_without_conflict() {
    let e = expected();
    let (_dir, path) = copy_of_fixture();
    let a = CaseStore::open(&path, &KEY).unwrap();
    let other = tempfile::tempdir().unwrap();
    let b = CaseStore::open(other.path().join("phone.sqlite"), &[9u8; 32]).unwrap();
    b.sign_in(UserContext {
        user_id: "u-second-phone".into(),
        name: "Lê Văn Bảo".into(),
        role: Role::Worker,
        team: None,
        device_id: "d-second-phone".into(),
    })
    .unwrap();
    let visit = |note: &str| VisitInput {
        date: Some("2026-12-02".into()),
        kind: Some("home".into()),
        note: Some(note.into()),
        ..Default::default()
    };
    for (name, id) in ids(&e) {
        assert_eq!(b.import_case(&a.export_case(&id).unwrap()).unwrap(), id);
        a.update(&id, |c, me, now| {
            c.add_visit(me, now, visit("เยี่ยมบ้านครั้งใหม่"))
        })
        .unwrap();
        b.update(&id, |c, me, now| {
            c.add_visit(me, now, visit("Thăm nhà lần mới"))
        })
        .unwrap();
        b.update(&id, |c, me, now| {
            c.update_client(
                me,
                now,
                ClientInput {
                    notes: Some("Примітка з другого телефона".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();
        a.import_case(&b.export_case(&id).unwrap()).unwrap();
        b.import_case(&a.export_case(&id).unwrap()).unwrap();
        assert_eq!(a.heads(&id).unwrap(), b.heads(&id).unwrap(), "{name}");
        assert!(a.conflicts(&id).unwrap().is_empty(), "{name}");
        assert!(b.conflicts(&id).unwrap().is_empty(), "{name}");
        let (fa, fb) = (a.get_case(&id).unwrap(), b.get_case(&id).unwrap());
        assert_eq!(fa, fb, "{name}: both read the same case");
        let before = e["cases"][&name]["visits"].as_array().unwrap().len();
        assert_eq!(fa.visits.len(), before + 2, "{name}");
        assert_eq!(fa.client.notes, "Примітка з другого телефона", "{name}");
        assert_eq!(
            fa.stage.code(),
            e["cases"][&name]["stage"].as_str().unwrap()
        );
    }
}

/// The case `name` of the fixture store, as a document, and the store's writer.
fn fixture_doc(name: &str) -> (CaseId, automerge::Automerge) {
    let e = expected();
    let (_dir, path) = copy_of_fixture();
    let store = CaseStore::open(&path, &KEY).unwrap();
    let id = ids(&e)[name];
    let doc = store.with_doc(&id, |d| Ok(d.automerge().clone())).unwrap();
    (id, doc)
}

/// A case of schema revision 1 (the fixture's `name`), on a new actor.
pub(crate) fn revision_one_case(name: &str) -> CaseDoc {
    replica(&fixture_doc(name).1)
}

fn replica(doc: &automerge::Automerge) -> CaseDoc {
    let mut c = CaseDoc::load(&doc.save()).unwrap();
    c.set_actor(automerge::ActorId::random());
    c
}

/// The new changes of `after` over `before`, and the upgrade changes among them.
fn upgrades_in(after: &automerge::Automerge, before: &automerge::Automerge) -> usize {
    after
        .get_changes(&before.get_heads())
        .iter()
        .filter(|c| upgrade::is_upgrade(after, c))
        .count()
}

/// Issue 15's compatibility: two replicas that upgrade the same case of an earlier
/// revision, offline, each with an edit that needs a container the revision added, merge
/// without a conflict and keep both edits. Each makes the same upgrade change.
#[test]
fn two_replicas_upgrading_the_same_047b1d0_case_merge_without_a_conflict() {
    let (_, old) = fixture_doc("plan_approved");
    assert!(
        schema::get_obj(&old, &automerge::ROOT, "safety").is_none(),
        "the fixture is of revision 1"
    );
    let anna = Author::new("u-anna", "Anna", Role::Worker, "d-anna");
    let malee = Author::new("u-malee", "Malee", Role::Supervisor, "d-malee");
    let (mut a, mut b) = (replica(&old), replica(&old));
    a.record_safety(
        &anna,
        1_800_000_000_000,
        SafetyInput {
            warning_signs: Some("Chồng uống rượu".into()),
            ..Default::default()
        },
    )
    .unwrap();
    b.record_safety(
        &malee,
        1_800_000_100_000,
        SafetyInput {
            safe_places: Some("Nhà bà ngoại".into()),
            ..Default::default()
        },
    )
    .unwrap();
    // Approved before versions were kept: approving now fixes version 1 (`plan/versions`).
    b.approve_plan_version(
        &malee,
        1_800_000_200_000,
        PlanDecisionInput {
            comment: Some("Đồng ý".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(upgrades_in(a.automerge(), &old), upgrades());
    assert_eq!(upgrades_in(b.automerge(), &old), upgrades());
    let upgrades_of = |d: &CaseDoc| {
        let mut hashes: Vec<_> = d
            .automerge()
            .get_changes(&old.get_heads())
            .into_iter()
            .filter(|c| upgrade::is_upgrade(d.automerge(), c))
            .map(|c| c.hash())
            .collect();
        hashes.sort();
        hashes
    };
    assert_eq!(upgrades_of(&a), upgrades_of(&b), "the same changes on both");

    a.merge(&mut b).unwrap();
    b.merge(&mut a.clone()).unwrap();
    assert_eq!(a.heads(), b.heads());
    for d in [&a, &b] {
        assert!(
            inspect::conflicts(d).is_empty(),
            "{:?}",
            inspect::conflicts(d)
        );
        let file = d.read().unwrap();
        assert_eq!(
            file.safety.warning_signs.as_deref(),
            Some("Chồng uống rượu")
        );
        assert_eq!(file.safety.safe_places.as_deref(), Some("Nhà bà ngoại"));
        assert_eq!(file.plan.versions.len(), 1);
        assert_eq!(file.plan_status().approved_version, Some(1));
        assert_eq!(upgrades_in(d.automerge(), &old), upgrades(), "applied once");
        schema::validate(d.automerge()).unwrap();
    }
}

/// The upgrade is made once: a case already upgraded, or created by this version, gets
/// no upgrade change; a refused edit leaves an old case as it was (no upgrade either).
#[test]
fn the_upgrade_is_made_once_and_not_by_a_refused_edit() {
    let (_, old) = fixture_doc("intake_emergency");
    let anna = Author::new("u-anna", "Anna", Role::Worker, "d-anna");
    let mut a = replica(&old);
    let refused = a.record_safety(
        &anna,
        1_800_000_000_000,
        SafetyInput {
            reviewed_on: Some("not a date".into()),
            ..Default::default()
        },
    );
    assert!(refused.is_err());
    assert_eq!(a.heads(), old.get_heads(), "nothing written");
    for note in ["một", "hai"] {
        a.add_visit(
            &anna,
            1_800_000_000_000,
            VisitInput {
                note: Some(note.into()),
                ..Default::default()
            },
        )
        .unwrap();
    }
    assert_eq!(upgrades_in(a.automerge(), &old), upgrades());
    assert_eq!(
        a.automerge().get_changes(&old.get_heads()).len(),
        2 + upgrades()
    );

    let new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    let mut fresh = CaseDoc::create(
        CaseId::random(),
        automerge::ActorId::random(),
        &anna,
        new,
        1_800_000_000_000,
    )
    .unwrap();
    let created = fresh.automerge().clone();
    fresh
        .record_safety(
            &anna,
            1_800_000_000_000,
            SafetyInput {
                what_to_do: Some("Gọi 111".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(upgrades_in(fresh.automerge(), &created), 0);
    assert_eq!(fresh.automerge().get_changes(&created.get_heads()).len(), 1);
}

/// What admission makes of it: the upgrade is no one's change (its actor is not among the
/// writer's), and is admitted; a writer's own change that creates a container of a later
/// revision (as each replica did before the upgrade was one change), or a change under an
/// upgrade actor that is not the upgrade, is the writer's and refused.
#[test]
fn admission_recognises_the_upgrade_and_refuses_a_writers_own_creation() {
    use automerge::transaction::Transactable;
    let (id, old) = fixture_doc("intake_emergency");
    let file = CaseDoc::load(&old.save()).unwrap().read().unwrap();
    let anna_id = file.created_by.clone().unwrap();
    let anna = Author::new(&anna_id, "Anna", Role::Worker, "d-anna");
    let writer = admission::Writer {
        user_id: &anna_id,
        role: Role::Worker,
        team: Some("north"),
    };
    let prior = admission::Prior {
        team: "north",
        assigned: &file.assigned,
        outline: None,
    };
    let mut a = replica(&old);
    a.record_safety(
        &anna,
        1_800_000_000_000,
        SafetyInput {
            warning_signs: Some("Say rượu".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let changes = a.automerge().get_changes(&old.get_heads());
    assert_eq!(changes.len(), 1 + upgrades());
    let own = admission::writers_actors(a.automerge(), &changes);
    assert_eq!(own, [a.automerge().get_actor().to_hex_string()]);
    admission::admit(writer, &old, Some(prior), id, a.automerge(), &changes).unwrap();

    // Created by the writer's own change, as a replica did before.
    let mut lazy = old.clone();
    lazy.set_actor(a.automerge().get_actor().clone());
    lazy.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put_object(automerge::ROOT, "safety", automerge::ObjType::Map)?;
        Ok(())
    })
    .unwrap();
    let changes = lazy.get_changes(&old.get_heads());
    let e = admission::admit(writer, &old, Some(prior), id, &lazy, &changes).unwrap_err();
    assert_eq!(e.kind, RefusalKind::InvalidDocument, "{e}");
    assert!(e.message.contains("`safety`"), "{e}");

    // Under the upgrade actor, but not the upgrade: the writer's, so bound to no device.
    let root = old
        .get_changes_meta(&[])
        .into_iter()
        .find(|m| m.deps.is_empty())
        .unwrap()
        .hash;
    let mut forged = old.fork_at(&[root]).unwrap();
    forged.set_actor(upgrade::upgrade_actor(2, &root));
    forged
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "priority", "urgent")?;
            Ok(())
        })
        .unwrap();
    let mut after = old.clone();
    after
        .apply_changes([forged.get_last_local_change().unwrap()])
        .unwrap();
    let changes = after.get_changes(&old.get_heads());
    assert_eq!(
        admission::writers_actors(&after, &changes),
        [upgrade::upgrade_actor(2, &root).to_hex_string()]
    );
}
