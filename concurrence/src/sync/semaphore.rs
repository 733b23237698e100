//! [`Semaphore`]: a count of permits that tasklets wait for, handed to the oldest waiter.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::error::TimeoutError;
use crate::sync::queue::Queue;

/// A count of permits that tasklets take and give back: the original's `Semaphore`, with RAII
/// permits. [`acquire`](Semaphore::acquire) waits for a permit and gives a [`Permit`], which
/// gives it back when dropped.
///
/// - **Fair, by hand-off.** A permit given back goes straight to the oldest waiting tasklet
///   (its wait ends with the permit already its own), so a tasklet that comes later, even with
///   [`try_acquire`](Semaphore::try_acquire), cannot take it first. A waiter that wants several
///   permits ([`acquire_many`](Semaphore::acquire_many)) holds the younger ones back until it
///   has them all, as tokio's semaphore does.
/// - **Nothing is lost.** A waiter killed while it waits, or after it was handed its permit but
///   before it ran, gives the permit to the next waiter; a [`Permit`] dropped by a tasklet that
///   is killed or panics gives its permit back as the tasklet unwinds. A waiter that times out
///   takes nothing.
/// - **Giving back past the start.** The original's `release()` could raise the count past
///   where it started. Here a dropped `Permit` gives back exactly the permits it took, so the
///   count never grows by accident; raising it is an explicit
///   [`add_permits`](Semaphore::add_permits) (and lowering it [`Permit::forget`]).
/// - **Timeouts** follow the crate's rule: [`acquire_timeout`](Semaphore::acquire_timeout)
///   gives `Err(TimeoutError)`, [`try_acquire`](Semaphore::try_acquire) never blocks, and
///   [`wait_for::acquire`](crate::wait_for::acquire) is the condition for `select!`, which takes
///   a permit only when it wins.
///
/// A `Semaphore` is a cheap handle: clones share the count (as a [`Mailbox`](crate::Mailbox)'s
/// clones share its queue), and a `Permit` holds one, so it can move into the tasklet it
/// limits.
///
/// **One dispatcher.** Like every handle of the dispatcher it stays on its thread (`!Send`):
/// it counts the tasklets of one dispatcher, with no atomic on the way. To bound work across
/// dispatchers and threads, use a [`SendSemaphore`](crate::sync::SendSemaphore): the same
/// rules, behind a mutex.
///
/// # Examples
///
/// At most two of five jobs run at once:
///
/// ```
/// use concurrence::sync::Semaphore;
/// use concurrence::{dispatch, join_all, sleep, spawn};
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// dispatch(|| {
///     let slots = Semaphore::new(2);
///     let (running, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
///     let jobs: Vec<_> = (0..5)
///         .map(|_| {
///             let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
///             spawn(move || {
///                 let _permit = slots.acquire(); // given back when dropped
///                 running.set(running.get() + 1);
///                 most.set(most.get().max(running.get()));
///                 sleep(Duration::from_millis(5));
///                 running.set(running.get() - 1);
///             })
///         })
///         .collect();
///     join_all(&jobs);
///     assert_eq!(most.get(), 2);
///     assert_eq!(slots.available_permits(), 2);
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    inner: Rc<Inner>,
}

/// The shared state of a semaphore.
struct Inner {
    /// Permits nobody holds and no waiter was handed.
    available: Cell<usize>,
    /// The waiting tasklets; a granted entry holds its permits.
    waiters: RefCell<Queue<()>>,
}

/// What a deadlock report says a semaphore's waiter waits for.
const WAITS_FOR: &&str = &"a permit of a semaphore";

impl Semaphore {
    /// The most permits a semaphore holds: `usize::MAX >> 3`, so that adding to a full one is
    /// reported (a panic) rather than overflowing.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// Panics when `permits` is more than [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "concurrence: a semaphore holds at most Semaphore::MAX_PERMITS permits"
        );
        Semaphore {
            inner: Rc::new(Inner {
                available: Cell::new(permits),
                waiters: RefCell::default(),
            }),
        }
    }

    /// How many permits are free now (neither held nor handed to a waiter).
    pub fn available_permits(&self) -> usize {
        self.inner.available.get()
    }

    /// Takes a permit, waiting until one is free; the oldest waiter is served first.
    ///
    /// # Panics
    ///
    /// Panics when it has to wait outside a tasklet.
    #[track_caller]
    pub fn acquire(&self) -> Permit {
        self.acquire_many(1)
    }

    /// Takes `n` permits at once, waiting until they are free. While it waits at the head of
    /// the line, younger waiters wait behind it even if fewer permits would do for them.
    ///
    /// # Panics
    ///
    /// Panics when `n` is more than [`MAX_PERMITS`](Semaphore::MAX_PERMITS) (it could never be
    /// served), and when it has to wait outside a tasklet.
    #[track_caller]
    pub fn acquire_many(&self, n: usize) -> Permit {
        Acquire::new(self.clone(), n).wait()
    }

    /// [`acquire`](Semaphore::acquire), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no permit came in time; nothing was taken.
    #[track_caller]
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<Permit, TimeoutError> {
        self.acquire_many_timeout(1, timeout)
    }

    /// [`acquire_many`](Semaphore::acquire_many), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the permits did not come in time; nothing was taken.
    #[track_caller]
    pub fn acquire_many_timeout(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Permit, TimeoutError> {
        let deadline = deadline_after(timeout);
        wait_until(Acquire::new(self.clone(), n), Some(deadline)).ok_or(TimeoutError)
    }

    /// Takes a permit if one is free and no tasklet waits for one, without blocking.
    pub fn try_acquire(&self) -> Option<Permit> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and no tasklet waits, without blocking.
    pub fn try_acquire_many(&self, n: usize) -> Option<Permit> {
        self.inner.try_take(n).then(|| Permit {
            semaphore: self.clone(),
            n,
        })
    }

    /// Adds `n` permits, past the count it started with if need be (the original's
    /// `release()`); they go to the waiters first, oldest first.
    ///
    /// # Panics
    ///
    /// Panics when the count would pass [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
    pub fn add_permits(&self, n: usize) {
        let total = self.inner.available.get().saturating_add(n);
        assert!(
            total <= Semaphore::MAX_PERMITS,
            "concurrence: a semaphore holds at most Semaphore::MAX_PERMITS permits"
        );
        self.inner.give(n);
    }

    /// Whether `self` and `other` are handles of the same semaphore.
    pub fn same(&self, other: &Semaphore) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Inner {
    /// Takes `n` permits if they are free and nobody waits.
    fn try_take(&self, n: usize) -> bool {
        let available = self.available.get();
        if available < n || self.waiters.borrow().has_waiter() {
            return false;
        }
        self.available.set(available - n);
        true
    }

    /// Gives `n` permits back: to the waiters first, oldest first.
    fn give(&self, n: usize) {
        self.available.set(self.available.get() + n);
        self.hand_on();
    }

    /// Hands the free permits to the waiters, oldest first, while the oldest is satisfied.
    fn hand_on(&self) {
        let available = &self.available;
        self.waiters.borrow_mut().grant(|want| {
            let left = available.get().checked_sub(want)?;
            available.set(left);
            Some(())
        });
    }
}

/// Permits taken from a [`Semaphore`]; dropping it gives them back (to the oldest waiter
/// first), also when its tasklet is killed or panics.
#[must_use = "a permit is given back as soon as it is dropped"]
pub struct Permit {
    semaphore: Semaphore,
    n: usize,
}

impl Permit {
    /// How many permits it holds.
    pub fn count(&self) -> usize {
        self.n
    }

    /// The semaphore it came from.
    pub fn semaphore(&self) -> &Semaphore {
        &self.semaphore
    }

    /// Keeps the permits out of the semaphore for good: its count goes down by
    /// [`count`](Permit::count).
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.n > 0 {
            self.semaphore.inner.give(self.n);
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("count", &self.n).finish()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available_permits())
            .finish_non_exhaustive()
    }
}

/// Permits of a semaphore: the condition of [`wait_for::acquire`](crate::wait_for::acquire)
/// and [`wait_for::acquire_many`](crate::wait_for::acquire_many). It fires with the
/// [`Permit`]; when it does not win, it takes nothing (permits handed to it meanwhile go on to
/// the next waiter).
pub struct Acquire {
    semaphore: Semaphore,
    n: usize,
    /// What a deadlock report says it waits for.
    what: &'static &'static str,
    /// Its entry among the waiters while it is armed.
    ticket: Option<u64>,
}

impl Acquire {
    /// `n` permits of `semaphore`.
    pub(crate) fn new(semaphore: Semaphore, n: usize) -> Acquire {
        Acquire::waiting_for(semaphore, n, WAITS_FOR)
    }

    /// `n` permits of `semaphore`, reported in a deadlock as waiting for `what` (a lock).
    pub(crate) fn waiting_for(
        semaphore: Semaphore,
        n: usize,
        what: &'static &'static str,
    ) -> Acquire {
        assert!(
            n <= Semaphore::MAX_PERMITS,
            "concurrence: a semaphore holds at most Semaphore::MAX_PERMITS permits, so \
             acquiring more could never end"
        );
        Acquire {
            semaphore,
            n,
            what,
            ticket: None,
        }
    }

    fn permit(&self) -> Permit {
        Permit {
            semaphore: self.semaphore.clone(),
            n: self.n,
        }
    }
}

impl sealed::Sealed for Acquire {}

impl Condition for Acquire {
    type Output = Permit;

    fn poll(&mut self) -> Option<Permit> {
        let inner = &self.semaphore.inner;
        match self.ticket {
            None => inner.try_take(self.n).then(|| self.permit()),
            Some(ticket) => {
                let mut waiters = inner.waiters.borrow_mut();
                if !waiters.is_granted(ticket) {
                    return None;
                }
                waiters.remove(ticket);
                drop(waiters);
                self.ticket = None;
                Some(self.permit())
            }
        }
    }

    fn arm(&mut self, waiter: &Waiter) {
        let ticket = self
            .semaphore
            .inner
            .waiters
            .borrow_mut()
            .push(waiter, self.n);
        self.ticket = Some(ticket);
    }

    fn disarm(&mut self, _: &Waiter) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let inner = &self.semaphore.inner;
        let entry = inner.waiters.borrow_mut().remove(ticket);
        match entry {
            // Handed its permits but leaving without them: they go on to the next waiter.
            Some(entry) if entry.granted.is_some() => inner.give(entry.want),
            // Its place in line may have held younger waiters back.
            _ => inner.hand_on(),
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::Sync(self.what))
    }
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}
