//! Tasklets as users hold them, on messaging and the engine: the `Tasklet` handle (`tasklet`)
//! and what it sends and calls (`send`), spawning (`builder`) and the repeating helpers
//! (`periodic`), running a dispatcher and how it ends (`runtime`), monitors and links
//! (`monitor`), the supervisor, and tasklets on other dispatchers with the handles that cross
//! threads (`placement`, `send_across`).

pub(crate) mod builder;
pub(crate) mod deadline;
pub(crate) mod idle;
pub(crate) mod join;
pub(crate) mod local;
pub(crate) mod monitor;
pub(crate) mod periodic;
pub(crate) mod placement;
pub(crate) mod runtime;
pub(crate) mod send;
pub(crate) mod send_across;
pub(crate) mod supervisor;
pub(crate) mod tasklet;
