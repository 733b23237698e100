//! The dispatcher's side of IO: which registered source each `mio` token names, what readiness
//! it has seen, and who waits for it. Sources are registered by `io::source`; the scheduler
//! hands out each poll's events here.
//!
//! Readiness is edge-triggered in `mio`: an event says the source *became* ready. So each source
//! keeps a flag per direction, set by events and cleared by the operation that finds the source
//! not ready after all (`WouldBlock`); a waiter waits only while its flag is clear, and an event
//! wakes every waiter of its direction, each of which retries (two tasklets reading one socket
//! both see the event; a spurious wake-up only costs a retry).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use mio::Token;

use crate::engine::reactor::Readiness;
use crate::engine::scheduler::Scheduler;
use crate::engine::wait::WaitList;

/// One direction of a source.
#[derive(Default)]
pub(crate) struct Direction {
    /// An event said it is ready, and no operation has found otherwise since.
    pub(crate) ready: Cell<bool>,
    pub(crate) waiters: RefCell<WaitList>,
}

/// A registered IO source: its token and both directions.
pub(crate) struct IoState {
    pub(crate) token: Token,
    pub(crate) read: Direction,
    pub(crate) write: Direction,
}

/// Tokens of registered sources, reused once freed.
#[derive(Default)]
pub(crate) struct IoTable {
    slots: Vec<Weak<IoState>>,
    free: Vec<usize>,
}

impl IoTable {
    /// A new source's state, with a token of its own. It starts ready both ways: the first
    /// operation finds out (an edge-triggered registration reports only changes).
    pub(crate) fn insert(&mut self) -> Rc<IoState> {
        let index = self.free.pop().unwrap_or(self.slots.len());
        let state = Rc::new(IoState {
            token: Token(index),
            read: Direction::default(),
            write: Direction::default(),
        });
        state.read.ready.set(true);
        state.write.ready.set(true);
        if index == self.slots.len() {
            self.slots.push(Rc::downgrade(&state));
        } else {
            self.slots[index] = Rc::downgrade(&state);
        }
        state
    }

    /// Frees the token of a source that was deregistered.
    pub(crate) fn remove(&mut self, token: Token) {
        if let Some(slot) = self.slots.get_mut(token.0) {
            *slot = Weak::new();
            self.free.push(token.0);
        }
    }

    /// The source a token names, if it is still registered.
    pub(crate) fn get(&self, token: Token) -> Option<Rc<IoState>> {
        self.slots.get(token.0).and_then(Weak::upgrade)
    }
}

/// Marks what an event reported and wakes the waiters of those directions.
pub(crate) fn deliver(state: &IoState, readiness: Readiness, sched: &Scheduler) {
    if readiness.readable {
        state.read.ready.set(true);
        state.read.waiters.borrow_mut().wake_all(sched);
    }
    if readiness.writable {
        state.write.ready.set(true);
        state.write.waiters.borrow_mut().wake_all(sched);
    }
}
