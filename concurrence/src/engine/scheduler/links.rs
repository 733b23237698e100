//! Monitors, links and exit traps: what the scheduler delivers when a tasklet ends.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::engine::end::Down;
use crate::engine::state::{State, Task};

use super::Scheduler;

impl Scheduler {
    /// Adds a monitor of the tasklet `watched` (see `Tasklet::monitor`).
    pub(crate) fn add_monitor(&self, watched: u64, deliver: DeliverDown) {
        self.monitors
            .borrow_mut()
            .entry(watched)
            .or_default()
            .push(deliver);
    }

    /// Links two tasklets (see `Tasklet::link`).
    pub(crate) fn link(&self, a: &Rc<Task>, b: &Rc<Task>) {
        let mut links = self.links.borrow_mut();
        for (from, to) in [(a, b), (b, a)] {
            let list = links.entry(from.id).or_default();
            if !list
                .iter()
                .any(|w| std::ptr::addr_eq(w.as_ptr(), Rc::as_ptr(to)))
            {
                list.push(Rc::downgrade(to));
            }
        }
    }

    /// Removes the link between the tasklets of ids `a` and `b`.
    pub(crate) fn unlink(&self, a: u64, b: u64) {
        let mut links = self.links.borrow_mut();
        for (from, to) in [(a, b), (b, a)] {
            if let Some(list) = links.get_mut(&from) {
                list.retain(|w| w.upgrade().is_some_and(|t| t.id != to));
            }
        }
    }

    /// Makes the tasklet `id` trap exits.
    pub(crate) fn trap_exits(&self, id: u64, deliver: TrapExit) {
        self.trappers.borrow_mut().insert(id, deliver);
    }

    /// A linked tasklet ended abnormally: `partner` traps it as a message, or is killed.
    pub(crate) fn exit_signal(&self, partner: &Rc<Task>, down: Down) {
        if partner.is_finished() {
            return;
        }
        let trapper = self.trappers.borrow().get(&partner.id).cloned();
        match trapper {
            Some(deliver) => deliver(down),
            // The running tasklet (its kill of the linked one ends here) or one resuming
            // another: unwound when control returns to it.
            None if partner.state.get() == State::Running => partner.kill_pending.set(true),
            None => self.kill(partner),
        }
    }
}

/// How a monitor tells its watcher that the watched tasklet ended.
pub(crate) type DeliverDown = Box<dyn FnOnce(Down)>;

/// How a tasklet that traps exits is told that a linked tasklet ended abnormally.
pub(crate) type TrapExit = Rc<dyn Fn(Down)>;

/// Removes and returns the entry of the tasklet `id` from one of the scheduler's maps; an empty
/// map (no monitor, link or trapper anywhere: the common case) is not hashed into.
pub(super) fn take_entry<V>(map: &RefCell<HashMap<u64, V>>, id: u64) -> Option<V> {
    let mut map = map.borrow_mut();
    if map.is_empty() {
        None
    } else {
        map.remove(&id)
    }
}
