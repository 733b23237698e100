//! What the process costs: peak and current resident memory, CPU time.

use std::time::Duration;

/// Peak resident set size of this process so far, in bytes.
pub fn peak_rss() -> u64 {
    rusage().ru_maxrss as u64 * 1024
}

/// CPU time (user + system) this process has used so far.
pub fn cpu_time() -> Duration {
    let r = rusage();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(r.ru_utime) + tv(r.ru_stime)
}

/// Current resident set size of this process, in bytes (from `/proc/self/statm`).
pub fn current_rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm has a resident field");
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is a valid name.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page
}

fn rusage() -> libc::rusage {
    // SAFETY: rusage is plain old data, valid when zeroed.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage for getrusage to fill.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    usage
}

/// A small deterministic random number generator (xorshift64*), the same for every runtime.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (not 0).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        lo + self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % (hi - lo + 1)
    }
}

/// The sleep of timer `i` of the timers workload: 1..=100 ms, the same for every runtime.
pub fn timer_sleeps(n: usize) -> Vec<Duration> {
    let mut rng = Rng::new(0x5eed);
    (0..n)
        .map(|_| Duration::from_millis(rng.range(1, 100)))
        .collect()
}
