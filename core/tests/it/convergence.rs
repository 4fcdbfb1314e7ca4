//! Property: three replicas apply random typed edits and merge in random orders; all
//! converge to the same document, and no edit is lost (every visit added is present, every
//! character inserted is present in order).

use fieldcase_core::case::{ClientInput, VisitInput};
use fieldcase_core::{conflicts, CaseDoc};
use proptest::prelude::*;
use serde_json::json;

use crate::fixtures::*;

#[derive(Debug, Clone)]
enum Op {
    AddVisit(usize),
    InsertNote { at_end: bool, text: usize },
    SetAddress(usize),
    SetLanguages(Vec<usize>),
    AddReferral(usize),
    Sync { from: usize },
}

const WORDS: &[&str] = &[
    "ครอบครัว",
    "خانواده",
    "семья",
    "сім'я",
    "gia đình",
    "home",
    "ok",
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..WORDS.len()).prop_map(Op::AddVisit),
        (any::<bool>(), 0..WORDS.len()).prop_map(|(at_end, text)| Op::InsertNote { at_end, text }),
        (0..WORDS.len()).prop_map(Op::SetAddress),
        prop::collection::vec(0..WORDS.len(), 0..3).prop_map(Op::SetLanguages),
        (0..WORDS.len()).prop_map(Op::AddReferral),
        (0..3usize).prop_map(|from| Op::Sync { from }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn three_replicas_converge_and_lose_nothing(
        ops in prop::collection::vec((0..3usize, op()), 1..40),
        merge_order in Just([0usize, 1, 2]).prop_shuffle(),
    ) {
        let authors = [worker(1), worker(2), worker(3)];
        let base = new_case(&authors[0], NAMES[4]);
        let mut replicas: Vec<CaseDoc> = vec![base.clone(), replica(&base), replica(&base)];
        // The shared note every replica edits.
        let vid = replicas[0].add_visit(&authors[0], T0, visit("")).unwrap();
        let (a, b) = replicas.split_at_mut(1);
        b[0].merge(&mut a[0].clone()).unwrap();
        b[1].merge(&mut a[0].clone()).unwrap();
        let note = format!("visits/{vid}/note");

        let mut visits_added = vec![vid.clone()];
        let mut referrals_added = Vec::new();
        let mut inserted: Vec<(usize, String)> = Vec::new(); // (replica, token)
        for (step, (r, op)) in ops.into_iter().enumerate() {
            let who = &authors[r];
            let now = T0 + step as i64 * 1000;
            match op {
                Op::AddVisit(w) => visits_added.push(replicas[r].add_visit(who, now, VisitInput { note: Some(WORDS[w].into()), ..Default::default() }).unwrap()),
                Op::InsertNote { at_end, text } => {
                    let len = replicas[r].read().unwrap().visits[0].note.chars().count();
                    let token = format!("<{step}:{}>", WORDS[text]);
                    replicas[r].edit_text(who, now, &note, if at_end { len } else { 0 }, 0, &token).unwrap();
                    inserted.push((r, token));
                }
                Op::SetAddress(w) => replicas[r].update_client(who, now, ClientInput { address: Some(WORDS[w].into()), ..Default::default() }).unwrap(),
                Op::SetLanguages(ws) => replicas[r].set_field(who, now, "client/languages", &json!(ws.iter().map(|w| WORDS[*w]).collect::<Vec<_>>())).unwrap(),
                Op::AddReferral(w) => referrals_added.push(replicas[r].add_referral(who, now, fieldcase_core::case::ReferralInput { organisation: Some(WORDS[w].into()), shares_information: Some(false), ..Default::default() }).unwrap()),
                Op::Sync { from } if from != r => {
                    let mut src = replicas[from].clone();
                    replicas[r].merge(&mut src).unwrap();
                }
                Op::Sync { .. } => {}
            }
        }
        // Merge everyone in a random order, then spread the result.
        let mut all = replicas[merge_order[0]].clone();
        for &i in &merge_order[1..] {
            let mut other = replicas[i].clone();
            all.merge(&mut other).unwrap();
        }
        for r in replicas.iter_mut() {
            let mut a = all.clone();
            r.merge(&mut a).unwrap();
        }
        let first = replicas[0].read().unwrap();
        for r in &replicas[1..] {
            prop_assert_eq!(&r.read().unwrap(), &first);
            prop_assert_eq!(r.heads().len(), replicas[0].heads().len());
            prop_assert_eq!(conflicts(r), conflicts(&replicas[0]));
        }
        fieldcase_core::schema::validate(replicas[0].automerge()).unwrap();
        let visits: Vec<&str> = first.visits.iter().map(|v| v.id.as_str()).collect();
        for v in &visits_added {
            prop_assert!(visits.contains(&v.as_str()), "visit lost");
        }
        prop_assert_eq!(visits.len(), visits_added.len());
        let refs: Vec<&str> = first.referrals.iter().map(|v| v.id.as_str()).collect();
        for v in &referrals_added {
            prop_assert!(refs.contains(&v.as_str()), "referral lost");
        }
        // Every inserted token is present, whole; tokens of one replica keep their order
        // relative to each other when they were typed at the end.
        let text = &first.visits[0].note;
        for (_, token) in &inserted {
            prop_assert!(text.contains(token.as_str()), "inserted text lost: {}", token);
        }
    }
}
