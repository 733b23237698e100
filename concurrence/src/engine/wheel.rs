//! The dispatcher's timers: a hierarchical timing wheel with 1 ms ticks (the design of tokio's
//! and of the Linux kernel's timer wheels).
//!
//! Six levels of 64 slots: a slot of level `L` spans `64^L` ms, so the wheel reaches 64^6 ms
//! (about 2.2 years) ahead; timers further out wait in an ordered overflow map until they come
//! within reach. A timer goes to the level of the highest 6-bit digit in which its tick differs
//! from the wheel's current tick, so it cascades down a level each time its slot comes up.
//! Inserting and cancelling are O(1) (a slab of entries, doubly linked in their slot, with a
//! bitmap of occupied slots per level); the next expiration is found with one `trailing_zeros`
//! per level.
//!
//! A deadline is rounded *up* to its tick and a tick counts as passed once it is entirely in the
//! past, so a timer never fires before its deadline (and at most about a millisecond after it,
//! the poller's own resolution). Timers that fire together are handed out in deadline order.
//! A timer holds a wake-up token (tasklet and epoch); one that fires for a wait that already
//! ended does nothing, so a cancelled or stale timer is harmless.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::engine::state::Task;

/// Bits of a tick per level, slots per level, levels.
const BITS: u32 = 6;
const SLOTS: usize = 1 << BITS;
const LEVELS: usize = 6;
/// No entry (the end of a slot's list).
const NIL: u32 = u32::MAX;

/// Identifies one pending timer, to cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

/// Where an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Free,
    Slot { level: u8, slot: u8 },
    Overflow,
}

/// One timer of the slab.
struct Entry {
    deadline: Instant,
    /// Insertion order, to break ties between equal deadlines.
    seq: u64,
    /// The deadline, in ticks since the wheel's start, rounded up.
    tick: u64,
    token: Option<(Rc<Task>, u32)>,
    /// Bumped when the entry is freed: a key of an earlier use no longer matches.
    generation: u32,
    prev: u32,
    next: u32,
    place: Place,
}

/// Pending deadlines of one dispatcher.
pub(crate) struct Timers {
    start: Instant,
    /// The last tick handed out: every timer of a tick up to it has fired.
    elapsed: u64,
    entries: Vec<Entry>,
    free: Vec<u32>,
    /// Per level, the first entry of each slot.
    heads: [[u32; SLOTS]; LEVELS],
    /// Per level, which slots hold entries.
    occupied: [u64; LEVELS],
    /// Timers beyond the wheel's reach, by (tick, seq).
    overflow: BTreeMap<(u64, u64), u32>,
    /// Expired timers not handed out yet; in deadline order unless `unsorted`.
    ready: VecDeque<(Instant, u64, Rc<Task>, u32)>,
    unsorted: bool,
    seq: u64,
}

impl Default for Timers {
    fn default() -> Self {
        Timers::starting_at(Instant::now())
    }
}

impl Timers {
    /// An empty wheel whose tick 0 is `start`.
    pub(crate) fn starting_at(start: Instant) -> Timers {
        Timers {
            start,
            elapsed: 0,
            entries: Vec::new(),
            free: Vec::new(),
            heads: [[NIL; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            overflow: BTreeMap::new(),
            ready: VecDeque::new(),
            unsorted: false,
            seq: 0,
        }
    }

    /// Registers a wake-up of `task` for its wait `epoch` at `deadline`.
    pub(crate) fn insert(&mut self, deadline: Instant, task: Rc<Task>, epoch: u32) -> TimerKey {
        self.seq += 1;
        let tick = self.tick_of(deadline);
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.entries.push(Entry {
                    deadline,
                    seq: 0,
                    tick: 0,
                    token: None,
                    generation: 0,
                    prev: NIL,
                    next: NIL,
                    place: Place::Free,
                });
                u32::try_from(self.entries.len() - 1).expect("fewer than 4 billion timers")
            }
        };
        let entry = &mut self.entries[index as usize];
        entry.deadline = deadline;
        entry.seq = self.seq;
        entry.tick = tick;
        entry.token = Some((task, epoch));
        let key = TimerKey {
            index,
            generation: entry.generation,
        };
        self.place(index, self.elapsed);
        key
    }

    /// Cancels a timer; nothing happens if it fired already.
    pub(crate) fn remove(&mut self, key: TimerKey) {
        let Some(entry) = self.entries.get(key.index as usize) else {
            return;
        };
        if entry.generation != key.generation {
            return;
        }
        match entry.place {
            Place::Free => return,
            Place::Slot { level, slot } => self.unlink(key.index, level as usize, slot as usize),
            Place::Overflow => {
                let (tick, seq) = (entry.tick, entry.seq);
                self.overflow.remove(&(tick, seq));
            }
        }
        drop(self.release(key.index));
    }

    /// When the next timer may be due: the earliest expired timer not handed out, else the
    /// start of the earliest occupied slot (for level 0 that is its timers' tick; for higher
    /// levels a lower bound: the timers cascade down when it comes).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if let Some(deadline) = self.ready.iter().map(|r| r.0).min() {
            return Some(deadline);
        }
        let wheel = self.next_expiration().map(|(_, _, tick)| tick);
        let overflow = self.overflow.keys().next().map(|(tick, _)| *tick);
        let tick = match (wheel, overflow) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(self.start + Duration::from_millis(tick))
    }

    /// Removes and returns the earliest timer if its deadline is not after `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<(Rc<Task>, u32)> {
        if self.ready.is_empty() {
            self.advance(now);
        }
        if self.unsorted {
            self.ready
                .make_contiguous()
                .sort_unstable_by_key(|(deadline, seq, ..)| (*deadline, *seq));
            self.unsorted = false;
        }
        let (deadline, _, task, epoch) = self.ready.pop_front()?;
        debug_assert!(deadline <= now, "a timer fired before its deadline");
        Some((task, epoch))
    }

    /// The instant of tick 0.
    pub(crate) fn start(&self) -> Instant {
        self.start
    }

    /// Drops every timer.
    pub(crate) fn clear(&mut self) {
        *self = Timers::starting_at(self.start);
    }

    /// The tick of `deadline`, rounded up (never before the deadline).
    fn tick_of(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.start);
        let nanos = since.as_nanos().div_ceil(1_000_000);
        u64::try_from(nanos).unwrap_or(u64::MAX)
    }

    /// Puts the pending entry `index` where its tick belongs: the ready list if the tick is
    /// `due` or before, a slot of the wheel, or the overflow.
    fn place(&mut self, index: u32, due: u64) {
        let tick = self.entries[index as usize].tick;
        if tick <= due || tick <= self.elapsed {
            let (deadline, seq, token) = self.release(index);
            let (task, epoch) = token.expect("a pending timer has its token");
            self.ready.push_back((deadline, seq, task, epoch));
            self.unsorted = true;
            return;
        }
        let level = level_for(self.elapsed, tick);
        if level >= LEVELS {
            let seq = self.entries[index as usize].seq;
            self.entries[index as usize].place = Place::Overflow;
            self.overflow.insert((tick, seq), index);
            return;
        }
        let slot = slot_for(tick, level);
        let head = self.heads[level][slot];
        let entry = &mut self.entries[index as usize];
        entry.place = Place::Slot {
            level: level as u8,
            slot: slot as u8,
        };
        entry.prev = NIL;
        entry.next = head;
        if head != NIL {
            self.entries[head as usize].prev = index;
        }
        self.heads[level][slot] = index;
        self.occupied[level] |= 1 << slot;
    }

    /// Takes the entry `index` out of its slot's list.
    fn unlink(&mut self, index: u32, level: usize, slot: usize) {
        let (prev, next) = {
            let entry = &self.entries[index as usize];
            (entry.prev, entry.next)
        };
        if prev == NIL {
            self.heads[level][slot] = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        if self.heads[level][slot] == NIL {
            self.occupied[level] &= !(1 << slot);
        }
    }

    /// Frees the slab entry `index` and returns its deadline, sequence and token.
    fn release(&mut self, index: u32) -> (Instant, u64, Option<(Rc<Task>, u32)>) {
        let entry = &mut self.entries[index as usize];
        entry.place = Place::Free;
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(index);
        (entry.deadline, entry.seq, entry.token.take())
    }

    /// The earliest occupied slot: its level, slot and starting tick.
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        (0..LEVELS)
            .filter_map(|level| self.next_in_level(level))
            .min_by_key(|(_, _, tick)| *tick)
    }

    /// The first occupied slot of `level` at or after the wheel's position there.
    fn next_in_level(&self, level: usize) -> Option<(usize, usize, u64)> {
        let occupied = self.occupied[level];
        if occupied == 0 {
            return None;
        }
        let slot_range = 1u64 << (BITS as usize * level);
        let level_range = slot_range << BITS;
        let position = ((self.elapsed / slot_range) % SLOTS as u64) as u32;
        let slot = (occupied.rotate_right(position).trailing_zeros() + position) as usize % SLOTS;
        let level_start = self.elapsed & !(level_range - 1);
        let mut tick = level_start + slot as u64 * slot_range;
        if tick <= self.elapsed && level > 0 {
            // A slot behind the position belongs to the next turn of this level.
            tick += level_range;
        }
        Some((level, slot, tick))
    }

    /// Moves every timer whose tick has passed at `now` to the ready list, in deadline order,
    /// cascading the others down as their slots come up.
    fn advance(&mut self, now: Instant) {
        let now_tick = u64::try_from(now.saturating_duration_since(self.start).as_millis())
            .unwrap_or(u64::MAX);
        while let Some((level, slot, tick)) = self.next_expiration() {
            if tick > now_tick {
                break;
            }
            self.elapsed = self.elapsed.max(tick);
            // Take the slot's whole list, then place each entry again: the expired ones go to
            // the ready list, the others one level down (their tick is now nearer).
            let mut index = self.heads[level][slot];
            self.heads[level][slot] = NIL;
            self.occupied[level] &= !(1 << slot);
            while index != NIL {
                let next = self.entries[index as usize].next;
                self.place(index, now_tick);
                index = next;
            }
        }
        self.elapsed = self.elapsed.max(now_tick);
        // Timers that came within the wheel's reach (or are due).
        while let Some((&(tick, seq), &index)) = self.overflow.iter().next() {
            if tick > now_tick && level_for(self.elapsed, tick) >= LEVELS {
                break;
            }
            self.overflow.remove(&(tick, seq));
            self.place(index, now_tick);
        }
    }
}

/// The level of a tick relative to the wheel's current tick: the highest 6-bit digit in which
/// they differ (`LEVELS` or more: beyond the wheel).
fn level_for(elapsed: u64, tick: u64) -> usize {
    let masked = (elapsed ^ tick) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros() as usize;
    significant / BITS as usize
}

/// The slot of `tick` at `level`.
fn slot_for(tick: u64, level: usize) -> usize {
    ((tick >> (BITS as usize * level)) % SLOTS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::state::Task;

    /// A throwaway tasklet record to hold in tokens (never run).
    fn task() -> Rc<Task> {
        Task::unstarted_for_tests()
    }

    /// A tiny deterministic generator.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Against an ordered map as the model: random deadlines from sub-millisecond to years,
    /// random cancellations, and a clock that jumps by random steps; every timer fires once,
    /// never before its deadline, within a millisecond after the step that passed it, in
    /// deadline order, and never after it was cancelled.
    #[test]
    fn the_wheel_fires_every_timer_once_in_order_never_early_and_never_when_cancelled() {
        let start = Instant::now();
        let mut wheel = Timers::starting_at(start);
        let mut model: BTreeMap<(Instant, u32), TimerKey> = BTreeMap::new();
        let mut deadlines: std::collections::HashMap<u32, Instant> = Default::default();
        let mut next_id = 0u32;
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let t = task();
        let mut now = start;
        let mut fired = 0;
        for _ in 0..3_000 {
            for _ in 0..rng.below(20) {
                let span = match rng.below(4) {
                    0 => rng.below(2_000_000),                  // under 2 ms, in ns
                    1 => rng.below(5_000) * 1_000_000,          // under 5 s
                    2 => rng.below(3_000_000) * 1_000_000,      // under an hour
                    _ => rng.below(1_000) * 86_400_000_000_000, // up to years: the overflow
                };
                let deadline = now + Duration::from_nanos(span);
                next_id += 1;
                let epoch = next_id;
                let key = wheel.insert(deadline, t.clone(), epoch);
                model.insert((deadline, epoch), key);
                deadlines.insert(epoch, deadline);
            }
            if !model.is_empty() && rng.below(3) == 0 {
                let victim = *model
                    .keys()
                    .nth(rng.below(model.len() as u64) as usize)
                    .unwrap();
                wheel.remove(model.remove(&victim).unwrap());
                deadlines.remove(&victim.1);
            }
            let next = wheel.next_deadline();
            let earliest = model.keys().next().map(|(d, _)| *d);
            if let (Some(next), Some(earliest)) = (next, earliest) {
                assert!(
                    next <= earliest + Duration::from_millis(1),
                    "next_deadline {next:?} is after the earliest timer {earliest:?}"
                );
            }
            assert_eq!(next.is_some(), earliest.is_some());
            now += Duration::from_nanos(match rng.below(3) {
                0 => rng.below(3_000_000),
                1 => rng.below(200) * 1_000_000,
                _ => rng.below(100_000) * 1_000_000,
            });
            let mut last = None;
            while let Some((_, epoch)) = wheel.pop_expired(now) {
                let deadline = deadlines
                    .remove(&epoch)
                    .expect("a timer that was cancelled or fired before fired");
                let e = epoch;
                assert!(deadline <= now, "fired before its deadline");
                assert!(last <= Some(deadline), "fired out of deadline order");
                last = Some(deadline);
                model.remove(&(deadline, e));
                fired += 1;
            }
            let earliest = model.keys().next().map(|(d, _)| *d);
            assert!(
                earliest.is_none_or(|d| d + Duration::from_millis(1) > now),
                "a timer more than a millisecond past its deadline did not fire"
            );
        }
        assert!(fired > 1_000, "{fired}");
    }

    #[test]
    fn a_million_pending_timers_insert_and_cancel_in_constant_time() {
        let start = Instant::now();
        let mut wheel = Timers::starting_at(start);
        let t = task();
        let keys: Vec<_> = (0..1_000_000u64)
            .map(|i| wheel.insert(start + Duration::from_millis(i % 100_000 + 1), t.clone(), 0))
            .collect();
        for key in keys.iter().step_by(2) {
            wheel.remove(*key);
        }
        let mut fired = 0;
        while wheel
            .pop_expired(start + Duration::from_secs(200))
            .is_some()
        {
            fired += 1;
        }
        assert_eq!(fired, 500_000);
        assert_eq!(wheel.next_deadline(), None);
    }
}
