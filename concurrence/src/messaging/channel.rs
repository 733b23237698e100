//! [`Channel`]: a rendezvous between a sending and a receiving tasklet, with timeouts.
//!
//! Senders wait in the channel's list with their value until a receiver takes it; receivers
//! wait in a [`WaitList`] until a sender comes:
//! - a receiver takes the value of the oldest sender that still waits, wakes it (to the back
//!   of the run queue) and goes on;
//! - a sender finding a waiting receiver wakes it to run first, ahead of everything else
//!   (the original: "execution will continue in the receiver"), queues its value and waits until
//!   the receiver has taken it.
//!
//! A value stays in its sender's entry until a receiver takes it, so it is never lost: a
//! receiver killed before it ran passes its wake-up on and leaves the value to the next one; a
//! sender whose deadline passed takes its entry back, value included (receivers skip entries
//! whose wait has ended). A killed sender's entry leaves with it, its value dropped as the
//! sender unwinds.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::panic::resume_unwind;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::engine::condition::{sealed, Condition, Label, Waiter};
use crate::engine::coroutine::Wake;
use crate::engine::scheduler;
use crate::engine::state::{Task, WaitOn};
use crate::engine::timer::deadline_after;
use crate::engine::wait::{is_live, Ended, Wait, WaitList};
use crate::error::TimeoutError;
use crate::messaging::message::SendError;

/// A rendezvous channel between tasklets (the original's `Channel`): `send` waits for a receiver,
/// `receive` for a sender, each with a `_timeout` form.
///
/// After a rendezvous the receiver runs first, ahead of anything else (even what the sender
/// spawned), and the sender goes to the back of the run queue; `send` returns only once the
/// receiver has the value, so a value is either received or given back, never lost.
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

/// A sender waiting in the channel with its value.
struct Sender<T> {
    task: Rc<Task>,
    epoch: u32,
    payload: Payload<T>,
}

struct Inner<T> {
    senders: RefCell<VecDeque<Sender<T>>>,
    receivers: RefCell<WaitList>,
    /// Tasklets waiting for a receiver to come, without a value yet (the `receiver`
    /// condition): each receiver that starts waiting wakes one.
    await_receiver: RefCell<WaitList>,
}

impl<T> Inner<T> {
    /// Takes the value of the oldest sender that still waits, and wakes that sender.
    fn take_live(&self) -> Option<Payload<T>> {
        let sender = {
            let mut senders = self.senders.borrow_mut();
            let at = senders.iter().position(|s| is_live(&s.task, s.epoch))?;
            senders.remove(at)?
        };
        scheduler::get().wake(&sender.task, sender.epoch, Wake::Ready);
        Some(sender.payload)
    }

    /// Removes `task`'s entry, giving back its value.
    fn leave(&self, task: &Task) -> Option<Payload<T>> {
        let mut senders = self.senders.borrow_mut();
        let at = senders
            .iter()
            .position(|s| std::ptr::addr_eq(Rc::as_ptr(&s.task), task))?;
        senders.remove(at).map(|s| s.payload)
    }

    /// Gives `task`'s entry the epoch of its new wait; `false` when it has no entry (its value
    /// was taken).
    fn renew(&self, task: &Task, epoch: u32) -> bool {
        let mut senders = self.senders.borrow_mut();
        match senders
            .iter_mut()
            .find(|s| std::ptr::addr_eq(Rc::as_ptr(&s.task), task))
        {
            Some(sender) => {
                sender.epoch = epoch;
                true
            }
            None => false,
        }
    }

    /// A receiver started waiting: one tasklet waiting for a receiver may send now.
    fn receiver_came(&self) {
        if !self.await_receiver.borrow().is_empty() {
            self.await_receiver.borrow_mut().wake_one(&scheduler::get());
        }
    }

    fn has_live_sender(&self) -> bool {
        self.senders
            .borrow()
            .iter()
            .any(|s| is_live(&s.task, s.epoch))
    }
}

/// Removes a sender's entry when it unwinds (killed) while waiting: its value is dropped
/// with it, after the list is no longer borrowed.
struct LeaveSenders<'a, T> {
    inner: &'a Inner<T>,
    task: &'a Task,
}

impl<T> Drop for LeaveSenders<'_, T> {
    fn drop(&mut self) {
        drop(self.inner.leave(self.task));
    }
}

/// Removes a receiver's entry when it leaves without a value (timed out, or killed); if a
/// sender waits, the next receiver gets the wake-up it may have been given.
struct LeaveReceivers<'a, T> {
    inner: &'a Inner<T>,
    task: *const Task,
}

impl<T> Drop for LeaveReceivers<'_, T> {
    fn drop(&mut self) {
        let pass_on = self.inner.has_live_sender();
        self.inner.receivers.borrow_mut().leave(self.task, pass_on);
    }
}

impl<T> Channel<T> {
    /// A channel with nobody waiting.
    pub fn new() -> Channel<T> {
        Channel {
            inner: Rc::new(Inner {
                senders: RefCell::default(),
                receivers: RefCell::default(),
                await_receiver: RefCell::default(),
            }),
        }
    }

    /// Whether a tasklet waits in [`receive`](Channel::receive).
    pub fn has_receiver(&self) -> bool {
        self.inner.receivers.borrow().has_live()
    }

    /// Whether a tasklet waits in [`send`](Channel::send).
    pub fn has_sender(&self) -> bool {
        self.inner.has_live_sender()
    }

    /// Sends `value`: waits for a receiver, lets it run first, and returns once it has taken
    /// the value. A value is never lost: if the receiver is killed before it takes it, the
    /// value waits for the next receiver.
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
    /// [`SendError::TimedOut`] with the value when no receiver took it in time.
    #[track_caller]
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendError<T>> {
        self.put(Payload::Value(value), Some(deadline_after(timeout)))
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
            Some(deadline_after(timeout)),
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
        self.take(Some(deadline_after(timeout)))
    }

    #[track_caller]
    fn put(
        &self,
        payload: Payload<T>,
        deadline: Option<Instant>,
    ) -> Result<(), SendError<Payload<T>>> {
        let mut wait = Wait::begin(WaitOn::ChannelSend);
        let me = wait.task().clone();
        // A waiting receiver runs first, and takes the value queued just below.
        self.inner
            .receivers
            .borrow_mut()
            .wake_first(&scheduler::get());
        self.inner.senders.borrow_mut().push_back(Sender {
            task: me.clone(),
            epoch: wait.epoch(),
            payload,
        });
        let leave = LeaveSenders {
            inner: &self.inner,
            task: &me,
        };
        loop {
            match wait.suspend(deadline) {
                // Woken only by the receiver that took the value.
                Ok(()) => break,
                // Killed while unwinding in an untimed send, which cannot give the value back:
                // unless it was taken already, wait on (the kill ended only this wait).
                Err(Ended::Killed) if deadline.is_none() => {
                    wait = Wait::begin(WaitOn::ChannelSend);
                    if !self.inner.renew(&me, wait.epoch()) {
                        break;
                    }
                }
                // Timed out (or killed while unwinding in a timed send): the value comes back,
                // unless a receiver took it first.
                Err(_) => {
                    std::mem::forget(leave);
                    return match self.inner.leave(&me) {
                        Some(payload) => Err(SendError::TimedOut(payload)),
                        None => Ok(()),
                    };
                }
            }
        }
        std::mem::forget(leave);
        Ok(())
    }

    #[track_caller]
    fn take(&self, deadline: Option<Instant>) -> Result<T, TimeoutError> {
        loop {
            if let Some(payload) = self.inner.take_live() {
                return Ok(deliver(payload));
            }
            let wait = Wait::begin(WaitOn::ChannelReceive);
            self.inner.receivers.borrow_mut().push(&wait);
            self.inner.receiver_came();
            let leave = LeaveReceivers {
                inner: &self.inner,
                task: Rc::as_ptr(wait.task()),
            };
            match wait.suspend(deadline) {
                Ok(()) => {
                    // Woken by a sender; if its value is gone (the sender timed out first, or
                    // another receiver took it), wait again.
                    std::mem::forget(leave);
                }
                Err(ended) => {
                    drop(leave);
                    // A sender may have come with the deadline: take its value all the same.
                    if let Some(payload) = self.inner.take_live() {
                        return Ok(deliver(payload));
                    }
                    if deadline.is_some() || ended == Ended::TimedOut {
                        return Err(TimeoutError);
                    }
                    // Killed while unwinding in an untimed receive, which cannot report it:
                    // wait on.
                }
            }
        }
    }
}

/// The value a receiver gets, or the exception it raises.
fn deliver<T>(payload: Payload<T>) -> T {
    match payload {
        Payload::Value(value) => value,
        Payload::Exception(payload) => resume_unwind(payload),
    }
}

/// A value sent on a channel: the condition of
/// [`wait_for::receive`](crate::wait_for::receive). It fires with the value it takes from the
/// oldest waiting sender (an exception sent with `send_exception` is raised when it fires, as
/// `receive` raises it); a sender's value stays with it unless this condition wins.
pub struct ChannelValue<'a, T> {
    channel: &'a Channel<T>,
}

impl<'a, T> ChannelValue<'a, T> {
    pub(crate) fn new(channel: &'a Channel<T>) -> ChannelValue<'a, T> {
        ChannelValue { channel }
    }
}

impl<T> sealed::Sealed for ChannelValue<'_, T> {}

impl<T> Condition for ChannelValue<'_, T> {
    type Output = T;

    fn poll(&mut self) -> Option<T> {
        self.channel.inner.take_live().map(deliver)
    }

    fn arm(&mut self, waiter: &Waiter) {
        let inner = &self.channel.inner;
        inner
            .receivers
            .borrow_mut()
            .push_token(&waiter.task, waiter.epoch);
        inner.receiver_came();
    }

    fn disarm(&mut self, waiter: &Waiter) {
        drop(LeaveReceivers {
            inner: &self.channel.inner,
            task: Rc::as_ptr(&waiter.task),
        });
    }

    fn label(&self) -> Label {
        Label(WaitOn::ChannelReceive)
    }
}

impl<T> fmt::Debug for ChannelValue<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelValue").finish_non_exhaustive()
    }
}

/// A receiver waiting on a channel: the condition of
/// [`wait_for::receiver`](crate::wait_for::receiver). It fires with `()` while a receiver
/// waits, so that a [`send`](Channel::send) made right after it hands the value over without
/// waiting for one (the value is chosen only once someone takes it, and is never left behind in
/// a wait that another condition won).
pub struct ChannelReceiver<'a, T> {
    channel: &'a Channel<T>,
    /// It fired in this wait: the receiver is this tasklet's to send to, not passed on.
    fired: bool,
}

impl<'a, T> ChannelReceiver<'a, T> {
    pub(crate) fn new(channel: &'a Channel<T>) -> ChannelReceiver<'a, T> {
        ChannelReceiver {
            channel,
            fired: false,
        }
    }
}

impl<T> sealed::Sealed for ChannelReceiver<'_, T> {}

impl<T> Condition for ChannelReceiver<'_, T> {
    type Output = ();

    fn poll(&mut self) -> Option<()> {
        self.fired = self.channel.has_receiver();
        self.fired.then_some(())
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.fired = false;
        let inner = &self.channel.inner;
        inner
            .await_receiver
            .borrow_mut()
            .push_token(&waiter.task, waiter.epoch);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        let inner = &self.channel.inner;
        let pass_on = !self.fired && inner.receivers.borrow().has_live();
        inner
            .await_receiver
            .borrow_mut()
            .leave(Rc::as_ptr(&waiter.task), pass_on);
    }

    fn label(&self) -> Label {
        Label(WaitOn::ChannelSend)
    }
}

impl<T> fmt::Debug for ChannelReceiver<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelReceiver").finish_non_exhaustive()
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
