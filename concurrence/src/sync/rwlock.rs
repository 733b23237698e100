//! [`RwLock`]: a value that many tasklets read at once, or one writes, across suspensions.

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::timer::deadline_after;
use crate::error::TimeoutError;
use crate::sync::semaphore::{Acquire, Permit, Semaphore};

/// What a deadlock report says a reader waits for.
const READ: &&str = &"a read lock of an RwLock";
/// What a deadlock report says a writer waits for.
const WRITE: &&str = &"the write lock of an RwLock";

/// How many readers may hold it at once (a writer takes them all).
const READERS: usize = Semaphore::MAX_PERMITS;

/// A value that many tasklets read at once, or one tasklet writes, each for as long as it
/// needs, suspensions included: [`read`](RwLock::read) gives an [`RwLockReadGuard`],
/// [`write`](RwLock::write) an [`RwLockWriteGuard`]; dropping a guard releases it.
///
/// It is a [`Semaphore`] whose readers take one permit and whose writer takes them all, as
/// tokio's `RwLock` is, so it is **fair in arrival order**: a writer waits for the readers
/// that came before it, and readers that come after a waiting writer wait behind it (a stream
/// of readers cannot starve a writer, nor a stream of writers the readers). What is released
/// is handed to the oldest waiters at once (several readers in a row together).
///
/// As [`Mutex`](crate::sync::Mutex): **no poisoning** (a guard dropped while a killed or
/// panicking tasklet unwinds releases its lock), waiters killed, timed out or losing in a
/// `select!` take nothing, `_timeout` and `try_` forms and
/// [`wait_for::read`](crate::wait_for::read_lock) and [`wait_for::write`](crate::wait_for::write_lock)
/// for `select!`. Share it in an `Rc`; **one dispatcher** (`!Send`): across dispatchers let one
/// tasklet own the value and answer calls, or use `std::sync::RwLock` for a value never held
/// across a suspension.
///
/// # Examples
///
/// Readers share the lock; the writer waits for them to finish:
///
/// ```
/// use concurrence::sync::RwLock;
/// use concurrence::{dispatch, sleep, spawn, yield_};
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// dispatch(|| {
///     let config = Rc::new(RwLock::new(String::from("v1")));
///     let readers: Vec<_> = (0..3)
///         .map(|_| {
///             let config = config.clone();
///             spawn(move || {
///                 let seen = config.read();
///                 sleep(Duration::from_millis(5)); // the three read at once
///                 seen.clone()
///             })
///         })
///         .collect();
///     yield_(); // the readers hold it
///     assert!(config.try_write().is_none());
///     *config.write() = String::from("v2"); // waits for the three readers
///     for reader in readers {
///         assert_eq!(reader.join().unwrap(), "v1");
///     }
///     assert_eq!(*config.read(), "v2");
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    semaphore: Semaphore,
    value: RefCell<T>,
}

impl<T> RwLock<T> {
    /// A lock holding `value`, unlocked.
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            semaphore: Semaphore::new(READERS),
            value: RefCell::new(value),
        }
    }

    /// The value, taken out of the lock.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks it for reading, waiting while a tasklet writes, or waits to (and came first).
    ///
    /// # Panics
    ///
    /// Panics when it has to wait outside a tasklet.
    #[track_caller]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.read_condition().wait()
    }

    /// [`read`](RwLock::read), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the lock did not come in time.
    #[track_caller]
    pub fn read_timeout(&self, timeout: Duration) -> Result<RwLockReadGuard<'_, T>, TimeoutError> {
        wait_until(self.read_condition(), Some(deadline_after(timeout))).ok_or(TimeoutError)
    }

    /// Locks it for reading if no tasklet writes or waits, without blocking.
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let permit = self.semaphore.try_acquire()?;
        Some(self.read_guard(permit))
    }

    /// Locks it for writing, waiting while tasklets read or write.
    ///
    /// # Panics
    ///
    /// Panics when it has to wait outside a tasklet.
    #[track_caller]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.write_condition().wait()
    }

    /// [`write`](RwLock::write), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the lock did not come in time.
    #[track_caller]
    pub fn write_timeout(
        &self,
        timeout: Duration,
    ) -> Result<RwLockWriteGuard<'_, T>, TimeoutError> {
        wait_until(self.write_condition(), Some(deadline_after(timeout))).ok_or(TimeoutError)
    }

    /// Locks it for writing if nobody holds it or waits, without blocking.
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let permit = self.semaphore.try_acquire_many(READERS)?;
        Some(self.write_guard(permit))
    }

    /// The value, through a unique borrow of the lock: no lock needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The condition of [`wait_for::read`](crate::wait_for::read_lock).
    pub(crate) fn read_condition(&self) -> ReadLock<'_, T> {
        ReadLock {
            lock: self,
            acquire: Acquire::waiting_for(self.semaphore.clone(), 1, READ),
        }
    }

    /// The condition of [`wait_for::write`](crate::wait_for::write_lock).
    pub(crate) fn write_condition(&self) -> WriteLock<'_, T> {
        WriteLock {
            lock: self,
            acquire: Acquire::waiting_for(self.semaphore.clone(), READERS, WRITE),
        }
    }

    fn read_guard(&self, permit: Permit) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            // No writer holds a permit while a reader does: the value is not borrowed mutably.
            value: self.value.borrow(),
            _permit: permit,
        }
    }

    fn write_guard(&self, permit: Permit) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            // The writer holds every permit: nobody else borrows the value.
            value: self.value.borrow_mut(),
            _permit: permit,
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => d.field("value", &&*guard),
            None => d.field("value", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// A read lock of an [`RwLock`], held: derefs to the value; dropping it releases it, also when
/// its tasklet is killed or panics.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    value: Ref<'a, T>,
    _permit: Permit,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The write lock of an [`RwLock`], held: derefs to the value; dropping it releases it, also
/// when its tasklet is killed or panics.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    value: RefMut<'a, T>,
    _permit: Permit,
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A read lock: the condition of [`wait_for::read`](crate::wait_for::read_lock). It fires with the
/// [`RwLockReadGuard`]; when it does not win, it takes nothing.
pub struct ReadLock<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    acquire: Acquire,
}

/// The write lock: the condition of [`wait_for::write`](crate::wait_for::write_lock). It fires with
/// the [`RwLockWriteGuard`]; when it does not win, it takes nothing.
pub struct WriteLock<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    acquire: Acquire,
}

macro_rules! lock_condition {
    ($name:ident, $guard:ident, $make:ident) => {
        impl<T: ?Sized> sealed::Sealed for $name<'_, T> {}

        impl<'a, T: ?Sized> Condition for $name<'a, T> {
            type Output = $guard<'a, T>;

            fn poll(&mut self) -> Option<$guard<'a, T>> {
                let permit = self.acquire.poll()?;
                Some(self.lock.$make(permit))
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

        impl<T: ?Sized> fmt::Debug for $name<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

lock_condition!(ReadLock, RwLockReadGuard, read_guard);
lock_condition!(WriteLock, RwLockWriteGuard, write_guard);
