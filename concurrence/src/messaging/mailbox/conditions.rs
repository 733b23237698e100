//! What a multi-wait waits for in a mailbox: an item ([`Item`]) or an item a filter accepts
//! ([`Matching`]).

use std::fmt;
use std::rc::Rc;

use crate::engine::condition::{sealed, Condition, Label, Waiter};
use crate::engine::state::WaitOn;

use super::{Block, End, Inner, Looked};

/// An item of a mailbox, or a message of the current tasklet: the condition of
/// [`wait_for::popleft`](crate::wait_for::popleft), [`wait_for::pop`](crate::wait_for::pop) and
/// [`wait_for::message`](crate::wait_for::message). It fires with the item it takes (the first,
/// or for `pop` the last); an item stays in the mailbox unless this condition wins.
pub struct Item<T> {
    inner: Rc<Inner<T>>,
    end: End,
}

impl<T> Item<T> {
    /// The first item of `inner` (`front`) or its last.
    pub(crate) fn new(inner: Rc<Inner<T>>, front: bool) -> Item<T> {
        let end = if front { End::Front } else { End::Back };
        Item { inner, end }
    }
}

impl<T: 'static> sealed::Sealed for Item<T> {}

impl<T: 'static> Condition for Item<T> {
    type Output = T;

    #[inline]
    fn poll(&mut self) -> Option<T> {
        if self.inner.items.borrow().is_empty() {
            return None; // the poll before a wait: nothing to take
        }
        self.inner.take(self.end, Block::No).ok()
    }

    fn arm(&mut self, waiter: &Waiter) {
        let mut takers = self.inner.takers.borrow_mut();
        takers.push_token(&waiter.task, waiter.epoch);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        let mut takers = self.inner.takers.borrow_mut();
        if takers.is_empty() {
            // Its entry was taken by the wake-up (the usual case), and there is nobody to pass
            // a wake-up on to.
            return;
        }
        let pass_on = !self.inner.items.borrow().is_empty();
        takers.leave(Rc::as_ptr(&waiter.task), pass_on);
    }

    fn label(&self) -> Label {
        Label(WaitOn::Receive)
    }
}

impl<T> fmt::Debug for Item<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item").finish_non_exhaustive()
    }
}

/// The first item a filter accepts, of the current tasklet's mailbox: the condition of
/// [`wait_for::message_matching`](crate::wait_for::message_matching) (kiwi's `WaitForMessages`
/// with `accept`). It fires with the message it takes; every other message stays where it is,
/// in order.
pub struct Matching<T, F> {
    inner: Rc<Inner<T>>,
    pick: F,
    /// How far it has looked: each wake-up looks only at what arrived since.
    looked: Looked,
}

impl<T, F> Matching<T, F> {
    pub(crate) fn new(inner: Rc<Inner<T>>, pick: F) -> Matching<T, F> {
        Matching {
            inner,
            pick,
            looked: Looked::default(),
        }
    }
}

impl<T: 'static, F: FnMut(&T) -> bool> sealed::Sealed for Matching<T, F> {}

impl<T: 'static, F: FnMut(&T) -> bool> Condition for Matching<T, F> {
    type Output = T;

    fn poll(&mut self) -> Option<T> {
        self.inner
            .take_matching(&mut self.pick, &mut self.looked, Block::No)
            .ok()
    }

    fn arm(&mut self, waiter: &Waiter) {
        let mut pickers = self.inner.pickers.borrow_mut();
        pickers.push_token(&waiter.task, waiter.epoch);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        // Every picker is woken by each arrival: nothing to pass on.
        let mut pickers = self.inner.pickers.borrow_mut();
        pickers.leave(Rc::as_ptr(&waiter.task), false);
    }

    fn label(&self) -> Label {
        Label(WaitOn::Receive)
    }
}

impl<T, F> fmt::Debug for Matching<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matching").finish_non_exhaustive()
    }
}
