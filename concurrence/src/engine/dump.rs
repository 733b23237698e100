//! A live view of a dispatcher: [`dump`] lists every tasklet (what Go prints on SIGQUIT, what
//! Erlang's observer shows), and [`stats`] reads the counters the dispatcher keeps (always on:
//! a few plain additions on its paths).

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use crate::engine::scheduler::{self, Scheduler};
use crate::engine::state::{State, Task};

/// The counters of a dispatcher, read by [`stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Which dispatcher of the program (0 for the first).
    pub dispatcher: usize,
    /// Tasklets alive now (started or not, not finished).
    pub live_tasklets: usize,
    /// Tasklets spawned on it so far.
    pub spawned: u64,
    /// Tasklets ready to run now.
    pub ready: usize,
    /// Tasklet switches (a tasklet resumed) so far.
    pub switches: u64,
    /// Polls of the OS poller so far (blocking or not).
    pub polls: u64,
    /// Stacks kept free for reuse (their memory trimmed when unused for a while).
    pub free_stacks: usize,
    /// Bytes of address space reserved for guarded stack slots (memory is used only where a
    /// stack touched it).
    pub stack_reserved_bytes: usize,
}

/// The current dispatcher's counters.
///
/// # Panics
///
/// Outside a dispatcher's thread.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, spawn, stats, yield_};
///
/// dispatch(|| {
///     let before = stats();
///     spawn(|| yield_()).join().unwrap();
///     let after = stats();
///     assert_eq!(after.spawned, before.spawned + 1);
///     assert!(after.switches >= before.switches + 2);
/// });
/// ```
pub fn stats() -> Stats {
    of(&scheduler::get())
}

fn of(sched: &Scheduler) -> Stats {
    let (free_stacks, stack_reserved_bytes) = sched.stack_pool();
    Stats {
        dispatcher: sched.index,
        live_tasklets: sched.live_count(),
        spawned: sched.spawned(),
        ready: sched.ready_count(),
        switches: sched.switches.get(),
        polls: sched.polls.get(),
        free_stacks,
        stack_reserved_bytes,
    }
}

/// What a tasklet is doing, in a [`Dump`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskletState {
    /// Spawned, not started yet.
    New,
    /// Ready to run at its turn.
    Ready,
    /// Running (the one that asked for the dump).
    Running,
    /// Waiting for something.
    Waiting,
}

/// One tasklet in a [`Dump`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskletInfo {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Where it was spawned, when the spawn call says (`file:line:column`).
    pub spawned_at: Option<String>,
    /// A daemon?
    pub daemon: bool,
    /// What it is doing.
    pub state: TaskletState,
    /// What it waits for, and the blocking call's place (`file:line:column`), when waiting.
    pub waiting_for: Option<(String, String)>,
    /// How long it has waited, when waiting (to a few milliseconds: the dispatcher's clock as
    /// its loop last read it).
    pub waited: Option<Duration>,
    /// Its parent's id, if its parent lives.
    pub parent: Option<u64>,
    /// Its children's ids, oldest first.
    pub children: Vec<u64>,
}

/// Every tasklet of a dispatcher at one moment: made by [`dump`]; its `Display` is a tree of
/// them (the children under their parent), one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    /// The dispatcher's counters at that moment.
    pub stats: Stats,
    /// The tasklets, by id.
    pub tasklets: Vec<TaskletInfo>,
}

/// Every tasklet of the current dispatcher: id, name, spawn site, state, what it waits for and
/// where, how long, and its children. [`Dispatcher::dump_on_sigquit`](crate::Dispatcher::dump_on_sigquit)
/// prints it to stderr on SIGQUIT, as Go prints its goroutines.
///
/// # Panics
///
/// Outside a dispatcher's thread.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, dump, sleep, Builder, TaskletState};
/// use std::time::Duration;
///
/// dispatch(|| {
///     let sleeper = Builder::new()
///         .name("sleeper")
///         .spawn(|| sleep(Duration::from_secs(60)));
///     concurrence::yield_(); // let it start sleeping
///     let dump = dump();
///     let info = dump.tasklets.iter().find(|t| t.name == "sleeper").unwrap();
///     assert_eq!(info.state, TaskletState::Waiting);
///     assert_eq!(info.waiting_for.as_ref().unwrap().0, "sleep");
///     println!("{dump}");
///     sleeper.kill();
/// });
/// ```
pub fn dump() -> Dump {
    let sched = scheduler::get();
    let now = sched.coarse_ms.get();
    let mut tasklets: Vec<TaskletInfo> = sched
        .live_tasks()
        .iter()
        .filter(|t| t.state.get() != State::Finished)
        .map(|t| info(t, now))
        .collect();
    tasklets.sort_by_key(|t| t.id);
    Dump {
        stats: of(&sched),
        tasklets,
    }
}

fn info(task: &Task, now: u32) -> TaskletInfo {
    let state = match task.state.get() {
        State::New => TaskletState::New,
        State::Ready => TaskletState::Ready,
        State::Running => TaskletState::Running,
        State::Waiting | State::Finished => TaskletState::Waiting,
    };
    let waiting = state == TaskletState::Waiting;
    let (on, at) = task.waiting_on.get();
    TaskletInfo {
        id: task.id,
        name: task.name().to_owned(),
        spawned_at: task.spawned_at.get().map(Location::to_string),
        daemon: task.daemon,
        state,
        waiting_for: waiting.then(|| (on.to_string(), at.to_string())),
        waited: waiting
            .then(|| Duration::from_millis(u64::from(now.saturating_sub(task.wait_since.get())))),
        parent: task.parent().map(|p| p.id),
        children: task.children.borrow().iter().map(|c| c.id).collect(),
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        writeln!(
            f,
            "dispatcher {}: {} tasklets ({} ready), {} spawned, {} switches, {} polls, {} free stacks",
            s.dispatcher, s.live_tasklets, s.ready, s.spawned, s.switches, s.polls, s.free_stacks
        )?;
        // Roots first (no parent alive here), each followed by its subtree.
        let by_id = |id: u64| self.tasklets.binary_search_by_key(&id, |t| t.id).ok();
        let mut stack: Vec<(usize, usize)> = self
            .tasklets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.parent.and_then(by_id).is_none())
            .map(|(i, _)| (i, 0))
            .rev()
            .collect();
        while let Some((i, depth)) = stack.pop() {
            let t = &self.tasklets[i];
            write!(f, "{:width$}#{} {}", "", t.id, t.name, width = depth * 2)?;
            if t.daemon {
                f.write_str(" (daemon)")?;
            }
            match (&t.state, &t.waiting_for, t.waited) {
                (TaskletState::Waiting, Some((on, at)), Some(waited)) => {
                    write!(f, ": waits for {on} at {at}, {waited:?}")?
                }
                (TaskletState::New, ..) => f.write_str(": not started")?,
                (TaskletState::Ready, ..) => f.write_str(": ready")?,
                (TaskletState::Running, ..) => f.write_str(": running")?,
                _ => {}
            }
            if let Some(site) = &t.spawned_at {
                write!(f, " (spawned at {site})")?;
            }
            writeln!(f)?;
            for child in t.children.iter().rev() {
                if let Some(c) = by_id(*child) {
                    stack.push((c, depth + 1));
                }
            }
        }
        Ok(())
    }
}
