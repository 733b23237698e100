//! `tracing` integration (cargo feature `tracing`): a span per tasklet (`tasklet`, with its
//! `id`, `name` and `parent`), entered while the tasklet runs, so that whatever it logs through
//! `tracing` is inside it; and events (target `concurrence`) at its spawn, its end (with how it
//! ended), a kill and a panic. Without the feature, every hook is empty and compiles away.

use crate::engine::state::Task;

#[cfg(feature = "tracing")]
mod on {
    use std::cell::OnceCell;

    use tracing::{Level, Span};

    use crate::engine::state::{Outcome, Task};

    /// A tasklet's span, made at spawn.
    #[derive(Default)]
    pub(crate) struct TaskSpan(OnceCell<Span>);

    impl TaskSpan {
        fn get(&self) -> Option<&Span> {
            self.0.get()
        }
    }

    pub(crate) fn spawned(task: &Task, parent: Option<u64>) {
        let span = tracing::info_span!(
            target: "concurrence",
            "tasklet",
            id = task.id,
            name = %task.name(),
            parent = parent,
        );
        tracing::event!(target: "concurrence", parent: &span, Level::DEBUG, "spawn");
        let _ = task.span.0.set(span);
    }

    pub(crate) fn enter(task: &Task) {
        if let Some(span) = task.span.get() {
            span.with_subscriber(|(id, subscriber)| subscriber.enter(id));
        }
    }

    pub(crate) fn exit(task: &Task) {
        if let Some(span) = task.span.get() {
            span.with_subscriber(|(id, subscriber)| subscriber.exit(id));
        }
    }

    pub(crate) fn killed(task: &Task) {
        if let Some(span) = task.span.get() {
            tracing::event!(target: "concurrence", parent: span, Level::DEBUG, "kill");
        }
    }

    pub(crate) fn ended(task: &Task, outcome: &Outcome) {
        let Some(span) = task.span.get() else { return };
        match outcome {
            Outcome::Panicked(message) => tracing::event!(
                target: "concurrence",
                parent: span,
                Level::ERROR,
                message = %message,
                "panic"
            ),
            Outcome::Killed => {
                tracing::event!(target: "concurrence", parent: span, Level::DEBUG, outcome = "killed", "end")
            }
            _ => {
                tracing::event!(target: "concurrence", parent: span, Level::DEBUG, outcome = "returned", "end")
            }
        }
    }
}

#[cfg(feature = "tracing")]
pub(crate) use on::TaskSpan;

/// The span of a tasklet: nothing without the feature.
#[cfg(not(feature = "tracing"))]
#[derive(Default)]
pub(crate) struct TaskSpan;

/// A tasklet was spawned (by the tasklet `parent`, if any): its span is made.
#[inline(always)]
pub(crate) fn spawned(task: &Task, parent: Option<u64>) {
    #[cfg(feature = "tracing")]
    on::spawned(task, parent);
    #[cfg(not(feature = "tracing"))]
    let _ = (task, parent);
}

/// The tasklet is resumed: its span is entered.
#[inline(always)]
pub(crate) fn enter(task: &Task) {
    #[cfg(feature = "tracing")]
    on::enter(task);
    #[cfg(not(feature = "tracing"))]
    let _ = task;
}

/// The tasklet suspended or finished: its span is exited.
#[inline(always)]
pub(crate) fn exit(task: &Task) {
    #[cfg(feature = "tracing")]
    on::exit(task);
    #[cfg(not(feature = "tracing"))]
    let _ = task;
}

/// The tasklet is asked to die.
#[inline(always)]
pub(crate) fn killed(task: &Task) {
    #[cfg(feature = "tracing")]
    on::killed(task);
    #[cfg(not(feature = "tracing"))]
    let _ = task;
}

/// The tasklet ended with `outcome`.
#[inline(always)]
pub(crate) fn ended(task: &Task, outcome: &crate::engine::state::Outcome) {
    #[cfg(feature = "tracing")]
    on::ended(task, outcome);
    #[cfg(not(feature = "tracing"))]
    let _ = (task, outcome);
}
