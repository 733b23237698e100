//! Helpers shared by the integration tests: bounded dispatching, drop counters, captured logs,
//! and re-running a test in a child process for behaviour that ends the process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use concurrence::{Dispatcher, ExitReason, ExitStatus};

/// How long any one test's dispatcher may run before the test fails instead of hanging.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Runs `f` as the first tasklet of a dispatcher (SIGINT not handled) on a fresh thread. Fails
/// the test unless the dispatcher ends with every tasklet finished: when `f` panicked (a failed
/// assertion inside the tasklet), the dispatcher deadlocked, or anything else; use
/// [`run_status`] for tests that expect another end.
pub fn run<F: FnOnce() + Send + 'static>(f: F) {
    run_with(Dispatcher::new().handle_sigint(false), f)
}

/// As [`run`], with the given dispatcher settings.
pub fn run_with<F: FnOnce() + Send + 'static>(dispatcher: Dispatcher, f: F) {
    let status = run_status_with(dispatcher, f);
    match status.reason() {
        ExitReason::Finished => {}
        ExitReason::Panicked(message) => panic!("the first tasklet panicked: {message}"),
        ExitReason::Deadlock(blocked) => panic!("the dispatcher deadlocked: {blocked:?}"),
        _ => panic!("the dispatcher ended with {status}"),
    }
}

/// As [`run`], returning whatever status the dispatcher ends with.
pub fn run_status<F: FnOnce() + Send + 'static>(f: F) -> ExitStatus {
    run_status_with(Dispatcher::new().handle_sigint(false), f)
}

/// Runs `f` as the first tasklet of a dispatcher with the given settings on a fresh thread and
/// returns its status; panics if it does not end within [`LIMIT`] or if the dispatcher panics.
pub fn run_status_with<F: FnOnce() + Send + 'static>(dispatcher: Dispatcher, f: F) -> ExitStatus {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let status = dispatcher.run(f);
        let _ = tx.send(status);
    });
    match rx.recv_timeout(LIMIT) {
        Ok(status) => {
            handle.join().expect("dispatcher thread");
            status
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => panic!("dispatcher thread ended without a status"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the dispatcher did not finish within {LIMIT:?}: a wait is not bounded")
        }
    }
}

/// Counts drops of the [`Token`]s it hands out, to prove destructors ran.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

/// Increments its counter when dropped.
pub struct Token(Arc<AtomicUsize>);

impl DropCounter {
    /// A new counter at zero.
    pub fn new() -> DropCounter {
        DropCounter::default()
    }

    /// A token that counts one drop.
    pub fn token(&self) -> Token {
        Token(self.0.clone())
    }

    /// Drops counted so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

struct Capture {
    lines: Mutex<Vec<String>>,
}

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {}", record.level(), record.args());
        self.lines.lock().unwrap().push(line);
    }

    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture {
            lines: Mutex::new(Vec::new()),
        }));
        log::set_logger(capture).expect("no other logger in the test binary");
        log::set_max_level(log::LevelFilter::Trace);
        capture
    })
}

/// Starts capturing log records (process-wide, once).
pub fn capture_logs() {
    capture();
}

/// Captured log lines that contain `needle`.
pub fn logged(needle: &str) -> Vec<String> {
    capture()
        .lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(needle))
        .cloned()
        .collect()
}

/// The environment variable that tells a re-run test binary which test to act out.
pub const CHILD_ENV: &str = "CONCURRENCE_TEST_CHILD";

/// Whether this process is the child run of test `name`.
pub fn is_child(name: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == name)
}

/// Re-runs the current test binary for test `name` alone, as a child process that acts out the
/// part guarded by [`is_child`]; returns its output (bounded by [`LIMIT`]).
pub fn run_child(name: &str) -> std::process::Output {
    run_child_with_env(name, &[])
}

/// As [`run_child`], with extra environment variables for the child.
pub fn run_child_with_env(name: &str, env: &[(&str, &str)]) -> std::process::Output {
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the test binary");
    let deadline = std::time::Instant::now() + LIMIT;
    while child.try_wait().expect("poll child").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("child test {name} did not end within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("child output")
}

/// Fails the test unless the child run `out` ended with status 0, showing its output.
pub fn assert_passed(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Re-runs test `name` as a child process ([`run_child`]) and fails unless it passed.
pub fn assert_child_passed(name: &str) {
    assert_passed(&run_child(name));
}

/// Runs a closure when dropped: a destructor that does what a test needs (blocks, kills,
/// panics, calls the runtime).
pub struct OnDrop(Option<Box<dyn FnOnce()>>);

impl OnDrop {
    /// A value whose destructor runs `f`.
    pub fn new(f: impl FnOnce() + 'static) -> OnDrop {
        OnDrop(Some(Box::new(f)))
    }
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// Resident memory of this process in bytes (from /proc/self/statm).
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("statm has a resident field");
    // SAFETY: sysconf with a valid name has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize
}

/// How many file descriptors this process has open (entries of /proc/self/fd).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// How many mappings this process has (lines of /proc/self/maps).
pub fn mapping_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("read /proc/self/maps")
        .lines()
        .count()
}

/// A small deterministic generator (64-bit LCG) for seeded stress tests, so that a failure can
/// be replayed. Clones share the state.
#[derive(Clone)]
pub struct Rng(std::rc::Rc<std::cell::Cell<u64>>);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(std::rc::Rc::new(std::cell::Cell::new(seed)))
    }

    /// The next number below `n`.
    pub fn below(&self, n: u64) -> u64 {
        let next = self
            .0
            .get()
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0.set(next);
        (next >> 33) % n
    }
}

/// Two dispatchers (`Dispatcher::threads(2)`), SIGINT left alone.
pub fn two() -> Dispatcher {
    Dispatcher::new().threads(2).handle_sigint(false)
}

/// Runs `f` as the first tasklet of `dispatcher` on a thread of its own, bounded by [`LIMIT`],
/// and returns the status with `f`'s value.
pub fn run_value<T, F>(dispatcher: Dispatcher, f: F) -> ExitStatus<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let status = dispatcher.run(f);
        let _ = tx.send(status);
    });
    rx.recv_timeout(LIMIT)
        .expect("the dispatchers ended within the limit")
}
