//! The only module that names corosensei: a tasklet's coroutine, how it is resumed, and how it
//! suspends itself.

use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::stack::Stack;

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

/// A tasklet's handle on its own coroutine, used to suspend it from anywhere on its stack.
#[derive(Clone, Copy)]
pub(crate) struct Suspender(*const Yielder<Wake, ()>);

impl Suspender {
    /// A suspender for a tasklet that has not started.
    pub(crate) const NONE: Suspender = Suspender(std::ptr::null());

    /// Suspends the running tasklet back to whoever resumed it; returns why it was resumed.
    ///
    /// Only the scheduler calls this, and only with the suspender of the tasklet that is
    /// running, from that tasklet's own stack.
    pub(crate) fn suspend(self) -> Wake {
        assert!(
            !self.0.is_null(),
            "suspend called before the tasklet started"
        );
        // SAFETY: the pointer was taken from the `&Yielder` corosensei passed to this tasklet's
        // body, and that yielder lives on the coroutine's stack until the body returns. The
        // scheduler calls `suspend` only for the running tasklet (its body has not returned)
        // and from code running on that tasklet's stack, as `Yielder::suspend` requires.
        unsafe { (*self.0).suspend(()) }
    }
}

/// A tasklet's coroutine: its stack and the suspended state of its body.
pub(crate) struct Coro {
    co: Coroutine<Wake, (), (), Stack>,
}

impl Coro {
    /// A coroutine that runs `body` on `stack` when first resumed. `body` gets the suspender
    /// of the coroutine and the first resume's [`Wake`].
    pub(crate) fn new(stack: Stack, body: impl FnOnce(Suspender, Wake) + 'static) -> Coro {
        let co = Coroutine::with_stack(stack, move |yielder: &Yielder<Wake, ()>, wake| {
            body(Suspender(yielder as *const _), wake)
        });
        Coro { co }
    }

    /// Runs the coroutine until it suspends (`false`) or its body returns (`true`).
    pub(crate) fn resume(&mut self, wake: Wake) -> bool {
        match self.co.resume(wake) {
            CoroutineResult::Yield(()) => false,
            CoroutineResult::Return(()) => true,
        }
    }

    /// The stack of a coroutine whose body has returned.
    pub(crate) fn into_stack(self) -> Stack {
        self.co.into_stack()
    }
}
