//! The only module that names corosensei: a tasklet's coroutine, how it is resumed, and how it
//! suspends itself.

use std::cell::Cell;

use corosensei::stack::{DefaultStack, Stack as _};
use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::engine::compact::{self, Saved};
use crate::engine::stack::Stack;

/// Why a suspended tasklet was resumed: the answer every blocking call gets back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// What it waited for happened (or it was simply its turn again).
    Ready,
    /// Its deadline passed first.
    TimedOut,
    /// It is being killed: the blocking call must unwind.
    Killed,
}

thread_local! {
    /// The stack pointer of the compact tasklet that suspended last, read in
    /// [`Suspender::suspend_compact`] just before it switched away (see `compact.rs`).
    static SUSPENDED_AT: Cell<usize> = const { Cell::new(0) };
}

/// The stack pointer the compact tasklet that suspended last had in
/// [`Suspender::suspend_compact`].
pub(crate) fn suspended_at() -> usize {
    SUSPENDED_AT.with(Cell::get)
}

/// A tasklet's handle on its own coroutine, used to suspend it from anywhere on its stack.
#[derive(Clone, Copy)]
pub(crate) struct Suspender(*const Yielder<Wake, bool>);

impl Suspender {
    /// A suspender for a tasklet that has not started.
    pub(crate) const NONE: Suspender = Suspender(std::ptr::null());

    /// Suspends the running tasklet back to whoever resumed it; returns why it was resumed.
    /// A compact tasklet suspends through [`suspend_compact`](Suspender::suspend_compact).
    ///
    /// Only the scheduler calls this, and only with the suspender of the tasklet that is
    /// running, from that tasklet's own stack.
    #[inline]
    pub(crate) fn suspend(self) -> Wake {
        assert!(
            !self.0.is_null(),
            "suspend called before the tasklet started"
        );
        // SAFETY: the pointer was taken from the `&Yielder` corosensei passed to this tasklet's
        // body, and that yielder lives on the coroutine's stack until the body returns. The
        // scheduler calls `suspend` only for the running tasklet (its body has not returned)
        // and from code running on that tasklet's stack, as `Yielder::suspend` requires.
        unsafe { (*self.0).suspend(false) }
    }

    /// Suspends a relay coroutine whose tasklet has finished, to wait for the next:
    /// [`Coro::resume`] reports [`Resumed::Ended`]. Only a relay's body calls this, on its own
    /// stack, between tasklets (see `scheduler::run::relay_entry`).
    pub(crate) fn suspend_ended(self) -> Wake {
        assert!(
            !self.0.is_null(),
            "suspend called before the tasklet started"
        );
        // SAFETY: as in `suspend`: the yielder lives on the coroutine's stack until its body
        // returns, and this runs on that stack, in the body.
        unsafe { (*self.0).suspend(true) }
    }

    /// [`suspend`](Suspender::suspend) for a compact tasklet: records the stack pointer just
    /// before switching ([`suspended_at`]). Every suspension of a compact tasklet goes through
    /// this one function, never inlined: the stack below the pointer it records is used by the
    /// same frames every time, which `compact.rs` relies on (it measures them once).
    #[inline(never)]
    pub(crate) fn suspend_compact(self) -> Wake {
        SUSPENDED_AT.with(|at| at.set(compact::stack_pointer()));
        self.suspend()
    }
}

/// A tasklet's coroutine: its stack and the suspended state of its body.
pub(crate) struct Coro {
    /// `None` once its stack was taken back ([`Coro::into_stack`]).
    co: Option<Coroutine<Wake, bool, (), Stack>>,
    /// For a tasklet with a compact stack: which shared stack, and its bytes while another
    /// tasklet uses that stack. Every other coroutine is a relay: it runs one tasklet after
    /// another (see `scheduler::run::relay_entry`).
    pub(crate) compact: Option<Box<Saved>>,
}

/// How a [`Coro::resume`] came back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Resumed {
    /// Its tasklet suspended (it waits, or yielded).
    Suspended,
    /// Its tasklet finished, and the relay coroutine waits for the next.
    Ended,
    /// Its body returned: its stack may be taken back.
    Returned,
}

impl Coro {
    /// A coroutine that runs `body` on `stack` when first resumed. `body` gets the suspender
    /// of the coroutine and the first resume's [`Wake`]. For a compact tasklet, `stack` is a
    /// share of the shared stack `compact` names, whose bytes must be this tasklet's already
    /// (creating the coroutine writes its first frame at the top).
    pub(crate) fn new(
        stack: Stack,
        compact: Option<Box<Saved>>,
        body: impl FnOnce(Suspender, Wake) + 'static,
    ) -> Coro {
        let co = Coroutine::with_stack(stack, move |yielder: &Yielder<Wake, _>, wake| {
            body(Suspender(yielder as *const _), wake)
        });
        Coro {
            co: Some(co),
            compact,
        }
    }

    /// Runs the coroutine until it suspends, its tasklet ends (a relay), or its body returns.
    #[inline]
    pub(crate) fn resume(&mut self, wake: Wake) -> Resumed {
        let co = self
            .co
            .as_mut()
            .expect("a coroutine is resumed only while it has its stack");
        match co.resume(wake) {
            CoroutineResult::Yield(false) => Resumed::Suspended,
            CoroutineResult::Yield(true) => Resumed::Ended,
            CoroutineResult::Return(()) => Resumed::Returned,
        }
    }

    /// The stack of a coroutine whose body has returned.
    pub(crate) fn into_stack(mut self) -> Stack {
        self.co
            .take()
            .expect("a coroutine's stack is taken once")
            .into_stack()
    }
}

impl Drop for Coro {
    fn drop(&mut self) {
        // Dropping a suspended coroutine unwinds it on its stack. A compact tasklet's bytes may
        // not be in its stack then (another tasklet's are): it is leaked instead. (Only a
        // dispatcher that itself panicked drops a suspended coroutine; shutdown kills them.)
        if self.compact.is_some() {
            if let Some(co) = self.co.take() {
                if co.started() && !co.done() {
                    std::mem::forget(co);
                }
            }
        }
    }
}

/// How many bytes below the stack pointer recorded in [`Suspender::suspend`] a suspended
/// tasklet's state reaches: the frames of corosensei's `Yielder::suspend` and the registers its
/// switch pushes. Measured by suspending a probe coroutine whose stack was filled with a
/// pattern, and finding the lowest byte it changed. `None` when no probe stack can be mapped.
pub(crate) fn measure_switch_depth() -> Option<usize> {
    const PATTERN: u8 = 0xA5;
    const PROBED: usize = 32 * 1024;
    let stack = DefaultStack::new(64 * 1024).ok()?;
    // The top 32 KiB (corosensei's `limit` counts its guard page in).
    let top = stack.base().get();
    let limit = top - PROBED;
    assert!(
        limit >= stack.limit().get() + PROBED / 2,
        "the probe stack is large enough"
    );
    // SAFETY: `limit .. top` is the top of the probe stack's memory, mapped read-write by
    // corosensei (above its guard page) for as long as the stack lives; no coroutine runs on
    // it yet.
    unsafe { std::ptr::write_bytes(limit as *mut u8, PATTERN, top - limit) };
    let mut probe = Coroutine::with_stack(stack, |yielder: &Yielder<Wake, _>, _: Wake| {
        Suspender(yielder as *const _).suspend_compact();
    });
    let suspended = matches!(probe.resume(Wake::Ready), CoroutineResult::Yield(false));
    let at = suspended_at();
    let lowest = (limit..top).find(|&addr| {
        // SAFETY: as above; the probe is suspended, so nothing writes the stack meanwhile, and
        // every byte was written by the fill or by the probe.
        unsafe { std::ptr::read_volatile(addr as *const u8) != PATTERN }
    });
    let finished = matches!(probe.resume(Wake::Ready), CoroutineResult::Return(()));
    assert!(suspended && finished, "the probe coroutine suspends once");
    let lowest = lowest?;
    (lowest <= at && at < top).then(|| at - lowest)
}
