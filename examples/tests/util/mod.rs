//! Running the example programs: bounded in time, output captured. Each test file uses a part.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `exe` to completion (at most 60 s).
pub fn run(exe: &str) -> Output {
    run_for(exe, None)
}

/// Runs `exe`; after `interrupt_after` sends it SIGINT. Fails the test if it has not ended 60 s
/// later.
pub fn run_for(exe: &str, interrupt_after: Option<Duration>) -> Output {
    let mut child = Command::new(exe)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example");
    let start = Instant::now();
    let mut interrupted = false;
    loop {
        if child.try_wait().expect("poll the example").is_some() {
            break;
        }
        if let Some(after) = interrupt_after {
            if !interrupted && start.elapsed() >= after {
                // SAFETY: sending a signal to our own child process, which is still running.
                unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
                interrupted = true;
            }
        }
        if start.elapsed() > Duration::from_secs(60) + interrupt_after.unwrap_or_default() {
            let _ = child.kill();
            panic!("{exe} did not end");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output {
        status: child.wait().unwrap(),
        stdout,
        stderr,
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

pub fn assert_interrupted(out: &Output) {
    assert_eq!(out.status.code(), Some(130), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted by SIGINT"), "stderr: {stderr}");
}
