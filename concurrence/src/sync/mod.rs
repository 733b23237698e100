//! Synchronisation for the tasklets of one dispatcher: [`Semaphore`], [`Mutex`], [`RwLock`],
//! [`Notify`], [`Barrier`], [`broadcast`] and [`watch`] channels.
//!
//! What they share:
//!
//! - **Blocking style.** A call that may wait (`acquire`, `lock`, `notified`, `recv`, ...)
//!   suspends only its tasklet. Each has a `_timeout` form giving `Err(TimeoutError)` and a
//!   `try_` form that never blocks, and a condition in [`wait_for`](crate::wait_for) for
//!   [`select!`](crate::select), which takes nothing when another arm wins.
//! - **Fair hand-off.** What is given back (a permit, a lock, a notification) goes straight to
//!   the oldest waiting tasklet, so a newcomer cannot take it first.
//! - **Kill-safe.** A tasklet killed while it waits holds and loses nothing: what it was handed
//!   goes on to the next waiter. A guard or permit held by a tasklet that is killed or panics
//!   is given back as it unwinds. No lock is *poisoned* (as tokio's): a kill is a normal event
//!   here, and the guard's drop has released the lock by the time anyone else can see it.
//! - **One dispatcher.** They are `!Send` and use no atomics, like
//!   [`Mailbox`](crate::Mailbox): the tasklets that share one run on one thread. Between
//!   dispatchers, [`SendSemaphore`] is the semaphore for the whole program (tasklets of every
//!   dispatcher and plain threads, at the price of a mutex) and [`SendNotify`] the event; for
//!   the others use what crosses
//!   threads: calls to a tasklet that owns the state through a
//!   [`SendTasklet`](crate::SendTasklet), a [`WorkQueue`](crate::WorkQueue), or `std::sync`'s
//!   types for state touched without waiting.
//!
//! Their waiters are kept in the primitive's own queue on the heap, as wake-up tokens, never
//! in the frames of a tasklet's stack (which move under compact stacks).

pub(crate) mod barrier;
pub mod broadcast;
pub(crate) mod mutex;
pub(crate) mod notify;
pub(crate) mod queue;
pub(crate) mod rwlock;
pub(crate) mod semaphore;
pub(crate) mod send_notify;
pub(crate) mod send_semaphore;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use mutex::{Lock, Mutex, MutexGuard};
pub use notify::{Notified, Notify};
pub use rwlock::{ReadLock, RwLock, RwLockReadGuard, RwLockWriteGuard, WriteLock};
pub use semaphore::{Acquire, Permit, Semaphore};
pub use send_notify::{SendNotified, SendNotify};
pub use send_semaphore::{SendAcquire, SendPermit, SendSemaphore};
