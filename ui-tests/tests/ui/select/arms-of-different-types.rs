// The arms of a select! are the arms of one match: their bodies must have one type.
use concurrence::{dispatch, select, wait_for, Mailbox};
use std::time::Duration;

fn main() {
    let _ = dispatch(|| {
        let jobs: Mailbox<u32> = Mailbox::new();
        let got = select! {
            job = wait_for::popleft(&jobs) => job,
            () = wait_for::timeout(Duration::from_millis(10)) => "none",
        };
        let _ = got;
    });
}
