//! What the user sees when a dispatcher ends badly without a logger installed: the deadlock
//! report and the first tasklet's panic go to stderr. Each case runs in a child process, which
//! installs no logger.

use concurrence::{dispatch, Mailbox};
use concurrence_tests::{is_child, run_child};

#[test]
fn a_deadlock_is_reported_on_stderr_when_no_logger_is_installed() {
    const NAME: &str = "a_deadlock_is_reported_on_stderr_when_no_logger_is_installed";
    if is_child(NAME) {
        let status = dispatch(|| {
            let never_filled: Mailbox<u8> = Mailbox::new();
            never_filled.popleft();
        });
        std::process::exit(status.code());
    }
    let out = run_child(NAME);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(70), "stderr: {stderr}");
    assert!(
        stderr.contains("concurrence: deadlock: 1 tasklet(s) blocked forever"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("blocked in receive at"), "stderr: {stderr}");
    assert!(
        stderr.contains("reports.rs"),
        "the blocking call's location: {stderr}"
    );
}

#[test]
fn a_panic_of_the_first_tasklet_is_reported_on_stderr_when_no_logger_is_installed() {
    const NAME: &str =
        "a_panic_of_the_first_tasklet_is_reported_on_stderr_when_no_logger_is_installed";
    if is_child(NAME) {
        std::panic::set_hook(Box::new(|_| {})); // silence std's own report: ours must show
        let status = dispatch(|| panic!("the first tasklet fails"));
        std::process::exit(status.code());
    }
    let out = run_child(NAME);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "stderr: {stderr}");
    assert!(
        stderr.contains("concurrence: the first tasklet panicked: the first tasklet fails"),
        "stderr: {stderr}"
    );
}
