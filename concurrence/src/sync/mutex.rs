//! [`Mutex`]: a value that one tasklet at a time holds, across suspensions.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::timer::deadline_after;
use crate::error::TimeoutError;
use crate::sync::semaphore::{Acquire, Permit, Semaphore};

/// What a deadlock report says a mutex's waiter waits for.
const WAITS_FOR: &&str = &"the lock of a mutex";

/// A value that one tasklet at a time holds, for as long as it needs, suspensions included:
/// [`lock`](Mutex::lock) waits for the lock and gives a [`MutexGuard`], which releases it
/// when dropped.
///
/// Between suspension points a tasklet runs alone, so a `RefCell` is enough for state touched
/// without waiting; a `Mutex` is for state held *while* waiting (a connection used for a
/// request and its answer, a file written in several calls, an invariant restored only after
/// IO).
///
/// - **Fair, by hand-off** (it is a [`Semaphore`] of one permit): on release the lock goes
///   straight to the oldest waiter, so a tasklet that locks in a loop cannot starve the others,
///   and [`try_lock`](Mutex::try_lock) cannot take it first.
/// - **No poisoning** (as tokio's `Mutex`, unlike std's): a tasklet killed or panicking while
///   it holds the guard releases the lock as it unwinds, and the next holder gets the value as
///   it was left. A kill is a normal event here (`Server::stop`, a supervisor's restart), and
///   code that must not leave the value half-changed restores it in a guard's `Drop` of its
///   own, or changes it only between suspension points.
/// - **Kill-safe waiters**: a waiter killed, timing out, or losing in a `select!` takes
///   nothing; if the lock was handed to it meanwhile, it goes on to the next waiter.
/// - **Timeouts** by the crate's rule: [`lock_timeout`](Mutex::lock_timeout),
///   [`try_lock`](Mutex::try_lock), and [`wait_for::lock`](crate::wait_for::lock) for
///   `select!`.
///
/// As std's `Mutex`, it owns its value; share it between tasklets in an `Rc`. It is not
/// re-entrant: a tasklet that locks it twice waits for itself (reported as a deadlock when
/// nothing else can run). **One dispatcher**: it is `!Send`. For a value that tasklets of
/// several dispatchers use, let one tasklet own it and serve calls through a
/// [`SendTasklet`](crate::SendTasklet), or use `std::sync::Mutex` when the value is never held
/// across a suspension (a std lock held while the tasklet waits would block the whole thread).
///
/// # Examples
///
/// Two tasklets write their lines in turn, each holding the lock across a sleep:
///
/// ```
/// use concurrence::sync::Mutex;
/// use concurrence::{dispatch, sleep, spawn};
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// dispatch(|| {
///     let log = Rc::new(Mutex::new(Vec::new()));
///     let writers: Vec<_> = ["a", "b"]
///         .into_iter()
///         .map(|name| {
///             let log = log.clone();
///             spawn(move || {
///                 let mut log = log.lock();
///                 log.push(format!("{name} starts"));
///                 sleep(Duration::from_millis(5)); // still held
///                 log.push(format!("{name} ends"));
///             })
///         })
///         .collect();
///     writers.iter().for_each(|w| w.join().unwrap());
///     assert_eq!(*log.lock(), ["a starts", "a ends", "b starts", "b ends"]);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    semaphore: Semaphore,
    value: RefCell<T>,
}

impl<T> Mutex<T> {
    /// A mutex holding `value`, unlocked.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            semaphore: Semaphore::new(1),
            value: RefCell::new(value),
        }
    }

    /// The value, taken out of the mutex.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks it, waiting while another tasklet holds it; released when the guard is dropped.
    ///
    /// # Panics
    ///
    /// Panics when it has to wait outside a tasklet.
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.lock_condition().wait()
    }

    /// [`lock`](Mutex::lock), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the lock did not come in time.
    #[track_caller]
    pub fn lock_timeout(&self, timeout: Duration) -> Result<MutexGuard<'_, T>, TimeoutError> {
        wait_until(self.lock_condition(), Some(deadline_after(timeout))).ok_or(TimeoutError)
    }

    /// Locks it if nobody holds it and no tasklet waits for it, without blocking.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let permit = self.semaphore.try_acquire()?;
        Some(self.guard(permit))
    }

    /// Whether a tasklet holds it (or it was handed to a waiter that has not run yet).
    pub fn is_locked(&self) -> bool {
        self.semaphore.available_permits() == 0
    }

    /// The value, through a unique borrow of the mutex: no lock needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The condition of [`wait_for::lock`](crate::wait_for::lock).
    pub(crate) fn lock_condition(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            acquire: Acquire::waiting_for(self.semaphore.clone(), 1, WAITS_FOR),
        }
    }

    fn guard(&self, permit: Permit) -> MutexGuard<'_, T> {
        MutexGuard {
            // The permit is the lock's only one: nobody else borrows the value.
            value: self.value.borrow_mut(),
            _permit: permit,
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("value", &&*guard),
            None => d.field("value", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// The lock of a [`Mutex`], held: derefs to the value; dropping it releases the lock (to the
/// oldest waiter first), also when its tasklet is killed or panics.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    // Dropped first: the value is given back before the permit is.
    value: RefMut<'a, T>,
    _permit: Permit,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The lock of a mutex: the condition of [`wait_for::lock`](crate::wait_for::lock). It fires
/// with the [`MutexGuard`]; when it does not win, it takes nothing (a lock handed to it
/// meanwhile goes on to the next waiter).
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    acquire: Acquire,
}

impl<T: ?Sized> sealed::Sealed for Lock<'_, T> {}

impl<'a, T: ?Sized> Condition for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(&mut self) -> Option<MutexGuard<'a, T>> {
        let permit = self.acquire.poll()?;
        Some(self.mutex.guard(permit))
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.acquire.arm(waiter);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        self.acquire.disarm(waiter);
    }

    fn label(&self) -> Label {
        self.acquire.label()
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").finish_non_exhaustive()
    }
}
