//! When a group of dispatchers has nothing left to do: the counts behind `Group::settle`
//! (see `engine::group`), kept in one atomic word so that the last dispatcher to settle reads
//! them at one instant. Checked with loom (`RUSTFLAGS="--cfg loom" cargo test -p concurrence
//! --lib --release quiescence`, which `.ci/run` runs): every interleaving of two dispatchers
//! passing notices to each other ends the group only when neither runs and none is pending.

#[cfg(loom)]
use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicU64, Ordering};

/// One settled dispatcher.
const SETTLED: u64 = 1 << 48;
/// One stuck dispatcher.
const STUCK: u64 = 1 << 32;
/// The pending notices' part.
const PENDING: u64 = STUCK - 1;

/// How a group stands once every dispatcher settled with nothing pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quiet {
    /// No dispatcher is stuck: the program finished.
    Finished,
    /// Some dispatcher is stuck: a deadlock.
    Deadlocked,
}

/// Dispatchers settled (bits 48..64), how many of them are stuck (32..48), and notices sent
/// and not yet handled (0..32), in one word. At most 65,535 dispatchers.
pub(crate) struct Counts {
    word: AtomicU64,
    dispatchers: u64,
}

impl Counts {
    /// The counts of a group of `dispatchers`, all running, nothing pending.
    pub(crate) fn new(dispatchers: usize) -> Counts {
        assert!(
            dispatchers < 1 << 16,
            "concurrence: at most 65,535 dispatchers"
        );
        Counts {
            word: AtomicU64::new(0),
            dispatchers: dispatchers as u64,
        }
    }

    /// A notice is about to be queued (before it is).
    pub(crate) fn notice(&self) {
        self.word.fetch_add(1, Ordering::SeqCst);
    }

    /// `count` notices were handled (by a dispatcher that is not settled).
    pub(crate) fn handled(&self, count: u64) {
        self.word.fetch_sub(count, Ordering::SeqCst);
    }

    /// A dispatcher settles, stuck or not; returns how the group stands when that made every
    /// dispatcher settled with nothing pending, at one instant.
    pub(crate) fn settle(&self, stuck: bool) -> Option<Quiet> {
        let add = SETTLED + if stuck { STUCK } else { 0 };
        let word = self.word.fetch_add(add, Ordering::SeqCst) + add;
        if word / SETTLED == self.dispatchers && word & PENDING == 0 {
            Some(match (word / STUCK) & 0xffff {
                0 => Quiet::Finished,
                _ => Quiet::Deadlocked,
            })
        } else {
            None
        }
    }

    /// A settled dispatcher has work again (before it handles the notices that woke it).
    pub(crate) fn unsettle(&self, stuck: bool) {
        self.word
            .fetch_sub(SETTLED + if stuck { STUCK } else { 0 }, Ordering::SeqCst);
    }
}

#[cfg(all(test, loom))]
mod tests {
    use super::{Counts, Quiet};
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::sync::Arc;

    /// Dispatcher A waits for an answer from B (stuck); B answers with a notice and goes quiet;
    /// A takes the notice, runs, and goes quiet itself. The group may end only once both are
    /// quiet with the notice handled, and then as finished; never while A runs.
    #[test]
    fn the_group_ends_only_when_no_dispatcher_runs_and_nothing_is_pending() {
        loom::model(|| {
            let counts = Arc::new(Counts::new(2));
            let mailbox = Arc::new(AtomicUsize::new(0)); // A's queued notices
            let a_running = Arc::new(AtomicBool::new(false));
            let ended = Arc::new(AtomicUsize::new(0));

            let b = {
                let (counts, mailbox, a_running, ended) = (
                    counts.clone(),
                    mailbox.clone(),
                    a_running.clone(),
                    ended.clone(),
                );
                loom::thread::spawn(move || {
                    counts.notice(); // B's tasklet ends: the answer to A
                    mailbox.fetch_add(1, Ordering::SeqCst);
                    if let Some(end) = counts.settle(false) {
                        assert!(!a_running.load(Ordering::SeqCst), "ended under a running A");
                        assert_eq!(end, Quiet::Finished);
                        ended.fetch_add(1, Ordering::SeqCst);
                    }
                })
            };
            // A: blocked on B's answer, settles stuck (unless the answer is already there).
            let mut stuck = mailbox.load(Ordering::SeqCst) == 0;
            if stuck {
                if let Some(end) = counts.settle(true) {
                    // Only possible if B settled and nothing is pending: not the case while A
                    // still has to take B's notice.
                    panic!("ended while A waits for a notice on its way: {end:?}");
                }
                while mailbox.load(Ordering::SeqCst) == 0 {
                    loom::thread::yield_now();
                }
                counts.unsettle(true);
                stuck = false;
            }
            let taken = mailbox.swap(0, Ordering::SeqCst) as u64;
            a_running.store(true, Ordering::SeqCst);
            counts.handled(taken);
            a_running.store(false, Ordering::SeqCst);
            assert!(!stuck);
            if let Some(end) = counts.settle(false) {
                assert_eq!(end, Quiet::Finished);
                ended.fetch_add(1, Ordering::SeqCst);
            }
            b.join().unwrap();
            assert_eq!(
                ended.load(Ordering::SeqCst),
                1,
                "the group ends exactly once"
            );
        });
    }
}
