//! Compact stacks ([`StackMode::compact`](crate::StackMode::compact), an `unsafe` opt-in):
//! tasklets share a few guarded stacks, and a tasklet that is not running keeps only the bytes
//! of stack it uses, copied to the heap while another tasklet uses its stack (greenlet's and
//! Stackless Python's scheme; libco calls them shared stacks).
//!
//! Each compact tasklet is bound for life to one shared stack of its size (up to
//! [`PER_SIZE`] per size, taken round-robin). The table remembers which tasklet's bytes are in
//! each shared stack (its *owner*). Before the scheduler resumes a compact tasklet whose bytes
//! are not in its stack, it copies the owner's bytes out to the owner's buffer and the
//! tasklet's back in, at the same addresses; then the tasklet is the owner. A tasklet that
//! starts becomes the owner before its coroutine is made (making it writes the first frame).
//!
//! **What soundness rests on.** A suspended tasklet's state is the memory from the stack
//! pointer it suspended at up to the top of its stack; copied back to the same addresses, it
//! resumes as if it had stayed. Three things make that hold:
//!
//! 1. *Nothing outside a suspended tasklet points into its stack.* Between its suspension and
//!    its next run, the memory of its frames holds another tasklet's: a pointer into it read
//!    or written meanwhile sees the other tasklet's data. Copying the bytes back before it
//!    runs again does not help; the harm happens in between. The runtime keeps its side: it
//!    keeps no pointer into a tasklet's stack that anyone uses while the tasklet is suspended
//!    (wait lists, timers and the run queue hold the tasklet's record, on the heap; the
//!    yielder a tasklet suspends through lives on its own stack and is used only by that
//!    tasklet while it runs; values handed between tasklets are moved into heap structures,
//!    never borrowed across). The type system cannot keep the program's side: a `'static`
//!    closure still reaches borrows of its own stack to other threads through
//!    `std::thread::scope` (the scoped threads read while the tasklet is suspended inside the
//!    scope), and a value pinned on its stack (`Pin` promises the memory is not repurposed
//!    until the value is dropped) may have its address in a shared list (intrusive futures:
//!    tokio's `Notify` and `Sleep` waiters, `event-listener`). That is why choosing the mode is
//!    `unsafe`: its `# Safety` section is the program's side of this point.
//! 2. *The saved range covers the whole state.* Every suspension of a compact tasklet goes
//!    through `Suspender::suspend_compact`, one function that is never inlined; it records its
//!    stack pointer just before calling corosensei's `Yielder::suspend`, which pushes the
//!    registers and switches. What lies below the recorded pointer is written by the same code every time:
//!    the depth is fixed when the crate is compiled. It is measured once per process
//!    ([`coroutine::measure_switch_depth`](crate::engine::coroutine::measure_switch_depth): a probe
//!    coroutine on a stack filled with a pattern suspends through the same function, and the
//!    lowest byte it changed is the depth), and [`SLACK`] more bytes are saved below it. Below
//!    the switch nothing of the tasklet is live: inline assembly that may use the stack (all of
//!    corosensei's switches) forbids the compiler to keep data in the red zone across it.
//! 3. *A tasklet's stack is never needed by two at once.* The owner of a shared stack is
//!    swapped out only when it is suspended. The only way a tasklet is resumed while another
//!    is still running is a kill (the killer resumes its victim); when the victim's stack is in
//!    use by a tasklet of that chain, the scheduler does not resume it there but queues it to
//!    unwind as soon as the running tasklet suspends, and the killer waits for its end
//!    (`Scheduler::kill`). A new tasklet is given a shared stack no running tasklet uses.
//!
//! A suspended compact coroutine is never dropped (dropping unwinds it where its bytes may not
//! be): shutdown kills every tasklet first, and a coroutine that survives is leaked.
//!
//! Where the stack pointer cannot be read (other architectures than x86_64 and aarch64), or the
//! depth cannot be measured, compact tasklets get guarded stacks of their own.

use std::cell::Cell;
use std::io;
use std::mem::MaybeUninit;
use std::rc::{Rc, Weak};
use std::sync::OnceLock;

use crate::engine::coroutine;
use crate::engine::stack::{Stack, StackMode, StackPool};
use crate::engine::state::{Body, State, Task};

/// Whether compact stacks exist on this target.
pub(crate) const AVAILABLE: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

/// Shared stacks per stack size, at most (a few more when a chain of kills holds them all).
pub(crate) const PER_SIZE: usize = 8;

/// Bytes saved below the measured depth of a suspension, for safety: the size of the x86_64
/// red zone (the most a function may use below its stack pointer without moving it), and more
/// than the up to 7 bytes the measurement can miss when a pushed register's lowest bytes happen
/// to equal the fill pattern.
pub(crate) const SLACK: usize = 128;

/// The current stack pointer (0 where it cannot be read).
#[inline(always)]
pub(crate) fn stack_pointer() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: reads a register into a variable; touches no memory and no flags.
        unsafe {
            std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags));
        }
        sp
    }
    #[cfg(target_arch = "aarch64")]
    {
        let sp: usize;
        // SAFETY: as above.
        unsafe {
            std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
        }
        sp
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        0
    }
}

/// How many bytes below the recorded stack pointer a suspended tasklet's state may reach (the
/// measured depth plus [`SLACK`]); `None` when compact stacks cannot be used in this process.
pub(crate) fn save_below() -> Option<usize> {
    static BELOW: OnceLock<Option<usize>> = OnceLock::new();
    *BELOW.get_or_init(|| {
        if !AVAILABLE {
            return None;
        }
        let depth = coroutine::measure_switch_depth();
        if depth.is_none() {
            crate::engine::logging::log_at!(Warn, "concurrence: compact stacks unavailable (the switch could not be measured); compact tasklets get stacks of their own");
        }
        let below = depth.map(|d| d.next_multiple_of(16) + SLACK);
        crate::engine::logging::log_at!(Debug, "concurrence: a suspension uses {depth:?} bytes below its recorded stack pointer; compact tasklets save {below:?} below it");
        below
    })
}

/// A compact tasklet's side: its shared stack and, while another tasklet uses that stack, its
/// bytes.
pub(crate) struct Saved {
    /// Its shared stack, an index into the table.
    slot: usize,
    /// The stack pointer it last suspended at (0 before it first suspends).
    pub(crate) suspended_at: Cell<usize>,
    /// Where its saved bytes go back to: the bottom of the range copied out.
    low: usize,
    /// Its bytes from `low` to the top of the stack, while they are out of the stack; the
    /// buffer keeps its capacity while they are in.
    bytes: Vec<MaybeUninit<u8>>,
    /// Whether its bytes are in `bytes` (not in the stack).
    out: bool,
}

/// One shared stack.
struct Shared {
    stack: Stack,
    /// Usable bytes asked for by its tasklets (the pool's size class).
    size: usize,
    /// The tasklet whose bytes are in the stack, if any.
    owner: Option<Weak<Task>>,
}

/// A dispatcher's shared stacks.
#[derive(Default)]
pub(crate) struct SharedStacks {
    stacks: Vec<Shared>,
    /// Round-robin position for each size's next tasklet.
    turn: usize,
}

impl SharedStacks {
    /// Binds the new tasklet `task` to a shared stack of `size` no running tasklet uses, makes
    /// it the owner (copying the previous owner's bytes out) and returns a handle on the stack
    /// for its coroutine, with its side.
    pub(crate) fn start(
        &mut self,
        task: &Rc<Task>,
        size: usize,
        pool: &mut StackPool,
    ) -> io::Result<(Stack, Box<Saved>)> {
        let below = save_below().ok_or_else(|| io::Error::other("compact stacks unavailable"))?;
        let same = self.stacks.iter().filter(|s| s.size == size).count();
        self.turn = self.turn.wrapping_add(1);
        // The shared stacks of this size, from the round-robin position on: the first that no
        // running tasklet uses.
        let free = (0..self.stacks.len())
            .map(|k| (self.turn + k) % self.stacks.len())
            .find(|&i| self.stacks[i].size == size && !self.runs_on(i));
        let slot = match free {
            Some(i) if same >= PER_SIZE => i,
            _ => {
                // Fewer than `PER_SIZE` yet, or every one is used by a running tasklet (a chain
                // of kills): one more.
                let stack = pool.get(size, StackMode::GUARDED)?;
                self.stacks.push(Shared {
                    stack,
                    size,
                    owner: None,
                });
                self.stacks.len() - 1
            }
        };
        let mut saved = Box::new(Saved {
            slot,
            suspended_at: Cell::new(0),
            low: 0,
            bytes: Vec::new(),
            out: false,
        });
        self.enter(task, &mut saved, below);
        Ok((self.stacks[slot].stack.share(), saved))
    }

    /// Whether the shared stack `slot` is in use by a running tasklet (one on the chain of
    /// resumes, or the running one).
    fn runs_on(&self, slot: usize) -> bool {
        self.stacks[slot]
            .owner
            .as_ref()
            .and_then(Weak::upgrade)
            .is_some_and(|owner| owner.state.get() == State::Running)
    }

    /// Whether `task` (whose side is `saved`) cannot be resumed now because another running
    /// tasklet uses its shared stack.
    pub(crate) fn blocked(&self, task: &Task, saved: &Saved) -> bool {
        self.runs_on(saved.slot) && !self.owned_by(saved.slot, task)
    }

    fn owned_by(&self, slot: usize, task: &Task) -> bool {
        self.stacks[slot]
            .owner
            .as_ref()
            .is_some_and(|owner| std::ptr::addr_eq(owner.as_ptr(), task))
    }

    /// Makes `task`'s bytes the ones in its shared stack before it runs: the owner's go out,
    /// its own come back. Panics if a running tasklet uses the stack (the scheduler never
    /// resumes such a tasklet).
    pub(crate) fn enter(&mut self, task: &Rc<Task>, saved: &mut Saved, below: usize) {
        let slot = saved.slot;
        if self.owned_by(slot, task) {
            return;
        }
        let (limit, top) = self.stacks[slot].stack.bounds();
        if let Some(owner) = self.stacks[slot].owner.take().and_then(|o| o.upgrade()) {
            assert!(
                owner.state.get() != State::Running,
                "concurrence: a compact tasklet resumed while a running one uses its stack"
            );
            if let Body::Started(coro) = &mut *owner.body.borrow_mut() {
                if let Some(theirs) = coro.compact.as_deref_mut() {
                    save(theirs, limit, top, below);
                }
            }
        }
        if saved.out {
            restore(saved, top);
        }
        self.stacks[slot].owner = Some(Rc::downgrade(task));
    }

    /// `task` finished: its bytes need not be kept.
    pub(crate) fn leave(&mut self, task: &Task, saved: &Saved) {
        if self.owned_by(saved.slot, task) {
            self.stacks[saved.slot].owner = None;
        }
    }

    /// Gives the shared stacks back to the pool (at shutdown, when every tasklet has finished).
    pub(crate) fn release(&mut self, pool: &mut StackPool) {
        for shared in self.stacks.drain(..) {
            pool.put(shared.stack);
        }
    }

    /// Leaks the shared stacks (at shutdown, when a tasklet refused to die: it may own one, and
    /// its frames may be borrowed still). A mapped shared stack is never unmapped; a slot stays
    /// in its region, which the pool keeps mapped.
    pub(crate) fn leak(&mut self) {
        for shared in self.stacks.drain(..) {
            std::mem::forget(shared.stack);
        }
    }
}

/// Copies a suspended tasklet's bytes out of its shared stack `[limit, top)`.
fn save(saved: &mut Saved, limit: usize, top: usize, below: usize) {
    let at = saved.suspended_at.get();
    assert!(
        limit <= at && at < top,
        "concurrence: a compact tasklet suspended outside its stack"
    );
    let low = at.saturating_sub(below).max(limit);
    let len = top - low;
    saved.bytes.clear();
    saved.bytes.reserve_exact(len);
    // SAFETY: `low .. top` lies in the shared stack's usable memory, which the table keeps
    // mapped; the tasklet whose bytes they are is suspended and no other runs on the stack, so
    // nothing writes them meanwhile. The buffer has room for `len` bytes; the copy may include
    // bytes never written (uninitialised), which `MaybeUninit<u8>` may hold.
    unsafe {
        std::ptr::copy_nonoverlapping(low as *const MaybeUninit<u8>, saved.bytes.as_mut_ptr(), len);
        saved.bytes.set_len(len);
    }
    saved.low = low;
    saved.out = true;
}

/// Copies a tasklet's saved bytes back to where they were in its shared stack (ending at `top`).
fn restore(saved: &mut Saved, top: usize) {
    let len = saved.bytes.len();
    assert_eq!(saved.low + len, top, "saved bytes end at the stack's top");
    // SAFETY: `low .. top` lies in the shared stack's usable memory (it was copied from there);
    // the previous owner's bytes were copied out just before (or it had finished, or there was
    // none) and no tasklet runs on the stack, so this overwrites no live frame.
    unsafe {
        std::ptr::copy_nonoverlapping(saved.bytes.as_ptr(), saved.low as *mut MaybeUninit<u8>, len);
    }
    saved.bytes.clear();
    saved.out = false;
}
