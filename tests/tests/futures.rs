//! Futures from tasklets: `io::wait_future` polls one on the dispatcher, woken from any thread;
//! `io::on_tokio` runs one on the bridge's tokio runtime. Only the calling tasklet waits, a
//! kill cancels the future, a panic comes back to the caller, and a future polled by a compact
//! tasklet lives on the heap, where others may point into it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concurrence::io::{on_tokio, wait_future};
use concurrence::{sleep, spawn, Builder, Dispatcher, JoinCause, StackMode};
use concurrence_tests::{run, run_value, LIMIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn a_tokio_timer_suspends_only_the_calling_tasklet() {
    run(|| {
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = {
            let ticks = ticks.clone();
            Builder::new().daemon(true).spawn(move || loop {
                sleep(Duration::from_millis(5));
                ticks.fetch_add(1, Ordering::Relaxed);
            })
        };
        let start = Instant::now();
        // Made inside the async block: tokio's `sleep` needs its runtime when it is made.
        on_tokio(async { tokio::time::sleep(Duration::from_millis(100)).await });
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert!(
            ticks.load(Ordering::Relaxed) >= 5,
            "the other tasklet did not run while one waited on tokio"
        );
        ticker.kill();
    });
}

#[test]
fn tokio_sockets_exchange_bytes_through_the_bridge() {
    run(|| {
        let listener = on_tokio(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(move || {
            on_tokio(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 5];
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            })
        });
        let echoed = on_tokio(async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"hello").await.unwrap();
            let mut buf = [0u8; 5];
            stream.read_exact(&mut buf).await.unwrap();
            buf
        });
        assert_eq!(&echoed, b"hello");
        server.join().unwrap();
    });
}

/// Sets its flag when dropped: the future holding it was cancelled (or ended).
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn killing_the_waiting_tasklet_cancels_the_future_on_tokio() {
    run(|| {
        let dropped = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (dropped, finished) = (dropped.clone(), finished.clone());
            spawn(move || {
                on_tokio(async move {
                    let _flag = DropFlag(dropped);
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    finished.store(true, Ordering::SeqCst);
                })
            })
        };
        sleep(Duration::from_millis(20)); // it waits on tokio
        waiter.kill();
        assert_eq!(waiter.join().unwrap_err().cause(), &JoinCause::Killed);
        let start = Instant::now();
        while !dropped.load(Ordering::SeqCst) {
            assert!(
                start.elapsed() < LIMIT,
                "the cancelled future was never dropped"
            );
            sleep(Duration::from_millis(1));
        }
        assert!(!finished.load(Ordering::SeqCst));
    });
}

#[test]
fn a_panic_in_a_bridged_future_comes_back_as_a_panic_in_the_caller() {
    run(|| {
        let caller = spawn(|| on_tokio(async { panic!("inside the future") }));
        match caller.join().unwrap_err().cause() {
            JoinCause::Panicked(message) => assert!(message.contains("inside the future")),
            other => panic!("the caller ended with {other:?}"),
        }
        // The runtime goes on serving.
        assert_eq!(on_tokio(async { 7 }), 7);
    });
}

#[test]
fn ten_thousand_concurrent_bridged_calls_all_complete() {
    run(|| {
        let callers: Vec<_> = (0..10_000u64)
            .map(|i| {
                spawn(move || {
                    on_tokio(async move {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        i
                    })
                })
            })
            .collect();
        let sum: u64 = callers.iter().map(|c| c.join().unwrap()).sum();
        assert_eq!(sum, (0..10_000).sum());
    });
}

#[test]
fn a_compact_tasklet_waiting_on_a_tokio_notify_is_woken_while_others_ran_on_its_stack() {
    // SAFETY: no scoped thread borrows a tasklet's stack and nothing outside the tasklets
    // points into their frames: the future `wait_future` polls is on the heap (what this test
    // checks: pinned on the stack, the Notify's waiter list would point into bytes that the
    // other tasklets overwrite).
    let mode = unsafe { StackMode::compact() };
    let status = run_value(Dispatcher::new().stack_mode(mode), move || {
        let notify = Arc::new(tokio::sync::Notify::new());
        let waiter = {
            let notify = notify.clone();
            spawn(move || {
                let mut padding = [0u8; 256]; // frames of its own on the shared stack
                padding[0] = 1;
                wait_future(notify.notified());
                std::hint::black_box(padding)[0]
            })
        };
        sleep(Duration::from_millis(5)); // it waits, registered in the Notify's list
                                         // Others run on the shared stack meanwhile, writing over what was the waiter's.
        let others: Vec<_> = (0..8)
            .map(|i| {
                spawn(move || {
                    let scribble = [i as u8; 4096];
                    sleep(Duration::from_millis(2));
                    std::hint::black_box(scribble)
                        .iter()
                        .map(|&b| b as u64)
                        .sum::<u64>()
                })
            })
            .collect();
        for other in others {
            other.join().unwrap();
        }
        let from_thread = std::thread::spawn(move || notify.notify_waiters());
        concurrence::io::blocking(move || from_thread.join().unwrap());
        // Not woken (its entry in the Notify's list lost), it is killed: the test fails, and
        // does not hang.
        let got = waiter.join_timeout(Duration::from_secs(10));
        waiter.kill();
        got.ok().and_then(Result::ok)
    });
    assert_eq!(
        status.into_value(),
        Some(Some(1)),
        "the compact waiter was not woken"
    );
}

#[test]
fn wait_future_outside_any_dispatcher_blocks_the_thread_until_woken() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        tx.send(5).unwrap();
    });
    assert_eq!(wait_future(rx), Ok(5));
    thread.join().unwrap();
}
