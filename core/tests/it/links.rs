//! Links between cases (issue 19): a household member points to the member's own case, a
//! related case (a sibling, a parent, a child) is linked by a household entry holding only
//! its id and the relation's code; admission sees which cases a change newly links.

use automerge::transaction::Transactable;
use automerge::ReadDoc;
use fieldcase_core::case::admission::{admit, Prior, Writer};
use fieldcase_core::case::HouseholdMemberInput;
use fieldcase_core::{CaseId, Error, RefusalKind, Role};

use crate::fixtures::{new_case, worker, NAMES, T0};

#[test]
fn a_member_points_to_their_own_case_and_a_sibling_case_is_linked() {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[4]);
    let sister = new_case(&a, "Nguyễn Thị Mai");
    let mother = CaseId::random();
    let m = c
        .add_household_member(
            &a,
            T0 + 1000,
            HouseholdMemberInput {
                name: Some("Nguyễn Thị Hoa".into()),
                relationship: Some("mother".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        c.link_case(&a, T0 + 2000, Some(&m), &mother.to_string(), "parent")
            .unwrap(),
        m
    );
    let s = c
        .link_case(
            &a,
            T0 + 3000,
            None,
            &sister.id().unwrap().to_string(),
            "sibling",
        )
        .unwrap();
    let f = c.read().unwrap();
    let members = &f.client.household;
    assert_eq!(members.len(), 2);
    assert_eq!(members[0].name.as_deref(), Some("Nguyễn Thị Hoa"));
    assert_eq!(members[0].case_id, Some(mother.to_string()));
    assert_eq!(members[0].case_relation.as_deref(), Some("parent"));
    assert_eq!(members[1].id, s);
    assert_eq!(members[1].name, None, "nothing of the other case is copied");
    assert_eq!(members[1].case_relation.as_deref(), Some("sibling"));

    // Bad input: a clear error, and nothing written.
    let heads = c.heads();
    let own = c.id().unwrap().to_string();
    for (member, case, relation) in [
        (None, "not a case", "sibling"),
        (None, own.as_str(), "sibling"),
        (None, &mother.to_string()[..], "cousin"),
        (None, &mother.to_string()[..], "parent"),
        (
            Some("no-such-member"),
            &CaseId::random().to_string()[..],
            "child",
        ),
    ] {
        let e = c
            .link_case(&a, T0 + 4000, member, case, relation)
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { .. } | Error::NotFound(_)),
            "{member:?} {case} {relation}: {e:?}"
        );
    }
    assert_eq!(c.heads(), heads);
    // The link is an action: a form's set_field cannot write it.
    assert!(c
        .set_field(
            &a,
            T0 + 5000,
            &format!("client/household/{m}/case_id"),
            &serde_json::json!(CaseId::random().to_string())
        )
        .is_err());
}

#[test]
fn admission_lists_the_cases_a_change_newly_links_and_refuses_a_link_to_itself() {
    let a = worker(1);
    let mut c = new_case(&a, NAMES[2]);
    let id = c.id().unwrap();
    let first = CaseId::random();
    c.link_case(&a, T0 + 1000, None, &first.to_string(), "child")
        .unwrap();
    let before = c.automerge().clone();
    let assigned = c.read().unwrap().assigned;
    let prior = Prior {
        team: "team-north",
        assigned: &assigned,
        outline: None,
    };
    let writer = Writer {
        user_id: &a.user_id,
        role: Role::Worker,
        team: Some("team-north"),
    };
    let second = CaseId::random();
    c.link_case(&a, T0 + 2000, None, &second.to_string(), "sibling")
        .unwrap();
    let changes = c.automerge().get_changes(&before.get_heads());
    let admitted = admit(writer, &before, Some(prior), id, c.automerge(), &changes).unwrap();
    assert_eq!(admitted.new_links, vec![second], "only the new link");

    // A raw change pointing a member at the case itself, or at no case id, is refused.
    for bad in [id.to_string(), "../../etc".to_string()] {
        let mut doc = before.clone();
        doc.set_actor(automerge::ActorId::random());
        let household = doc
            .get(
                doc.get(automerge::ROOT, "client").unwrap().unwrap().1,
                "household",
            )
            .unwrap()
            .unwrap()
            .1;
        let member = doc.get(&household, 0).unwrap().unwrap().1;
        let mut tx = doc.transaction();
        tx.put(&member, "case_id", bad.as_str()).unwrap();
        tx.commit();
        let changes = doc.get_changes(&before.get_heads());
        let r = admit(writer, &before, Some(prior), id, &doc, &changes).unwrap_err();
        assert_eq!(r.kind, RefusalKind::InvalidDocument, "{bad}: {r}");
    }
}
