//! Waiting for any descriptor, `Registered` values, and the blocking pool: each suspends only
//! its tasklet, survives kills, and lets the dispatcher keep its timers.

use std::cell::Cell;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concurrence::io::{blocking, wait_readable, wait_writable, Registered};
use concurrence::net::UnixStream;
use concurrence::{sleep, spawn, yield_, ExitReason};
use concurrence_tests::{run, run_status};

#[test]
fn wait_readable_suspends_only_its_tasklet_and_times_out() {
    run(|| {
        let (a, b) = StdUnixStream::pair().unwrap();
        let waited = spawn(move || {
            wait_readable(&a, None).unwrap();
            let mut byte = [0u8];
            (&a).read_exact(&mut byte).unwrap();
            byte[0]
        });
        let start = Instant::now();
        let err = wait_readable(&b, Some(Duration::from_millis(20))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(20));
        wait_writable(&b, Some(Duration::from_secs(1))).unwrap(); // ready at once
        (&b).write_all(&[9]).unwrap();
        assert_eq!(waited.join().unwrap(), 9);
    });
}

#[test]
fn a_registered_pipe_is_read_by_one_tasklet_and_written_by_another() {
    run(|| {
        let mut fds = [0i32; 2];
        // SAFETY: pipe(2) writes two descriptors into the array, which the Files below own.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: each descriptor was just created and has no other owner.
        let (read_end, write_end) = unsafe {
            use std::os::fd::FromRawFd;
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        };
        let mut reader = Registered::new(read_end).unwrap();
        let writer = Registered::new(write_end).unwrap();
        let consumer = spawn(move || {
            let mut all = Vec::new();
            reader.read_to_end(&mut all).unwrap();
            all.len()
        });
        for _ in 0..64 {
            (&writer).write_all(&[3u8; 4096]).unwrap(); // the pipe fills: the writer waits
        }
        drop(writer); // the end of the pipe
        assert_eq!(consumer.join().unwrap(), 64 * 4096);
    });
}

#[test]
fn blocking_runs_on_the_pool_while_a_heartbeat_keeps_its_period() {
    run(|| {
        let beats = Rc::new(Cell::new(0u32));
        let b = beats.clone();
        let heartbeat = spawn(move || loop {
            sleep(Duration::from_millis(10));
            b.set(b.get() + 1);
        });
        let workers: Vec<_> = (0..4u64)
            .map(|i| {
                spawn(move || {
                    blocking(move || {
                        std::thread::sleep(Duration::from_millis(200)); // blocks a pool thread
                        i * 2
                    })
                })
            })
            .collect();
        let (a, b2) = UnixStream::pair().unwrap();
        let chatter = spawn(move || {
            for _ in 0..20 {
                (&a).write_all(b"tick").unwrap();
                sleep(Duration::from_millis(5));
            }
        });
        let mut buf = [0u8; 80];
        (&b2).read_exact(&mut buf).unwrap();
        let start = Instant::now();
        let sum: u64 = workers.iter().map(|w| w.join().unwrap()).sum();
        assert_eq!(sum, 12);
        chatter.join().unwrap();
        let elapsed = start.elapsed();
        heartbeat.kill();
        // A blocked dispatcher would have beaten once or not at all; generous tolerance.
        assert!(
            beats.get() as u128 >= 5,
            "{} beats in {elapsed:?}",
            beats.get()
        );
    });
}

#[test]
fn a_panic_in_a_blocking_function_is_raised_in_the_caller() {
    run(|| {
        let t = spawn(|| blocking(|| -> u32 { panic!("pool job fails") }));
        let err = t.join().unwrap_err();
        assert!(err.to_string().contains("pool job fails"), "{err}");
        assert_eq!(blocking(|| 5), 5, "the pool still works");
    });
}

/// Counts its drops, on whatever thread.
#[derive(Debug)]
struct CountedDrop(Arc<AtomicUsize>);

impl Drop for CountedDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn killing_a_tasklet_waiting_for_the_pool_drops_the_result_there_and_wedges_nothing() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    run(move || {
        let d2 = d.clone();
        let t = spawn(move || {
            blocking(move || {
                std::thread::sleep(Duration::from_millis(50));
                CountedDrop(d2)
            })
        });
        yield_(); // it waits for the pool
        t.kill();
        assert!(t.join().unwrap_err().is_killed());
        // The pool finishes the job and drops its result; other jobs run meanwhile.
        assert_eq!(blocking(|| 1 + 1), 2);
        let start = Instant::now();
        while d.load(Ordering::SeqCst) == 0 && start.elapsed() < Duration::from_secs(10) {
            sleep(Duration::from_millis(5));
        }
        assert_eq!(
            d.load(Ordering::SeqCst),
            1,
            "the abandoned result was dropped"
        );
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[test]
fn blocking_outside_a_dispatcher_just_runs_the_function() {
    assert_eq!(blocking(|| 40 + 2), 42);
}

#[test]
fn a_tasklet_waiting_on_io_is_not_a_deadlock_but_one_on_nothing_is() {
    let status = run_status(|| {
        let (a, b) = StdUnixStream::pair().unwrap();
        let reader = spawn(move || wait_readable(&a, None).is_ok());
        let writer = spawn(move || {
            blocking(|| std::thread::sleep(Duration::from_millis(30)));
            (&b).write_all(&[1]).unwrap();
        });
        assert!(
            reader.join().unwrap(),
            "woken by the write, not declared deadlocked"
        );
        writer.join().unwrap();
        let (c, _d) = StdUnixStream::pair().unwrap();
        let _registered = Registered::new(c).unwrap(); // registered but nobody waits on it
        concurrence::Mailbox::<u8>::new().popleft(); // nothing can wake this
    });
    assert!(
        matches!(status.reason(), ExitReason::Deadlock(_)),
        "{status}"
    );
}

#[test]
fn an_inotify_descriptor_works_through_registered_without_new_runtime_code() {
    run(|| {
        use std::os::fd::FromRawFd;
        let dir = std::env::temp_dir().join(format!("concurrence-inotify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: inotify_init1 returns a new descriptor (checked), which the File then owns.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: `fd` is a fresh descriptor with no other owner.
        let inotify = unsafe { std::fs::File::from_raw_fd(fd) };
        let path = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        // SAFETY: a valid descriptor and a NUL-terminated path.
        assert!(unsafe { libc::inotify_add_watch(fd, path.as_ptr(), libc::IN_CREATE) } >= 0);
        let mut watcher = Registered::new(inotify).unwrap();
        let w = spawn(move || {
            let mut events = [0u8; 4096];
            watcher.read(&mut events).unwrap() // suspends until a file is created
        });
        yield_();
        assert!(!w.has_finished(), "nothing happened yet");
        std::fs::write(dir.join("created"), b"x").unwrap();
        assert!(w.join().unwrap() >= 16, "one inotify_event at least");
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// A value whose descriptor can be changed through a shared reference (interior mutability):
/// what any `T: AsRawFd` may do, so `Registered` must notice it.
struct Swappable(std::cell::RefCell<StdUnixStream>);

impl std::os::fd::AsRawFd for Swappable {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.borrow().as_raw_fd()
    }
}

impl Swappable {
    fn new(stream: StdUnixStream) -> Swappable {
        Swappable(std::cell::RefCell::new(stream))
    }

    /// Reads through the current stream (a `read_with` operation).
    fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        (&*self.0.borrow()).read(buf)
    }
}

/// Waits in a tasklet until `reg` has registered with the dispatcher (a wait that times out).
fn register(reg: &Registered<impl std::os::fd::AsRawFd>) {
    let err = reg.readable(Some(Duration::from_millis(20))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
}

#[test]
fn a_registered_value_whose_descriptor_changes_is_registered_again() {
    run(|| {
        let (a1, _b1) = StdUnixStream::pair().unwrap();
        let reg = Rc::new(Registered::new(Swappable::new(a1)).unwrap());
        register(&reg);
        let (a2, b2) = StdUnixStream::pair().unwrap();
        let old = reg.get_ref().0.replace(a2); // a reconnect, through interior mutability
        let r = reg.clone();
        let reader = spawn(move || {
            let mut byte = [0u8];
            r.readable(Some(Duration::from_secs(2)))?;
            r.read_with(|s| s.read(&mut byte))?;
            Ok::<u8, std::io::Error>(byte[0])
        });
        yield_(); // the reader waits
        (&b2).write_all(&[42]).unwrap();
        assert_eq!(
            reader.join().unwrap().unwrap(),
            42,
            "woken by the new stream"
        );
        drop(old);
    });
}

#[test]
fn replace_gives_the_registration_to_the_new_descriptor() {
    run(|| {
        let (a1, _b1) = StdUnixStream::pair().unwrap();
        let mut reg = Registered::new(a1).unwrap();
        register(&reg);
        let (a2, b2) = StdUnixStream::pair().unwrap();
        drop(reg.replace(a2).unwrap()); // a reconnect
        let reader = spawn(move || {
            let mut byte = [0u8];
            reg.readable(Some(Duration::from_secs(2)))?;
            reg.read_exact(&mut byte)?;
            Ok::<u8, std::io::Error>(byte[0])
        });
        yield_(); // the reader waits
        (&b2).write_all(&[42]).unwrap();
        assert_eq!(
            reader.join().unwrap().unwrap(),
            42,
            "woken by the new stream"
        );
    });
}

#[test]
fn dropping_a_value_whose_descriptor_changed_never_deregisters_a_newcomer() {
    const NAME: &str = "dropping_a_value_whose_descriptor_changed_never_deregisters_a_newcomer";
    if !concurrence_tests::is_child(NAME) {
        // A child process: no other test's descriptors, so the number reuse is exact.
        concurrence_tests::assert_child_passed(NAME);
        return;
    }
    run(|| {
        use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
        let (a1, _b1) = StdUnixStream::pair().unwrap();
        let number = a1.as_raw_fd();
        let reg = Registered::new(Swappable::new(a1)).unwrap();
        register(&reg);
        let (a2, _b2) = StdUnixStream::pair().unwrap();
        drop(reg.get_ref().0.replace(a2)); // the old descriptor closes: its number is free
        let (c, d) = StdUnixStream::pair().unwrap();
        let c = c.into_raw_fd();
        if c != number {
            // SAFETY: `number` is free (its stream was just closed) and no other thread of
            // this process opens descriptors; `c` is ours, closed once moved.
            unsafe {
                assert_eq!(libc::dup2(c, number), number);
                libc::close(c);
            }
        }
        // SAFETY: `number` is now the newcomer's descriptor, owned by nothing else.
        let newcomer = unsafe { StdUnixStream::from_raw_fd(number) };
        let newcomer = Rc::new(Registered::new(newcomer).unwrap());
        let n = newcomer.clone();
        let reader = spawn(move || n.readable(Some(Duration::from_secs(2))));
        yield_(); // the newcomer is registered under the reused number, and waits
        drop(reg); // must not take the newcomer's registration
        (&d).write_all(&[1]).unwrap();
        reader
            .join()
            .unwrap()
            .expect("the newcomer is woken by its data");
    });
}

#[test]
fn two_registered_values_on_one_descriptor_both_wait_and_read() {
    run(|| {
        let (a, b) = StdUnixStream::pair().unwrap();
        let a = Rc::new(a);
        let first = Rc::new(Registered::new(a.clone()).unwrap());
        let second = Rc::new(Registered::new(a.clone()).unwrap());
        let readers: Vec<_> = [first, second]
            .into_iter()
            .map(|reg| {
                spawn(move || {
                    reg.readable(Some(Duration::from_secs(2)))?;
                    let mut byte = [0u8];
                    match reg.read_with(|s| (&**s).read(&mut byte)) {
                        Ok(_) => Ok(Some(byte[0])),
                        Err(err) if err.kind() == ErrorKind::WouldBlock => Ok(None),
                        Err(err) => Err(err),
                    }
                })
            })
            .collect();
        yield_(); // both wait
        (&b).write_all(&[5, 6]).unwrap();
        let mut got: Vec<u8> = readers
            .iter()
            .map(|r| r.join().unwrap().expect("each wait ends with the data"))
            .map(|byte| byte.expect("one byte each"))
            .collect();
        got.sort();
        assert_eq!(got, [5, 6]);
    });
}
