// A value that is not a wait condition in the second arm is reported at that arm, not at the
// first or at the whole `select!`.
use concurrence::{dispatch, select, wait_for};
use std::time::Duration;

fn main() {
    let _ = dispatch(|| {
        select! {
            () = wait_for::timeout(Duration::from_millis(10)) => println!("timed out"),
            () = Duration::from_millis(20) => println!("never"),
        }
    });
}
