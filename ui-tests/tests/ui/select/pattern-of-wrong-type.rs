// An arm's pattern must match its condition's event: a timeout fires with `()`, not a Result.
use concurrence::{dispatch, select, wait_for};
use std::time::Duration;

fn main() {
    let _ = dispatch(|| {
        select! {
            Ok(n) = wait_for::timeout(Duration::from_millis(10)) => println!("{n}"),
        }
    });
}
