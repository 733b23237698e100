//! The pool of a dispatcher's stacks: free stacks by size class, kept warm and trimmed, and the
//! regions and chunks that slots are carved from (see the module above for the kinds).

use std::io;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

use super::{
    guards, map, mapping_budget, page_size, round_to_page, Guards, Kind, Mode, Stack, StackMode,
    CANARY_LEN, FALLBACK_WARNED, FIRST_SLOTS_PER_REGION, MADV_GUARD_INSTALL, MAPPED,
    MAPPED_POOL_CAP, MAX_SLOTS_PER_CHUNK, MAX_SLOTS_PER_REGION, MIN_STACK_SIZE,
};

/// A region of guarded slots or a chunk of canary slots, unmapped when its pool is dropped.
struct Region {
    base: usize,
    len: usize,
}

/// Where the next fresh slot of a size class comes from.
struct Carver {
    /// Address of the next slot never handed out (its bottom: the guard page for guarded
    /// slots, the stack's limit for canary slots).
    next: usize,
    /// Index of that slot in its region or chunk.
    index: usize,
    /// Slots in that region or chunk.
    count: usize,
    /// The chunk's guard page (canary chunks only).
    guard: usize,
    /// Index of the first slot of the region whose guard page is not installed yet (guarded
    /// slots only; guards are installed a run of slots at a time, see `install_guards`).
    guarded: usize,
}

/// Free stacks of one size and mode.
struct Class {
    size: usize,
    mode: Mode,
    /// Free stacks, the most recently freed last (taken first: its pages are warm).
    free: Vec<Stack>,
    /// The fewest free stacks since the last trim: `free[..low_water]` were not used since.
    low_water: usize,
    carver: Option<Carver>,
    /// Regions made so far, to size the next (each doubles).
    regions: u32,
    /// Slots carved so far, to size the next run of guards installed at once.
    carved: usize,
}

/// A dispatcher's stacks: free stacks by size class, and the regions and chunks slots live in.
///
/// Every slot handed out must be given back before the pool is dropped, because dropping the
/// pool unmaps the regions: the scheduler drops its pool only after every tasklet has finished.
/// When a tasklet survived the dispatcher's shutdown (it caught every kill), its coroutine and
/// stack are leaked, and the scheduler calls [`keep_mapped`](StackPool::keep_mapped): the
/// regions are then never unmapped, since a survivor's stack may still be read (a scoped thread
/// it lent a borrow of its frames to).
pub(crate) struct StackPool {
    classes: Vec<Class>,
    regions: Vec<Region>,
    /// Free stacks used since they were last trimmed.
    untrimmed: usize,
    /// Set when a stack of the pool was leaked with a tasklet that is still alive: the
    /// regions stay mapped for ever.
    leaked: bool,
}

impl StackPool {
    pub(crate) fn new() -> StackPool {
        StackPool {
            classes: Vec::new(),
            regions: Vec::new(),
            untrimmed: 0,
            leaked: false,
        }
    }

    /// Keeps every region mapped for the rest of the process: a stack of the pool was leaked
    /// with a tasklet that never ended.
    pub(crate) fn keep_mapped(&mut self) {
        self.leaked = true;
    }

    /// A stack of at least `size` usable bytes of the kind `mode` asks for.
    pub(crate) fn get(&mut self, size: usize, mode: StackMode) -> io::Result<Stack> {
        // A compact tasklet's stack is shared (see `compact.rs`); where that mode is not
        // available it runs on a guarded stack of its own.
        let mode = if mode.0 == Mode::Compact {
            StackMode::GUARDED
        } else {
            mode
        };
        let size = round_to_page(size.max(MIN_STACK_SIZE));
        let at = match self
            .classes
            .iter()
            .position(|c| c.size == size && c.mode == mode.0)
        {
            Some(at) => at,
            None => {
                self.classes.push(Class {
                    size,
                    mode: mode.0,
                    free: Vec::new(),
                    low_water: 0,
                    carver: None,
                    regions: 0,
                    carved: 0,
                });
                self.classes.len() - 1
            }
        };
        let class = &mut self.classes[at];
        if let Some(mut stack) = class.free.pop() {
            class.low_water = class.low_water.min(class.free.len());
            if stack.dirty {
                self.untrimmed -= 1;
            }
            stack.dirty = true;
            stack.write_canary();
            return Ok(stack);
        }
        match (mode.0, guards()) {
            (Mode::Guarded, Guards::PageTable) => self.carve(at),
            (Mode::Guarded, Guards::OwnMapping) => {
                if !FALLBACK_WARNED.swap(true, Ordering::Relaxed) {
                    crate::engine::logging::log_at!(
                        Info,
                        "concurrence: guard pages are mprotected mappings (the kernel has no \
                         MADV_GUARD_INSTALL, or CONCURRENCE_STACK_GUARDS=mprotect): at most {} \
                         guarded stacks at once",
                        mapping_budget()
                    );
                }
                if MAPPED.load(Ordering::Relaxed) >= mapping_budget() {
                    return Err(io::Error::other(format!(
                        "the budget of {} guarded stacks is used up (a quarter of \
                         vm.max_map_count: this kernel cannot install guard pages without a \
                         mapping each, which Linux 6.13+ can); raise vm.max_map_count or run \
                         fewer tasklets at once",
                        mapping_budget()
                    )));
                }
                Stack::new_mapped(size)
            }
            (Mode::Canary, _) => self.carve(at),
            (Mode::Compact, _) => unreachable!("compact tasklets get a share of a guarded stack"),
        }
    }

    /// A fresh slot of class `at`, from its region or chunk, making a new one when it is used
    /// up.
    fn carve(&mut self, at: usize) -> io::Result<Stack> {
        let page = page_size();
        let class = &self.classes[at];
        let (size, mode) = (class.size, class.mode);
        let slot_len = match mode {
            Mode::Guarded | Mode::Compact => size + page,
            Mode::Canary => size,
        };
        if class.carver.as_ref().is_none_or(|c| c.index == c.count) {
            let carver = match mode {
                Mode::Guarded | Mode::Compact => {
                    let wanted =
                        (FIRST_SLOTS_PER_REGION << class.regions.min(8)).min(MAX_SLOTS_PER_REGION);
                    let (base, count) = self.map_region(slot_len, wanted, 0)?;
                    Carver {
                        next: base,
                        index: 0,
                        count,
                        guard: 0,
                        guarded: 0,
                    }
                }
                Mode::Canary => {
                    let wanted = (16 * 1024 * 1024 / size).clamp(1, MAX_SLOTS_PER_CHUNK);
                    let (base, count) = self.map_region(slot_len, wanted, page)?;
                    // The chunk's lowest page guards its first slot.
                    // SAFETY: the first page of the chunk just mapped, which no slot uses.
                    let protected =
                        unsafe { libc::mprotect(base as *mut libc::c_void, page, libc::PROT_NONE) };
                    if protected != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Carver {
                        next: base + page,
                        index: 0,
                        count,
                        guard: base,
                        guarded: count,
                    }
                }
            };
            let class = &mut self.classes[at];
            class.regions += 1;
            class.carver = Some(carver);
        }
        let class = &mut self.classes[at];
        let carved = class.carved;
        class.carved += 1;
        let carver = class.carver.as_mut().expect("a carver was made above");
        let bottom = carver.next;
        let index = carver.index;
        if index == carver.guarded {
            // As many slots as this class has carved so far (1, 1, 2, 4, ...), at most
            // `GUARD_RUN`, to the end of the region: a program that keeps starting tasklets
            // pays one system call per run, one that starts a few installs few guards ahead.
            let run = carved.clamp(1, GUARD_RUN).min(carver.count - index);
            carver.guarded = index + install_guards(bottom, slot_len, run)?;
        }
        carver.next += slot_len;
        carver.index += 1;
        match mode {
            Mode::Guarded | Mode::Compact => {
                // The slot's guard page, at `bottom`, was installed above (this slot or a run
                // of slots from an earlier one up to past this one).
                Ok(Stack::new(
                    bottom + slot_len,
                    bottom + page,
                    size,
                    Kind::Slot,
                ))
            }
            Mode::Canary => {
                let stack = Stack::new(
                    bottom + size - CANARY_LEN,
                    bottom,
                    size,
                    Kind::Canary {
                        canary: (index > 0).then(|| bottom - CANARY_LEN),
                        guard: carver.guard,
                    },
                );
                stack.write_canary();
                Ok(stack)
            }
        }
    }

    /// Maps a region for up to `wanted` slots of `slot_len` bytes after `head` bytes, halving
    /// the count when the kernel refuses (a strict overcommit policy counts reserved memory);
    /// returns its address and how many slots it holds.
    fn map_region(
        &mut self,
        slot_len: usize,
        wanted: usize,
        head: usize,
    ) -> io::Result<(usize, usize)> {
        let mut count = wanted;
        loop {
            let len = head + count * slot_len;
            match map(len) {
                Ok(base) => {
                    self.regions.push(Region { base, len });
                    return Ok((base, count));
                }
                Err(err) if count == 1 => return Err(err),
                Err(_) => count /= 2,
            }
        }
    }

    /// Takes back a stack whose tasklet has finished.
    pub(crate) fn put(&mut self, stack: Stack) {
        let mode = match stack.kind {
            Kind::Canary { .. } => Mode::Canary,
            Kind::Shared { .. } => return, // a handle: the shared stack stays with its table
            _ => Mode::Guarded,
        };
        let Some(class) = self
            .classes
            .iter_mut()
            .find(|c| c.size == stack.class && c.mode == mode)
        else {
            return; // not from this pool: dropped (a mapped stack is unmapped)
        };
        if matches!(stack.kind, Kind::Mapped { .. }) && class.free.len() >= MAPPED_POOL_CAP {
            return; // dropped: unmapped, leaving the mapping budget to others
        }
        self.untrimmed += 1;
        class.free.push(stack);
    }

    /// How many free stacks the pool keeps for reuse.
    pub(crate) fn free_stacks(&self) -> usize {
        self.classes.iter().map(|c| c.free.len()).sum()
    }

    /// Bytes of address space reserved for stack slots (regions; mapped on first touch).
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.regions.iter().map(|r| r.len).sum()
    }

    /// Whether free stacks wait to be trimmed.
    pub(crate) fn has_untrimmed(&self) -> bool {
        self.untrimmed > 0
    }

    /// Trims the free stacks that were not used since the previous trim (see the module docs).
    pub(crate) fn trim(&mut self) {
        for class in &mut self.classes {
            for stack in &mut class.free[..class.low_water] {
                if stack.dirty {
                    stack.trim();
                    self.untrimmed -= 1;
                }
            }
            class.low_water = class.free.len();
        }
    }
}

/// Most guard pages installed by one system call (a run of fresh slots).
const GUARD_RUN: usize = 64;

/// Installs the guard pages of `run` consecutive fresh slots of `slot_len` bytes, the first at
/// `first` (each slot's lowest page), with one `process_madvise` where the kernel takes
/// `MADV_GUARD_INSTALL` through it for the calling process (Linux 6.15+, `PIDFD_SELF`), else
/// one `madvise` each. The slots must be inside a region of this pool that no stack uses.
/// Returns how many slots from the first have their guard (at least one); fails only when the
/// first slot's guard could not be installed.
fn install_guards(first: usize, slot_len: usize, run: usize) -> io::Result<usize> {
    let page = page_size();
    let mut done = 0;
    if run > 1 && batch_works() {
        let iov: Vec<libc::iovec> = (0..run)
            .map(|i| libc::iovec {
                iov_base: (first + i * slot_len) as *mut libc::c_void,
                iov_len: page,
            })
            .collect();
        // SAFETY: each range is the first page of a slot never handed out, inside a region this
        // pool mapped: nothing uses them, and the guard markers make any access to them fault,
        // which is what they are for. `iov` holds `run` valid entries (at most GUARD_RUN, below
        // IOV_MAX). PIDFD_SELF_PROCESS names this process, whichever it is (also after a fork).
        let advised = unsafe {
            libc::syscall(
                libc::SYS_process_madvise,
                PIDFD_SELF_PROCESS,
                iov.as_ptr(),
                run,
                MADV_GUARD_INSTALL,
                0,
            )
        };
        // The kernel advises the ranges in order and returns the bytes it advised, or -1 when
        // it advised none; the rest gets one `madvise` each below.
        done = usize::try_from(advised).map_or(0, |bytes| bytes / page);
    }
    for i in done..run {
        let guard = first + i * slot_len;
        // SAFETY: as above, for one slot's first page.
        let installed =
            unsafe { libc::madvise(guard as *mut libc::c_void, page, MADV_GUARD_INSTALL) };
        if installed != 0 {
            return match i {
                0 => Err(io::Error::last_os_error()),
                _ => Ok(i), // the slots before it are guarded; it is tried again when carved
            };
        }
    }
    Ok(run)
}

/// `PIDFD_SELF_PROCESS` (Linux 6.15+): the calling process, for `process_madvise`.
const PIDFD_SELF_PROCESS: libc::c_int = -10001;

/// Whether `process_madvise` installs guard pages in this process (it needs Linux 6.15 for
/// `PIDFD_SELF_PROCESS`); tried once, on a mapping of its own.
fn batch_works() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        let page = page_size();
        let Ok(base) = map(3 * page) else {
            return false;
        };
        let iov = [0, 2].map(|i| libc::iovec {
            iov_base: (base + i * page) as *mut libc::c_void,
            iov_len: page,
        });
        // SAFETY: two pages of a mapping just made, which nothing uses.
        let advised = unsafe {
            libc::syscall(
                libc::SYS_process_madvise,
                PIDFD_SELF_PROCESS,
                iov.as_ptr(),
                2,
                MADV_GUARD_INSTALL,
                0,
            )
        };
        // SAFETY: unmapping exactly the mapping made above.
        unsafe { libc::munmap(base as *mut libc::c_void, 3 * page) };
        advised == (2 * page) as libc::c_long
    })
}

impl Drop for StackPool {
    fn drop(&mut self) {
        // Free stacks first: mapped ones unmap themselves, slots deregister from valgrind.
        self.classes.clear();
        if self.leaked {
            let bytes: usize = self.regions.iter().map(|r| r.len).sum();
            crate::engine::logging::log_at!(
                Warn,
                "concurrence: {} stack region(s) ({bytes} bytes of address space) stay mapped: \
                 a tasklet that refused to die still owns a stack in them",
                self.regions.len()
            );
            return;
        }
        for region in self.regions.drain(..) {
            // SAFETY: the pool was not told that a stack was leaked with a live tasklet
            // (`keep_mapped`), so every slot of the region is back in the pool (dropped just
            // above): the scheduler returns each stack when its tasklet finishes, and a tasklet
            // that never finishes is leaked with `keep_mapped`. No stack uses this memory.
            unsafe { libc::munmap(region.base as *mut libc::c_void, region.len) };
        }
    }
}
