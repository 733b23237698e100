//! The echo example, driven by socat, a client this project did not write.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The echo example, stopped (SIGINT, then SIGKILL) when dropped.
struct Echo {
    child: Child,
    port: u16,
}

impl Echo {
    fn start() -> Echo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_echo"))
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the echo example");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("its first line");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Echo { child, port }
    }

    /// Stops it with SIGINT and returns its exit code.
    fn interrupt(mut self) -> Option<i32> {
        // SAFETY: a signal to our own child, which has not been reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "the echo server did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `input` through socat to the echo server and returns what came back.
fn socat(port: u16, input: &[u8]) -> Vec<u8> {
    let mut socat = Command::new("socat")
        .args(["-t", "5", "-T", "10", "-", &format!("TCP:127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("socat is installed (.ci/run installs it)");
    socat.stdin.take().unwrap().write_all(input).unwrap(); // then closed: socat half-closes
    let out = socat.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "socat: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn the_echo_example_sends_back_what_socat_sends() {
    let echo = Echo::start();
    assert_eq!(socat(echo.port, b"hello, echo\n"), b"hello, echo\n");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(
        socat(echo.port, &big),
        big,
        "200 kB, larger than the socket buffers"
    );
    assert_eq!(echo.interrupt(), Some(130));
}

#[test]
fn the_echo_example_serves_many_socat_clients_at_once() {
    let echo = Echo::start();
    let port = echo.port;
    let clients: Vec<_> = (0..20)
        .map(|i| {
            std::thread::spawn(move || {
                let line = format!("client {i}\n");
                assert_eq!(socat(port, line.as_bytes()), line.as_bytes());
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    assert_eq!(echo.interrupt(), Some(130));
}
