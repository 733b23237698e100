//! The echo example, driven by socat, a client this project did not write.

mod util;

use std::io::Write;
use std::process::{Command, Stdio};

use util::{example, ServerProcess};

/// Sends `input` through socat to the echo server and returns what came back.
fn socat(port: u16, input: &[u8]) -> Vec<u8> {
    let mut socat = Command::new("socat")
        .args(["-t", "5", "-T", "10", "-", &format!("TCP:127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("socat is installed (scripts/test installs it)");
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
#[cfg_attr(not(has_socat), ignore = "needs socat (apt-get install socat)")]
fn the_echo_example_sends_back_what_socat_sends() {
    let echo = ServerProcess::start(&example("echo"));
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
#[cfg_attr(not(has_socat), ignore = "needs socat (apt-get install socat)")]
fn the_echo_example_serves_many_socat_clients_at_once() {
    let echo = ServerProcess::start(&example("echo"));
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
