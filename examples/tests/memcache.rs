//! The memcached client example against a real memcached that the test starts on loopback and
//! stops: many tasklets at once, every command, and a timeout when the server stops answering.

mod util;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{join_all, spawn, Dispatcher};
use concurrence_examples::memcache::Client;

/// A memcached on a free loopback port, killed when dropped.
struct Memcached {
    child: Child,
    addr: SocketAddr,
}

impl Memcached {
    /// Starts memcached on a port nobody uses. The tests of this file run in parallel: port
    /// choices are serialised (a port held by a running memcached is never handed out again),
    /// and a memcached that could not bind (it exits at once) is retried on another port, so
    /// that the test never talks to another test's server.
    fn start() -> Memcached {
        static CHOOSING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _choosing = CHOOSING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for _attempt in 0..10 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new("memcached")
                .args([
                    "-l",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-U",
                    "0",
                    "-u",
                    "root",
                    "-t",
                    "1",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("memcached is installed (scripts/test installs it)");
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut up = false;
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break; // it could not start on this port
                }
                if std::net::TcpStream::connect(addr).is_ok() {
                    up = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(50));
            if up && child.try_wait().unwrap().is_none() {
                return Memcached { child, addr };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("memcached did not start");
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: a signal to our own child, which has not been reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
    }

    /// Stops the server and waits until every one of its threads is stopped: `kill` returns
    /// before the threads stop, and one still running could answer a request sent right after.
    fn stop(&self) {
        self.signal(libc::SIGSTOP);
        let tasks = format!("/proc/{}/task", self.child.id());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let all_stopped = std::fs::read_dir(&tasks).unwrap().all(|task| {
                let stat =
                    std::fs::read_to_string(task.unwrap().path().join("stat")).unwrap_or_default();
                // The state follows the command name, which is in parentheses.
                stat.rsplit_once(") ")
                    .is_some_and(|(_, rest)| rest.starts_with('T'))
            });
            if all_stopped {
                return;
            }
            assert!(Instant::now() < deadline, "memcached did not stop");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(f: impl FnOnce() + Send + 'static) {
    let status = Dispatcher::new().handle_sigint(false).run(f);
    assert!(status.success(), "{status}");
}

#[test]
#[cfg_attr(
    not(has_memcached),
    ignore = "needs memcached (apt-get install memcached)"
)]
fn two_hundred_tasklets_share_a_pool_of_four_connections() {
    let server = Memcached::start();
    let addr = server.addr;
    run(move || {
        let client = Rc::new(Client::new(addr, 4, Duration::from_secs(10)));
        let workers: Vec<_> = (0..200u64)
            .map(|i| {
                let client = client.clone();
                spawn(move || {
                    let key = format!("k{i}");
                    client.set(&key, format!("v{i}").as_bytes()).unwrap();
                    assert_eq!(
                        client.get(&key).unwrap(),
                        Some(format!("v{i}").into_bytes())
                    );
                    client.set(&format!("n{i}"), b"10").unwrap();
                    assert_eq!(client.incr(&format!("n{i}"), i).unwrap(), Some(10 + i));
                    assert!(client.delete(&key).unwrap());
                    assert!(!client.delete(&key).unwrap());
                    assert_eq!(client.get(&key).unwrap(), None);
                    assert_eq!(client.incr("missing", 1).unwrap(), None);
                })
            })
            .collect();
        for result in join_all(&workers) {
            result.unwrap();
        }
    });
}

#[test]
#[cfg_attr(
    not(has_memcached),
    ignore = "needs memcached (apt-get install memcached)"
)]
fn a_request_to_a_server_that_stopped_answering_times_out() {
    let server = Memcached::start();
    let addr = server.addr;
    let (set_done, wait_set) = std::sync::mpsc::channel();
    let (stopped, wait_stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let status = Dispatcher::new().handle_sigint(false).run(move || {
            let client = Client::new(addr, 2, Duration::from_millis(300));
            client.set("alive", b"yes").unwrap();
            set_done.send(()).unwrap();
            // Waits for the test to stop the server, on the blocking pool.
            concurrence::io::blocking(move || wait_stopped.recv()).unwrap();
            let start = Instant::now();
            let err = client.get("alive").unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
            assert!(start.elapsed() >= Duration::from_millis(300));
        });
        assert!(status.success(), "{status}");
    });
    wait_set.recv_timeout(Duration::from_secs(30)).unwrap();
    server.stop();
    stopped.send(()).unwrap();
    thread.join().unwrap();
    server.signal(libc::SIGCONT);
}

/// A request killed while it waits for its answer drops its connection, and the room it held
/// in the pool: the next request makes a new one. (A fake server that never answers its first
/// connection and answers `END` on its second: no memcached needed.)
#[test]
fn a_request_killed_midway_makes_room_for_a_new_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = std::thread::spawn(move || {
        use std::io::{BufRead, Write};
        let (silent, _) = listener.accept().unwrap();
        let (answering, _) = listener.accept().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(&answering)
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "get second\r\n");
        (&answering).write_all(b"END\r\n").unwrap();
        drop(silent);
    });
    run(move || {
        let client = Rc::new(Client::new(addr, 1, Duration::from_secs(20)));
        let stuck = {
            let client = client.clone();
            spawn(move || client.get("first"))
        };
        concurrence::sleep(Duration::from_millis(50)); // it waits for its answer
        assert!(!stuck.has_finished());
        stuck.kill();
        let start = Instant::now();
        assert_eq!(client.get("second").unwrap(), None);
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "waited for a lost room"
        );
    });
    fake.join().unwrap();
}
