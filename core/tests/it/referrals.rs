//! The referral's closed loop (issue 16): a referral that shares the client's information
//! needs a consent that covers it; its status moves along the loop (sent, received,
//! accepted or declined, service started, delivered), each step recorded with who and when;
//! a referral written in free text is linked to the directory later. The same rules hold
//! for what arrives by sync (`admission::admit`), whatever the phone sent.

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc, ROOT};
use fieldcase_core::case::{
    ConsentInput, ReferralInput, ReferralLinkInput, ReferralStatus, NEEDS_CONSENT, REFERRAL_STEPS,
};
use fieldcase_core::{Author, CaseDoc, Error};

use crate::fixtures::*;
use crate::process_admission::{admit_as, raw, refused_for_process};

fn consent(c: &mut CaseDoc, a: &Author, topic: &str) -> String {
    c.record_consent(
        a,
        T0,
        ConsentInput {
            topic: Some(topic.into()),
            given_by: Some("Олена".into()),
            granted: Some(true),
            date: Some("2026-11-20".into()),
            ..Default::default()
        },
    )
    .unwrap()
}

fn referral(consent_id: Option<&str>, shares: Option<bool>) -> ReferralInput {
    ReferralInput {
        organisation: Some("Центр соціальних служб".into()),
        service: Some("психолог".into()),
        consent_id: consent_id.map(Into::into),
        shares_information: shares,
        ..Default::default()
    }
}

fn invalid_at(e: Error, at: &str, why: &str) {
    match e {
        Error::InvalidInput { path, reason } => {
            assert_eq!(path, at);
            assert!(reason.contains(why), "{reason}");
        }
        other => panic!("expected invalid input at {at}, got {other:?}"),
    }
}

#[test]
fn a_referral_that_shares_information_needs_a_consent_that_covers_it() {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[3]);
    // No consent at all, then a consent of another topic, then a withdrawn one.
    let e = c.add_referral(&a, T0, referral(None, None)).unwrap_err();
    invalid_at(e, "referrals/consent_id", NEEDS_CONSENT);
    let photo = consent(&mut c, &a, "photo");
    let e = c
        .add_referral(&a, T0, referral(Some(&photo), Some(true)))
        .unwrap_err();
    invalid_at(e, "referrals/consent_id", NEEDS_CONSENT);
    let withdrawn = consent(&mut c, &a, "referral");
    c.withdraw_consent(&a, T0, &withdrawn, "2026-11-21", "передумала")
        .unwrap();
    let e = c
        .add_referral(&a, T0, referral(Some(&withdrawn), None))
        .unwrap_err();
    invalid_at(e, "referrals/consent_id", NEEDS_CONSENT);
    assert!(
        c.read().unwrap().referrals.is_empty(),
        "nothing was written"
    );
    // A consent to share information covers it; a referral sharing nothing needs none.
    let sharing = consent(&mut c, &a, "information_sharing");
    let r = c
        .add_referral(&a, T0, referral(Some(&sharing), None))
        .unwrap();
    let told = c.add_referral(&a, T0, referral(None, Some(false))).unwrap();
    let f = c.read().unwrap();
    let got = f.referrals.iter().find(|x| x.id == r).unwrap();
    assert_eq!(got.shares_information, Some(true), "written, not implied");
    assert_eq!(got.consent_id.as_deref(), Some(sharing.as_str()));
    let got = f.referrals.iter().find(|x| x.id == told).unwrap();
    assert_eq!(got.shares_information, Some(false));
}

#[test]
fn each_step_of_the_loop_is_recorded_with_who_and_when_and_the_loop_only_moves_forward() {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[4]);
    let ok = consent(&mut c, &a, "referral");
    let r = c.add_referral(&a, T0, referral(Some(&ok), None)).unwrap();
    let step = |c: &mut CaseDoc, at: i64, s: ReferralStatus, why: Option<&str>| {
        c.set_referral_status(&a, at, &r, s, why, None)
    };
    step(&mut c, T0 + 1_000, ReferralStatus::Received, None).unwrap();
    // The organisation's refusal needs its reason; the earlier codes are not written.
    let e = step(
        &mut c,
        T0 + 2_000,
        ReferralStatus::DeclinedByOrganisation,
        None,
    )
    .unwrap_err();
    invalid_at(e, &format!("referrals/{r}/status_reason"), "reason");
    for old in [ReferralStatus::Completed, ReferralStatus::Declined] {
        step(&mut c, T0 + 2_000, old, Some("x")).unwrap_err();
    }
    step(&mut c, T0 + 2_000, ReferralStatus::Accepted, None).unwrap();
    // Back to received, or declined by the organisation once it accepted: not steps.
    for s in [
        ReferralStatus::Received,
        ReferralStatus::DeclinedByOrganisation,
    ] {
        let e = step(&mut c, T0 + 3_000, s, Some("черга")).unwrap_err();
        invalid_at(e, &format!("referrals/{r}/status"), REFERRAL_STEPS);
    }
    step(&mut c, T0 + 3_000, ReferralStatus::ServiceStarted, None).unwrap();
    c.set_referral_status(
        &a,
        T0 + 4_000,
        &r,
        ReferralStatus::Delivered,
        None,
        Some("Олена відвідала п'ять консультацій"),
    )
    .unwrap();
    // An ended loop moves no more.
    for s in [
        ReferralStatus::DeclinedByClient,
        ReferralStatus::Unavailable,
    ] {
        let e = step(&mut c, T0 + 5_000, s, None).unwrap_err();
        invalid_at(e, &format!("referrals/{r}/status"), REFERRAL_STEPS);
    }
    let f = c.read().unwrap();
    let got = f.referrals.iter().find(|x| x.id == r).unwrap();
    assert_eq!(got.status, Some(ReferralStatus::Delivered));
    let steps: Vec<(Option<ReferralStatus>, Option<String>)> = got
        .steps
        .iter()
        .map(|s| (s.status, s.recorded_at.clone()))
        .collect();
    let at = |ms: i64| {
        Some(
            chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        )
    };
    assert_eq!(
        steps,
        vec![
            (Some(ReferralStatus::Sent), at(T0)),
            (Some(ReferralStatus::Received), at(T0 + 1_000)),
            (Some(ReferralStatus::Accepted), at(T0 + 2_000)),
            (Some(ReferralStatus::ServiceStarted), at(T0 + 3_000)),
            (Some(ReferralStatus::Delivered), at(T0 + 4_000)),
        ]
    );
    assert!(got
        .steps
        .iter()
        .all(|s| s.recorded_by.as_deref() == Some(a.user_id.as_str())));
    assert_eq!(
        got.steps[4].note.as_deref(),
        Some("Олена відвідала п'ять консультацій")
    );
}

#[test]
fn the_client_declines_or_the_service_is_unavailable_at_any_time_before_the_loop_ends() {
    use ReferralStatus::*;
    for (path, end) in [
        (&[][..], DeclinedByClient),
        (&[Received][..], Unavailable),
        (&[Accepted, ServiceStarted][..], DeclinedByClient),
        (&[Received, Accepted][..], Unavailable),
    ] {
        let mut from = Sent;
        for s in path {
            assert!(from.can_move_to(*s), "{from:?} → {s:?}");
            from = *s;
        }
        assert!(from.can_move_to(end), "{from:?} → {end:?}");
        assert!(!end.can_move_to(Delivered) && !end.can_move_to(Sent));
    }
    // A code of a newer app is not judged; the old codes end a loop.
    assert!(ReferralStatus::parse("waitlisted").can_move_to(Delivered));
    assert!(!Completed.can_move_to(Accepted) && !Declined.can_move_to(Received));
}

#[test]
fn concurrent_steps_on_two_phones_are_both_kept() {
    let a = worker(1);
    let b = worker(2);
    let mut c = new_case(&a, NAMES[2]);
    let ok = consent(&mut c, &a, "referral");
    let r = c.add_referral(&a, T0, referral(Some(&ok), None)).unwrap();
    let mut other = replica(&c);
    c.set_referral_status(&a, T0 + 1_000, &r, ReferralStatus::Accepted, None, None)
        .unwrap();
    other
        .set_referral_status(
            &b,
            T0 + 1_500,
            &r,
            ReferralStatus::DeclinedByClient,
            None,
            None,
        )
        .unwrap();
    c.merge(&mut other).unwrap();
    let f = c.read().unwrap();
    let got = f.referrals.iter().find(|x| x.id == r).unwrap();
    let mut seen: Vec<_> = got
        .steps
        .iter()
        .map(|s| (s.status, s.recorded_by.clone()))
        .collect();
    seen.sort_by_key(|s| s.0.map(|x| x.code()));
    assert_eq!(
        seen,
        vec![
            (Some(ReferralStatus::Accepted), Some(a.user_id.clone())),
            (
                Some(ReferralStatus::DeclinedByClient),
                Some(b.user_id.clone())
            ),
            (Some(ReferralStatus::Sent), Some(a.user_id.clone())),
        ],
        "both answers are in the record"
    );
}

#[test]
fn a_free_text_referral_is_linked_to_the_directory_later() {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[0]);
    let r = c.add_referral(&a, T0, referral(None, Some(false))).unwrap();
    let e = c
        .link_referral(&a, T0, &r, ReferralLinkInput::default())
        .unwrap_err();
    invalid_at(e, &format!("referrals/{r}/service_id"), "service");
    let e = c
        .link_referral(
            &a,
            T0,
            "no-such-referral",
            ReferralLinkInput {
                service_id: Some("svc-1".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    c.link_referral(
        &a,
        T0 + 1,
        &r,
        ReferralLinkInput {
            service_id: Some("svc-1".into()),
            location_id: Some("loc-1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let f = c.read().unwrap();
    let got = &f.referrals[0];
    assert_eq!(
        (got.service_id.as_deref(), got.location_id.as_deref()),
        (Some("svc-1"), Some("loc-1"))
    );
    assert_eq!(
        got.organisation.as_deref(),
        Some("Центр соціальних служб"),
        "kept"
    );
}

/// The rules hold for raw changes, as a hostile or broken phone sends them.
#[test]
fn admission_refuses_a_referral_without_consent_and_a_step_the_loop_lacks() {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[1]);
    let told = c.add_referral(&a, T0, referral(None, Some(false))).unwrap();
    // A new referral, raw, sharing information without a consent.
    let sneaky = raw(&c, |tx| {
        let list = tx.get(ROOT, "referrals").unwrap().unwrap().1;
        let n = tx.length(&list);
        let m = tx.insert_object(&list, n, ObjType::Map).unwrap();
        tx.put(&m, "id", "raw-referral").unwrap();
        tx.put(&m, "organisation", "خانه امن").unwrap();
        tx.put(&m, "status", "sent").unwrap();
    });
    refused_for_process(admit_as(&a, &c, &sneaky), NEEDS_CONSENT);
    // The same referral turned into one that shares information, raw.
    let entry = |c: &CaseDoc| {
        let d = c.automerge();
        let list = d.get(ROOT, "referrals").unwrap().unwrap().1;
        d.get(&list, 0).unwrap().unwrap().1
    };
    let obj = entry(&c);
    let flipped = raw(&c, |tx| tx.put(&obj, "shares_information", true).unwrap());
    refused_for_process(admit_as(&a, &c, &flipped), NEEDS_CONSENT);
    // A status the loop does not reach from where it is, raw.
    c.set_referral_status(&a, T0, &told, ReferralStatus::Unavailable, None, None)
        .unwrap();
    let revived = raw(&c, |tx| tx.put(&obj, "status", "accepted").unwrap());
    refused_for_process(admit_as(&a, &c, &revived), REFERRAL_STEPS);
    let old_code = raw(&c, |tx| tx.put(&obj, "status", "completed").unwrap());
    refused_for_process(admit_as(&a, &c, &old_code), REFERRAL_STEPS);
    // What the loop allows is admitted, and a new referral comes with its steps.
    let mut fresh = new_case(&a, NAMES[1]);
    let empty = replica(&fresh);
    let r = fresh
        .add_referral(&a, T0, referral(None, Some(false)))
        .unwrap();
    admit_as(&a, &empty, &fresh).expect("a referral with its first step");
    let obj = entry(&fresh);
    let received = raw(&fresh, |tx| tx.put(&obj, "status", "received").unwrap());
    admit_as(&a, &fresh, &received).expect("a step of the loop");
    let before = replica(&fresh);
    fresh
        .set_referral_status(&a, T0 + 1, &r, ReferralStatus::Accepted, None, None)
        .unwrap();
    admit_as(&a, &before, &fresh).expect("a typed step");
}

/// A referral recorded before revision 2 has no `steps`; no change may add them to it
/// later (two phones doing it at once would each make a list, one hiding the other).
#[test]
fn steps_come_with_their_referral_and_are_never_added_to_an_older_one() {
    let a = worker(1);
    let c = new_case(&a, NAMES[0]);
    let old = raw(&c, |tx| {
        let list = tx.get(ROOT, "referrals").unwrap().unwrap().1;
        let m = tx.insert_object(&list, 0, ObjType::Map).unwrap();
        tx.put(&m, "id", "old-referral").unwrap();
        tx.put(&m, "status", "sent").unwrap();
        tx.put(&m, "shares_information", false).unwrap();
    });
    admit_as(&a, &c, &old).expect("a referral sharing nothing");
    let entry = {
        let d = old.automerge();
        let list = d.get(ROOT, "referrals").unwrap().unwrap().1;
        d.get(&list, 0).unwrap().unwrap().1
    };
    let grown = raw(&old, |tx| {
        tx.put_object(&entry, "steps", ObjType::List).unwrap();
    });
    let e = admit_as(&a, &old, &grown).expect_err("refused");
    assert_eq!(e.kind, fieldcase_core::RefusalKind::InvalidDocument, "{e}");
    assert!(e.message.contains("`steps` comes with its entry"), "{e}");
    // The typed edit moves its status without them.
    let mut typed = replica(&old);
    typed
        .set_referral_status(&a, T0, "old-referral", ReferralStatus::Received, None, None)
        .unwrap();
    let f = typed.read().unwrap();
    assert_eq!(f.referrals[0].status, Some(ReferralStatus::Received));
    assert!(f.referrals[0].steps.is_empty());
    admit_as(&a, &old, &typed).expect("a step of the loop");
}

/// Ways a hostile phone could try to get past the referral's rules with raw changes, each
/// refused: a referral made retracted without consent and then un-retracted in the same
/// batch; a step rewritten; a step added without a move; two referrals under one id; on a
/// case of revision 1 (where revision 1's rules apply), a referral carrying revision 2's
/// fields without a consent. A supervisor resolving a conflict of two statuses by choosing
/// the earlier one is admitted.
#[test]
fn raw_changes_cannot_get_round_the_referral_rules() {
    use fieldcase_core::RefusalKind;
    let a = worker(1);
    let mut c = new_case(&a, NAMES[3]);
    let ok = consent(&mut c, &a, "referral");
    let r = c.add_referral(&a, T0, referral(Some(&ok), None)).unwrap();
    let entry = |c: &CaseDoc, i: usize| {
        let d = c.automerge();
        let list = d.get(ROOT, "referrals").unwrap().unwrap().1;
        d.get(&list, i).unwrap().unwrap().1
    };
    let steps_of = |c: &CaseDoc| {
        let d = c.automerge();
        d.get(entry(c, 0), "steps").unwrap().unwrap().1
    };
    // Made retracted without a consent, then un-retracted: two changes, one batch.
    let made = raw(&c, |tx| {
        let list = tx.get(ROOT, "referrals").unwrap().unwrap().1;
        let m = tx.insert_object(&list, 1, ObjType::Map).unwrap();
        tx.put(&m, "id", "hidden").unwrap();
        tx.put(&m, "shares_information", true).unwrap();
        tx.put(&m, "status", "sent").unwrap();
        let ret = tx.put_object(&m, "retracted", ObjType::Map).unwrap();
        tx.put(&ret, "reason", "x").unwrap();
    });
    let hidden = entry(&made, 1);
    let revived = raw(&made, |tx| tx.delete(&hidden, "retracted").unwrap());
    let e = admit_as(&a, &c, &revived).expect_err("refused");
    assert_eq!(e.kind, RefusalKind::Process, "{e}");
    assert!(e.message.contains("retraction is not undone"), "{e}");
    // A step rewritten; a step added without a move.
    let steps = steps_of(&c);
    let first = c.automerge().get(&steps, 0).unwrap().unwrap().1;
    let rewritten = raw(&c, |tx| tx.put(&first, "status", "delivered").unwrap());
    refused_for_process(admit_as(&a, &c, &rewritten), "steps are kept");
    let extra = raw(&c, |tx| {
        let s = tx.insert_object(&steps, 1, ObjType::Map).unwrap();
        tx.put(&s, "id", "extra").unwrap();
        tx.put(&s, "status", "sent").unwrap();
    });
    refused_for_process(admit_as(&a, &c, &extra), "steps are kept");
    // Two referrals under one id (the copy keeps the consent it did not earn).
    let twin = raw(&c, |tx| {
        let list = tx.get(ROOT, "referrals").unwrap().unwrap().1;
        let m = tx.insert_object(&list, 1, ObjType::Map).unwrap();
        tx.put(&m, "id", r.as_str()).unwrap();
        tx.put(&m, "shares_information", false).unwrap();
        tx.put(&m, "status", "sent").unwrap();
    });
    refused_for_process(admit_as(&a, &c, &twin), "two referrals have one id");

    // Two phones answer at once; a supervisor chooses the earlier step: admitted.
    let mut one = replica(&c);
    let mut two = replica(&c);
    one.set_referral_status(&a, T0 + 1, &r, ReferralStatus::Accepted, None, None)
        .unwrap();
    two.set_referral_status(&a, T0 + 2, &r, ReferralStatus::ServiceStarted, None, None)
        .unwrap();
    one.merge(&mut two).unwrap();
    let merged = one;
    let current = merged.read().unwrap().referrals[0].status.unwrap();
    let other = match current {
        ReferralStatus::Accepted => "service_started",
        _ => "accepted",
    };
    let obj = entry(&merged, 0);
    let chosen = raw(&merged, |tx| tx.put(&obj, "status", other).unwrap());
    admit_as(&supervisor(), &merged, &chosen).expect("a conflict resolved");

    // A case of revision 1: a referral with revision 2's fields and no consent.
    let old = crate::compat::revision_one_case("referral_declined");
    let sneaky = raw(&old, |tx| {
        let list = tx.get(ROOT, "referrals").unwrap().unwrap().1;
        let m = tx.insert_object(&list, 0, ObjType::Map).unwrap();
        tx.put(&m, "id", "sneaky").unwrap();
        tx.put(&m, "shares_information", true).unwrap();
        tx.put(&m, "status", "sent").unwrap();
    });
    let writer = fieldcase_core::Author::new(
        &old.read().unwrap().assigned[0],
        "Worker",
        fieldcase_core::Role::Worker,
        "phone-1",
    );
    refused_for_process(admit_as(&writer, &old, &sneaky), NEEDS_CONSENT);
}
