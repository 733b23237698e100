//! IO that suspends only the calling tasklet: waiting for any file descriptor, making any
//! non-blocking descriptor blocking-style, and running blocking functions on a thread pool.
//!
//! Which calls suspend only the tasklet and which block the whole thread:
//! - the socket types of [`net`](crate::net), [`Registered`] values, [`wait_readable`] /
//!   [`wait_writable`], [`blocking`], [`wait_future`] and (feature `tokio`) `on_tokio` suspend
//!   only the calling tasklet (outside a tasklet they
//!   block the thread, as their std counterparts do);
//! - std's own blocking calls (`std::fs`, `std::net`, `std::thread::sleep`, a synchronous
//!   database driver, a host-name lookup with `to_socket_addrs`) block the thread, and so every
//!   tasklet of its dispatcher: run them through [`blocking`], or wrap the descriptor in
//!   [`Registered`].

mod blocking;
pub(crate) mod fd;
pub(crate) mod future;
pub(crate) mod source;

pub use blocking::{blocking, IDLE_TIMEOUT, MAX_THREADS};
pub use fd::{wait_readable, wait_writable, Readiness};
pub use future::wait_future;
#[cfg(feature = "tokio")]
pub use future::{on_tokio, tokio_runtime};
pub use source::Registered;
