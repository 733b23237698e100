//! Cooperative, stackful tasklets for Rust: blocking-style concurrent code without `async`.
//!
//! concurrence re-creates the Python *Concurrence* framework. A **tasklet** is a function
//! running on its own small stack; it runs until it blocks (sleeps, joins, waits for a message
//! or IO), and then the **dispatcher** runs the next ready tasklet, round-robin, on the same
//! thread. Because only one tasklet runs at a time and switches happen only where a tasklet
//! blocks, tasklets share `Rc`s and `RefCell`s freely; handles are not `Send`.
//!
//! # A tour
//!
//! [`dispatch`] runs a dispatcher with a first tasklet; [`spawn`] (or a [`Builder`]) starts
//! more; [`Tasklet::join`] waits for one and gives its result; [`sleep`] and [`yield_`] give the
//! others a turn.
//!
//! ```
//! use concurrence::{dispatch, sleep, spawn, Builder};
//! use std::time::Duration;
//!
//! let status = dispatch(|| {
//!     let sum = Builder::new().name("sum").spawn(|| 10 + 20);
//!     let slow = spawn(|| {
//!         sleep(Duration::from_millis(10));
//!         "slow done"
//!     });
//!     println!("start done.");               // spawning does not block
//!     assert_eq!(sum.join().unwrap(), 30);
//!     assert_eq!(slow.join().unwrap(), "slow done");
//! });
//! assert!(status.success());
//! ```
//!
//! Panics stay inside their tasklet and come back from [`join`](Tasklet::join) as a
//! [`JoinError`]; [`kill`](Tasklet::kill) unwinds a tasklet where it waits, running its
//! destructors; timeouts are `*_timeout` variants that return [`TimeoutError`]. The repeating
//! helpers [`later`], [`loop_`], [`interval`] and [`rate`] start tasklets that call a function on
//! a schedule, and every tasklet knows its [`parent`](Tasklet::parent),
//! [`children`](Tasklet::children) and [`tree`](Tasklet::tree).
//!
//! Tasklets share one thread, so a call that blocks the thread itself (`std::thread::sleep`,
//! blocking file or socket IO, a long computation without [`yield_`]) holds up every tasklet
//! of the dispatcher until it returns: use the tasklet forms ([`sleep`], ...) instead.
//!
//! # How it runs
//!
//! One dispatcher per thread; tasklets never move between threads. When no tasklet is ready the
//! dispatcher blocks in the OS poller (`mio`) until the next timer. Every blocking call is the
//! same three steps: register wake-ups, suspend, learn why it was woken (ready, timed out, or
//! killed). Stacks are pooled, allocated when a tasklet first runs, and overflow is caught by a
//! guard page or a canary; see [`StackMode`].
#![doc(test(attr(deny(warnings))))]
#![warn(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod builder;
mod channel;
mod coroutine;
mod error;
mod mailbox;
mod message;
mod overflow;
mod periodic;
mod reactor;
mod receive;
mod runtime;
mod scheduler;
mod send;
mod stack;
mod state;
mod tasklet;
mod timer;
mod wait;

pub use builder::{interval, later, loop_, rate, receiver, spawn, Builder, SpawnMessages};
pub use channel::Channel;
pub use concurrence_macros::{message, tasklet};
pub use error::{JoinCause, JoinError, TimeoutError};
pub use mailbox::Mailbox;
pub use message::{Accepts, Call, CallError, Message, Messages, NoMessages, Reply, SendError};
pub use receive::{
    receive, receive_batch, receive_matching, receive_matching_timeout, receive_timeout,
    try_receive, Receive,
};
pub use runtime::{dispatch, quit, BlockedTasklet, Dispatcher, ExitReason, ExitStatus};
pub use stack::{guarded_budget, StackMode, DEFAULT_STACK_SIZE, MIN_STACK_SIZE};
pub use tasklet::{
    current, join_all, join_all_timeout, join_children, join_children_timeout, try_current, yield_,
    ErasedResult, Tasklet, TaskletExit, Tree,
};
pub use timer::{sleep, sleep_until};
