//! Forward compatibility: a case written by a newer app, holding codes this version does
//! not know, reads on this version with each unknown code kept and shown as it is (never
//! turned into a default or an error), and survives typed edits, saving, loading and
//! moving to another store unchanged.
//!
//! The fixture `fixtures/forward_compat/newer_codes.automerge` is a case made by this
//! version's typed edits, into which raw Automerge writes (as a newer app would make)
//! put codes this version does not know. [`write_fixture`] made it; regenerate with
//! `FIELDCASE_WRITE_FIXTURES=1 cargo test -p fieldcase-core --test it forward_compat`.

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ReadDoc, ROOT};
use fieldcase_core::case::{
    ActivityInput, ActivityStatus, AppointmentInput, AppointmentStatus, ClientInput, ReferralInput,
    ReferralStatus, RiskInput, RiskLevel, UnknownCode,
};
use fieldcase_core::store::UserContext;
use fieldcase_core::{CaseDoc, CaseStore, Error, Role, Stage};

use crate::fixtures::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/forward_compat/newer_codes.automerge"
);

/// Where the newer app wrote each code this version does not know.
const NEWER: &[(&str, &str)] = &[
    ("stage", "verification"),
    ("intake/preliminary_risk", "imminent_danger"),
    ("referrals/0/status", "waitlisted"),
    ("appointments/0/status", "cancelled_by_agency"),
    ("plan/problems/0/activities/0/status", "on_hold"),
];

/// The case as this version writes it, then the newer app's raw writes.
fn write_fixture() -> Vec<u8> {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[1]);
    c.add_referral(
        &a,
        T0,
        ReferralInput {
            organisation: Some("Housing NGO".into()),
            shares_information: Some(false),
            status: Some(ReferralStatus::Sent),
            ..Default::default()
        },
    )
    .unwrap();
    c.add_appointment(
        &a,
        T0,
        AppointmentInput {
            at: Some("2026-12-01T09:00:00Z".into()),
            status: Some(AppointmentStatus::Planned),
            ..Default::default()
        },
    )
    .unwrap();
    let problem = c
        .add_problem(&a, T0, fieldcase_core::case::ProblemInput::default())
        .unwrap();
    c.add_activity(
        &a,
        T0,
        &problem,
        ActivityInput {
            description: Some("Visit the housing office".into()),
            status: Some(ActivityStatus::Planned),
            ..Default::default()
        },
    )
    .unwrap();
    let mut doc = Automerge::load(&c.automerge().save()).unwrap();
    doc.set_actor(ActorId::from(&[0x4e; 16][..]));
    let mut tx = doc.transaction();
    for (path, code) in NEWER {
        let (obj, key) = locate(&tx, path);
        tx.put(&obj, key, *code).unwrap();
    }
    tx.commit();
    doc.save()
}

/// The map holding the last segment of `path` (list segments are indexes here).
fn locate<R: ReadDoc>(doc: &R, path: &str) -> (automerge::ObjId, String) {
    let segs: Vec<&str> = path.split('/').collect();
    let mut obj = ROOT;
    for s in &segs[..segs.len() - 1] {
        obj = match s.parse::<usize>() {
            Ok(i) => doc.get(&obj, i).unwrap().unwrap().1,
            Err(_) => doc.get(&obj, *s).unwrap().unwrap().1,
        };
    }
    (obj, segs[segs.len() - 1].to_string())
}

/// The stored code at `path`, and how many values the field holds.
fn stored(doc: &Automerge, path: &str) -> (String, usize) {
    let (obj, key) = locate(doc, path);
    let all = doc.get_all(&obj, key.as_str()).unwrap();
    let (v, _) = doc.get(&obj, key.as_str()).unwrap().unwrap();
    (v.to_string().trim_matches('"').to_string(), all.len())
}

fn fixture() -> Vec<u8> {
    if std::env::var_os("FIELDCASE_WRITE_FIXTURES").is_some() {
        let bytes = write_fixture();
        std::fs::create_dir_all(std::path::Path::new(FIXTURE).parent().unwrap()).unwrap();
        std::fs::write(FIXTURE, &bytes).unwrap();
    }
    std::fs::read(FIXTURE).expect("the fixture is committed")
}

fn unknown<T>(code: &str, f: impl FnOnce(UnknownCode) -> T) -> T {
    f(UnknownCode::new(code))
}

#[test]
fn the_fixture_holds_codes_this_version_does_not_know() {
    let doc = Automerge::load(&fixture()).unwrap();
    for (path, code) in NEWER {
        assert_eq!(stored(&doc, path), (code.to_string(), 1), "{path}");
    }
    // This version's server would refuse such a case; the phone takes it from a newer one.
    assert!(fieldcase_core::schema::validate(&doc).is_err());
    fieldcase_core::schema::validate_from_newer(&doc).unwrap();
}

#[test]
fn unknown_codes_read_as_themselves() {
    let case = CaseDoc::load(&fixture()).unwrap();
    let f = case.read().unwrap();
    assert_eq!(
        f.stage,
        unknown("verification", |code| Stage::Unknown { code })
    );
    assert_eq!(f.stage.code(), "verification");
    assert_eq!(case.stage().code(), "verification");
    assert_eq!(
        f.intake.preliminary_risk,
        Some(unknown("imminent_danger", |code| RiskLevel::Unknown {
            code
        }))
    );
    assert_eq!(f.referrals[0].status.unwrap().to_string(), "waitlisted");
    assert_eq!(
        f.appointments[0].status.unwrap().code(),
        "cancelled_by_agency"
    );
    let activity = f.plan.problems[0].activities[0].status.unwrap();
    assert!(!activity.is_known());
    assert_eq!(activity.code(), "on_hold");
    // The outline (the caseload index) reads it too.
    let (outline, _) = case.outline().unwrap();
    assert_eq!(outline.stage.code(), "verification");
}

#[test]
fn typed_edits_leave_unknown_codes_as_they_are_and_refuse_to_write_them() {
    let a = worker(1);
    let mut case = CaseDoc::load(&fixture()).unwrap();
    case.set_actor(ActorId::random());
    let f = case.read().unwrap();
    let referral = f.referrals[0].id.clone();
    // Edits elsewhere, in the same entries and maps as the unknown codes.
    case.update_client(
        &a,
        T0 + 1,
        ClientInput {
            name: Some(NAMES[2].into()),
            ..Default::default()
        },
    )
    .unwrap();
    case.add_visit(&a, T0 + 2, visit(NOTES[1])).unwrap();
    case.set_referral_status(
        &a,
        T0 + 3,
        &referral,
        ReferralStatus::parse("waitlisted"),
        None,
        None,
    )
    .unwrap_err();
    case.add_assessment(
        &a,
        T0 + 4,
        fieldcase_core::case::AssessmentInput {
            date: Some("2026-11-25".into()),
            risk: Some(RiskInput {
                emergency: Some(false),
                conclusion: Some("Bà ngoại chăm sóc hai cháu.".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .unwrap();
    // An unknown code is never written by this version: refused as invalid input.
    let err = case
        .add_referral(
            &a,
            T0 + 5,
            ReferralInput {
                status: Some(ReferralStatus::parse("waitlisted")),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    // No step of this version's workflow leads from a stage it does not know.
    let err = case
        .change_stage(&a, T0 + 6, Stage::Assessment)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidTransition { .. }), "{err:?}");

    let saved = CaseDoc::load(&case.automerge().save()).unwrap();
    for (path, code) in NEWER {
        assert_eq!(
            stored(saved.automerge(), path),
            (code.to_string(), 1),
            "{path}"
        );
    }
    let f = saved.read().unwrap();
    assert_eq!(f.client.name.as_deref(), Some(NAMES[2]));
    assert_eq!(f.visits.len(), 1);
    assert_eq!(f.stage.code(), "verification");
}

#[test]
fn a_store_takes_the_case_and_hands_it_on_with_the_codes_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let one = CaseStore::open(dir.path().join("one.db"), &[1; 32]).unwrap();
    one.sign_in(UserContext {
        user_id: "u-worker-1".into(),
        name: "Worker 1".into(),
        role: Role::Worker,
        team: None,
        device_id: "phone-1".into(),
    })
    .unwrap();
    let id = one.import_case(&fixture()).unwrap();
    let summary = one.summary(&id).unwrap();
    assert_eq!(summary.stage.code(), "verification");
    assert_eq!(
        summary.earlier_level.map(|r| r.code()),
        Some("imminent_danger"),
        "a code from elsewhere is shown as it is, never read as a conclusion"
    );
    assert_eq!(summary.finding, None);
    let json = one.case_json(&id).unwrap();
    assert!(json.contains("\"verification\"") && json.contains("\"on_hold\""));
    one.update(&id, |c, a, now| {
        c.add_visit(a, now, visit(NOTES[3])).map(drop)
    })
    .unwrap();
    // Reopened (read back from the encrypted file) and handed to another store.
    drop(one);
    let one = CaseStore::open(dir.path().join("one.db"), &[1; 32]).unwrap();
    let bytes = one.export_case(&id).unwrap();
    let two = CaseStore::open(dir.path().join("two.db"), &[2; 32]).unwrap();
    two.import_case(&bytes).unwrap();
    let doc = Automerge::load(&two.export_case(&id).unwrap()).unwrap();
    for (path, code) in NEWER {
        assert_eq!(stored(&doc, path), (code.to_string(), 1), "{path}");
    }
    assert_eq!(two.get_case(&id).unwrap().visits.len(), 1);
}
