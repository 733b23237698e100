//! A few small allocations a dispatcher keeps for reuse, by type: a call's reply slot is
//! allocated for each call and freed when it ends, and a `malloc` and `free` cost about a tenth
//! of a call. Kept here, the next call of the same kind takes it back instead.
//!
//! Entries are `Rc<dyn Any>`, found by a key the user picks (any number: the slot is the key
//! modulo [`SLOTS`]) and checked by type on the way out, so a mismatch only misses. Only values
//! that hold nothing of the user's are kept (a reply slot whose answer was taken): dropping the
//! dispatcher drops them without running user code.

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;

/// How many values are kept at most.
const SLOTS: usize = 4;

/// The values kept for reuse.
#[derive(Default)]
pub(crate) struct Recycled {
    slots: [Cell<Option<Rc<dyn Any>>>; SLOTS],
}

impl Recycled {
    /// A kept value of type `T` under `key`, if there is one. Its count is one: the caller owns
    /// it alone (`Rc::get_mut` succeeds).
    #[inline]
    pub(crate) fn take<T: Any>(&self, key: usize) -> Option<Rc<T>> {
        let cell = &self.slots[key % SLOTS];
        match cell.take()?.downcast::<T>() {
            Ok(value) => Some(value),
            Err(other) => {
                cell.set(Some(other));
                None
            }
        }
    }

    /// Keeps `value` under `key` if nothing else holds it (otherwise it is dropped as usual).
    /// A value kept under that key before is dropped.
    #[inline]
    pub(crate) fn keep<T: Any>(&self, key: usize, mut value: Rc<T>) {
        if Rc::get_mut(&mut value).is_some() {
            drop(self.slots[key % SLOTS].replace(Some(value)));
        }
    }
}
