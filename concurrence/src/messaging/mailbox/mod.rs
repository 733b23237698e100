//! [`Mailbox`]: a double-ended queue that tasklets block on, optionally bounded. Every tasklet
//! that receives messages has one; it can also be used on its own.
//!
//! Wake-up rules (each blocking call is a [`Wait`]):
//! - an item arriving wakes the oldest tasklet waiting for any item (a *taker*) and every
//!   tasklet waiting for particular items (a *picker*, the selective receive), which looks for
//!   its item and waits again if it is not there;
//! - an item leaving a bounded mailbox wakes the oldest tasklet waiting for room;
//! - a waiter that was woken but leaves without being served (killed before it ran) passes the
//!   wake-up on to the next waiter, so no wake-up is lost.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::scheduler;
use crate::engine::state::AnyInbox;
use crate::engine::state::{Task, WaitOn};
use crate::engine::timer::deadline_after;
use crate::engine::wait::{Ended, Wait, WaitList};
use crate::error::TimeoutError;
use crate::messaging::message::SendError;
use crate::messaging::port::Port;

mod conditions;

pub use conditions::{Item, Matching};

/// A queue that tasklets block on: the Rust form of the original's `Mailbox(iterable, maxlen)`.
///
/// **`popleft` takes the oldest item (FIFO, what a queue of jobs wants); `pop` takes the newest
/// (LIFO)**, as Python's `deque` does, whose names the original kept. `append` adds at the end,
/// `appendleft` at the start: `append` + `popleft` is a queue, `append` + `pop` a stack.
///
/// `pop`/`popleft` block until there is an item, `append`/`appendleft` block while a bounded
/// mailbox is full; each has a `_timeout` form and a `try_` form that never blocks. A
/// `Mailbox` is a cheap handle: clones share the queue. Like every handle of the dispatcher it
/// stays on its thread (`!Send`).
///
/// A tasklet's own mailbox ([`Tasklet::mailbox`](crate::Tasklet::mailbox)) holds its message
/// set; once the tasklet finishes, its mailbox is emptied and closed, and appending fails with
/// [`SendError::Finished`].
///
/// # Examples
///
/// A producer and a consumer sharing a bounded mailbox: the producer blocks while it is full.
///
/// ```
/// use concurrence::{dispatch, spawn, Mailbox};
///
/// dispatch(|| {
///     let jobs = Mailbox::with_max_len(2);
///     let producer = {
///         let jobs = jobs.clone();
///         spawn(move || {
///             for job in 1..=5 {
///                 jobs.append(job).unwrap(); // blocks while 2 jobs wait
///             }
///         })
///     };
///     let total: i32 = (0..5).map(|_| jobs.popleft()).sum();
///     assert_eq!(total, 15);
///     producer.join().unwrap();
/// });
/// ```
pub struct Mailbox<T> {
    inner: Rc<Inner<T>>,
}

/// The shared state of a mailbox.
pub(crate) struct Inner<T> {
    items: RefCell<VecDeque<T>>,
    /// The most items it holds; `usize::MAX` when unbounded.
    max_len: usize,
    /// Set when the owning tasklet finished: appends fail from then on.
    closed: Cell<bool>,
    /// Items taken from the front since the mailbox was made, and how many times an item was
    /// put at the front or taken from the middle or the back: where a selective receive left off
    /// ([`Looked`]) is found again with them.
    front_taken: Cell<u64>,
    shuffles: Cell<u64>,
    /// Tasklets waiting for any item.
    takers: RefCell<WaitList>,
    /// Tasklets waiting for particular items: all are woken by each arrival.
    pickers: RefCell<WaitList>,
    /// Tasklets waiting for room.
    senders: RefCell<WaitList>,
    /// How other threads reach it, once a `SendTasklet` handle of its tasklet was made.
    port: RefCell<Option<Arc<Port<T>>>>,
}

/// Which end an operation works on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Front,
    Back,
}

/// How long an operation may block.
#[derive(Clone, Copy)]
pub(crate) enum Block {
    /// Not at all: fail at once.
    No,
    /// Until it succeeds, or until the deadline if there is one.
    Until(Option<Instant>),
}

impl Block {
    pub(crate) fn timeout(timeout: Duration) -> Block {
        Block::Until(Some(deadline_after(timeout)))
    }
}

impl<T> Mailbox<T> {
    /// An empty, unbounded mailbox.
    pub fn new() -> Mailbox<T> {
        Mailbox::from_parts(VecDeque::new(), None)
    }

    /// An empty mailbox holding at most `max_len` items: appending to a full one blocks.
    ///
    /// # Panics
    ///
    /// Panics when `max_len` is 0 (such a mailbox could never hold an item).
    pub fn with_max_len(max_len: usize) -> Mailbox<T> {
        Mailbox::from_parts(VecDeque::new(), Some(max_len))
    }

    pub(crate) fn from_parts(items: VecDeque<T>, max_len: Option<usize>) -> Mailbox<T> {
        if max_len == Some(0) {
            panic!("concurrence: a mailbox's max_len must be at least 1");
        }
        Mailbox {
            inner: Rc::new(Inner {
                items: RefCell::new(items),
                max_len: max_len.unwrap_or(usize::MAX),
                closed: Cell::new(false),
                front_taken: Cell::new(0),
                shuffles: Cell::new(0),
                takers: RefCell::default(),
                pickers: RefCell::default(),
                senders: RefCell::default(),
                port: RefCell::new(None),
            }),
        }
    }

    pub(crate) fn from_inner(inner: Rc<Inner<T>>) -> Mailbox<T> {
        Mailbox { inner }
    }

    pub(crate) fn inner(&self) -> &Rc<Inner<T>> {
        &self.inner
    }

    /// How many items it holds.
    pub fn len(&self) -> usize {
        self.inner.items.borrow().len()
    }

    /// Whether it holds no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items it holds, if it is bounded.
    pub fn max_len(&self) -> Option<usize> {
        (self.inner.max_len != usize::MAX).then_some(self.inner.max_len)
    }

    /// Whether its tasklet has finished: appends fail.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// Appends `item` at the end; when the mailbox is full, blocks until there is room.
    ///
    /// # Errors
    ///
    /// [`SendError::Finished`] with the item when the mailbox's tasklet has finished.
    ///
    /// # Panics
    ///
    /// Panics when it has to block outside a tasklet.
    #[track_caller]
    pub fn append(&self, item: T) -> Result<(), SendError<T>> {
        self.inner.put(item, End::Back, Block::Until(None))
    }

    /// [`append`](Mailbox::append), waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// As `append`, and [`SendError::TimedOut`] with the item when no room came in time.
    #[track_caller]
    pub fn append_timeout(&self, item: T, timeout: Duration) -> Result<(), SendError<T>> {
        self.inner.put(item, End::Back, Block::timeout(timeout))
    }

    /// [`append`](Mailbox::append) without blocking.
    ///
    /// # Errors
    ///
    /// As `append`, and [`SendError::Full`] with the item when the mailbox is full.
    pub fn try_append(&self, item: T) -> Result<(), SendError<T>> {
        self.inner.put(item, End::Back, Block::No)
    }

    /// Puts `item` at the start, to be taken first by `popleft`; blocks while the mailbox is
    /// full.
    ///
    /// # Errors
    ///
    /// As [`append`](Mailbox::append).
    #[track_caller]
    pub fn appendleft(&self, item: T) -> Result<(), SendError<T>> {
        self.inner.put(item, End::Front, Block::Until(None))
    }

    /// [`appendleft`](Mailbox::appendleft), waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// As [`append_timeout`](Mailbox::append_timeout).
    #[track_caller]
    pub fn appendleft_timeout(&self, item: T, timeout: Duration) -> Result<(), SendError<T>> {
        self.inner.put(item, End::Front, Block::timeout(timeout))
    }

    /// [`appendleft`](Mailbox::appendleft) without blocking.
    ///
    /// # Errors
    ///
    /// As [`try_append`](Mailbox::try_append).
    pub fn try_appendleft(&self, item: T) -> Result<(), SendError<T>> {
        self.inner.put(item, End::Front, Block::No)
    }

    /// Takes the last item, the newest one appended (LIFO, as Python's `deque.pop`), blocking
    /// until there is one. For the oldest item (a queue), use [`popleft`](Mailbox::popleft).
    ///
    /// # Panics
    ///
    /// Panics when it has to block outside a tasklet.
    #[track_caller]
    pub fn pop(&self) -> T {
        self.inner.take_blocking(End::Back)
    }

    /// [`pop`](Mailbox::pop), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no item came in time.
    #[track_caller]
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, TimeoutError> {
        Ok(self.inner.take(End::Back, Block::timeout(timeout))?)
    }

    /// Takes the last item if there is one, without blocking.
    pub fn try_pop(&self) -> Option<T> {
        self.inner.take(End::Back, Block::No).ok()
    }

    /// Takes the first item, the oldest one appended (FIFO: a queue), blocking until there is
    /// one.
    ///
    /// # Panics
    ///
    /// Panics when it has to block outside a tasklet.
    #[track_caller]
    pub fn popleft(&self) -> T {
        self.inner.take_blocking(End::Front)
    }

    /// [`popleft`](Mailbox::popleft), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no item came in time.
    #[track_caller]
    pub fn popleft_timeout(&self, timeout: Duration) -> Result<T, TimeoutError> {
        Ok(self.inner.take(End::Front, Block::timeout(timeout))?)
    }

    /// Takes the first item if there is one, without blocking.
    pub fn try_popleft(&self) -> Option<T> {
        self.inner.take(End::Front, Block::No).ok()
    }
}

impl<T: 'static> Inner<T> {
    /// Takes the first item `pick` accepts, blocking as `block` says; the items before it stay
    /// in place, in order. `pick` is user code: it runs while the items are out of the mailbox
    /// (it sees an empty one), never while the mailbox is borrowed, and a panic in it puts them
    /// back. It looks only at the items after those `looked` says it rejected, and moves that
    /// mark on, so a picker that waits looks at each arrival once.
    #[track_caller]
    pub(crate) fn take_matching(
        &self,
        mut pick: impl FnMut(&T) -> bool,
        looked: &mut Looked,
        block: Block,
    ) -> Result<T, Ended> {
        self.take_with(
            |inner| {
                let mut scan = Scan {
                    inner,
                    items: std::mem::take(&mut *inner.items.borrow_mut()),
                };
                // Read before `pick` runs: what it does to the mailbox can only make the mark
                // fall short (look again), never overshoot.
                let (front_taken, shuffles) = (inner.front_taken.get(), inner.shuffles.get());
                let start = looked.start(front_taken, shuffles).min(scan.items.len());
                match scan.items.range(start..).position(&mut pick) {
                    Some(at) => {
                        inner.shuffles.set(inner.shuffles.get() + 1);
                        scan.items.remove(start + at)
                    }
                    None => {
                        *looked = Looked {
                            end: front_taken + scan.items.len() as u64,
                            shuffles,
                        };
                        None
                    }
                }
            },
            &self.pickers,
            block,
        )
    }

    /// Takes the first item, blocking as `block` says.
    #[track_caller]
    pub(crate) fn take_front(&self, block: Block) -> Result<T, Ended> {
        self.take(End::Front, block)
    }

    /// [`take_front`](Inner::take_front), a wait reported at `at` (where a `receive()`
    /// iterator was made: its `next` may be called from a std adapter).
    pub(crate) fn take_front_at(
        &self,
        block: Block,
        at: &'static Location<'static>,
    ) -> Result<T, Ended> {
        self.take_with_at(|inner| inner.pop_front(), &self.takers, block, at)
    }

    /// Takes every item at the front, up to `max`, without blocking.
    pub(crate) fn drain_front(&self, max: usize, into: &mut Vec<T>) {
        let taken = {
            let mut items = self.items.borrow_mut();
            let n = items.len().min(max);
            into.extend(items.drain(..n));
            self.front_taken.set(self.front_taken.get() + n as u64);
            n
        };
        if taken > 0 {
            self.wake_senders(taken);
        }
    }

    /// Empties and closes the mailbox (its tasklet finished). Blocked appenders are woken and
    /// fail; the items are returned, to be dropped by the caller outside any borrow.
    pub(crate) fn close(&self) -> VecDeque<T> {
        self.closed.set(true);
        self.shuffles.set(self.shuffles.get() + 1);
        let mut items = std::mem::take(&mut *self.items.borrow_mut());
        let port = self.port.borrow_mut().take();
        if let Some(port) = port {
            items.extend(port.close());
        }
        if let Some(sched) = scheduler::try_get() {
            self.senders.borrow_mut().wake_all(&sched);
        }
        items
    }
}

impl<T> Inner<T> {
    /// Appends `item` even past the bound (a runtime notice that must not be lost, like a
    /// monitor's down message); fails only when the mailbox is closed.
    pub(crate) fn force_put(&self, item: T) -> Result<(), SendError<T>> {
        if self.closed.get() {
            return Err(SendError::Finished(item));
        }
        self.items.borrow_mut().push_back(item);
        self.wake_receivers();
        Ok(())
    }

    /// The port other threads send through, made on first use with `make`.
    /// A port made for a mailbox that has closed already is closed at once.
    pub(crate) fn port(&self, make: impl FnOnce(bool) -> Arc<Port<T>>) -> Arc<Port<T>> {
        let port = self
            .port
            .borrow_mut()
            .get_or_insert_with(|| make(self.max_len != usize::MAX))
            .clone();
        if self.closed.get() {
            self.port.borrow_mut().take();
            drop(port.close());
        }
        port
    }

    /// Waits until there is room, or the mailbox closed: a courier bringing messages from other
    /// threads (`port`) waits here, in line with the tasklets waiting to send.
    #[track_caller]
    pub(crate) fn wait_room(&self) {
        if self.has_room() || self.closed.get() {
            return;
        }
        let wait = Wait::begin(WaitOn::MailboxRoom);
        self.senders.borrow_mut().push(&wait);
        // Leaves as a waiter that was not served: the courier may find its parcels gone
        // (their senders timed out), so the room is passed on to the next sender if unused.
        let _leave = Leave {
            list: &self.senders,
            task: Rc::as_ptr(wait.task()),
            pass_on: || self.has_room(),
        };
        let _ = wait.suspend(None);
    }

    #[track_caller]
    pub(crate) fn put_back(&self, item: T, block: Block) -> Result<(), SendError<T>> {
        self.put(item, End::Back, block)
    }

    #[track_caller]
    fn put(&self, item: T, end: End, block: Block) -> Result<(), SendError<T>> {
        loop {
            if self.closed.get() {
                return Err(SendError::Finished(item));
            }
            {
                let mut items = self.items.borrow_mut();
                if items.len() < self.max_len {
                    match end {
                        End::Back => items.push_back(item),
                        End::Front => {
                            items.push_front(item);
                            self.shuffles.set(self.shuffles.get() + 1);
                        }
                    }
                    drop(items);
                    self.wake_receivers();
                    return Ok(());
                }
            }
            let Block::Until(deadline) = block else {
                return Err(SendError::Full(item));
            };
            let wait = Wait::begin(WaitOn::MailboxRoom);
            // A send has a timeout error of its own: in a scope, its deadline is the send's.
            let deadline = deadline.or_else(|| wait.sched().scoped_deadline());
            self.senders.borrow_mut().push(&wait);
            let leave = Leave {
                list: &self.senders,
                task: Rc::as_ptr(wait.task()),
                pass_on: || self.has_room(),
            };
            if wait.suspend(deadline).is_err() {
                drop(leave);
                return Err(SendError::TimedOut(item));
            }
            leave.served();
        }
    }

    #[track_caller]
    fn take_blocking(&self, end: End) -> T {
        loop {
            // Ended early only by a kill while unwinding, which `pop` cannot report: wait on.
            if let Ok(item) = self.take(end, Block::Until(None)) {
                return item;
            }
        }
    }

    #[track_caller]
    fn take(&self, end: End, block: Block) -> Result<T, Ended> {
        self.take_with(
            |inner| match end {
                End::Front => inner.pop_front(),
                End::Back => inner.pop_back(),
            },
            &self.takers,
            block,
        )
    }

    /// The blocking take: check, register in `list`, suspend, check again. `Err` when the
    /// deadline passed (or, for `Block::No`, at once), or when the wait was ended by a kill of
    /// a tasklet already unwinding.
    #[track_caller]
    fn take_with(
        &self,
        find: impl FnMut(&Self) -> Option<T>,
        list: &RefCell<WaitList>,
        block: Block,
    ) -> Result<T, Ended> {
        self.take_with_at(find, list, block, Location::caller())
    }

    /// [`take_with`](Inner::take_with), its wait reported at `at`.
    fn take_with_at(
        &self,
        mut find: impl FnMut(&Self) -> Option<T>,
        list: &RefCell<WaitList>,
        block: Block,
        at: &'static Location<'static>,
    ) -> Result<T, Ended> {
        loop {
            if let Some(item) = find(self) {
                self.wake_senders(1);
                return Ok(item);
            }
            let Block::Until(deadline) = block else {
                return Err(Ended::TimedOut);
            };
            let wait = Wait::begin_at(WaitOn::Receive, at);
            list.borrow_mut().push(&wait);
            let leave = Leave {
                list,
                task: Rc::as_ptr(wait.task()),
                pass_on: || !self.items.borrow().is_empty(),
            };
            if let Err(ended) = wait.suspend(deadline) {
                // A message may have come with the deadline: look once more.
                drop(leave);
                return match find(self) {
                    Some(item) => {
                        self.wake_senders(1);
                        Ok(item)
                    }
                    None => Err(ended),
                };
            }
            leave.served();
        }
    }

    /// Takes the first item, counting it for the selective receives' marks.
    fn pop_front(&self) -> Option<T> {
        let item = self.items.borrow_mut().pop_front();
        if item.is_some() {
            self.front_taken.set(self.front_taken.get() + 1);
        }
        item
    }

    fn has_room(&self) -> bool {
        self.items.borrow().len() < self.max_len && !self.closed.get()
    }

    fn wake_receivers(&self) {
        let no_takers = self.takers.borrow().is_empty();
        let no_pickers = self.pickers.borrow().is_empty();
        if no_takers && no_pickers {
            return;
        }
        let sched = scheduler::get();
        if !no_takers {
            self.takers.borrow_mut().wake_one(&sched);
        }
        if !no_pickers {
            self.pickers.borrow_mut().wake_all(&sched);
        }
    }

    /// Takes the last item. Items appended after it take its place, so a selective receive's
    /// mark (counted from the front) would skip them: it counts as a shuffle.
    fn pop_back(&self) -> Option<T> {
        let item = self.items.borrow_mut().pop_back();
        if item.is_some() {
            self.shuffles.set(self.shuffles.get() + 1);
        }
        item
    }

    /// Wakes up to `freed` tasklets waiting for room (a bounded mailbox only).
    #[inline]
    fn wake_senders(&self, freed: usize) {
        if self.max_len != usize::MAX {
            self.wake_senders_of_bounded(freed);
        }
    }

    #[inline(never)]
    fn wake_senders_of_bounded(&self, freed: usize) {
        if self.senders.borrow().is_empty() {
            return;
        }
        let sched = scheduler::get();
        let mut senders = self.senders.borrow_mut();
        for _ in 0..freed {
            if !senders.wake_one(&sched) {
                break;
            }
        }
    }
}

/// How far a selective receive has looked without finding its item: every item before `end`,
/// counted from the first item the mailbox ever held, was rejected. It holds while items only
/// leave from the front and arrive at the back; taking items from the front moves the place
/// back with them. Any other change (an item put at the front, taken from the middle or from
/// the back: then later arrivals would take the places of items looked at) moves `shuffles` on
/// and sends the picker back to the start.
#[derive(Default)]
pub(crate) struct Looked {
    end: u64,
    shuffles: u64,
}

impl Looked {
    /// The index in the mailbox of the first item not looked at yet.
    fn start(&self, front_taken: u64, shuffles: u64) -> usize {
        if shuffles == self.shuffles {
            self.end.saturating_sub(front_taken) as usize
        } else {
            0
        }
    }
}

/// The items of a mailbox taken out while a selective receive's filter looks at them; put back
/// in front of anything appended meanwhile when dropped, even if the filter panics.
struct Scan<'a, T> {
    inner: &'a Inner<T>,
    items: VecDeque<T>,
}

impl<T> Drop for Scan<'_, T> {
    fn drop(&mut self) {
        let mut items = self.inner.items.borrow_mut();
        let appended = std::mem::replace(&mut *items, std::mem::take(&mut self.items));
        items.extend(appended);
    }
}

/// A waiter's exit from a wait list when it leaves without being served (timed out or killed,
/// the latter by unwinding): it removes its entry and, if what the list waits for is there
/// (it may have been woken for it), passes the wake-up on.
struct Leave<'a, F: Fn() -> bool> {
    list: &'a RefCell<WaitList>,
    /// The waiter, by address only (to find its entry).
    task: *const Task,
    pass_on: F,
}

impl<F: Fn() -> bool> Leave<'_, F> {
    /// It was woken normally: nothing to undo. (`Leave` owns nothing, so forgetting it leaks
    /// nothing.)
    fn served(self) {
        std::mem::forget(self);
    }
}

impl<F: Fn() -> bool> Drop for Leave<'_, F> {
    fn drop(&mut self) {
        let pass_on = (self.pass_on)();
        self.list.borrow_mut().leave(self.task, pass_on);
    }
}

impl<T> Clone for Mailbox<T> {
    fn clone(&self) -> Self {
        Mailbox {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Mailbox::new()
    }
}

impl<T> FromIterator<T> for Mailbox<T> {
    /// An unbounded mailbox holding the items in order (the original's `Mailbox(iterable)`).
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Mailbox::from_parts(iter.into_iter().collect(), None)
    }
}

impl<T> fmt::Debug for Mailbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("len", &self.len())
            .field("max_len", &self.max_len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T: 'static> AnyInbox for Inner<T> {
    fn close(&self) -> Box<dyn std::any::Any> {
        Box::new(Inner::close(self))
    }

    fn into_any(self: Rc<Self>) -> Rc<dyn std::any::Any> {
        self
    }

    fn message_set(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn is_closed(&self) -> bool {
        self.closed.get()
    }
}
