//! Stack overflow reporting: a fault in the running tasklet's guard page, or a damaged canary,
//! aborts the process with a message that names the tasklet.
//!
//! The scheduler tells this module, at every switch, which tasklet it resumes ([`enter`]). A
//! `SIGSEGV`/`SIGBUS` handler, installed once per process and run on an alternate signal stack,
//! compares the faulting address with that tasklet's guard page: inside it, the handler writes
//! `tasklet '<name>' (#<id>) overflowed its stack` to stderr and aborts; anywhere else the fault
//! is not ours, and the handler passes it to the handler that was installed before (calling it
//! as the kernel would), staying installed itself. A previous default action is put back and the
//! fault repeats, so the process ends as it would have without us.

use std::ptr;
use std::sync::OnceLock;

use crate::engine::state::{trim_type_name, Name};

/// The previous handlers of SIGSEGV and SIGBUS, to give faults that are not ours back to.
struct Previous {
    segv: libc::sigaction,
    bus: libc::sigaction,
}

// SAFETY: `sigaction` is plain data (a handler address, flags and a signal mask).
unsafe impl Sync for Previous {}
// SAFETY: as above.
unsafe impl Send for Previous {}

static PREVIOUS: OnceLock<Previous> = OnceLock::new();

/// Installs the fault handler (once per process) and gives the calling thread an alternate
/// signal stack if it has none. Returns the alternate stack to free when the dispatcher ends.
pub(crate) fn prepare_thread() -> AltStack {
    PREVIOUS.get_or_init(|| {
        // SAFETY: `sigaction` structs are plain data that may be zeroed; the new action names a
        // handler of the SA_SIGINFO signature; the old actions are written to our own structs.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut segv: libc::sigaction = std::mem::zeroed();
            let mut bus: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGSEGV, &action, &mut segv);
            libc::sigaction(libc::SIGBUS, &action, &mut bus);
            Previous { segv, bus }
        }
    });
    AltStack::ensure()
}

/// An alternate signal stack this module installed, removed and unmapped on drop.
pub(crate) struct AltStack {
    mapping: Option<(usize, usize)>,
}

impl AltStack {
    fn ensure() -> AltStack {
        // SAFETY: querying the current alternate stack writes only into `old`.
        let mut old: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above; a null new stack only queries.
        unsafe { libc::sigaltstack(ptr::null(), &mut old) };
        if old.ss_flags & libc::SS_DISABLE == 0 {
            return AltStack { mapping: None };
        }
        let len = 64 * 1024;
        // SAFETY: a fresh anonymous mapping, checked for failure.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return AltStack { mapping: None };
        }
        let new = libc::stack_t {
            ss_sp: base,
            ss_flags: 0,
            ss_size: len,
        };
        // SAFETY: `new` describes the mapping made above, which stays mapped until drop.
        unsafe { libc::sigaltstack(&new, ptr::null_mut()) };
        AltStack {
            mapping: Some((base as usize, len)),
        }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        if let Some((base, len)) = self.mapping {
            let off = libc::stack_t {
                ss_sp: ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            // SAFETY: disabling the alternate stack first, then unmapping the memory that only
            // it used; no signal handler runs on it at this point (we are on the normal stack).
            unsafe {
                libc::sigaltstack(&off, ptr::null_mut());
                libc::munmap(base as *mut libc::c_void, len);
            }
        }
    }
}

/// Aborts the process because the canary below the running tasklet's stack was overwritten.
pub(crate) fn canary_damaged(name: &str, id: u64, size: u32) -> ! {
    eprintln!(
        "concurrence: tasklet '{name}' (#{id}) overflowed its stack of {size} bytes \
         (canary damaged); give it a larger stack_size"
    );
    std::process::abort()
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers of SIGSEGV/SIGBUS.
    let addr = unsafe { (*info).si_addr() } as usize;
    // Two plain reads (the scheduler's thread-local pointer, its `current` field): no
    // allocation, lock or reference count.
    if let Some(task) = crate::engine::scheduler::running_task() {
        // SAFETY: a non-null pointer is the running tasklet's record, which the scheduler's caller
        // holds (and does not move) for as long as it is current. Only plain fields are read: the
        // stack's bounds, the id, and the name's parts (`str`s that trimming only slices, a
        // `type_name` function that returns a static string, a `Location`); then only
        // async-signal-safe calls (write, abort) follow.
        unsafe {
            let task = task.as_ref();
            let stack = task.stack.get();
            if stack.in_guard(addr) {
                write_stderr(b"concurrence: tasklet '");
                let mut digits = [0u8; 20];
                match &task.name {
                    Name::Given(given) => write_stderr(given.as_bytes()),
                    Name::Function(name) => write_stderr(name.as_bytes()),
                    // Composed piece by piece: the composed name may not exist yet, and
                    // composing it would allocate.
                    Name::Derived(derived) => {
                        write_stderr(trim_type_name((derived.type_name)()).as_bytes());
                        write_stderr(b"@");
                        write_stderr(derived.at.file().as_bytes());
                        write_stderr(b":");
                        write_stderr(format_u64(u64::from(derived.at.line()), &mut digits));
                    }
                }
                write_stderr(b"' (#");
                write_stderr(format_u64(task.id, &mut digits));
                if stack.own_guard() {
                    write_stderr(
                        b") overflowed its stack (guard page hit); give it a larger stack_size\n",
                    );
                } else {
                    write_stderr(
                        b") overflowed its stack through its neighbours' (an unguarded canary \
                          stack, down to its chunk's guard page); give it a larger stack_size\n",
                    );
                }
                libc::abort();
            }
        }
    }
    // SAFETY: called from this signal handler with the kernel's arguments, as the previous
    // handler expects to be called.
    unsafe { pass_on(sig, info, ctx) };
}

/// Hands a fault that is not a tasklet's overflow to the handler installed before ours: a
/// `SA_SIGINFO` handler gets the same three arguments, a plain one the signal number. For the
/// default action (or an ignored fault, which would repeat for ever) the default is put back
/// and the handler returns, so the faulting instruction runs again and the process ends as it
/// would have without us.
///
/// # Safety
/// Only from the fault handler, with the arguments the kernel gave it.
unsafe fn pass_on(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(prev) = PREVIOUS.get() else { return };
    let old = if sig == libc::SIGBUS {
        &prev.bus
    } else {
        &prev.segv
    };
    let handler = old.sa_sigaction;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // SAFETY: `sigaction` structs are plain data that may be zeroed; SIG_DFL with an empty
        // mask is a valid action.
        unsafe {
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut default.sa_mask);
            libc::sigaction(sig, &default, ptr::null_mut());
        }
    } else if old.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: with SA_SIGINFO the stored address is a handler of this signature, installed
        // by whoever was there before us, and it gets the arguments the kernel gave us.
        unsafe {
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(handler);
            handler(sig, info, ctx);
        }
    } else {
        // SAFETY: without SA_SIGINFO the stored address is a plain `void (*)(int)` handler.
        unsafe {
            let handler: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
            handler(sig);
        }
    }
}

/// Writes bytes to stderr with the async-signal-safe `write`.
///
/// # Safety
/// Callable from a signal handler; `bytes` must be readable.
unsafe fn write_stderr(bytes: &[u8]) {
    // SAFETY: `bytes` is a readable slice, per the caller.
    unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
}

/// Formats `n` in decimal into `buf` without allocating.
fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}
