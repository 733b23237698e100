//! Kills, and knowing whether a tasklet unwinds already: a kill must never unwind a tasklet a
//! second time (that aborts the process). The runtime counts each tasklet's unwinds: the kills
//! it raises and, through a panic hook that wraps the program's own, the panics.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use crate::engine::coroutine::Wake;
use crate::engine::end::TaskletExit;
use crate::engine::state::{Body, State, Task, WaitOn};
use crate::engine::wait::Wait;

use super::{try_get, Scheduler};

impl Scheduler {
    /// Whether `task` uses a shared stack that a running tasklet (its killer, or one the killer
    /// is resuming) is on, so that it cannot be resumed here.
    fn shared_stack_busy(&self, task: &Task) -> bool {
        match &*task.body.borrow() {
            Body::Started(coro) => coro
                .compact
                .as_deref()
                .is_some_and(|saved| self.compact.borrow().blocked(task, saved)),
            _ => false,
        }
    }

    /// Kills `task` when it cannot be resumed here (see [`shared_stack_busy`]): it is queued to
    /// unwind as soon as the running tasklet suspends, and the running tasklet waits for its
    /// end, so that it has unwound when `kill` returns, as a kill resumed here would have
    /// (unless the killer is itself killed while it waits).
    ///
    /// [`shared_stack_busy`]: Scheduler::shared_stack_busy
    fn kill_through_loop(&self, task: &Rc<Task>) {
        let epoch = task.bump_epoch();
        task.state.set(State::Ready);
        task.wake.set(Wake::Killed);
        self.next
            .insert(self.next_base.get(), (task.clone(), epoch));
        while !task.is_finished() {
            let wait = Wait::begin(WaitOn::Join(task.id));
            task.add_joiner(wait.task().clone(), wait.epoch());
            if wait.suspend(None).is_err() {
                return; // killed while unwinding: the victim still unwinds, queued
            }
        }
    }

    /// Kills the unfinished tasklet `id` of this dispatcher, if there is one (a kill another
    /// thread asked for through a `SendTasklet`); a finished one is left alone.
    pub(crate) fn kill_by_id(&self, id: u64) {
        let task = self.live.borrow().iter().find(|t| t.id == id).cloned();
        if let Some(task) = task {
            self.kill(&task);
        }
    }

    /// Kills `task`: it unwinds from its suspension point before this returns. See
    /// [`Tasklet::kill`](crate::Tasklet::kill) for the cases.
    pub(crate) fn kill(&self, task: &Rc<Task>) {
        if task.state.get() != State::Finished {
            crate::engine::trace::killed(task);
        }
        if task.state.get() != State::Finished && !self.shut_down.get() {
            // Whether the victim unwinds is read from the counts the panic hook keeps: a hook
            // the program installed meanwhile is wrapped first (once for all of shutdown's).
            count_panics();
        }
        match task.state.get() {
            State::Finished => {}
            // Started only to drop its closure, on its own stack: a destructor there may block.
            State::New => {
                self.run(task, Wake::Killed);
                self.honour_pending_kill();
            }
            State::Running => {
                if self.is_current(task) {
                    if self.is_unwinding(task) {
                        return; // dying already: a second unwind would abort the process
                    }
                    raise_exit(task);
                }
                // It is resuming the tasklet that kills it: it unwinds when control returns.
                task.kill_pending.set(true);
            }
            State::Waiting | State::Ready if self.shared_stack_busy(task) => {
                self.kill_through_loop(task);
            }
            State::Waiting | State::Ready => {
                task.bump_epoch();
                self.run(task, Wake::Killed);
                self.honour_pending_kill();
            }
        }
    }

    /// The killer was killed meanwhile (by its victim's destructor, or a link): it unwinds now,
    /// unless it is unwinding already.
    fn honour_pending_kill(&self) {
        if let Some(me) = self.current() {
            if me.kill_pending.replace(false) && !self.is_unwinding(&me) {
                raise_exit(&me);
            }
        }
    }

    /// Whether `task` is unwinding (a kill or a panic is in flight on its stack), so that a
    /// kill must not unwind it a second time (that would abort the process).
    ///
    /// The runtime counts the unwinds it starts (kills) and, through its panic hook, the panics
    /// of tasklets; a count goes down when the runtime catches the panic or the `TaskletExit`
    /// payload is dropped, and is cleared whenever the thread is seen not unwinding at all.
    /// The hook is the runtime's wrapper around the program's own, put back whenever a
    /// dispatcher starts and before each kill ([`count_panics`]). When the count says nothing
    /// but the thread unwinds (a hook installed while the thread was unwinding, when it could
    /// not be wrapped), the tasklet is taken to be the one unwinding unless another tasklet
    /// known to unwind explains it.
    pub(crate) fn is_unwinding(&self, task: &Task) -> bool {
        if task.unwinding.get() > 0 {
            return true;
        }
        if !std::thread::panicking() || self.base_panicking.get() {
            return false;
        }
        !self
            .live
            .borrow()
            .iter()
            .any(|t| !std::ptr::addr_eq(Rc::as_ptr(t), task) && t.unwinding.get() > 0)
    }
}

/// Drops a caught panic payload: a `TaskletExit` says so itself when dropped; for another
/// payload the runtime counts the panic as caught. A payload whose destructor panics is
/// reported and that second payload leaked.
pub(super) fn drop_payload(task: &Task, payload: Box<dyn Any + Send>) {
    if !payload.is::<TaskletExit>() {
        caught_one(task);
    }
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        caught_one(task);
        crate::engine::logging::report(format_args!(
            "concurrence: dropping the panic payload of tasklet '{}' (#{}) panicked; leaking it",
            task.name(),
            task.id
        ));
        std::mem::forget(second);
    }
}

/// One panic in flight on `task`'s stack was caught by the runtime.
pub(super) fn caught_one(task: &Task) {
    task.unwinding.set(task.unwinding.get().saturating_sub(1));
}

/// Unwinds the running tasklet `task` with a [`TaskletExit`] payload.
pub(crate) fn raise_exit(task: &Task) -> ! {
    task.unwinding.set(task.unwinding.get().saturating_add(1));
    std::panic::resume_unwind(Box::new(TaskletExit::new(task.id)))
}

/// Runs `f` on the running tasklet of this thread's scheduler, if there is one, without
/// panicking (it is called from a panic hook and from destructors).
fn with_current(f: impl FnOnce(&Task)) {
    if let Some(task) = try_get().as_deref().and_then(Scheduler::current_task) {
        f(task);
    }
}

/// The running tasklet caught a panic of its own (a runtime helper that catches and goes on).
pub(crate) fn panic_caught() {
    with_current(caught_one);
}

/// A [`TaskletExit`] of tasklet `id` was dropped: caught, that unwind is over.
pub(crate) fn exit_caught(id: u64) {
    with_current(|task| {
        if task.id == id {
            caught_one(task);
        }
    });
}

/// Makes sure the process's panic hook counts each panic of a tasklet as in flight on its
/// stack (see [`Scheduler::is_unwinding`]): wraps the hook in place unless it is the runtime's
/// own wrapper already, so that a hook the program installed later (`std::panic::set_hook`
/// replaces the wrapper) is wrapped in turn; the wrapped hook still runs, after the count.
/// Checked when a dispatcher starts and before each kill. The hook cannot be read or changed
/// while the thread unwinds: then this does nothing, and the next check wraps it.
pub(crate) fn count_panics() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    /// The address of the runtime's installed wrapper (0 before the first).
    static OURS: AtomicUsize = AtomicUsize::new(0);
    /// Serialises the checks of several dispatcher threads (a double wrap would count twice).
    static CHECK: Mutex<()> = Mutex::new(());
    if std::thread::panicking() {
        return;
    }
    let _checking = CHECK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let installed = std::panic::take_hook();
    // The wrapper captures the hook it wraps, so it is not zero-sized: its address is unique
    // while it is installed.
    let address = |hook: &(dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static)| {
        std::ptr::from_ref(hook).cast::<()>() as usize
    };
    if address(&*installed) == OURS.load(Ordering::Relaxed) {
        std::panic::set_hook(installed);
        return;
    }
    let wrapper: Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static> =
        Box::new(move |info| {
            with_current(|task| task.unwinding.set(task.unwinding.get().saturating_add(1)));
            installed(info);
        });
    OURS.store(address(&*wrapper), Ordering::Relaxed);
    std::panic::set_hook(wrapper);
}
