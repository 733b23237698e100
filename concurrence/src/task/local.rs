//! Tasklet-local values: [`tasklet_local!`](crate::tasklet_local) declares them, like
//! `thread_local!` for threads (the original's `TaskLocal`).

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::rc::Rc;

use crate::engine::locals::{Cloner, Lookup, Value};
use crate::engine::scheduler;

/// A key to a value each tasklet has its own of, declared with
/// [`tasklet_local!`](crate::tasklet_local). A tasklet's value is made by the key's initializer
/// on its first [`with`](LocalKey::with) in that tasklet, and dropped when the tasklet ends,
/// in the tasklet (its destructor may block or use other locals). A key declared `#[inherit]`
/// gives a tasklet spawned by one that has a value a clone of it.
///
/// Values live on their tasklet's dispatcher: a tasklet never changes threads, so a key is
/// never read from two.
pub struct LocalKey<T: 'static> {
    init: fn() -> T,
    inherit: Option<Cloner>,
}

/// Why a tasklet-local value could not be reached ([`LocalKey::try_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessError {
    /// Not in a tasklet: a plain thread, or a dispatcher's thread between tasklets.
    NotInTasklet,
    /// The key's initializer uses its own key.
    Initializing,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessError::NotInTasklet => "a tasklet-local value was used outside a tasklet",
            AccessError::Initializing => "a tasklet-local value's initializer used its own key",
        })
    }
}

impl std::error::Error for AccessError {}

/// An inherited key's copy into a child.
fn clone_value<T: Clone + 'static>(value: &dyn Any) -> Value {
    Rc::new(
        value
            .downcast_ref::<T>()
            .expect("a key's value has the key's type")
            .clone(),
    )
}

impl<T: 'static> LocalKey<T> {
    /// A key whose values `init` makes (what `tasklet_local!` expands to).
    #[doc(hidden)]
    pub const fn new(init: fn() -> T) -> LocalKey<T> {
        LocalKey {
            init,
            inherit: None,
        }
    }

    /// A key whose value a spawned tasklet inherits, as a clone (`#[inherit]`).
    #[doc(hidden)]
    pub const fn inherited(init: fn() -> T) -> LocalKey<T>
    where
        T: Clone,
    {
        LocalKey {
            init,
            inherit: Some(clone_value::<T>),
        }
    }

    /// Calls `f` with the current tasklet's value, made first if this is its first use here.
    ///
    /// # Panics
    ///
    /// Outside a tasklet, and in the key's own initializer (see
    /// [`try_with`](LocalKey::try_with)); and with the initializer's panic.
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(err) => panic!("concurrence: {err}"),
        }
    }

    /// [`with`](LocalKey::with), with an error instead of a panic when there is no value to
    /// reach.
    ///
    /// # Errors
    ///
    /// [`AccessError::NotInTasklet`] outside a tasklet, [`AccessError::Initializing`] in the
    /// key's own initializer.
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        let value = self.value()?;
        let value = value
            .downcast_ref::<T>()
            .expect("a key's value has the key's type");
        Ok(f(value))
    }

    /// The current tasklet's value, made if need be.
    fn value(&'static self) -> Result<Value, AccessError> {
        let sched = scheduler::try_get().ok_or(AccessError::NotInTasklet)?;
        let task = sched.current().ok_or(AccessError::NotInTasklet)?.id;
        let key = self as *const LocalKey<T> as usize;
        match sched.locals.get(task, key) {
            Lookup::Found(value) => return Ok(value),
            Lookup::Initializing => return Err(AccessError::Initializing),
            Lookup::Absent => {}
        }
        sched.locals.begin_init(task, key, self.inherit);
        // The initializer may block, panic or be killed: its entry goes with it.
        match catch_unwind(AssertUnwindSafe(self.init)) {
            Ok(value) => {
                let value: Value = Rc::new(value);
                sched.locals.finish_init(task, key, value.clone());
                Ok(value)
            }
            Err(payload) => {
                sched.locals.abort_init(task, key);
                resume_unwind(payload)
            }
        }
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey")
            .field("type", &std::any::type_name::<T>())
            .field("inherited", &self.inherit.is_some())
            .finish()
    }
}
