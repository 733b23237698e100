//! SIGINT from the outside: ignored when the process started with it ignored (a background
//! job), and a second one while the first is handled ends the process. Each case runs the test
//! binary as a child process that the test signals.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use concurrence::{sleep, Dispatcher};
use concurrence_tests::{is_child, CHILD_ENV, LIMIT};

/// Starts the child run of test `name`, with SIGINT ignored in it if `ignore_sigint`.
fn start_child(name: &str, ignore_sigint: bool) -> Child {
    let mut command = Command::new(std::env::current_exe().expect("test binary path"));
    command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if ignore_sigint {
        // SAFETY: between fork and exec only signal(2), which is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_IGN);
                Ok(())
            });
        }
    }
    command.spawn().expect("spawn the test binary")
}

/// Reads the child's stdout until a line contains `marker`.
fn wait_for_line(child: &mut Child, marker: &str) -> BufReader<std::process::ChildStdout> {
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        let n = stdout
            .read_line(&mut line)
            .expect("read the child's stdout");
        assert!(n > 0, "the child ended before printing {marker:?}");
        if line.contains(marker) {
            return stdout;
        }
    }
}

/// Waits for the child to end, killing it (and failing) past `LIMIT`.
fn wait_bounded(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not end within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn sigint(child: &Child) {
    // SAFETY: kill(2) on the pid of a child we started and have not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
}

#[test]
fn sigint_stays_ignored_when_the_process_started_with_it_ignored() {
    const NAME: &str = "sigint_stays_ignored_when_the_process_started_with_it_ignored";
    if is_child(NAME) {
        let status = Dispatcher::new().run(|| {
            println!("ready");
            sleep(Duration::from_millis(600));
            println!("slept through SIGINT");
        });
        std::process::exit(status.code());
    }
    let mut child = start_child(NAME, true);
    let mut stdout = wait_for_line(&mut child, "ready");
    sigint(&child);
    let status = wait_bounded(&mut child);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(status.success(), "{status:?}");
    assert!(rest.contains("slept through SIGINT"), "{rest}");
}

#[test]
fn a_second_sigint_while_the_first_is_handled_ends_the_process() {
    const NAME: &str = "a_second_sigint_while_the_first_is_handled_ends_the_process";
    if is_child(NAME) {
        let _ = Dispatcher::new().run(|| {
            println!("ready");
            // A tasklet that never yields: the first SIGINT cannot stop the dispatcher.
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        println!("not ended by the second SIGINT");
        return;
    }
    let mut child = start_child(NAME, false);
    let _stdout = wait_for_line(&mut child, "ready");
    sigint(&child);
    std::thread::sleep(Duration::from_millis(200));
    sigint(&child);
    let started = Instant::now();
    let status = wait_bounded(&mut child);
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "ended by the signal, not the loop"
    );
}
