//! The original documentation's fifth tasklet example: two interval tasklets print the current tasklet and their message
//! every second. Runs until Ctrl-C.

use concurrence::{current, dispatch, interval, ExitStatus};
use std::time::Duration;

fn greeting(msg: &str) {
    println!("{} {msg}", current());
}

fn start() {
    interval(Duration::from_secs(1), false, || greeting("Task 1"));
    interval(Duration::from_secs(1), false, || greeting("Task 2"));
}

fn main() -> ExitStatus {
    dispatch(start)
}
