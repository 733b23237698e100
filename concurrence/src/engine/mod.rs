//! The engine: the per-thread runtime every other layer is built on.
//!
//! Tasklets and their records (`state`, `work`), the coroutines and stacks they run on
//! (`coroutine`, `stack`, `overflow`, `compact`), the scheduler and its run queues, the one
//! blocking mechanism (`wait`: register a wake-up, suspend, learn why you were woken) and the
//! multi-wait on top of it (`condition`), timers and the clock (`wheel`, `timer`, `clock`), the reactor and IO
//! readiness (`reactor`, `readiness`), and how the runtime logs (`logging`).
//!
//! The engine imports nothing from the layers above it. What it must know of them comes through
//! types it defines: a tasklet's mailbox as an [`Inbox`](state::Inbox) trait object it closes
//! at the tasklet's end, the hooks monitors and links register for a tasklet's end, the exit
//! reason and the report of blocked tasklets, and the kill payload (`end`).

pub(crate) mod clock;
pub(crate) mod compact;
pub(crate) mod condition;
pub(crate) mod coroutine;
pub(crate) mod deadline;
pub(crate) mod dump;
pub(crate) mod end;
pub(crate) mod group;
pub(crate) mod homes;
pub(crate) mod locals;
pub(crate) mod logging;
pub(crate) mod notices;
pub(crate) mod overflow;
pub(crate) mod quiescence;
pub(crate) mod reactor;
pub(crate) mod readiness;
pub(crate) mod recycle;
pub(crate) mod run_queue;
pub(crate) mod scheduler;
pub(crate) mod stack;
pub(crate) mod state;
pub(crate) mod timer;
pub(crate) mod trace;
pub(crate) mod wait;
pub(crate) mod wheel;
pub(crate) mod work;
