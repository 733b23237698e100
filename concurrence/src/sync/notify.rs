//! [`Notify`]: an event tasklets wait for, signalled to one of them or to all.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::error::TimeoutError;
use crate::sync::queue::Queue;

/// What a deadlock report says a waiter waits for.
const WAITS_FOR: &&str = &"a notification (Notify)";

/// An event that tasklets wait for ([`notified`](Notify::notified)): signalled to the oldest
/// waiter ([`notify_one`](Notify::notify_one)) or to every tasklet waiting now
/// ([`notify_waiters`](Notify::notify_waiters)), as tokio's `Notify`, and the original's
/// `Event` for the latter.
///
/// - **A notification is not lost**: `notify_one` with nobody waiting is kept (one at most)
///   for the next `notified`, which then returns at once; `notify_waiters` reaches only the
///   tasklets waiting when it is called and keeps nothing.
/// - **Hand-off.** `notify_one` ends the oldest waiter's wait with the notification already its
///   own; if that waiter leaves without it (killed before it ran, or another arm of its
///   `select!` won), the notification goes on to the next waiter, or is kept. A waiter that
///   times out takes nothing. A notification from `notify_waiters` that its waiter does not
///   take is dropped (the others had theirs).
/// - **Timeouts** by the crate's rule: [`notified_timeout`](Notify::notified_timeout),
///   [`try_notified`](Notify::try_notified), [`wait_for::notified`](crate::wait_for::notified)
///   for `select!`.
///
/// A `Notify` is a cheap handle: clones share the event. **One dispatcher** (`!Send`): to wake
/// tasklets from another dispatcher or thread, use a [`SendNotify`](crate::sync::SendNotify)
/// (the same rules, behind a mutex), or send a message through a
/// [`SendTasklet`](crate::SendTasklet).
///
/// # Examples
///
/// A worker sleeps until there is work, however many times it was signalled meanwhile:
///
/// ```
/// use concurrence::sync::Notify;
/// use concurrence::{dispatch, spawn};
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// dispatch(|| {
///     let work = Rc::new(RefCell::new(Vec::new()));
///     let ready = Notify::new();
///     let worker = {
///         let (work, ready) = (work.clone(), ready.clone());
///         spawn(move || {
///             let mut done = 0;
///             while done < 3 {
///                 ready.notified(); // kept if it came while the worker was busy
///                 done += work.borrow_mut().drain(..).count();
///             }
///             done
///         })
///     };
///     for job in 0..3 {
///         work.borrow_mut().push(job);
///         ready.notify_one();
///     }
///     assert_eq!(worker.join().unwrap(), 3);
/// });
/// ```
#[derive(Clone)]
pub struct Notify {
    inner: Rc<Inner>,
}

/// How a waiter was notified.
#[derive(Clone, Copy)]
enum Grant {
    /// By `notify_one`: passed on if not taken.
    One,
    /// By `notify_waiters`: dropped if not taken.
    All,
}

struct Inner {
    /// A `notify_one` nobody waited for.
    kept: Cell<bool>,
    waiters: RefCell<Queue<Grant>>,
}

impl Notify {
    /// An event nobody was notified of.
    pub fn new() -> Notify {
        Notify {
            inner: Rc::new(Inner {
                kept: Cell::new(false),
                waiters: RefCell::default(),
            }),
        }
    }

    /// Notifies the oldest waiting tasklet; with none waiting, keeps the notification for the
    /// next [`notified`](Notify::notified) (several are kept as one).
    pub fn notify_one(&self) {
        self.inner.notify_one();
    }

    /// Notifies every tasklet waiting now; keeps nothing for later ones.
    pub fn notify_waiters(&self) {
        self.inner.waiters.borrow_mut().grant(|_| Some(Grant::All));
    }

    /// Waits for a notification (returns at once with a kept one).
    ///
    /// # Panics
    ///
    /// Panics when it has to wait outside a tasklet.
    #[track_caller]
    pub fn notified(&self) {
        Notified::new(self.clone()).wait();
    }

    /// [`notified`](Notify::notified), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no notification came in time.
    #[track_caller]
    pub fn notified_timeout(&self, timeout: Duration) -> Result<(), TimeoutError> {
        wait_until(Notified::new(self.clone()), Some(deadline_after(timeout))).ok_or(TimeoutError)
    }

    /// Takes a kept notification, if there is one, without blocking.
    pub fn try_notified(&self) -> bool {
        self.inner.kept.replace(false)
    }
}

impl Inner {
    fn notify_one(&self) {
        let mut once = Some(Grant::One);
        if self.waiters.borrow_mut().grant(|_| once.take()) == 0 {
            self.kept.set(true);
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify")
            .field("kept", &self.inner.kept.get())
            .finish_non_exhaustive()
    }
}

/// A notification: the condition of [`wait_for::notified`](crate::wait_for::notified). It fires
/// with `()`; when it does not win, it takes nothing (a `notify_one` handed to it meanwhile goes
/// on to the next waiter, or is kept).
pub struct Notified {
    notify: Notify,
    ticket: Option<u64>,
}

impl Notified {
    pub(crate) fn new(notify: Notify) -> Notified {
        Notified {
            notify,
            ticket: None,
        }
    }
}

impl sealed::Sealed for Notified {}

impl Condition for Notified {
    type Output = ();

    fn poll(&mut self) -> Option<()> {
        let inner = &self.notify.inner;
        match self.ticket {
            None => inner.kept.replace(false).then_some(()),
            Some(ticket) => {
                let mut waiters = inner.waiters.borrow_mut();
                if !waiters.is_granted(ticket) {
                    return None;
                }
                waiters.remove(ticket);
                self.ticket = None;
                Some(())
            }
        }
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.ticket = Some(self.notify.inner.waiters.borrow_mut().push(waiter, 1));
    }

    fn disarm(&mut self, _: &Waiter) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let inner = &self.notify.inner;
        let entry = inner.waiters.borrow_mut().remove(ticket);
        if let Some(Grant::One) = entry.and_then(|e| e.granted) {
            inner.notify_one(); // not taken: the next waiter's, or kept
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::Sync(WAITS_FOR))
    }
}

impl fmt::Debug for Notified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").finish_non_exhaustive()
    }
}
