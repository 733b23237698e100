//! Tasklet stacks: how they are mapped, guarded, pooled and checked.
//!
//! A tasklet gets its stack when it first runs and gives it back to its dispatcher's pool when it
//! finishes, so spawning a tasklet that is never run costs no stack, and a finished tasklet's
//! stack (with its already touched pages) serves the next one.
//!
//! Two kinds of stack exist, and [`StackMode`] chooses between them:
//!
//! ```text
//!  Guarded: one mapping each                 Canary: carved from a chunk of N slots
//!
//!  high +------------------+ top             high +------------------+
//!       |  usable stack    |                      | slot N-1 ...     |
//!       |  (grows down)    |                      +------------------+ <- top of slot 1
//!       |                  |                      | slot 1 stack     |
//!       +------------------+ limit                +------------------+ <- limit of slot 1
//!       |  guard page      | PROT_NONE            | 64-byte canary   |  (top of slot 0, reserved)
//!  low  +------------------+                      | slot 0 stack     |
//!                                                 +------------------+
//!                                                 |  guard page      | PROT_NONE
//!                                            low  +------------------+
//! ```
//!
//! * A guarded stack faults on overflow; the fault handler in `overflow.rs` names the tasklet and
//!   aborts. Each costs two kernel mappings (the stack and its guard), and Linux allows 65,530
//!   mappings per process by default (`vm.max_map_count`): about 32,700 guarded stacks at most.
//! * A canary stack is a slot of a chunk that holds up to 256 slots behind one guard page (two
//!   mappings per chunk), so a million of them fit in the default mapping budget. An overflow of
//!   slot *i* runs into the reserved top bytes of slot *i − 1*; those bytes hold a canary that is
//!   checked every time the tasklet suspends or finishes, and a damaged canary aborts the process
//!   with the tasklet's name. That is detection after the fact, not prevention: the overflowing
//!   tasklet may already have damaged its neighbour's frames before the check runs.
//!
//! Memory is mapped with `MAP_NORESERVE`: only the pages a tasklet touches become resident.

use std::io;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use corosensei::stack::StackPointer;

/// The stack size a tasklet gets unless its builder or the dispatcher says otherwise: 64 KiB.
///
/// Enough for ordinary code, formatting and panics with their messages (a panic with
/// `RUST_BACKTRACE=1` symbolizes on the tasklet's stack and wants more: give such tasklets a
/// larger [`stack_size`](crate::Builder::stack_size)). Only touched pages cost memory.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;

/// Which kind of stack tasklets run on; set per dispatcher with
/// [`Dispatcher::stack_mode`](crate::Dispatcher::stack_mode) and per tasklet with
/// [`Builder::stack_mode`](crate::Builder::stack_mode).
///
/// # Examples
///
/// ```
/// use concurrence::{Dispatcher, StackMode, spawn};
///
/// let status = Dispatcher::new().stack_mode(StackMode::Canary).run(|| {
///     assert_eq!(spawn(|| 6 * 7).join().unwrap(), 42);
/// });
/// assert!(status.success());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StackMode {
    /// Guarded stacks while the process's mapping budget allows (a quarter of
    /// `vm.max_map_count`, 16,382 stacks on a stock Linux), canary stacks beyond it; a warning is
    /// logged the first time the budget runs out. The default: small programs get full overflow
    /// protection and a million tasklets still work.
    #[default]
    Auto,
    /// Always a guarded stack: an overflow faults at once and aborts with the tasklet's name.
    /// Past the mapping budget a tasklet cannot start, and its join reports
    /// [`JoinCause::NoStack`](crate::JoinCause::NoStack).
    Guarded,
    /// Always a canary stack: two mappings per 256 stacks, an overflow detected at the next
    /// suspension point (see the module docs for what that does and does not catch).
    Canary,
}

/// The smallest stack a tasklet gets, whatever it asks for: 16 KiB, room for the runtime's own
/// frames and a panic's unwinding.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// Bytes reserved at the top of each canary slot to hold the canary of the slot above.
const CANARY_LEN: usize = 64;
/// The canary pattern, one word repeated.
const CANARY_WORD: u64 = 0x5A17_C0DE_0BAD_F00D;
/// Slots per chunk, at most.
const MAX_SLOTS_PER_CHUNK: usize = 256;
/// Free guarded stacks kept mapped for reuse; beyond this they are unmapped.
const GUARDED_POOL_CAP: usize = 1024;

/// Guarded stacks currently mapped by this process (live and pooled, every dispatcher).
static GUARDED_MAPPED: AtomicUsize = AtomicUsize::new(0);
/// Set once the budget warning has been logged.
static BUDGET_WARNED: AtomicBool = AtomicBool::new(false);

/// The system page size.
pub(crate) fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf with a valid name has no preconditions.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize)
}

/// How many guarded stacks this process may map: a quarter of `vm.max_map_count`, leaving the
/// rest for chunks, libraries, heaps and threads.
pub fn guarded_budget() -> usize {
    static BUDGET: OnceLock<usize> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(65_530)
            / 4
    })
}

fn round_to_page(n: usize) -> usize {
    let page = page_size();
    n.div_ceil(page) * page
}

/// One tasklet stack, owned by the tasklet running on it or by the pool.
pub(crate) struct Stack {
    /// Highest usable address (exclusive), aligned to 16: where the stack starts.
    top: usize,
    /// Lowest usable address.
    limit: usize,
    /// The size class: what the tasklet asked for, rounded up to pages.
    class: usize,
    kind: Kind,
}

enum Kind {
    /// Its own mapping: `[map_base, map_base + page)` is the guard page.
    Guarded { map_base: usize, map_len: usize },
    /// A slot in a chunk; `canary` is the address of the canary below it (none for slot 0,
    /// which has the chunk's guard page below), `guard` that guard page's address for slot 0.
    Slot {
        canary: Option<usize>,
        guard: Option<usize>,
    },
}

/// Where a stack's guard page and canary are, to report and detect overflows. Zero means
/// "none" for each address.
#[derive(Clone, Copy, Default)]
pub(crate) struct StackInfo {
    /// The guard page below the stack: `guard_lo .. guard_hi` (empty without one).
    pub(crate) guard_lo: usize,
    pub(crate) guard_hi: usize,
    /// The canary below the stack, for canary slots other than a chunk's first.
    canary: usize,
    /// Usable bytes.
    pub(crate) size: usize,
}

impl StackInfo {
    /// No stack (yet).
    pub(crate) const NONE: StackInfo = StackInfo {
        guard_lo: 0,
        guard_hi: 0,
        canary: 0,
        size: 0,
    };

    /// Whether the canary below the stack is intact (always true for stacks that have a guard
    /// page instead).
    pub(crate) fn canary_intact(&self) -> bool {
        let addr = self.canary;
        addr == 0
            || (0..CANARY_LEN / 8).all(|i| {
                // SAFETY: `addr .. addr + CANARY_LEN` lies in the reserved top of the slot below,
                // inside a chunk's read-write mapping, which the pool keeps mapped while any of
                // its slots is in use; it is 8-aligned because slots are page-aligned.
                unsafe { ptr::read_volatile((addr as *const u64).add(i)) == CANARY_WORD }
            })
    }
}

impl Stack {
    /// Where this stack's guard page and canary are.
    pub(crate) fn info(&self) -> StackInfo {
        let page = page_size();
        let (guard, canary) = match self.kind {
            Kind::Guarded { map_base, .. } => (Some(map_base), None),
            Kind::Slot { canary, guard } => (guard, canary),
        };
        StackInfo {
            guard_lo: guard.unwrap_or(0),
            guard_hi: guard.map_or(0, |g| g + page),
            canary: canary.unwrap_or(0),
            size: self.top - self.limit,
        }
    }

    fn write_canary(&self) {
        if let Kind::Slot {
            canary: Some(addr), ..
        } = self.kind
        {
            for i in 0..CANARY_LEN / 8 {
                // SAFETY: as in `canary_intact`; the bytes are reserved, no stack uses them.
                unsafe { ptr::write_volatile((addr as *mut u64).add(i), CANARY_WORD) };
            }
        }
    }

    fn new_guarded(class: usize) -> io::Result<Stack> {
        let map_len = class + page_size();
        let map_base = map_guarded(map_len)?;
        GUARDED_MAPPED.fetch_add(1, Ordering::Relaxed);
        Ok(Stack {
            top: map_base + map_len,
            limit: map_base + page_size(),
            class,
            kind: Kind::Guarded { map_base, map_len },
        })
    }
}

/// Maps `len` bytes of fresh read-write memory (reserving no swap: pages cost memory only once
/// touched) whose lowest page is a guard page; returns its address.
fn map_guarded(len: usize) -> io::Result<usize> {
    // SAFETY: an anonymous private mapping at an address the kernel picks touches no existing
    // memory; the result is checked for MAP_FAILED.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the first page of the mapping just made is ours to protect.
    if unsafe { libc::mprotect(base, page_size(), libc::PROT_NONE) } != 0 {
        let err = io::Error::last_os_error();
        // SAFETY: unmapping exactly the mapping made above, which nothing else uses.
        unsafe { libc::munmap(base, len) };
        return Err(err);
    }
    Ok(base as usize)
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Kind::Guarded { map_base, map_len } = self.kind {
            // SAFETY: the mapping belongs to this stack alone and no tasklet runs on it any more
            // (stacks are dropped only by the pool or after their coroutine finished).
            unsafe { libc::munmap(map_base as *mut libc::c_void, map_len) };
            GUARDED_MAPPED.fetch_sub(1, Ordering::Relaxed);
        }
        // Slots are unmapped with their chunk.
    }
}

// SAFETY: `top` and `limit` bound memory that stays mapped read-write while the `Stack` lives
// (a guarded stack owns its mapping; a slot's chunk outlives every slot, see `StackPool`), both
// are 16-aligned, and the usable size is at least a page. Guarded stacks and slot 0 have a guard
// page below; other slots rely on the canary instead, the trade-off `StackMode::Canary`
// documents.
unsafe impl corosensei::stack::Stack for Stack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.top).expect("stack top is never null")
    }

    fn limit(&self) -> StackPointer {
        StackPointer::new(self.limit).expect("stack limit is never null")
    }
}

/// A chunk of canary slots, unmapped when its pool is dropped.
struct Chunk {
    base: usize,
    len: usize,
}

/// Where the next fresh slot of one size class comes from.
struct Carver {
    /// Address of slot 0's bottom in the newest chunk.
    first: usize,
    /// Index of the next slot never handed out.
    next: usize,
    /// Slots in that chunk.
    count: usize,
}

/// A dispatcher's stacks: free stacks by size class, and the chunks canary slots live in.
///
/// Every slot handed out must be given back or leaked before the pool is dropped, because
/// dropping the pool unmaps the chunks: the scheduler drops its pool only after every tasklet
/// has finished or been leaked along with its stack.
pub(crate) struct StackPool {
    /// Free stacks by size class (few classes: a short list beats hashing).
    free_guarded: Vec<(usize, Vec<Stack>)>,
    free_slots: Vec<(usize, Vec<Stack>)>,
    carvers: Vec<(usize, Carver)>,
    chunks: Vec<Chunk>,
}

impl StackPool {
    pub(crate) fn new() -> StackPool {
        StackPool {
            free_guarded: Vec::new(),
            free_slots: Vec::new(),
            carvers: Vec::new(),
            chunks: Vec::new(),
        }
    }

    /// A stack of at least `size` usable bytes of the kind `mode` asks for.
    pub(crate) fn get(&mut self, size: usize, mode: StackMode) -> io::Result<Stack> {
        let class = round_to_page(size.max(MIN_STACK_SIZE));
        match mode {
            StackMode::Guarded => self.guarded(class).unwrap_or_else(|| {
                Err(io::Error::other(format!(
                    "the guarded-stack budget of {} stacks (a quarter of vm.max_map_count) is \
                     used up; use StackMode::Auto or StackMode::Canary, or raise vm.max_map_count",
                    guarded_budget()
                )))
            }),
            StackMode::Canary => self.slot(class),
            StackMode::Auto => match self.guarded(class) {
                Some(Ok(stack)) => Ok(stack),
                // Over the budget, or the kernel refused the mapping: a canary stack will do.
                None | Some(Err(_)) => {
                    if !BUDGET_WARNED.swap(true, Ordering::Relaxed) {
                        log::warn!(
                            "concurrence: {} guarded stacks in use (a quarter of \
                             vm.max_map_count); further tasklets get canary-checked stacks",
                            GUARDED_MAPPED.load(Ordering::Relaxed)
                        );
                    }
                    self.slot(class)
                }
            },
        }
    }

    /// A guarded stack, or `None` when the process's guarded-stack budget is used up.
    fn guarded(&mut self, class: usize) -> Option<io::Result<Stack>> {
        if let Some(stack) = class_list(&mut self.free_guarded, class).pop() {
            return Some(Ok(stack));
        }
        if GUARDED_MAPPED.load(Ordering::Relaxed) >= guarded_budget() {
            return None;
        }
        Some(Stack::new_guarded(class))
    }

    fn slot(&mut self, class: usize) -> io::Result<Stack> {
        if let Some(stack) = class_list(&mut self.free_slots, class).pop() {
            stack.write_canary();
            return Ok(stack);
        }
        let at = match self.carvers.iter().position(|(c, _)| *c == class) {
            Some(at) => at,
            None => {
                let carver = self.new_chunk(class)?;
                self.carvers.push((class, carver));
                self.carvers.len() - 1
            }
        };
        if self.carvers[at].1.next == self.carvers[at].1.count {
            self.carvers[at].1 = self.new_chunk(class)?;
        }
        let carver = &mut self.carvers[at].1;
        let index = carver.next;
        carver.next += 1;
        let limit = carver.first + index * class;
        let stack = Stack {
            top: limit + class - CANARY_LEN,
            limit,
            class,
            kind: Kind::Slot {
                canary: (index > 0).then(|| limit - CANARY_LEN),
                guard: (index == 0).then(|| limit - page_size()),
            },
        };
        stack.write_canary();
        Ok(stack)
    }

    fn new_chunk(&mut self, class: usize) -> io::Result<Carver> {
        let page = page_size();
        let count = (16 * 1024 * 1024 / class).clamp(1, MAX_SLOTS_PER_CHUNK);
        let len = page + count * class;
        let base = map_guarded(len)?;
        self.chunks.push(Chunk { base, len });
        Ok(Carver {
            first: base + page,
            next: 0,
            count,
        })
    }

    /// Takes back a stack whose tasklet has finished.
    pub(crate) fn put(&mut self, stack: Stack) {
        match stack.kind {
            Kind::Guarded { .. } => {
                let free = class_list(&mut self.free_guarded, stack.class);
                if free.len() < GUARDED_POOL_CAP {
                    free.push(stack);
                }
            }
            Kind::Slot { .. } => class_list(&mut self.free_slots, stack.class).push(stack),
        }
    }
}

/// The list for size class `class`, made empty if there is none yet.
fn class_list(lists: &mut Vec<(usize, Vec<Stack>)>, class: usize) -> &mut Vec<Stack> {
    let at = match lists.iter().position(|(c, _)| *c == class) {
        Some(at) => at,
        None => {
            lists.push((class, Vec::new()));
            lists.len() - 1
        }
    };
    &mut lists[at].1
}

impl Drop for StackPool {
    fn drop(&mut self) {
        self.free_guarded.clear();
        self.free_slots.clear();
        for chunk in self.chunks.drain(..) {
            // SAFETY: every slot of the chunk is back in the pool (dropped just above) or was
            // leaked with a tasklet that can never run again, so no stack uses this memory.
            unsafe { libc::munmap(chunk.base as *mut libc::c_void, chunk.len) };
        }
    }
}
