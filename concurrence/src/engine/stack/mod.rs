//! Tasklet stacks: how they are mapped, guarded, pooled, trimmed and checked.
//!
//! A tasklet gets its stack when it first runs and gives it back to its dispatcher's pool when it
//! finishes, so spawning a tasklet that is never run costs no stack, and a finished tasklet's
//! stack (with its already touched pages) serves the next one.
//!
//! Every stack has a guard page below it unless the program chose otherwise with `unsafe`
//! ([`StackMode::unguarded_canary`]). How the guard page is made depends on the kernel:
//!
//! ```text
//!  Slots of a region (Linux 6.13+)        Own mapping (older kernels)   Canary (unsafe opt-in)
//!
//!  high +------------------+              +------------------+          +------------------+
//!       | slot 1 stack     |              |  usable stack    |          | slot 1 stack     |
//!       +------------------+ limit        |  (grows down)    |          +------------------+
//!       | guard (PTE mark) |              +------------------+ limit    | 64-byte canary   |
//!       +------------------+              |  guard page      | mprotect | slot 0 stack     |
//!       | slot 0 stack     |              +------------------+          +------------------+
//!       +------------------+ limit                                      |  guard page      |
//!       | guard (PTE mark) |  one mapping: a region of many slots       +------------------+
//!  low  +------------------+                                            one guard per chunk
//! ```
//!
//! * **Regions** (the default where the kernel has it): a dispatcher reserves large regions
//!   (`MAP_NORESERVE`: only touched pages cost memory) and carves slots from them lazily. Each
//!   slot's lowest page becomes a guard page with `madvise(MADV_GUARD_INSTALL)`, which marks it in
//!   the page tables without splitting the mapping, so guards do not count against
//!   `vm.max_map_count` (65,530 mappings by default): a million guarded stacks cost a few hundred
//!   mappings. Guards are installed before a slot is handed out, a run of fresh slots at a time
//!   (one `process_madvise` where the kernel has `PIDFD_SELF`, Linux 6.15+). A fault in the
//!   guard page is reported by `overflow.rs` with the tasklet's name.
//! * **Own mappings** (where the kernel refuses `MADV_GUARD_INSTALL`, before Linux 6.13; or when
//!   the environment variable `CONCURRENCE_STACK_GUARDS=mprotect` asks for it): each stack is a
//!   mapping with its lowest page `mprotect`ed, two mappings each, up to [`guarded_budget`]
//!   stacks (a quarter of `vm.max_map_count`); past it a tasklet cannot start and its join says
//!   why ([`JoinCause::NoStack`](crate::JoinCause::NoStack)).
//! * **Canary slots**, only with [`StackMode::unguarded_canary`], which is `unsafe`: up to 256
//!   slots behind one guard page, with a canary checked at every suspension. An overflow can
//!   damage a neighbour's live frames before the check sees it.
//!
//! **Trimming.** The pool keeps the touched pages of free stacks, so that the next tasklet does
//! not pay for first touches, but not for ever: a free stack that has not been reused since the
//! previous trim (the pool's low-water mark, as jemalloc's decay does) gives back everything
//! below its top [`KEEP`] bytes with `MADV_DONTNEED`. The scheduler trims every
//! [`TRIM_PERIOD`] while free stacks are untrimmed, so a tasklet that once used 500 KiB of
//! stack does not leave that memory resident after it ends.
//!
//! Under valgrind every stack is registered as one (corosensei's registration type), so memcheck
//! follows the switches without extra flags.

use std::io;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use corosensei::stack::valgrind::ValgrindStackRegistration;
use corosensei::stack::StackPointer;

mod pool;

pub(crate) use pool::StackPool;

/// The stack size a tasklet gets unless its builder or the dispatcher says otherwise: 256 KiB.
///
/// Room for a 64 KiB buffer on the stack, deep formatting and panics with their messages (a
/// panic with `RUST_BACKTRACE=1` symbolizes on the tasklet's stack and may want more: give such
/// tasklets a larger [`stack_size`](crate::Builder::stack_size)). Only touched pages cost
/// memory; the address space reserved costs page tables, about 512 bytes per live tasklet at
/// this size (BENCHMARKS.md has the measurements behind the choice).
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The smallest stack a tasklet gets, whatever it asks for: 16 KiB, room for the runtime's own
/// frames and a panic's unwinding.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// Which kind of stack tasklets run on; set per dispatcher with
/// [`Dispatcher::stack_mode`](crate::Dispatcher::stack_mode) and per tasklet with
/// [`Builder::stack_mode`](crate::Builder::stack_mode).
///
/// The default, [`StackMode::GUARDED`], gives every stack a guard page: an overflow faults at
/// once and the process aborts with a message naming the tasklet, never corrupting memory. The
/// two other modes are `unsafe` to choose: [`StackMode::unguarded_canary`] trades the guard
/// page for fewer kernel mappings on kernels without `MADV_GUARD_INSTALL`, and
/// [`StackMode::compact`] shares stacks between tasklets, which is sound only while nothing
/// outside a tasklet points into its stack across a suspension.
///
/// # Examples
///
/// ```
/// use concurrence::{Dispatcher, StackMode, spawn};
///
/// let status = Dispatcher::new().stack_mode(StackMode::GUARDED).run(|| {
///     assert_eq!(spawn(|| 6 * 7).join().unwrap(), 42);
/// });
/// assert!(status.success());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StackMode(Mode);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
enum Mode {
    #[default]
    Guarded,
    Canary,
    Compact,
}

impl StackMode {
    /// Every stack has a guard page (the default). On Linux 6.13 and later the guards live in
    /// the page tables and a million tasklets fit; on older kernels each stack is a mapping of
    /// its own, up to [`guarded_budget`] at once, and past it a tasklet cannot start (its join
    /// reports [`JoinCause::NoStack`](crate::JoinCause::NoStack)).
    pub const GUARDED: StackMode = StackMode(Mode::Guarded);

    /// Unguarded stacks carved 256 to a chunk behind one guard page, with a 64-byte canary
    /// between neighbours that is checked each time a tasklet suspends or ends (a damaged one
    /// aborts the process naming the tasklet).
    ///
    /// # Safety
    ///
    /// A tasklet that overflows such a stack writes into its neighbour's live stack. The canary
    /// sees only writes that touch it, and only at the next check: a large frame can skip over
    /// it (stack probes touch one word a page) and corrupt another tasklet's frames, with
    /// undefined behaviour as the result. Choose this mode only for tasklets whose deepest stack
    /// use is known to stay well within their [`stack_size`](crate::Builder::stack_size).
    pub const unsafe fn unguarded_canary() -> StackMode {
        StackMode(Mode::Canary)
    }

    /// Tasklets share a few guarded stacks, and one that is not running keeps only the bytes
    /// of stack it uses, copied to the heap (Stackless Python's and greenlet's scheme, libco's
    /// shared stacks). An idle tasklet then costs its record and its used stack (about 1.2 KiB
    /// in all for a sleeping one, against 4.5 KiB with a page of stack), and starting one maps
    /// nothing; switching to a tasklet whose bytes are not in its stack copies them in and the
    /// previous user's out (about 600 bytes each for a sleeping tasklet). Each tasklet is
    /// bound to one shared stack of its size for life; an overflow
    /// faults in that stack's guard page as in [`StackMode::GUARDED`]. Suited to many tasklets
    /// that mostly wait (timers, idle connections); a busy pair of tasklets pays a copy per
    /// switch only when they share a stack.
    ///
    /// Available on x86_64 and aarch64; elsewhere it gives guarded stacks. The `compact` module
    /// of the source says what the runtime does to keep the copies exact.
    ///
    /// # Safety
    ///
    /// While a compact tasklet is suspended, another tasklet may run on its stack: the memory
    /// of the suspended tasklet's frames holds someone else's data until its bytes are copied
    /// back, just before it runs again. So nothing outside the tasklet may hold a pointer into
    /// its stack across a suspension (a sleep, a receive, a join, a yield, any blocking call).
    /// The caller promises that tasklets of this mode
    ///
    /// * lend no borrow of their stack to another thread across a suspension: no
    ///   `std::thread::scope` (or rayon scope, or crossbeam scope) whose scoped threads hold
    ///   borrows of the tasklet's locals while the tasklet blocks;
    /// * pin nothing on their stack whose address is registered elsewhere across a suspension:
    ///   no future polled from a stack pin (`std::pin::pin!`) whose waker or wait-list node
    ///   points into it (intrusive waiters such as tokio's `Notify`, `Sleep` and semaphore
    ///   waiters, or `event-listener`): box such a future (`Box::pin`);
    /// * hand no raw pointer or `'static` reference to their stack to anyone who uses it while
    ///   the tasklet is suspended.
    ///
    /// Borrows that stay within the tasklet (its own locals, references passed down its calls,
    /// values moved into messages, mailboxes and channels) are fine: only the tasklet itself
    /// uses them, and only while it runs with its bytes in place. A program that breaks the
    /// promise reads or writes another tasklet's frames: undefined behaviour.
    ///
    /// # Examples
    ///
    /// A thousand tasklets asleep at once, each holding about its used stack, not a page:
    ///
    /// ```
    /// use concurrence::{sleep, spawn, Dispatcher, StackMode};
    /// use std::time::Duration;
    ///
    /// // SAFETY: the sleepers lend nothing on their stacks to anyone while they sleep.
    /// let compact = unsafe { StackMode::compact() };
    /// let status = Dispatcher::new().stack_mode(compact).run(|| {
    ///     let sleepers: Vec<_> = (0..1000u64)
    ///         .map(|i| {
    ///             spawn(move || {
    ///                 sleep(Duration::from_millis(1));
    ///                 i
    ///             })
    ///         })
    ///         .collect();
    ///     let sum: u64 = sleepers.iter().map(|t| t.join().unwrap()).sum();
    ///     assert_eq!(sum, 999 * 1000 / 2);
    /// });
    /// assert!(status.success());
    /// ```
    pub const unsafe fn compact() -> StackMode {
        StackMode(Mode::Compact)
    }

    /// Whether stacks of this mode have a guard page.
    pub const fn is_guarded(self) -> bool {
        matches!(self.0, Mode::Guarded | Mode::Compact)
    }

    /// Whether this is [`StackMode::compact`] where it is available.
    pub(crate) const fn is_compact(self) -> bool {
        matches!(self.0, Mode::Compact) && crate::engine::compact::AVAILABLE
    }
}

/// Bytes at the top of a free stack that trimming keeps resident.
pub(crate) const KEEP: usize = 16 * 1024;
/// How often the scheduler trims free stacks while some are untrimmed.
pub(crate) const TRIM_PERIOD: Duration = Duration::from_millis(500);

/// Bytes reserved at the top of each canary slot to hold the canary of the slot above.
const CANARY_LEN: usize = 64;
/// The canary pattern, one word repeated.
const CANARY_WORD: u64 = 0x5A17_C0DE_0BAD_F00D;
/// Canary slots per chunk, at most.
const MAX_SLOTS_PER_CHUNK: usize = 256;
/// Guarded slots in the first region of a size class; each further region doubles, up to
/// `MAX_SLOTS_PER_REGION`.
const FIRST_SLOTS_PER_REGION: usize = 16;
const MAX_SLOTS_PER_REGION: usize = 4096;
/// Free stacks with their own mapping kept for reuse; beyond this they are unmapped.
const MAPPED_POOL_CAP: usize = 1024;
/// `madvise` advice that installs guard pages in the page tables (Linux 6.13+; not yet in libc).
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// Stacks with their own mapping currently mapped by this process (every dispatcher).
static MAPPED: AtomicUsize = AtomicUsize::new(0);
/// Set once the fallback to own mappings has been logged.
static FALLBACK_WARNED: AtomicBool = AtomicBool::new(false);

/// The system page size.
pub(crate) fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf with a valid name has no preconditions.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize)
}

/// How many guarded stacks this process may have at once: `None` when guard pages are
/// installed in the page tables (Linux 6.13+), which costs no mappings, so there is no budget
/// but memory; otherwise a quarter of `vm.max_map_count` (16,382 on a stock Linux), since each
/// stack is then a mapping of its own with an `mprotect`ed guard page.
pub fn guarded_budget() -> Option<usize> {
    match guards() {
        Guards::PageTable => None,
        Guards::OwnMapping => Some(mapping_budget()),
    }
}

fn mapping_budget() -> usize {
    static BUDGET: OnceLock<usize> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(65_530)
            / 4
    })
}

/// How guard pages are made in this process.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Guards {
    /// `MADV_GUARD_INSTALL` on slots of large regions.
    PageTable,
    /// A mapping per stack with an `mprotect`ed lowest page.
    OwnMapping,
}

fn guards() -> Guards {
    static GUARDS: OnceLock<Guards> = OnceLock::new();
    *GUARDS.get_or_init(|| {
        let forced = std::env::var("CONCURRENCE_STACK_GUARDS").is_ok_and(|v| v == "mprotect");
        if !forced && guard_install_works() {
            Guards::PageTable
        } else {
            Guards::OwnMapping
        }
    })
}

/// Whether the kernel installs guard pages with `madvise` (it answers EINVAL before 6.13).
fn guard_install_works() -> bool {
    let page = page_size();
    let Ok(base) = map(2 * page) else {
        return false;
    };
    // SAFETY: the first page of a mapping just made, which nothing uses.
    let ok = unsafe { libc::madvise(base as *mut libc::c_void, page, MADV_GUARD_INSTALL) } == 0;
    // SAFETY: unmapping exactly the mapping made above.
    unsafe { libc::munmap(base as *mut libc::c_void, 2 * page) };
    ok
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
    /// The size class: usable bytes asked for, rounded up to pages.
    class: usize,
    kind: Kind,
    /// Used since the pool last trimmed it.
    dirty: bool,
    /// Tells valgrind this memory is a stack (nothing when not running under valgrind).
    _valgrind: ValgrindStackRegistration,
}

enum Kind {
    /// A slot of a region: the page below `limit` is a guard installed in the page tables.
    Slot,
    /// Its own mapping: `[map_base, map_base + page)` is an `mprotect`ed guard page.
    Mapped { map_base: usize, map_len: usize },
    /// A canary slot: `canary` is the address of the canary below it (none for a chunk's first
    /// slot), `guard` the chunk's guard page, at the bottom of the chunk.
    Canary { canary: Option<usize>, guard: usize },
    /// Another handle on a shared stack (`StackMode::compact`), which the shared stack's table
    /// keeps: never pooled or unmapped through this handle. `guard` is the shared stack's own
    /// guard page (shared stacks are guarded slots or mappings).
    Shared { guard: usize },
}

/// Where a stack's guard page and canary are, to report and detect overflows (16 bytes: it is
/// part of every tasklet's record).
#[derive(Clone, Copy, Default)]
pub(crate) struct StackInfo {
    /// The guard page the stack runs into on overflow (one page from here); 0 for none.
    pub(crate) guard: usize,
    /// The canary below the stack, as its distance above `guard` (a canary chunk is at most
    /// 16 MiB); 0 for none: the stacks that have a guard page of their own.
    canary_offset: u32,
    /// Usable bytes (a stack over 4 GiB reports 4 GiB).
    pub(crate) size: u32,
}

impl StackInfo {
    /// No stack (yet).
    pub(crate) const NONE: StackInfo = StackInfo {
        guard: 0,
        canary_offset: 0,
        size: 0,
    };

    /// Whether the guard page is the stack's own (not a canary chunk's, below other stacks):
    /// exactly the stacks without a canary.
    pub(crate) fn own_guard(&self) -> bool {
        self.canary_offset == 0
    }

    /// Whether `addr` lies in the guard page.
    pub(crate) fn in_guard(&self, addr: usize) -> bool {
        self.guard != 0 && self.guard <= addr && addr - self.guard < page_size()
    }

    /// Whether the canary below the stack is intact (always true for stacks that have a guard
    /// page instead).
    pub(crate) fn canary_intact(&self) -> bool {
        let addr = self.guard + self.canary_offset as usize;
        self.canary_offset == 0
            || (0..CANARY_LEN / 8).all(|i| {
                // SAFETY: `addr .. addr + CANARY_LEN` lies in the reserved top of the slot below,
                // inside a chunk's read-write mapping, which the pool keeps mapped while any of
                // its slots is in use; it is 8-aligned because slots are page-aligned.
                unsafe { ptr::read_volatile((addr as *const u64).add(i)) == CANARY_WORD }
            })
    }
}

impl Stack {
    fn new(top: usize, limit: usize, class: usize, kind: Kind) -> Stack {
        Stack {
            top,
            limit,
            class,
            kind,
            dirty: true,
            _valgrind: ValgrindStackRegistration::new(limit as *mut u8, top - limit),
        }
    }

    /// Where this stack's guard page and canary are.
    pub(crate) fn info(&self) -> StackInfo {
        let page = page_size();
        let (guard, canary) = match self.kind {
            Kind::Slot => (self.limit - page, None),
            Kind::Mapped { map_base, .. } => (map_base, None),
            Kind::Canary { canary, guard } => (guard, canary),
            Kind::Shared { guard } => (guard, None),
        };
        StackInfo {
            guard,
            canary_offset: canary.map_or(0, |canary| {
                u32::try_from(canary - guard).expect("a canary chunk spans less than 4 GiB")
            }),
            size: u32::try_from(self.top - self.limit).unwrap_or(u32::MAX),
        }
    }

    /// A handle on this stack's memory for the coroutine of a compact tasklet; `self` stays
    /// with the shared-stack table, which outlives every such handle (see `compact.rs`).
    pub(crate) fn share(&self) -> Stack {
        Stack {
            top: self.top,
            limit: self.limit,
            class: self.class,
            kind: Kind::Shared {
                guard: self.info().guard,
            },
            dirty: true,
            _valgrind: ValgrindStackRegistration::new(self.limit as *mut u8, self.top - self.limit),
        }
    }

    /// The bounds of the usable stack: its lowest address and its top (exclusive).
    pub(crate) fn bounds(&self) -> (usize, usize) {
        (self.limit, self.top)
    }

    fn write_canary(&self) {
        if let Kind::Canary {
            canary: Some(addr), ..
        } = self.kind
        {
            for i in 0..CANARY_LEN / 8 {
                // SAFETY: as in `canary_intact`; the bytes are reserved, no stack uses them.
                unsafe { ptr::write_volatile((addr as *mut u64).add(i), CANARY_WORD) };
            }
        }
    }

    /// Gives back the pages below the top `KEEP` bytes. Their contents are gone: only for a
    /// stack no tasklet runs on.
    fn trim(&mut self) {
        let page = page_size();
        let end = self.top.saturating_sub(KEEP) & !(page - 1);
        if end > self.limit {
            // SAFETY: `limit .. end` lies inside this stack's usable memory, which no tasklet
            // uses while the stack is in the pool; MADV_DONTNEED only drops its pages (they read
            // as zeros when touched again) and leaves guard pages and canaries, outside the
            // range, as they are.
            unsafe {
                libc::madvise(
                    self.limit as *mut libc::c_void,
                    end - self.limit,
                    libc::MADV_DONTNEED,
                )
            };
        }
        self.dirty = false;
    }

    fn new_mapped(class: usize) -> io::Result<Stack> {
        let page = page_size();
        let map_len = class + page;
        let map_base = map(map_len)?;
        // SAFETY: the first page of the mapping just made is ours to protect.
        if unsafe { libc::mprotect(map_base as *mut libc::c_void, page, libc::PROT_NONE) } != 0 {
            let err = io::Error::last_os_error();
            // SAFETY: unmapping exactly the mapping made above, which nothing else uses.
            unsafe { libc::munmap(map_base as *mut libc::c_void, map_len) };
            return Err(err);
        }
        MAPPED.fetch_add(1, Ordering::Relaxed);
        Ok(Stack::new(
            map_base + map_len,
            map_base + page,
            class,
            Kind::Mapped { map_base, map_len },
        ))
    }
}

/// Maps `len` bytes of fresh read-write memory, reserving no swap (pages cost memory only once
/// touched); returns its address.
fn map(len: usize) -> io::Result<usize> {
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
    Ok(base as usize)
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Kind::Mapped { map_base, map_len } = self.kind {
            // SAFETY: the mapping belongs to this stack alone and no tasklet runs on it any more
            // (stacks are dropped only by the pool or after their coroutine finished).
            unsafe { libc::munmap(map_base as *mut libc::c_void, map_len) };
            MAPPED.fetch_sub(1, Ordering::Relaxed);
        }
        // Slots are unmapped with their region or chunk.
    }
}

// SAFETY: `top` and `limit` bound memory that stays mapped read-write while the `Stack` lives
// (a mapped stack owns its mapping; a slot's region or chunk outlives every slot, see
// `StackPool`: slots come back to the pool when their tasklet finishes, and a slot leaked with
// a tasklet that never finished keeps every region mapped), both are 16-aligned, and the
// usable size is at least a page. Slots and mapped
// stacks have a guard page right below `limit`; canary slots rely on the canary instead, the
// trade-off that makes `StackMode::unguarded_canary` unsafe to choose.
unsafe impl corosensei::stack::Stack for Stack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.top).expect("stack top is never null")
    }

    fn limit(&self) -> StackPointer {
        StackPointer::new(self.limit).expect("stack limit is never null")
    }
}
