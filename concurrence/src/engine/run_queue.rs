//! The scheduler's queues of tasklets to run: a deque of wake-up entries without a `RefCell`'s
//! borrow flag, on the path of every switch.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::engine::state::Task;

/// A tasklet due to run and the epoch it was queued for (stale entries are skipped).
pub(crate) type Entry = (Rc<Task>, u32);

/// A deque of run entries, used by shared reference from the scheduler.
///
/// Each method is one `VecDeque` operation on entries that are moved in or out, never
/// dropped inside (dropping the last handle of a tasklet runs its record's destructor, which
/// may reach the scheduler), and calls no code of its own: so no second `&mut` to the deque can
/// exist while one does, which is what a `RefCell` would check at run time.
#[derive(Default)]
pub(crate) struct RunQueue {
    entries: UnsafeCell<VecDeque<Entry>>,
}

impl RunQueue {
    /// Runs one deque operation.
    #[inline]
    fn with<R>(&self, op: impl FnOnce(&mut VecDeque<Entry>) -> R) -> R {
        // SAFETY: `UnsafeCell` makes the queue `!Sync`, so only this thread reaches it, and
        // every caller in this module passes one `VecDeque` operation that neither drops an
        // entry nor calls out (see the type's docs): no other reference to the deque exists
        // while `op` runs.
        op(unsafe { &mut *self.entries.get() })
    }

    #[inline]
    pub(crate) fn push_back(&self, entry: Entry) {
        self.with(|q| q.push_back(entry));
    }

    #[inline]
    pub(crate) fn push_front(&self, entry: Entry) {
        self.with(|q| q.push_front(entry));
    }

    /// Inserts `entry` at `at`, or at the back when the queue is shorter.
    pub(crate) fn insert(&self, at: usize, entry: Entry) {
        self.with(|q| q.insert(at.min(q.len()), entry));
    }

    #[inline]
    pub(crate) fn pop_front(&self) -> Option<Entry> {
        self.with(VecDeque::pop_front)
    }

    #[inline]
    pub(crate) fn pop_back(&self) -> Option<Entry> {
        self.with(VecDeque::pop_back)
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.with(|q| q.len())
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.with(|q| q.is_empty())
    }

    /// Empties the queue; the entries are dropped after it is no longer borrowed.
    pub(crate) fn clear(&self) {
        let entries = self.with(std::mem::take);
        drop(entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dropping the last handle of a record while the queue is cleared must not happen inside
    /// the deque operation: `clear` takes the entries out first.
    #[test]
    fn entries_keep_their_order_and_clear_drops_them() {
        let queue = RunQueue::default();
        let a = Task::unstarted_for_tests();
        let b = Task::unstarted_for_tests();
        queue.push_back((a.clone(), 1));
        queue.push_back((b.clone(), 2));
        queue.push_front((b.clone(), 3));
        queue.insert(1, (a.clone(), 4));
        queue.insert(99, (a.clone(), 5));
        let order: Vec<u32> = std::iter::from_fn(|| queue.pop_front().map(|(_, e)| e)).collect();
        assert_eq!(order, [3, 4, 1, 2, 5]);
        queue.push_back((a.clone(), 6));
        queue.push_back((b.clone(), 7));
        assert_eq!(queue.pop_back().map(|(_, e)| e), Some(7));
        assert_eq!(queue.len(), 1);
        queue.clear();
        assert!(queue.is_empty());
        assert_eq!(Rc::strong_count(&a), 1);
        assert_eq!(Rc::strong_count(&b), 1);
    }
}
