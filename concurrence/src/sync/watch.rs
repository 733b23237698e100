//! A watch channel: one value, replaced by senders, its latest version seen by receivers.
//!
//! [`channel(initial)`](channel) gives a [`Sender`] and a [`Receiver`]. Sending replaces the
//! value; a receiver [`borrow`](Receiver::borrow)s the latest one whenever it likes, and
//! [`changed`](Receiver::changed) waits until there is one it has not seen. Values in between
//! are skipped: a receiver sees the latest state, not every change (use
//! [`broadcast`](crate::sync::broadcast) for every value). As tokio's `watch`.
//!
//! A `Ref` from `borrow` holds the value borrowed: drop it before the tasklet waits, since a
//! send while it is held panics (the sender cannot replace a value being read). Clone what
//! must outlive a suspension.
//!
//! **One dispatcher** (`!Send`), like every handle of the dispatcher. To publish a value to
//! several dispatchers, keep it in a `std::sync` lock (an `Arc<RwLock<T>>` read without
//! waiting) and send a message to the tasklets that must react to a change.
//!
//! # Examples
//!
//! ```
//! use concurrence::sync::watch;
//! use concurrence::{dispatch, spawn};
//!
//! dispatch(|| {
//!     let (tx, rx) = watch::channel("starting");
//!     let observer = spawn(move || {
//!         let mut states = vec![*rx.borrow()];
//!         while rx.changed().is_ok() { // Err once the sender is gone and all is seen
//!             states.push(*rx.borrow_and_update());
//!         }
//!         states
//!     });
//!     concurrence::yield_(); // the observer waits for a change
//!     tx.send("running").unwrap();
//!     concurrence::yield_();
//!     tx.send("stopping").unwrap();
//!     tx.send("stopped").unwrap(); // replaces "stopping" before the observer looked
//!     drop(tx);
//!     assert_eq!(observer.join().unwrap(), ["starting", "running", "stopped"]);
//! });
//! ```

use std::cell::{Cell, Ref, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::engine::wait::WaitList;
use crate::error::TimeoutError;

/// What a deadlock report says a receiver waits for.
const WAITS_FOR: &&str = &"a change of a watch channel";

/// A watch channel holding `initial`: its first sender and receiver. The receiver has seen
/// `initial`.
pub fn channel<T>(initial: T) -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(Shared {
        value: RefCell::new(initial),
        version: Cell::new(0),
        senders: Cell::new(1),
        receivers: Cell::new(1),
        waiters: RefCell::default(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        seen: Cell::new(0),
    };
    (Sender { shared }, rx)
}

struct Shared<T> {
    value: RefCell<T>,
    /// How many times the value was replaced.
    version: Cell<u64>,
    senders: Cell<usize>,
    receivers: Cell<usize>,
    /// Receivers waiting for a change: all are woken by each.
    waiters: RefCell<WaitList>,
}

impl<T> Shared<T> {
    fn wake_all(&self) {
        if self.waiters.borrow().is_empty() {
            return;
        }
        if let Some(sched) = scheduler::try_get() {
            self.waiters.borrow_mut().wake_all(&sched);
        }
    }

    /// Replaces the value, waking every waiting receiver; returns the old one.
    fn replace(&self, value: T) -> T {
        let old = match self.value.try_borrow_mut() {
            Ok(mut current) => std::mem::replace(&mut *current, value),
            Err(_) => panic!(
                "concurrence: a watch channel's value was sent while a borrow of it was held \
                 (drop the Ref from borrow() before waiting)"
            ),
        };
        self.version.set(self.version.get() + 1);
        self.wake_all();
        old
    }
}

/// The sending side of a [`watch`](self) channel; clones send into the same channel. When
/// the last one is dropped, receivers' [`changed`](Receiver::changed) fails once they have
/// seen the latest value.
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Replaces the value and tells every receiver; never blocks.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value, which is not stored, when there is no receiver.
    ///
    /// # Panics
    ///
    /// Panics when a `Ref` from [`borrow`](Receiver::borrow) is held meanwhile.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.get() == 0 {
            return Err(SendError(value));
        }
        drop(self.shared.replace(value)); // the old value, dropped outside the borrow
        Ok(())
    }

    /// Replaces the value whether or not there are receivers, and gives the old one.
    ///
    /// # Panics
    ///
    /// As [`send`](Sender::send).
    pub fn send_replace(&self, value: T) -> T {
        self.shared.replace(value)
    }

    /// The current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        self.shared.value.borrow()
    }

    /// A new receiver, which has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        let shared = &self.shared;
        shared.receivers.set(shared.receivers.get() + 1);
        Receiver {
            shared: shared.clone(),
            seen: Cell::new(shared.version.get()),
        }
    }

    /// How many receivers there are.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.get()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.set(self.shared.senders.get() + 1);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let senders = self.shared.senders.get() - 1;
        self.shared.senders.set(senders);
        if senders == 0 {
            self.shared.wake_all(); // they see the end
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("version", &self.shared.version.get())
            .finish_non_exhaustive()
    }
}

/// The receiving side of a [`watch`](self) channel: the latest value, and waiting for a newer
/// one. A clone has seen what this one has.
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
    /// The version it has seen.
    seen: Cell<u64>,
}

impl<T> Receiver<T> {
    /// The latest value, without marking it seen. Drop the `Ref` before waiting.
    pub fn borrow(&self) -> Ref<'_, T> {
        self.shared.value.borrow()
    }

    /// The latest value, marked seen: [`changed`](Receiver::changed) waits for a newer one.
    pub fn borrow_and_update(&self) -> Ref<'_, T> {
        self.seen.set(self.shared.version.get());
        self.shared.value.borrow()
    }

    /// Whether there is a value it has not seen.
    ///
    /// # Errors
    ///
    /// [`RecvError`] when every sender is gone and it has seen the latest value.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let shared = &self.shared;
        if shared.version.get() != self.seen.get() {
            Ok(true)
        } else if shared.senders.get() == 0 {
            Err(RecvError)
        } else {
            Ok(false)
        }
    }

    /// Waits until there is a value it has not seen, and marks it seen (read it with
    /// [`borrow`](Receiver::borrow)); returns at once if there is one already.
    ///
    /// # Errors
    ///
    /// [`RecvError`] when every sender is gone and it has seen the latest value.
    ///
    /// # Panics
    ///
    /// Panics when it has to wait outside a tasklet.
    #[track_caller]
    pub fn changed(&self) -> Result<(), RecvError> {
        Changed { receiver: self }.wait()
    }

    /// [`changed`](Receiver::changed), waiting at most `timeout` (nested as
    /// [`join_timeout`](crate::Tasklet::join_timeout)'s result is).
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when nothing changed in time; the inner result is `changed`'s.
    #[track_caller]
    pub fn changed_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Result<(), RecvError>, TimeoutError> {
        wait_until(Changed { receiver: self }, Some(deadline_after(timeout))).ok_or(TimeoutError)
    }

    /// What `changed` gives now, if it would not wait.
    fn take(&self) -> Option<Result<(), RecvError>> {
        let shared = &self.shared;
        let version = shared.version.get();
        if version != self.seen.get() {
            self.seen.set(version);
            return Some(Ok(()));
        }
        (shared.senders.get() == 0).then_some(Err(RecvError))
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.receivers.set(self.shared.receivers.get() + 1);
        Receiver {
            shared: self.shared.clone(),
            seen: Cell::new(self.seen.get()),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.receivers.set(self.shared.receivers.get() - 1);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("seen", &self.seen.get())
            .finish_non_exhaustive()
    }
}

/// A value sent to no receiver, given back (it was not stored).
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the watch channel has no receiver")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Every sender of a watch channel is gone, and the receiver has seen the latest value.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the watch channel is closed")
    }
}

impl std::error::Error for RecvError {}

/// A value a watch receiver has not seen: the condition of
/// [`wait_for::changed`](crate::wait_for::changed). It fires with what
/// [`Receiver::changed`] gives, marking the value seen; when it does not win, nothing is
/// marked.
pub struct Changed<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<'a, T> Changed<'a, T> {
    pub(crate) fn new(receiver: &'a Receiver<T>) -> Changed<'a, T> {
        Changed { receiver }
    }
}

impl<T> sealed::Sealed for Changed<'_, T> {}

impl<T> Condition for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(&mut self) -> Option<Result<(), RecvError>> {
        self.receiver.take()
    }

    fn arm(&mut self, waiter: &Waiter) {
        let mut waiters = self.receiver.shared.waiters.borrow_mut();
        waiters.push_token(&waiter.task, waiter.epoch);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        // Every receiver is woken by each change: nothing to pass on.
        let mut waiters = self.receiver.shared.waiters.borrow_mut();
        waiters.leave(Rc::as_ptr(&waiter.task), false);
    }

    fn label(&self) -> Label {
        Label(WaitOn::Sync(WAITS_FOR))
    }
}

impl<T> fmt::Debug for Changed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changed").finish_non_exhaustive()
    }
}
