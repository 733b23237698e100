//! Running a tasklet: starting it on its stack, resuming it until it suspends, and the
//! bookkeeping when it finishes (its parent's children, joiners, monitors and links).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::rc::{Rc, Weak};

use crate::engine::compact::{self, Saved};
use crate::engine::coroutine::{Coro, Resumed, Suspender, Wake};
use crate::engine::end::{down_of, TaskletExit};
use crate::engine::stack::{StackInfo, StackMode};
use crate::engine::state::{Body, Outcome, State, Task};
use crate::engine::wait::is_live;
use crate::error::panic_message;

use super::graveyard::{bury, drop_caught};
use super::kill::{caught_one, drop_payload};
use super::links::take_entry;
use super::{remove_indexed, Scheduler};

impl Scheduler {
    /// Runs `task` (new or suspended) until it suspends or finishes; then what it spawned or
    /// woke to run next goes to the front (see the module docs).
    pub(crate) fn run(&self, task: &Rc<Task>, why: Wake) {
        self.switches.set(self.switches.get() + 1);
        // A tasklet resumed by another (a kill) adds to the other's list: only what it added
        // goes to the front now. (The list keeps its capacity: no allocation per run.)
        let base = self.next.len();
        let outer = self.next_base.replace(base);
        crate::engine::trace::enter(task);
        self.resume(task, why);
        crate::engine::trace::exit(task);
        self.next_base.set(outer);
        while self.next.len() > base {
            let Some(entry) = self.next.pop_back() else {
                break;
            };
            self.front.push_front(entry);
        }
    }

    /// Resumes `task` until it suspends, and finishes it if it returned. A new tasklet resumed
    /// with [`Wake::Killed`] starts only to drop its closure (see [`run_entry`]).
    fn resume(&self, task: &Rc<Task>, why: Wake) {
        if task.state.get() == State::New && !self.start(task, why) {
            return;
        }
        task.state.set(State::Running);
        // `task` (the caller's `Rc`) outlives this call: `current` may point to it until reset.
        let previous = self.current.replace(Some(NonNull::from(&**task)));
        // The coroutine stays borrowed while it runs, not while it is suspended: only its own
        // code runs meanwhile, and nothing touches the coroutine of a running tasklet.
        let resumed = match &mut *task.body.borrow_mut() {
            // Only a tasklet that asked for a compact stack may have one: the record says so
            // without a look into the coroutine's box.
            Body::Started(coro) if !task.stack_mode.is_compact() => coro.resume(why),
            Body::Started(coro) => {
                if let Some(saved) = coro.compact.as_deref_mut() {
                    self.enter_shared_stack(task, saved);
                }
                let returned = coro.resume(why);
                if let Some(saved) = coro.compact.as_deref() {
                    // It suspended last on this thread (or finished: then this is not read).
                    saved
                        .suspended_at
                        .set(crate::engine::coroutine::suspended_at());
                }
                returned
            }
            _ => unreachable!("a started tasklet has a coroutine"),
        };
        self.current.set(previous);
        let stack = task.stack.get();
        if !stack.canary_intact() {
            crate::engine::overflow::canary_damaged(task.name(), task.id, stack.size);
        }
        // A relay coroutine does not return when its tasklet ends: it waits for the next one
        // (see `relay_entry`).
        if !matches!(resumed, Resumed::Suspended) {
            let body = std::mem::replace(&mut *task.body.borrow_mut(), Body::Done);
            if let Body::Started(coro) = body {
                if let Some(saved) = coro.compact.as_deref() {
                    self.compact.borrow_mut().leave(task, saved);
                }
                if resumed == Resumed::Ended {
                    self.keep_idle(Idle {
                        coro,
                        size: task.stack_size,
                        mode: task.stack_mode,
                        stack: task.stack.get(),
                    });
                } else {
                    self.stacks.borrow_mut().put(coro.into_stack());
                }
            }
            self.finish(task);
        }
    }

    /// Keeps a relay coroutine whose tasklet finished for the next tasklet of its kind, or
    /// retires it when enough wait already.
    fn keep_idle(&self, waiting: Idle) {
        let mut idle = self.idle.borrow_mut();
        if idle.len() < IDLE_COROUTINES {
            idle.push(waiting);
        } else {
            drop(idle);
            self.retire(*waiting.coro);
        }
    }

    /// A waiting relay coroutine for a tasklet of `size` and `mode`, if there is one.
    fn take_idle(&self, size: u32, mode: StackMode) -> Option<Idle> {
        let mut idle = self.idle.borrow_mut();
        let at = idle
            .iter()
            .rposition(|waiting| waiting.size == size && waiting.mode == mode)?;
        Some(idle.swap_remove(at))
    }

    /// Ends a waiting relay coroutine: resumed with no tasklet to run, its body returns, and
    /// its stack goes back to the pool. Runs no tasklet's code.
    fn retire(&self, mut coro: Coro) {
        debug_assert!(self.handover.take().is_none(), "no tasklet is handed over");
        let returned = coro.resume(Wake::Ready);
        assert!(
            matches!(returned, Resumed::Returned),
            "a relay coroutine resumed without a tasklet returns"
        );
        self.stacks.borrow_mut().put(coro.into_stack());
    }

    /// Retires every waiting relay coroutine (their stacks go back to the pool, to be trimmed
    /// as free stacks are): when the pool trims, and when the dispatcher ends.
    pub(super) fn retire_idle(&self) {
        loop {
            let idle = self.idle.borrow_mut().pop();
            match idle {
                Some(waiting) => self.retire(*waiting.coro),
                None => break,
            }
        }
    }

    /// Puts a compact tasklet's bytes in its shared stack before it runs (see `compact.rs`).
    #[inline(never)]
    fn enter_shared_stack(&self, task: &Rc<Task>, saved: &mut Saved) {
        let below = compact::save_below().expect("a compact tasklet started, so it is measured");
        self.compact.borrow_mut().enter(task, saved, below);
    }

    /// Gives a new tasklet its stack and coroutine: a waiting relay coroutine of its stack size
    /// and mode if there is one (see [`relay_entry`]), else a new coroutine on a stack of the
    /// pool (a compact tasklet's on a share of a shared stack). On failure it finishes with
    /// `NoStack` (or `Killed`, when it was started to be killed), its closure buried, and this
    /// returns `false`.
    fn start(&self, task: &Rc<Task>, why: Wake) -> bool {
        let compact = task.stack_mode.is_compact() && compact::save_below().is_some();
        if !compact {
            if let Some(waiting) = self.take_idle(task.stack_size, task.stack_mode) {
                let body = std::mem::replace(&mut *task.body.borrow_mut(), Body::Done);
                assert!(matches!(body, Body::New), "only a new tasklet starts");
                task.stack.set(waiting.stack);
                // Taken by the coroutine's body when `resume` resumes it, right after this.
                self.handover.set(Some(task.clone()));
                *task.body.borrow_mut() = Body::Started(waiting.coro);
                return true;
            }
        }
        let size = task.stack_size as usize;
        let stack = if compact {
            let mut pool = self.stacks.borrow_mut();
            self.compact
                .borrow_mut()
                .start(task, size, &mut pool)
                .map(|(stack, saved)| (stack, Some(saved)))
        } else {
            let stack = self.stacks.borrow_mut().get(size, task.stack_mode);
            stack.map(|stack| (stack, None))
        };
        let body = std::mem::replace(&mut *task.body.borrow_mut(), Body::Done);
        assert!(matches!(body, Body::New), "only a new tasklet starts");
        let (stack, saved) = match stack {
            Ok(got) => got,
            Err(err) => {
                let work = std::mem::replace(&mut *task.outcome.borrow_mut(), Outcome::Taken);
                *task.outcome.borrow_mut() = if why == Wake::Killed {
                    Outcome::Killed
                } else {
                    crate::engine::logging::log_at!(
                        Error,
                        "tasklet '{}' (#{}) could not start: {err}",
                        task.name(),
                        task.id
                    );
                    Outcome::NoStack(err.to_string().into())
                };
                if let Outcome::Pending(Some(work)) = work {
                    if work.needs_drop() {
                        bury(work);
                    } // else nothing to drop: no user code runs
                }
                self.finish(task);
                return false;
            }
        };
        task.stack.set(stack.info());
        let me = task.clone();
        let coro = if saved.is_some() {
            // A compact tasklet's coroutine runs it alone: its stack is a share of a shared
            // stack, bound to it (see `compact.rs`).
            Coro::new(stack, saved, move |suspender, first| {
                run_entry(me, suspender, first)
            })
        } else {
            Coro::new(stack, None, move |suspender, first| {
                relay_entry(me, suspender, first)
            })
        };
        *task.body.borrow_mut() = Body::Started(Box::new(coro));
        true
    }

    /// Bookkeeping when a tasklet has finished (its outcome is set, its stack returned).
    fn finish(&self, task: &Rc<Task>) {
        task.state.set(State::Finished);
        task.bump_epoch();
        if let Some(parent) = task.parent() {
            let removed =
                remove_indexed(&mut parent.children.borrow_mut(), task, |t| &t.child_index);
            drop(removed);
        }
        // Its children are nobody's now (the original's tree shows only live parents).
        let orphans = std::mem::take(&mut *task.children.borrow_mut());
        for child in &orphans {
            child.clear_parent();
        }
        let removed = remove_indexed(&mut self.live.borrow_mut(), task, |t| &t.live_index);
        if !task.daemon {
            self.non_daemon.set(self.non_daemon.get() - 1);
        }
        // A tasklet that ran closed its mailbox itself; one that never ran has it closed here.
        // The closed mailbox stays in the record: a handle typed later (`with_messages`) sends
        // into it and gets `SendError::Finished` with its message back.
        if let Some(inbox) = task.inbox().filter(|inbox| !inbox.is_closed()) {
            bury(inbox.close());
        }
        if self.reaper.get() == Some(task.id) {
            self.reaper.set(None);
            if matches!(&*task.outcome.borrow(), Outcome::NoStack(_)) {
                // No stack for a tasklet to drop them in: here, panics caught and reported.
                let dead = std::mem::take(&mut *self.graveyard.borrow_mut());
                drop_caught(
                    dead,
                    "values nobody took (no stack for a tasklet to drop them)",
                );
            }
        }
        let monitors = take_entry(&self.monitors, task.id);
        if let Some(monitors) = monitors {
            for deliver in monitors {
                deliver(down_of(task));
            }
        }
        drop(take_entry(&self.trappers, task.id));
        let partners = take_entry(&self.links, task.id);
        if let Some(partners) = partners {
            let down = down_of(task);
            for partner in partners.iter().filter_map(Weak::upgrade) {
                self.unlink(partner.id, task.id);
                if down.result.is_err() {
                    self.exit_signal(&partner, down.clone());
                }
            }
        }
        let mut joined = false;
        for (joiner, epoch) in task.take_joiners() {
            joined |= is_live(&joiner, epoch);
            self.wake_next(&joiner, epoch);
        }
        // A panic nobody waits for is reported when it happens, as the original does (the
        // first tasklet's is the dispatcher's exit status instead); a later join still sees it.
        if !joined && task.id != FIRST_ID {
            if let Outcome::Panicked(message) = &*task.outcome.borrow() {
                task.panic_seen.set(true);
                crate::engine::logging::log_at!(
                    Error,
                    "tasklet '{}' (#{}) panicked and nobody is joining it: {message}",
                    task.name(),
                    task.id
                );
            }
        }
        drop((orphans, removed));
    }
}

/// Drops the tasklet-local values of `task`, in the tasklet (a destructor may block, or use
/// another local, which makes it again: a few rounds take those too).
fn drop_locals(task: &Task) {
    let sched = super::get();
    for _ in 0..4 {
        if sched.locals.is_empty() {
            return;
        }
        match sched.locals.take(task.id) {
            Some(values) => drop_caught(values, "a tasklet-local value of a finished tasklet"),
            None => return,
        }
    }
}

/// The id of a dispatcher's first tasklet.
const FIRST_ID: u64 = 1;

/// How many relay coroutines may wait for a tasklet at once: a tree of spawns and joins run
/// depth-first needs a few; beyond that, one whose tasklet ends is retired.
const IDLE_COROUTINES: usize = 32;

/// A relay coroutine whose tasklet finished, waiting for the next tasklet of its stack size
/// and mode (see [`Scheduler::start`]), and its stack as the records of the tasklets it runs
/// describe it.
pub(super) struct Idle {
    coro: Box<Coro>,
    size: u32,
    mode: StackMode,
    stack: StackInfo,
}

/// What a relay coroutine runs: [`run_entry`] for its first tasklet, then for each tasklet
/// handed to it (`Scheduler::handover`), until it is resumed with none (retired).
///
/// Creating a coroutine (its first frame on a fresh stack) and taking it apart cost about a
/// sixth of a spawn and join: a coroutine whose tasklet finished suspends here, at the bottom
/// of its stack, and the next tasklet of the same stack size and mode starts on it.
fn relay_entry(first_task: Rc<Task>, suspender: Suspender, first: Wake) {
    let (mut task, mut why) = (first_task, first);
    loop {
        run_entry(task, suspender, why);
        why = suspender.suspend_ended();
        match super::get().handover.take() {
            Some(next) => task = next,
            None => return, // retired
        }
    }
}

/// What every tasklet's coroutine runs: the entry closure, with panics and kills caught and
/// turned into the tasklet's outcome; then its unread messages are dropped, still on its own
/// stack. A tasklet killed before it started (`first` is [`Wake::Killed`]) only drops its
/// closure, as a tasklet that unwinds.
fn run_entry(task: Rc<Task>, suspender: Suspender, first: Wake) {
    task.suspender.set(suspender);
    // The closure, moved out of the record while it runs: the record is not borrowed then.
    let work = match &mut *task.outcome.borrow_mut() {
        Outcome::Pending(work) => work.take(),
        _ => None,
    }
    .expect("a tasklet starts with its closure");
    let outcome = if first == Wake::Killed {
        task.unwinding.set(task.unwinding.get().saturating_add(1));
        let dropped = catch_unwind(AssertUnwindSafe(|| work.drop_closure()));
        caught_one(&task);
        if let Err(payload) = dropped {
            drop_payload(&task, payload);
        }
        Outcome::Killed
    } else {
        match catch_unwind(AssertUnwindSafe(|| work.run())) {
            Ok(()) => Outcome::Value(work),
            Err(payload) => {
                let outcome = if payload.is::<TaskletExit>() {
                    Outcome::Killed
                } else {
                    Outcome::Panicked(panic_message(&*payload).into())
                };
                drop_payload(&task, payload);
                outcome
            }
        }
    };
    crate::engine::trace::ended(&task, &outcome);
    *task.outcome.borrow_mut() = outcome;
    drop_locals(&task);
    if let Some(inbox) = task.inbox() {
        let unread = inbox.close();
        drop_caught(unread, "the unread messages of a finished tasklet");
    }
    task.unwinding.set(0);
}
