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
    assert_eq!(
        out.status.code(),
        Some(concurrence::ExitStatus::DEADLOCK),
        "stderr: {stderr}"
    );
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
    assert_eq!(
        out.status.code(),
        Some(concurrence::ExitStatus::PANIC),
        "stderr: {stderr}"
    );
    assert!(
        stderr.contains("concurrence: the first tasklet panicked: the first tasklet fails"),
        "stderr: {stderr}"
    );
}

#[test]
fn a_deadlock_in_a_receive_loop_is_reported_at_the_users_line_even_through_an_adapter() {
    use concurrence::{message, receive, tasklet, ExitReason};
    message!(MSG_NEVER);
    #[tasklet(receives(MSG_NEVER))]
    fn listener() {
        // `enumerate` calls `next` from core's file: the report must still name this one.
        for (i, msg) in receive::<ListenerMsg>().enumerate() {
            let ListenerMsg::MSG_NEVER(MSG_NEVER) = msg;
            println!("message {i}");
        }
    }
    let loop_line = line!() - 5;
    let status = concurrence_tests::run_status(|| {
        let listener = Listener::new().spawn();
        let _ = listener.join();
    });
    let ExitReason::Deadlock(blocked) = status.reason() else {
        panic!("not a deadlock: {status}");
    };
    let listener = blocked
        .iter()
        .find(|b| b.name == "listener")
        .expect("listed");
    assert_eq!(listener.waiting_on, "receive");
    assert!(
        listener
            .at
            .starts_with(&format!("{}:{loop_line}:", file!())),
        "reported at {}, not at the loop (line {loop_line})",
        listener.at
    );
}
