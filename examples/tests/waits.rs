//! kiwi's waiting idioms as programs: the counter on a reused timeout, the printer with its
//! message wait, a pinger waiting for a pong, the echoer's end or a timeout, reloading on SIGHUP,
//! and waiting for child processes.

mod util;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::{example, run, run_with_args as run_args, stdout};

#[test]
fn the_counter_prints_one_number_per_period_of_its_reused_timeout() {
    let start = Instant::now();
    let out = run_args(&example("counter"), &["5", "30"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "0\n1\n2\n3\n4\n");
    // Five full periods: the timeout, reused, starts a new period each time it fired.
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn the_printer_prints_what_the_counter_sends_until_told_to_quit() {
    let out = run_args(&example("printer"), &["4", "5"]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        ">>> 0\n>>> 1\n>>> 2\n>>> 3\nprinter done after 4 messages\n"
    );
}

#[test]
fn the_pinger_reports_each_pong_a_lost_ping_and_the_end_of_the_echoer() {
    let out = run(&example("pinger"));
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "ping 1 -> pong 1\n\
         ping 2 -> pong 2\n\
         ping 3 -> no pong within 50 ms\n\
         ping 4 -> pong 4\n\
         ping 5 -> the echoer ended after answering 3 pings\n"
    );
}

#[test]
fn children_run_side_by_side_and_are_reported_as_they_end() {
    let out = run(&example("children"));
    assert!(out.status.success());
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "fast: status Some(0), output \"fast done\"",
            "failing: status Some(4), output \"\"",
            "slow: status Some(0), output \"slow done\"",
            "all done in less than the sum of their times",
        ]
    );
}

#[test]
fn the_reload_example_rereads_its_configuration_on_each_sighup() {
    let dir = std::env::temp_dir().join(format!("concurrence-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    std::fs::write(&config, "v1").unwrap();
    let mut child = Command::new(example("reload"))
        .arg(&config)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut expect = |wanted: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(Instant::now() < deadline, "no line {wanted:?}");
            let line = lines.next().expect("the program is running").unwrap();
            if line == wanted {
                return;
            }
        }
    };
    let signal = |sig| {
        // SAFETY: a signal to our own child, which has not been reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    };
    expect("ready with \"v1\"");
    expect("worker uses \"v1\"");
    std::fs::write(&config, "v2").unwrap();
    signal(libc::SIGHUP);
    expect("reloaded \"v2\"");
    expect("worker uses \"v2\"");
    std::fs::write(&config, "v3").unwrap();
    signal(libc::SIGHUP);
    expect("reloaded \"v3\"");
    signal(libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "it did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(143), "SIGTERM stops it cleanly");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_counter_refuses_a_count_that_is_not_a_number() {
    let out = run_args(&example("counter"), &["ten"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("usage: counter [N] [PERIOD_MS]: \"ten\" is not a number"),
        "{err}"
    );
}

#[test]
fn many_sleepers_past_the_guarded_budget_ends_and_reports_the_tasklets_without_a_stack() {
    // Without page-table guards the budget is a quarter of vm.max_map_count (16,382 by default).
    let max_map_count: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65_530);
    let n = max_map_count / 4 + 1_000;
    if n > 100_000 {
        eprintln!("vm.max_map_count {max_map_count} is raised: the budget is out of reach here");
        return;
    }
    let out = util::run_with_env(
        &example("many_sleepers"),
        &[&n.to_string(), "16"],
        &[("CONCURRENCE_STACK_GUARDS", "mprotect")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("tasklets did not run") && stderr.contains("could not start"),
        "stderr: {stderr}"
    );
    assert!(
        stdout(&out).contains(&format!("{n} sleeping tasklets")),
        "the report is printed"
    );
}
