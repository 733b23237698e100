//! Child processes: waits, timeouts, output and stdio pipes suspend only the calling tasklet;
//! a kill of a waiting tasklet leaves the child alone.

use std::cell::Cell;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::process::Command;
use concurrence::{sleep, spawn, yield_};
use concurrence_tests::run;

#[test]
fn a_child_exit_code_comes_back_and_the_others_run_while_it_lives() {
    run(|| {
        assert_eq!(
            Command::new("sh")
                .args(["-c", "exit 3"])
                .status()
                .unwrap()
                .code(),
            Some(3)
        );
        let ticks = Rc::new(Cell::new(0));
        let t = ticks.clone();
        let ticker = spawn(move || loop {
            sleep(Duration::from_millis(5));
            t.set(t.get() + 1);
        });
        let start = Instant::now();
        let status = Command::new("sleep").arg("0.2").status().unwrap();
        assert!(status.success());
        assert!(start.elapsed() >= Duration::from_millis(200));
        assert!(
            ticks.get() >= 10,
            "the ticker ran meanwhile: {}",
            ticks.get()
        );
        ticker.kill();
    });
}

#[test]
fn output_collects_stdout_and_stderr_at_once() {
    run(|| {
        // More than a pipe holds on each, so reading one after the other would stall.
        let script = "i=0; while [ $i -lt 3000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done";
        let out = Command::new("sh").args(["-c", script]).output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 3000);
        assert_eq!(String::from_utf8(out.stderr).unwrap().lines().count(), 3000);
    });
}

#[test]
fn stdin_and_stdout_pipes_talk_to_a_child_in_both_directions() {
    run(|| {
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = cat.stdin.take().unwrap();
        let mut stdout = cat.stdout.take().unwrap();
        let writer = spawn(move || {
            for i in 0..2000 {
                writeln!(stdin, "line {i}").unwrap(); // the pipe fills: the writer waits
            }
        }); // stdin closes when the writer ends: cat sees the end
        let mut all = String::new();
        stdout.read_to_string(&mut all).unwrap();
        writer.join().unwrap();
        assert_eq!(all.lines().count(), 2000);
        assert!(cat.wait().unwrap().success());
    });
}

#[test]
fn wait_timeout_times_out_while_the_child_runs_and_a_killed_child_reports_its_signal() {
    run(|| {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(child.wait_timeout(Duration::from_millis(30)).is_err());
        let mut quick = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let ended = quick
            .wait_timeout(Duration::from_secs(30))
            .expect("in time");
        assert_eq!(ended.unwrap().code(), Some(3));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    });
}

#[test]
fn killing_a_tasklet_that_waits_for_a_child_leaves_the_child_to_be_waited_for_again() {
    run(|| {
        let child = Rc::new(std::cell::RefCell::new(
            Command::new("sleep").arg("0.3").spawn().unwrap(),
        ));
        let c = child.clone();
        let waiter = spawn(move || c.borrow_mut().wait().map(|s| s.success()));
        yield_();
        waiter.kill();
        assert!(waiter.join().unwrap_err().is_killed());
        assert!(
            child.borrow_mut().wait().unwrap().success(),
            "still there to be waited for"
        );
    });
}

#[test]
fn a_program_that_does_not_exist_fails_to_spawn() {
    run(|| {
        let err = Command::new("/nonexistent/program").spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

/// Whether process `pid` is gone (not even a zombie waiting to be reaped).
fn is_gone(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists; no signal is sent.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    !alive && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Runs `script` (whose first line writes the shell's pid to `$PIDFILE`) through `output` or
/// `status` in a tasklet, kills that tasklet once the child runs, and returns the child's pid
/// and how long the dispatcher took to end. The child leads its own process group, so that
/// what it leaves behind can be ended by the caller.
fn kill_caller_of(script: &'static str, use_status: bool) -> (i32, Duration) {
    let pidfile = std::env::temp_dir().join(format!(
        "concurrence-output-kill-{}-{}",
        std::process::id(),
        script.len() + usize::from(use_status)
    ));
    let _ = std::fs::remove_file(&pidfile);
    let path = pidfile.clone();
    let start = Instant::now();
    run(move || {
        let file = path.clone();
        let caller = spawn(move || {
            let mut command = Command::new("sh");
            command.args(["-c", script]).env("PIDFILE", &file);
            std::os::unix::process::CommandExt::process_group(command.as_std_mut(), 0);
            if use_status {
                command.stdout(Stdio::null()).stderr(Stdio::null());
                command.status().map(drop)
            } else {
                command.output().map(drop)
            }
        });
        while !std::fs::read_to_string(&path).is_ok_and(|s| s.ends_with('\n')) {
            sleep(Duration::from_millis(5));
        }
        caller.kill();
        assert!(caller.join().unwrap_err().is_killed());
    });
    let took = start.elapsed();
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = std::fs::remove_file(&pidfile);
    (pid, took)
}

#[test]
fn killing_a_tasklet_blocked_in_output_kills_and_reaps_its_child() {
    let (pid, took) = kill_caller_of("echo $$ > \"$PIDFILE\"; exec sleep 3", false);
    assert!(
        took < Duration::from_millis(2000),
        "the dispatcher waited for the child: {took:?}"
    );
    assert!(is_gone(pid), "the child {pid} is still there (or a zombie)");
}

#[test]
fn killing_a_tasklet_blocked_in_output_ends_it_while_a_grandchild_holds_the_pipes() {
    let (pid, took) = kill_caller_of("echo $$ > \"$PIDFILE\"; sleep 10 & exec sleep 10", false);
    // SAFETY: a signal to the process group the child led (only the grandchild is left).
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    assert!(
        took < Duration::from_millis(2000),
        "the dispatcher waited for the pipes to close: {took:?}"
    );
    assert!(is_gone(pid), "the child {pid} is still there (or a zombie)");
}

#[test]
fn killing_a_tasklet_blocked_in_status_kills_and_reaps_its_child() {
    let (pid, took) = kill_caller_of("echo $$ > \"$PIDFILE\"; exec sleep 3", true);
    assert!(took < Duration::from_millis(2000), "{took:?}");
    assert!(is_gone(pid), "the child {pid} is still there (or a zombie)");
}

#[test]
fn output_outside_a_dispatcher_blocks_the_thread_as_std_does() {
    let out = Command::new("sh")
        .args(["-c", "echo out; echo err >&2; exit 4"])
        .output()
        .unwrap();
    assert_eq!(
        (out.stdout.as_slice(), out.stderr.as_slice()),
        (&b"out\n"[..], &b"err\n"[..])
    );
    assert_eq!(out.status.code(), Some(4));
}
