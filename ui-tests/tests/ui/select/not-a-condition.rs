// A value that is not a wait condition (a plain Duration where `wait_for::timeout(d)` was
// meant) is reported at its arm, with the list of conditions.
use concurrence::{dispatch, select};
use std::time::Duration;

fn main() {
    let _ = dispatch(|| {
        select! {
            () = Duration::from_millis(10) => println!("timed out"),
        }
    });
}
