//! [`Channel`]: a rendezvous between a sending and a receiving tasklet, with timeouts.
//!
//! Whoever comes first waits in the channel's list for its side: a sender with its value, a
//! receiver with an empty slot. The partner that arrives completes the rendezvous at once:
//! - a receiver finding a waiting sender takes its value and goes on; the sender is queued at
//!   the back of the run queue;
//! - a sender finding a waiting receiver fills its slot, puts it at the front of the run queue,
//!   and yields to the back: the receiver runs next, as seed 002 describes.
//!
//! A waiter that times out removes its entry (a sender gets its value back); one that is killed
//! removes it while unwinding, so [`Channel::has_receiver`] and [`Channel::has_sender`] only see
//! tasklets that really wait.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::panic::resume_unwind;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::error::TimeoutError;
use crate::message::SendError;
use crate::scheduler;
use crate::state::{Task, WaitOn};
use crate::wait::{is_live, Wait};

/// A rendezvous channel between tasklets (seed 002's `Channel`): `send` waits for a receiver,
/// `receive` for a sender, each with a `_timeout` form.
///
/// After a rendezvous the receiver runs first and the sender goes to the back of the run queue.
/// [`send_exception`](Channel::send_exception) makes the receiver's `receive` panic with the
/// given payload instead of returning a value (the Rust form of raising an exception in the
/// receiver). A `Channel` is a cheap handle: clones share the channel. It stays on its thread.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, spawn, Channel};
///
/// dispatch(|| {
///     let channel = Channel::new();
///     let consumer = {
///         let channel = channel.clone();
///         spawn(move || channel.receive() + channel.receive())
///     };
///     channel.send(20); // waits for the consumer, which runs first
///     channel.send(22);
///     assert_eq!(consumer.join().unwrap(), 42);
/// });
/// ```
pub struct Channel<T> {
    inner: Rc<Inner<T>>,
}

/// What a sender hands over.
enum Payload<T> {
    Value(T),
    Exception(Box<dyn Any + Send>),
}

/// A tasklet waiting in the channel. A sender's `payload` is what it sends; a receiver's is
/// empty until a sender fills it.
struct Waiter<T> {
    task: Rc<Task>,
    epoch: u32,
    payload: Option<Payload<T>>,
}

struct Inner<T> {
    senders: RefCell<VecDeque<Waiter<T>>>,
    receivers: RefCell<VecDeque<Waiter<T>>>,
}

impl<T> Inner<T> {
    /// Removes `task`'s entry from `list`, giving back its payload.
    fn leave(list: &RefCell<VecDeque<Waiter<T>>>, task: &Task) -> Option<Payload<T>> {
        let mut list = list.borrow_mut();
        let at = list.iter().position(|w| std::ptr::eq(&*w.task, task))?;
        list.remove(at).and_then(|w| w.payload)
    }
}

/// Removes a waiter's entry when it unwinds (killed) while waiting. It owns nothing, so
/// forgetting it once the wait is over leaks nothing.
struct Leave<'a, T> {
    list: &'a RefCell<VecDeque<Waiter<T>>>,
    task: &'a Task,
}

impl<T> Drop for Leave<'_, T> {
    fn drop(&mut self) {
        drop(Inner::leave(self.list, self.task));
    }
}

impl<T> Channel<T> {
    /// A channel with nobody waiting.
    pub fn new() -> Channel<T> {
        Channel {
            inner: Rc::new(Inner {
                senders: RefCell::default(),
                receivers: RefCell::default(),
            }),
        }
    }

    /// Whether a tasklet waits in [`receive`](Channel::receive).
    pub fn has_receiver(&self) -> bool {
        self.inner
            .receivers
            .borrow()
            .iter()
            .any(|w| w.payload.is_none() && is_live(&w.task, w.epoch))
    }

    /// Whether a tasklet waits in [`send`](Channel::send).
    pub fn has_sender(&self) -> bool {
        self.inner
            .senders
            .borrow()
            .iter()
            .any(|w| is_live(&w.task, w.epoch))
    }

    /// Sends `value`: waits for a receiver, hands it over, and lets the receiver run first.
    ///
    /// # Panics
    ///
    /// Panics outside a tasklet.
    #[track_caller]
    pub fn send(&self, value: T) {
        if let Err(e) = self.put(Payload::Value(value), None) {
            unreachable!("a send without deadline does not time out: {e}");
        }
    }

    /// [`send`](Channel::send), waiting at most `timeout` for a receiver.
    ///
    /// # Errors
    ///
    /// [`SendError::TimedOut`] with the value when no receiver came in time.
    #[track_caller]
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendError<T>> {
        self.put(Payload::Value(value), Instant::now().checked_add(timeout))
            .map_err(|e| {
                e.map(|p| match p {
                    Payload::Value(v) => v,
                    Payload::Exception(_) => unreachable!("a value was sent"),
                })
            })
    }

    /// Sends an exception instead of a value: the receiver's `receive` panics with `payload`
    /// (through [`std::panic::resume_unwind`], so no panic message is printed), which it may
    /// catch with [`std::panic::catch_unwind`]; uncaught, it ends the receiving tasklet, whose
    /// join reports the panic. Waits for a receiver like [`send`](Channel::send).
    ///
    /// # Panics
    ///
    /// Panics outside a tasklet.
    #[track_caller]
    pub fn send_exception<E: Any + Send>(&self, payload: E) {
        if let Err(e) = self.put(Payload::Exception(Box::new(payload)), None) {
            unreachable!("a send without deadline does not time out: {e}");
        }
    }

    /// [`send_exception`](Channel::send_exception), waiting at most `timeout` for a receiver.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no receiver came in time (the payload is dropped).
    #[track_caller]
    pub fn send_exception_timeout<E: Any + Send>(
        &self,
        payload: E,
        timeout: Duration,
    ) -> Result<(), TimeoutError> {
        self.put(
            Payload::Exception(Box::new(payload)),
            Instant::now().checked_add(timeout),
        )
        .map_err(|_| TimeoutError)
    }

    /// Receives a value: waits for a sender and takes its value.
    ///
    /// # Panics
    ///
    /// Panics outside a tasklet when no sender waits, and re-raises an exception sent with
    /// [`send_exception`](Channel::send_exception).
    #[track_caller]
    pub fn receive(&self) -> T {
        self.take(None)
            .expect("a receive without deadline does not time out")
    }

    /// [`receive`](Channel::receive), waiting at most `timeout` for a sender.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no sender came in time.
    ///
    /// # Panics
    ///
    /// As `receive`.
    #[track_caller]
    pub fn receive_timeout(&self, timeout: Duration) -> Result<T, TimeoutError> {
        self.take(Instant::now().checked_add(timeout))
    }

    #[track_caller]
    fn put(
        &self,
        payload: Payload<T>,
        deadline: Option<Instant>,
    ) -> Result<(), SendError<Payload<T>>> {
        let handed = {
            let mut receivers = self.inner.receivers.borrow_mut();
            receivers.retain(|w| w.payload.is_some() || is_live(&w.task, w.epoch));
            match receivers.iter_mut().find(|w| w.payload.is_none()) {
                Some(w) => {
                    w.payload = Some(payload);
                    Ok((w.task.clone(), w.epoch))
                }
                None => Err(payload),
            }
        };
        let payload = match handed {
            Ok((task, epoch)) => {
                let sched = scheduler::get();
                sched.wake_next(&task, epoch);
                // The receiver runs next; the sender goes to the back of the queue.
                let wait = Wait::begin(WaitOn::Yield);
                sched.wake(wait.task(), wait.epoch(), crate::coroutine::Wake::Ready);
                let _ = wait.suspend(None);
                return Ok(());
            }
            Err(payload) => payload,
        };
        let wait = Wait::begin(WaitOn::ChannelSend);
        let me = wait.task().clone();
        self.inner.senders.borrow_mut().push_back(Waiter {
            task: me.clone(),
            epoch: wait.epoch(),
            payload: Some(payload),
        });
        let leave = Leave {
            list: &self.inner.senders,
            task: &me,
        };
        let woken = wait.suspend(deadline);
        std::mem::forget(leave);
        match woken {
            Ok(()) => Ok(()),
            Err(TimeoutError) => match Inner::leave(&self.inner.senders, &me) {
                Some(payload) => Err(SendError::TimedOut(payload)),
                None => Ok(()), // taken as the deadline passed
            },
        }
    }

    #[track_caller]
    fn take(&self, deadline: Option<Instant>) -> Result<T, TimeoutError> {
        let sender = {
            let mut senders = self.inner.senders.borrow_mut();
            senders.retain(|w| is_live(&w.task, w.epoch));
            senders.pop_front()
        };
        if let Some(mut sender) = sender {
            let payload = sender.payload.take();
            scheduler::get().wake(&sender.task, sender.epoch, crate::coroutine::Wake::Ready);
            return Ok(deliver(payload));
        }
        let wait = Wait::begin(WaitOn::ChannelReceive);
        let me = wait.task().clone();
        self.inner.receivers.borrow_mut().push_back(Waiter {
            task: me.clone(),
            epoch: wait.epoch(),
            payload: None,
        });
        let leave = Leave {
            list: &self.inner.receivers,
            task: &me,
        };
        let woken = wait.suspend(deadline);
        std::mem::forget(leave);
        let payload = Inner::leave(&self.inner.receivers, &me);
        match (woken, payload) {
            (_, Some(payload)) => Ok(deliver(Some(payload))),
            (Err(TimeoutError), None) => Err(TimeoutError),
            (Ok(()), None) => unreachable!("a receiver is woken only with a value"),
        }
    }
}

/// The value a receiver gets, or the exception it raises.
fn deliver<T>(payload: Option<Payload<T>>) -> T {
    match payload {
        Some(Payload::Value(value)) => value,
        Some(Payload::Exception(payload)) => resume_unwind(payload),
        None => unreachable!("a waiting sender always holds its payload"),
    }
}

impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        Channel {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for Channel<T> {
    fn default() -> Self {
        Channel::new()
    }
}

impl<T> fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("has_sender", &self.has_sender())
            .field("has_receiver", &self.has_receiver())
            .finish()
    }
}
