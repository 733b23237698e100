//! The storage of tasklet-local values (`tasklet_local!`): per dispatcher, a table from a
//! tasklet's id to its values, each under its key's address. A value is made on its tasklet's
//! first use of the key, copied into a child at spawn when its key is inherited, and dropped
//! when its tasklet ends, in the tasklet (see `run_entry`). Nothing is on the hot path: a
//! dispatcher whose tasklets use no local pays one emptiness check a spawn and an end.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A value, shared for the length of a `with`.
pub(crate) type Value = Rc<dyn Any>;

/// Copies a value into a child tasklet (an inherited key's `Clone`).
pub(crate) type Cloner = fn(&dyn Any) -> Value;

/// One key's value in one tasklet.
pub(crate) struct Entry {
    key: usize,
    /// `None` while its initializer runs.
    value: Option<Value>,
    inherit: Option<Cloner>,
}

/// What a tasklet has under a key.
pub(crate) enum Lookup {
    Found(Value),
    /// Its initializer runs (and used its own key).
    Initializing,
    Absent,
}

/// Every tasklet's values on this dispatcher.
#[derive(Default)]
pub(crate) struct Locals {
    by_task: RefCell<HashMap<u64, Vec<Entry>>>,
}

impl Locals {
    /// Whether no tasklet has a value.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.by_task.borrow().is_empty()
    }

    /// The value of `task` under `key`.
    pub(crate) fn get(&self, task: u64, key: usize) -> Lookup {
        let by_task = self.by_task.borrow();
        match by_task
            .get(&task)
            .and_then(|entries| entries.iter().find(|e| e.key == key))
        {
            Some(Entry {
                value: Some(value), ..
            }) => Lookup::Found(value.clone()),
            Some(_) => Lookup::Initializing,
            None => Lookup::Absent,
        }
    }

    /// Marks `key`'s initializer as running in `task`.
    pub(crate) fn begin_init(&self, task: u64, key: usize, inherit: Option<Cloner>) {
        self.by_task
            .borrow_mut()
            .entry(task)
            .or_default()
            .push(Entry {
                key,
                value: None,
                inherit,
            });
    }

    /// Stores what `key`'s initializer made in `task`.
    pub(crate) fn finish_init(&self, task: u64, key: usize, value: Value) {
        if let Some(entry) = self
            .by_task
            .borrow_mut()
            .get_mut(&task)
            .and_then(|entries| entries.iter_mut().find(|e| e.key == key))
        {
            entry.value = Some(value);
        }
    }

    /// Forgets `key` in `task`: its initializer panicked (or the tasklet was killed in it).
    pub(crate) fn abort_init(&self, task: u64, key: usize) {
        let mut by_task = self.by_task.borrow_mut();
        if let Some(entries) = by_task.get_mut(&task) {
            entries.retain(|e| e.key != key);
            if entries.is_empty() {
                by_task.remove(&task);
            }
        }
    }

    /// Gives `child` a copy of each inherited value of `parent`.
    pub(crate) fn inherit(&self, parent: u64, child: u64) {
        let copies: Vec<Entry> = match self.by_task.borrow().get(&parent) {
            Some(entries) => entries
                .iter()
                .filter_map(|e| match (&e.value, e.inherit) {
                    (Some(value), Some(clone)) => Some(Entry {
                        key: e.key,
                        value: Some(clone(&**value)),
                        inherit: e.inherit,
                    }),
                    _ => None,
                })
                .collect(),
            None => return,
        };
        if !copies.is_empty() {
            self.by_task.borrow_mut().insert(child, copies);
        }
    }

    /// Takes every value of `task` out, to be dropped (its end).
    pub(crate) fn take(&self, task: u64) -> Option<Vec<Entry>> {
        self.by_task.borrow_mut().remove(&task)
    }
}
