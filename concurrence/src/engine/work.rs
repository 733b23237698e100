//! What a tasklet runs and what it returns: the closure until it runs, then its value until a
//! join takes it, in one allocation (tokio's task cell is the model), reused from one to the
//! other. The record holds it in its `outcome`; the scheduler sees it through [`Payload`].

use std::any::Any;
use std::cell::RefCell;

/// The type-erased view of a tasklet's [`Work`].
pub(crate) trait Payload: Any {
    /// Runs the closure and keeps its value. The closure is moved out first: nothing is
    /// borrowed while user code runs. Does nothing if the closure is gone.
    fn run(&self);
    /// Drops the closure of a tasklet that will not run it (killed before it started), here.
    fn drop_closure(&self);
    /// Moves the value into `out`, an `Option<T>` of the value's type or of `Box<dyn Any>`
    /// (a handle that does not know the type). Leaves `out` alone when there is no value.
    fn take_value(&self, out: &mut dyn Any);
    /// Whether dropping this runs user code (a closure or value with a destructor, which may
    /// block or panic: such a payload nobody takes is dropped in a tasklet, see
    /// `scheduler::bury`).
    fn needs_drop(&self) -> bool;
}

/// A tasklet's closure `F`, then its value `T`, in the same place.
pub(crate) struct Work<F, T> {
    state: RefCell<Slot<F, T>>,
}

enum Slot<F, T> {
    Closure(F),
    /// The closure runs (or ran and panicked), or was dropped.
    Empty,
    Value(T),
}

impl<F, T> Work<F, T> {
    pub(crate) fn new(f: F) -> Work<F, T> {
        Work {
            state: RefCell::new(Slot::Closure(f)),
        }
    }

    /// Takes what `pick` accepts out of the slot, leaving it empty; or leaves it as it was.
    fn take<X>(&self, pick: impl FnOnce(Slot<F, T>) -> Result<X, Slot<F, T>>) -> Option<X> {
        let mut state = self.state.borrow_mut();
        match pick(std::mem::replace(&mut *state, Slot::Empty)) {
            Ok(taken) => Some(taken),
            Err(other) => {
                *state = other;
                None
            }
        }
    }

    fn closure(&self) -> Option<F> {
        self.take(|slot| match slot {
            Slot::Closure(f) => Ok(f),
            other => Err(other),
        })
    }

    fn value(&self) -> Option<T> {
        self.take(|slot| match slot {
            Slot::Value(value) => Ok(value),
            other => Err(other),
        })
    }
}

impl<F, T> Payload for Work<F, T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    fn run(&self) {
        if let Some(f) = self.closure() {
            let value = f();
            *self.state.borrow_mut() = Slot::Value(value);
        }
    }

    fn drop_closure(&self) {
        drop(self.closure());
    }

    fn take_value(&self, out: &mut dyn Any) {
        if let Some(out) = out.downcast_mut::<Option<T>>() {
            if let Some(value) = self.value() {
                *out = Some(value);
            }
        } else if let Some(out) = out.downcast_mut::<Option<Box<dyn Any>>>() {
            if let Some(value) = self.value() {
                *out = Some(Box::new(value));
            }
        }
    }

    fn needs_drop(&self) -> bool {
        match &*self.state.borrow() {
            Slot::Closure(_) => std::mem::needs_drop::<F>(),
            Slot::Empty => false,
            Slot::Value(_) => std::mem::needs_drop::<T>(),
        }
    }
}
