//! Supervision on the record (revision 4): case conferences, reviews of the handling of the
//! case (seed 004 slide 18) and disagreements between professionals; and a case closed as
//! a duplicate of another (issue 19).

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc, ROOT};
use fieldcase_core::case::{SupervisionInput, SupervisionKind};
use fieldcase_core::refusal::RefusalKind;
use fieldcase_core::{Error, Stage};

use crate::fixtures::*;
use crate::process_admission::{admit_as, raw};

fn review(kind: SupervisionKind) -> SupervisionInput {
    SupervisionInput {
        kind: Some(kind),
        date: Some("2026-12-01".into()),
        participants: Some(vec!["Anna Petrenko".into(), "Malee Suksan".into()]),
        summary: Some("Đánh giá lại hoạt động quản lý trường hợp".into()),
        went_well: Some("Liên hệ với nhà trường kịp thời".into()),
        learning: Some("Hỏi ý kiến của trẻ sớm hơn".into()),
        changes: Some("Gặp trẻ riêng trước khi gặp gia đình".into()),
        ..Default::default()
    }
}

#[test]
fn supervision_is_recorded_dated_and_merges_from_two_devices() {
    let w = worker(1);
    let s = supervisor();
    let mut case = new_case(&w, NAMES[4]);
    let mut office = replica(&case);
    let own = case
        .add_supervision(&w, T0 + 1, review(SupervisionKind::SelfReview))
        .unwrap();
    let conference = office
        .add_supervision(
            &s,
            T0 + 2,
            SupervisionInput {
                kind: Some(SupervisionKind::CaseConference),
                date: Some("2026-12-02".into()),
                participants: Some(vec!["Школа № 3".into(), "Trạm y tế xã".into()]),
                summary: Some("Семья согласна на план".into()),
                decisions: Some("Chuyển gửi đến trạm y tế".into()),
                ..Default::default()
            },
        )
        .unwrap();
    case.merge(&mut office).unwrap();
    let file = case.read().unwrap();
    assert_eq!(file.supervision.len(), 2);
    let mine = file.supervision.iter().find(|e| e.id == own).unwrap();
    assert_eq!(mine.kind, Some(SupervisionKind::SelfReview));
    assert_eq!(mine.learning.as_deref(), Some("Hỏi ý kiến của trẻ sớm hơn"));
    assert_eq!(mine.recorded_by.as_deref(), Some("u-worker-1"));
    let theirs = file
        .supervision
        .iter()
        .find(|e| e.id == conference)
        .unwrap();
    assert_eq!(theirs.participants, ["Школа № 3", "Trạm y tế xã"]);
    assert_eq!(theirs.recorded_by.as_deref(), Some("u-super"));
    assert_eq!(theirs.date.as_deref(), Some("2026-12-02"));
}

#[test]
fn an_entry_without_its_kind_or_day_is_refused() {
    let w = worker(1);
    let mut case = new_case(&w, NAMES[0]);
    let no_kind = SupervisionInput {
        kind: None,
        ..review(SupervisionKind::SelfReview)
    };
    let no_day = SupervisionInput {
        date: None,
        ..review(SupervisionKind::Disagreement)
    };
    for input in [no_kind, no_day] {
        let e = case.add_supervision(&w, T0 + 1, input).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    }
    assert!(case.read().unwrap().supervision.is_empty());
}

#[test]
fn only_a_supervisor_writes_a_supervisors_review_on_every_path() {
    let w = worker(1);
    let s = supervisor();
    let mut case = new_case(&w, NAMES[2]);
    // The typed edit refuses it to a worker...
    let e = case
        .add_supervision(&w, T0 + 1, review(SupervisionKind::SupervisorReview))
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e}");
    // ...and the server refuses a raw change that writes one.
    let forged = raw(&case, |tx| {
        let list = match tx.get(ROOT, "supervision").unwrap() {
            Some((_, id)) => id,
            None => tx.put_object(ROOT, "supervision", ObjType::List).unwrap(),
        };
        let entry = tx.insert_object(&list, 0, ObjType::Map).unwrap();
        tx.put(&entry, "id", "forged").unwrap();
        tx.put(&entry, "kind", "supervisor_review").unwrap();
        tx.put(&entry, "date", "2026-12-01").unwrap();
        tx.put(&entry, "recorded_by", "u-worker-1").unwrap();
        tx.put_object(&entry, "participants", ObjType::List)
            .unwrap();
        tx.put_object(&entry, "summary", ObjType::Text).unwrap();
    });
    let refused = admit_as(&w, &case, &forged).unwrap_err();
    assert_eq!(refused.kind, RefusalKind::NeedsAuthority, "{refused}");
    // A supervisor's own review passes; a worker then changing its words is refused.
    let mut office = replica(&case);
    let id = office
        .add_supervision(&s, T0 + 2, review(SupervisionKind::SupervisorReview))
        .unwrap();
    admit_as(&s, &case, &office).unwrap();
    let changed = raw(&office, |tx| {
        let list = tx.get(ROOT, "supervision").unwrap().unwrap().1;
        let entry = tx.get(&list, 0).unwrap().unwrap().1;
        assert_eq!(
            tx.get(&entry, "id").unwrap().unwrap().0.as_str(),
            Some(id.as_str())
        );
        tx.put(&entry, "went_well", "everything").unwrap();
    });
    let refused = admit_as(&w, &office, &changed).unwrap_err();
    assert_eq!(refused.kind, RefusalKind::NeedsAuthority, "{refused}");
    // A worker's own review and a conference are anyone's to record.
    let mut phone = replica(&office);
    phone
        .add_supervision(&w, T0 + 3, review(SupervisionKind::SelfReview))
        .unwrap();
    admit_as(&w, &office, &phone).unwrap();
}

#[test]
fn a_supervisor_closes_a_duplicate_pointing_to_the_case_that_goes_on() {
    let w = worker(1);
    let s = supervisor();
    let kept = new_case(&w, NAMES[2]);
    let mut twin = new_case(&w, "Fedorova Anna");
    let before = replica(&twin);
    let of = kept.id().unwrap();
    // Not a worker's to do, nor a case's own duplicate.
    let e = twin.close_as_duplicate(&w, T0 + 1, &of, "").unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e}");
    let own = twin.id().unwrap();
    assert!(twin.close_as_duplicate(&s, T0 + 1, &own, "").is_err());
    let closure = twin
        .close_as_duplicate(&s, T0 + 2, &of, "cùng một người")
        .unwrap();
    let file = twin.read().unwrap();
    assert_eq!(file.stage, Stage::Closed);
    let c = file.closures.iter().find(|c| c.id == closure).unwrap();
    assert_eq!(c.reason.as_deref(), Some("duplicate"));
    assert_eq!(c.duplicate_of.as_deref(), Some(of.to_string().as_str()));
    assert_eq!(c.decided_by.as_deref(), Some("u-super"));
    // Nobody tells the family of an ending: their case goes on in the other file. The
    // server admits the change from a supervisor, and the history of the twin is kept.
    admit_as(&s, &before, &twin).unwrap();
    assert!(twin.automerge().get_changes(&[]).len() > before.automerge().get_changes(&[]).len());
    // Once closed, it is not closed again.
    assert!(twin.close_as_duplicate(&s, T0 + 3, &of, "").is_err());
    // A worker's raw change claiming the same is refused.
    let forged = raw(&before, |tx| {
        tx.put(ROOT, "stage", "closed").unwrap();
    });
    assert!(admit_as(&w, &before, &forged).is_err());
}
