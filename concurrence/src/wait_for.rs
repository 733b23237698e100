//! The conditions a tasklet can wait for, several at once (kiwi's `WaitFor...` objects): made
//! here, waited for by [`select!`](crate::select) or [`any`], or alone with
//! [`Condition::wait`].
//!
//! | condition | fires with | kiwi |
//! |---|---|---|
//! | [`timeout(d)`](timeout), [`deadline(t)`](deadline) | `()` | `WaitForTimeout` |
//! | [`join(&t)`](join) | `Result<T, JoinError>` (the result is taken) | `WaitForTasklet` |
//! | [`finished(&t)`](finished) | `()`: the result stays for a join | |
//! | [`future(f)`](future) | the future's output | |
//! | [`message()`](message), [`message_matching(f)`](message_matching) | the message (taken) | `WaitForMessages` |
//! | [`receive(&ch)`](receive) | the channel's value (taken) | |
//! | [`receiver(&ch)`](receiver) | `()`: a receiver waits, a send now does not | |
//! | [`popleft(&mb)`](popleft), [`pop(&mb)`](pop) | the mailbox's item (taken) | |
//! | [`work(&queue)`](work) | the [`WorkQueue`]'s item (taken), `None` once closed and empty | |
//! | [`readable(&fd)`](readable), [`writable(&fd)`](writable) | `io::Result<`[`Readiness`]`>` | `WaitForIO` |
//! | [`signal(&signals)`](signal) | `io::Result<c_int>`: the signal | `WaitForSignal` |
//! | [`exit(&mut child)`](exit) | `io::Result<ExitStatus>` | `WaitForProcess` |
//! | [`call(&call_wait)`](call) | [`Called`](crate::Called): the call's arguments and reply | `WaitForCall` |
//! | [`idle()`](idle) | `()`: nothing else is ready to run | `WaitForIdle` |
//! | [`acquire(&sem)`](acquire), [`acquire_many(&sem, n)`](acquire_many) | the [`Permit`](crate::sync::Permit) (taken) | |
//! | [`acquire_send(&sem)`](acquire_send) | the [`SendPermit`](crate::sync::SendPermit) of a [`SendSemaphore`] (taken) | |
//! | [`notified(&notify)`](notified), [`notified_send(&send_notify)`](notified_send) | `()` (the notification taken) | |
//! | [`barrier(&barrier)`](barrier()) | [`BarrierWaitResult`](crate::sync::BarrierWaitResult) (the arrival withdrawn if it loses first) | |
//! | [`recv(&rx)`](recv) | a [`broadcast`] value or its `RecvError` (the receiver moves on) | |
//! | [`changed(&rx)`](changed) | `Result<(), watch::RecvError>` (the [`watch`] value marked seen) | |
//! | [`lock(&mutex)`](lock) | the [`MutexGuard`](crate::sync::MutexGuard) (taken) | |
//! | [`read_lock(&rwlock)`](read_lock), [`write_lock(&rwlock)`](write_lock) | the [`RwLockReadGuard`](crate::sync::RwLockReadGuard), [`RwLockWriteGuard`](crate::sync::RwLockWriteGuard) (taken) | |
//!
//! When several have their events, the first in the wait's order wins; a condition that did
//! not win takes nothing (its message stays in the mailbox, the sender keeps its value, the
//! call stays queued), so it can be waited for again. A condition is a value: reuse one across
//! waits through `&mut` (a [`Timeout`] keeps its deadline until it fires).

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use crate::io::source::Dir;
use crate::messaging::message::Messages;
use crate::messaging::receive::own_inbox;
use crate::process::Child;
use crate::signal::Signals;
use crate::sync::{
    broadcast, watch, Barrier, Mutex, Notify, RwLock, Semaphore, SendNotify, SendSemaphore,
};
use crate::{CallWait, Channel, Mailbox, Tasklet, WorkQueue};

pub use crate::engine::condition::{any, Condition, Map, Timeout};
pub use crate::io::fd::Ready;
pub use crate::io::future::Polled;
pub use crate::io::Readiness;
pub use crate::messaging::call_wait::Call;
pub use crate::messaging::channel::{ChannelReceiver, ChannelValue};
pub use crate::messaging::mailbox::{Item, Matching};
pub use crate::messaging::work_queue::Pop;
pub use crate::process::Exit;
pub use crate::signal::Signal;
pub use crate::sync::broadcast::Recv;
pub use crate::sync::watch::Changed;
pub use crate::sync::{
    Acquire, BarrierWait, Lock, Notified, ReadLock, SendAcquire, SendNotified, WriteLock,
};
pub use crate::task::idle::Idle;
pub use crate::task::join::{Finished, Join};

#[doc(hidden)]
pub use crate::engine::condition::{Label, Or, Waiter};

/// A timeout `period` from now; see [`Timeout`] for how it behaves when reused.
pub fn timeout(period: Duration) -> Timeout {
    Timeout::after(period)
}

/// A timeout at the instant `at`.
pub fn deadline(at: Instant) -> Timeout {
    Timeout::at(at)
}

/// An item of `queue` (from any thread), with what [`WorkQueue::pop`] would return.
pub fn work<T>(queue: &WorkQueue<T>) -> Pop<'_, T> {
    Pop::new(queue)
}

/// The tasklet `tasklet` finishing, with what [`Tasklet::join`] would return.
pub fn join<T, M>(tasklet: &Tasklet<T, M>) -> Join<'_, T, M> {
    Join::new(tasklet)
}

/// The tasklet `tasklet` having finished; unlike [`join`], this leaves its result for a join.
pub fn finished<T, M>(tasklet: &Tasklet<T, M>) -> Finished<'_, T, M> {
    Finished::new(tasklet)
}

/// The output of `future`, polled on the waiting tasklet's dispatcher as
/// [`io::wait_future`](crate::io::wait_future) polls it (on the heap; its waker may be called
/// from any thread). The future is dropped with the condition: when another arm wins, it is
/// cancelled.
pub fn future<F: std::future::Future>(future: F) -> Polled<F> {
    Polled::new(future)
}

/// The current tasklet's oldest message (its message set is `M`).
///
/// # Panics
///
/// Panics outside a tasklet, and in a tasklet whose message set is not `M`.
#[track_caller]
pub fn message<M: Messages>() -> Item<M> {
    Item::new(own_inbox::<M>(), true)
}

/// The current tasklet's oldest message that `accept` accepts; the others stay in its mailbox,
/// in order (kiwi's `WaitForMessages(accept=...)`, which dropped them: nothing is dropped here).
///
/// # Panics
///
/// As [`message`].
#[track_caller]
pub fn message_matching<M: Messages, F: FnMut(&M) -> bool>(accept: F) -> Matching<M, F> {
    Matching::new(own_inbox::<M>(), accept)
}

/// A value sent on `channel`, taken when this condition wins.
pub fn receive<T>(channel: &Channel<T>) -> ChannelValue<'_, T> {
    ChannelValue::new(channel)
}

/// A receiver waiting on `channel`: a [`Channel::send`] right after it fires hands the value
/// over without waiting.
pub fn receiver<T>(channel: &Channel<T>) -> ChannelReceiver<'_, T> {
    ChannelReceiver::new(channel)
}

/// The first item of `mailbox`, taken when this condition wins (as [`Mailbox::popleft`]).
pub fn popleft<T>(mailbox: &Mailbox<T>) -> Item<T> {
    Item::new(mailbox.inner().clone(), true)
}

/// The last item of `mailbox`, taken when this condition wins (as [`Mailbox::pop`]).
pub fn pop<T>(mailbox: &Mailbox<T>) -> Item<T> {
    Item::new(mailbox.inner().clone(), false)
}

/// The descriptor `fd` becoming readable (or hung up, or in error).
pub fn readable<F: AsFd + ?Sized>(fd: &F) -> Ready<'_> {
    Ready::new(fd.as_fd(), Dir::Read)
}

/// The descriptor `fd` becoming writable (or in error).
pub fn writable<F: AsFd + ?Sized>(fd: &F) -> Ready<'_> {
    Ready::new(fd.as_fd(), Dir::Write)
}

/// One of `signals` arriving.
pub fn signal(signals: &Signals) -> Signal<'_> {
    Signal::new(signals)
}

/// The child process `child` ending, with its exit status.
pub fn exit(child: &mut Child) -> Exit<'_> {
    Exit::new(child)
}

/// A call at `call_wait`: fires with the [`Called`](crate::Called) to answer.
pub fn call<A, R>(call_wait: &CallWait<A, R>) -> Call<'_, A, R> {
    Call::new(call_wait)
}

/// A permit of `semaphore`, taken when this condition wins (as [`Semaphore::acquire`]).
pub fn acquire(semaphore: &Semaphore) -> Acquire {
    Acquire::new(semaphore.clone(), 1)
}

/// `n` permits of `semaphore`, taken when this condition wins (as
/// [`Semaphore::acquire_many`]).
///
/// # Panics
///
/// Panics when `n` is more than [`Semaphore::MAX_PERMITS`].
pub fn acquire_many(semaphore: &Semaphore, n: usize) -> Acquire {
    Acquire::new(semaphore.clone(), n)
}

/// A permit of a [`SendSemaphore`], taken when this condition wins (as
/// [`SendSemaphore::acquire`]); a release on any thread ends the wait.
pub fn acquire_send(semaphore: &SendSemaphore) -> SendAcquire {
    SendAcquire::new(semaphore.clone(), 1)
}

/// A notification of a [`SendNotify`], taken when this condition wins (as
/// [`SendNotify::notified`]); a notification from any thread ends the wait.
pub fn notified_send(notify: &SendNotify) -> SendNotified {
    SendNotified::new(notify.clone())
}

/// The lock of `mutex`, taken when this condition wins (as [`Mutex::lock`]).
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> Lock<'_, T> {
    mutex.lock_condition()
}

/// A read lock of `lock`, taken when this condition wins (as [`RwLock::read`]).
pub fn read_lock<T: ?Sized>(lock: &RwLock<T>) -> ReadLock<'_, T> {
    lock.read_condition()
}

/// The write lock of `lock`, taken when this condition wins (as [`RwLock::write`]).
pub fn write_lock<T: ?Sized>(lock: &RwLock<T>) -> WriteLock<'_, T> {
    lock.write_condition()
}

/// A notification of `notify`, taken when this condition wins (as [`Notify::notified`]).
pub fn notified(notify: &Notify) -> Notified {
    Notified::new(notify.clone())
}

/// The round of `barrier` completing (as [`Barrier::wait`]): armed, it counts as an arrival,
/// withdrawn if the condition does not win before the round completes.
pub fn barrier(barrier: &Barrier) -> BarrierWait {
    BarrierWait::new(barrier.clone())
}

/// The next value of a broadcast `receiver` (as [`broadcast::Receiver::recv`]); the receiver
/// moves on only when this condition wins.
pub fn recv<T: Clone>(receiver: &broadcast::Receiver<T>) -> Recv<'_, T> {
    Recv::new(receiver)
}

/// A value of a watch `receiver` it has not seen (as [`watch::Receiver::changed`]); marked
/// seen only when this condition wins.
pub fn changed<T>(receiver: &watch::Receiver<T>) -> Changed<'_, T> {
    Changed::new(receiver)
}

/// The dispatcher having nothing else to run.
pub fn idle() -> Idle {
    Idle::new()
}

/// Used by `select!`: an arm's condition, its event wrapped as that arm's. Its bounds are
/// checked at the arm (the call is spanned there), so a value that is not a condition is
/// reported at its arm.
#[doc(hidden)]
pub fn __arm<C: Condition<Output = O>, O, E>(
    condition: C,
    event: fn(O) -> E,
) -> Map<C, fn(O) -> E> {
    condition.map(event)
}

/// Used by `select!`: two arms' conditions as one, `first` before `second`, called without a
/// table of `dyn Condition`s. No bounds here: the chain is checked once, where `select!` waits
/// on it.
#[doc(hidden)]
pub fn __or<A, B>(first: A, second: B) -> Or<A, B> {
    Or::new(first, second)
}
