//! A broadcast channel: every receiver sees every value, within a bounded window.
//!
//! [`channel(capacity)`](channel) gives a [`Sender`] and a [`Receiver`]; more receivers come
//! from [`Sender::subscribe`] (from the next value on) or by cloning a receiver (from where it
//! is). Each value sent is seen by every receiver that exists when it is sent, in order. The
//! channel keeps the last `capacity` values; a receiver that falls further behind misses the
//! oldest ones and is told how many ([`RecvError::Lagged`]), then goes on from the oldest kept
//! (tokio's `broadcast`). Values are cloned out, so `T: Clone`.
//!
//! **One dispatcher** (`!Send`), like every handle of the dispatcher. To fan values out to
//! tasklets of several dispatchers, send a message to each (through their
//! [`SendTasklet`](crate::SendTasklet)s), or run one receiving tasklet per dispatcher that a
//! [`WorkQueue`](crate::WorkQueue) or a message feeds.
//!
//! # Examples
//!
//! ```
//! use concurrence::sync::broadcast;
//! use concurrence::{dispatch, spawn};
//!
//! dispatch(|| {
//!     let (tx, rx) = broadcast::channel(16);
//!     let listeners: Vec<_> = (0..2)
//!         .map(|_| {
//!             let rx = rx.clone();
//!             spawn(move || {
//!                 let mut seen = Vec::new();
//!                 while let Ok(n) = rx.recv() { // Err(Closed) once every sender is gone
//!                     seen.push(n);
//!                 }
//!                 seen
//!             })
//!         })
//!         .collect();
//!     drop(rx);
//!     for n in 1..=3 {
//!         tx.send(n).unwrap();
//!     }
//!     drop(tx);
//!     for listener in listeners {
//!         assert_eq!(listener.join().unwrap(), [1, 2, 3]);
//!     }
//! });
//! ```

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
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
const WAITS_FOR: &&str = &"a value of a broadcast channel";

/// A broadcast channel keeping the last `capacity` values: its first sender and receiver.
///
/// # Panics
///
/// Panics when `capacity` is 0.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "concurrence: a broadcast channel keeps one value at least"
    );
    let shared = Rc::new(Shared {
        values: RefCell::new(VecDeque::with_capacity(capacity.min(1024))),
        first: Cell::new(0),
        capacity,
        senders: Cell::new(1),
        receivers: Cell::new(1),
        waiters: RefCell::default(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        next: Cell::new(0),
    };
    (Sender { shared }, rx)
}

struct Shared<T> {
    /// The last `capacity` values.
    values: RefCell<VecDeque<T>>,
    /// The number of the oldest value kept (values are numbered from 0 as sent).
    first: Cell<u64>,
    capacity: usize,
    senders: Cell<usize>,
    receivers: Cell<usize>,
    /// Receivers waiting for a value: all are woken by each.
    waiters: RefCell<WaitList>,
}

impl<T> Shared<T> {
    /// The number the next value sent will have.
    fn end(&self) -> u64 {
        self.first.get() + self.values.borrow().len() as u64
    }

    fn wake_all(&self) {
        if self.waiters.borrow().is_empty() {
            return;
        }
        if let Some(sched) = scheduler::try_get() {
            self.waiters.borrow_mut().wake_all(&sched);
        }
    }
}

/// The sending side of a [`broadcast`](self) channel; clones send into the same channel. When
/// the last one is dropped, receivers get [`RecvError::Closed`] once they have seen every value.
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

impl<T: Clone> Sender<T> {
    /// Sends `value` to every receiver; never blocks (the oldest value kept makes room).
    /// Returns how many receivers will see it.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value when there is no receiver.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let shared = &self.shared;
        let receivers = shared.receivers.get();
        if receivers == 0 {
            return Err(SendError(value));
        }
        let dropped = {
            let mut values = shared.values.borrow_mut();
            values.push_back(value);
            if values.len() > shared.capacity {
                shared.first.set(shared.first.get() + 1);
                values.pop_front()
            } else {
                None
            }
        };
        drop(dropped); // user code, outside the borrow
        shared.wake_all();
        Ok(receivers)
    }

    /// A new receiver, which sees the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let shared = &self.shared;
        shared.receivers.set(shared.receivers.get() + 1);
        Receiver {
            shared: shared.clone(),
            next: Cell::new(shared.end()),
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

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender")
            .field("receivers", &self.shared.receivers.get())
            .finish_non_exhaustive()
    }
}

/// The receiving side of a [`broadcast`](self) channel: sees every value sent while it exists,
/// in order. A clone starts where this one is.
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
    /// The number of the next value it sees.
    next: Cell<u64>,
}

impl<T: Clone> Receiver<T> {
    /// The next value, waiting until one is sent.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] when values it did not see were dropped to make room (the next
    /// call gives the oldest value kept), [`RecvError::Closed`] when every sender is gone and
    /// it has seen every value.
    ///
    /// # Panics
    ///
    /// Panics when it has to wait outside a tasklet.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        Recv { receiver: self }.wait()
    }

    /// [`recv`](Receiver::recv), waiting at most `timeout` (nested as
    /// [`join_timeout`](crate::Tasklet::join_timeout)'s result is).
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no value came in time; the inner result is `recv`'s.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Result<T, RecvError>, TimeoutError> {
        wait_until(Recv { receiver: self }, Some(deadline_after(timeout))).ok_or(TimeoutError)
    }

    /// The next value if there is one, without blocking.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when it has seen every value, and `recv`'s errors.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.take() {
            Some(Ok(value)) => Ok(value),
            Some(Err(RecvError::Lagged(n))) => Err(TryRecvError::Lagged(n)),
            Some(Err(RecvError::Closed)) => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// How many values it has not seen yet (those kept).
    pub fn len(&self) -> usize {
        let shared = &self.shared;
        (shared.end() - self.next.get().max(shared.first.get())) as usize
    }

    /// Whether it has seen every value kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What `recv` gives now, if it would not wait.
    fn take(&self) -> Option<Result<T, RecvError>> {
        let shared = &self.shared;
        let (next, first) = (self.next.get(), shared.first.get());
        if next < first {
            self.next.set(first);
            return Some(Err(RecvError::Lagged(first - next)));
        }
        let value = shared.values.borrow().get((next - first) as usize).cloned();
        match value {
            Some(value) => {
                self.next.set(next + 1);
                Some(Ok(value))
            }
            None if shared.senders.get() == 0 => Some(Err(RecvError::Closed)),
            None => None,
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.receivers.set(self.shared.receivers.get() + 1);
        Receiver {
            shared: self.shared.clone(),
            next: Cell::new(self.next.get()),
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
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next.get())
            .finish_non_exhaustive()
    }
}

/// A value sent to no receiver, given back.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the broadcast channel has no receiver")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Receiver::recv`] gave no value.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvError {
    /// The receiver fell behind: this many values it did not see were dropped to make room.
    /// It goes on from the oldest value kept.
    Lagged(u64),
    /// Every sender is gone and the receiver has seen every value.
    Closed,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged(n) => write!(f, "the receiver fell behind and missed {n} values"),
            RecvError::Closed => f.write_str("the broadcast channel is closed"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] gave no value.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// It has seen every value; more may come.
    Empty,
    /// As [`RecvError::Lagged`].
    Lagged(u64),
    /// As [`RecvError::Closed`].
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value yet"),
            TryRecvError::Lagged(n) => RecvError::Lagged(*n).fmt(f),
            TryRecvError::Closed => RecvError::Closed.fmt(f),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The next value of a broadcast receiver: the condition of
/// [`wait_for::recv`](crate::wait_for::recv). It fires with what
/// [`Receiver::recv`] gives; when it does not win, the receiver stays where it was.
pub struct Recv<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<'a, T> Recv<'a, T> {
    pub(crate) fn new(receiver: &'a Receiver<T>) -> Recv<'a, T> {
        Recv { receiver }
    }
}

impl<T: Clone> sealed::Sealed for Recv<'_, T> {}

impl<T: Clone> Condition for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(&mut self) -> Option<Result<T, RecvError>> {
        self.receiver.take()
    }

    fn arm(&mut self, waiter: &Waiter) {
        let mut waiters = self.receiver.shared.waiters.borrow_mut();
        waiters.push_token(&waiter.task, waiter.epoch);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        // Every receiver is woken by each value: nothing to pass on.
        let mut waiters = self.receiver.shared.waiters.borrow_mut();
        waiters.leave(Rc::as_ptr(&waiter.task), false);
    }

    fn label(&self) -> Label {
        Label(WaitOn::Sync(WAITS_FOR))
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").finish_non_exhaustive()
    }
}
