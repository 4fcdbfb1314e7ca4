//! Each change's operations decoded once while a write is judged.
//!
//! Several of the admission's checks (the schema's changed sections, the process, the
//! stamps, the upgrade's containers, a new case's history) read the operations of the same
//! changes; decoding a change (`Change::decode`) is a walk of its columns, and a new case's
//! admission decoded each one five times. While an [`Admitting`] lives on this thread,
//! [`ops`] keeps what it decodes, by the change's hash (a change's hash is its content:
//! a kept decoding is never another change's); once it is dropped, nothing is kept.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use automerge::{Change, ChangeHash};

/// The most operations kept decoded at once: a bigger push decodes its changes again
/// rather than hold them all (a case typed into 100,000 times is one message).
pub(crate) const MAX_KEPT_OPS: usize = 100_000;

#[derive(Default)]
struct Kept {
    changes: HashMap<ChangeHash, Rc<automerge::legacy::Change>>,
    ops: usize,
}

thread_local! {
    static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

/// While it lives, decoded changes are kept on this thread ([`ops`]). Not `Send`: it
/// belongs to the thread whose checks it serves.
pub(crate) struct Admitting(std::marker::PhantomData<Rc<()>>);

impl Admitting {
    pub(crate) fn begin() -> Self {
        KEPT.with(|k| *k.borrow_mut() = Some(Kept::default()));
        Admitting(std::marker::PhantomData)
    }
}

impl Drop for Admitting {
    fn drop(&mut self) {
        KEPT.with(|k| *k.borrow_mut() = None);
    }
}

/// `change` decoded: kept from an earlier call while an [`Admitting`] lives.
pub(crate) fn ops(change: &Change) -> Rc<automerge::legacy::Change> {
    KEPT.with(|k| {
        let mut kept = k.borrow_mut();
        let Some(kept) = kept.as_mut() else {
            return Rc::new(change.decode());
        };
        if let Some(d) = kept.changes.get(&change.hash()) {
            return d.clone();
        }
        let d = Rc::new(change.decode());
        if kept.ops + d.operations.len() <= MAX_KEPT_OPS {
            kept.ops += d.operations.len();
            kept.changes.insert(change.hash(), d.clone());
        }
        d
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    fn change(key: &str, n: usize) -> Change {
        let mut doc = AutoCommit::new();
        for i in 0..n {
            doc.put(ROOT, format!("{key}{i}"), i as i64).unwrap();
        }
        doc.commit();
        doc.get_changes(&[]).into_iter().next().unwrap()
    }

    #[test]
    fn kept_while_admitting_and_only_then() {
        let (a, b) = (change("a", 3), change("b", 2));
        // No admission: decoded each time.
        assert!(!Rc::ptr_eq(&ops(&a), &ops(&a)));
        {
            let _admitting = Admitting::begin();
            let first = ops(&a);
            assert!(Rc::ptr_eq(&first, &ops(&a)), "kept");
            assert_eq!(first.operations.len(), 3);
            assert_eq!(ops(&b).operations.len(), 2, "by its own hash");
            assert_eq!(*first, a.decode());
        }
        assert!(KEPT.with(|k| k.borrow().is_none()), "dropped with it");
        assert!(!Rc::ptr_eq(&ops(&a), &ops(&a)));
    }

    #[test]
    fn no_more_than_the_bound_is_kept() {
        let big = change("k", MAX_KEPT_OPS + 1);
        let _admitting = Admitting::begin();
        assert!(!Rc::ptr_eq(&ops(&big), &ops(&big)), "too big to keep");
        let small = change("s", 1);
        assert!(Rc::ptr_eq(&ops(&small), &ops(&small)));
    }
}
