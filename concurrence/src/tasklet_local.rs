//! The [`tasklet_local!`](crate::tasklet_local) macro (its key, `LocalKey`, is in
//! `task/local.rs`): at the API layer, since what it expands to names the crate's root.

/// Declares tasklet-local values, as `thread_local!` declares thread-local ones: each tasklet
/// has its own, made on its first use by the initializer, dropped when the tasklet ends. A
/// declaration marked `#[inherit]` (its type `Clone`) gives each tasklet spawned by one that
/// has a value a clone of it (the original's recursive `TaskLocal`): a request id, a deadline,
/// a logger's context.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, spawn, tasklet_local};
/// use std::cell::{Cell, RefCell};
///
/// tasklet_local! {
///     /// How many requests this tasklet has handled.
///     static HANDLED: Cell<u32> = Cell::new(0);
///     /// The request a tasklet works for, passed on to the tasklets it spawns.
///     #[inherit]
///     static REQUEST: RefCell<String> = RefCell::new(String::from("none"));
/// }
///
/// dispatch(|| {
///     HANDLED.with(|n| n.set(n.get() + 1));
///     REQUEST.with(|r| *r.borrow_mut() = "req-42".into());
///     let child = spawn(|| {
///         let handled = HANDLED.with(|n| n.get()); // its own: fresh
///         let request = REQUEST.with(|r| r.borrow().clone()); // inherited
///         (handled, request)
///     });
///     assert_eq!(child.join().unwrap(), (0, "req-42".to_string()));
///     assert_eq!(HANDLED.with(|n| n.get()), 1);
/// });
/// ```
#[macro_export]
macro_rules! tasklet_local {
    () => {};
    ($(#[doc = $doc:expr])* #[inherit] $(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        $(#[doc = $doc])* $(#[$attr])*
        $vis static $name: $crate::LocalKey<$t> = $crate::LocalKey::inherited(|| $init);
        $crate::tasklet_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::LocalKey<$t> = $crate::LocalKey::new(|| $init);
        $crate::tasklet_local!($($rest)*);
    };
    ($(#[doc = $doc:expr])* #[inherit] $(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => {
        $crate::tasklet_local!($(#[doc = $doc])* #[inherit] $(#[$attr])* $vis static $name: $t = $init;);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => {
        $crate::tasklet_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
}
