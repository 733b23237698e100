//! The original documentation's fourth tasklet example: `loop_`, `interval` and `later` run a function in a loop, at an
//! interval, and once later. Runs until Ctrl-C.

use concurrence::{dispatch, interval, later, loop_, sleep, ExitStatus};
use std::time::Duration;

fn hello(msg: &str) {
    println!("{msg}");
    sleep(Duration::from_millis(500));
}

fn greeting(msg: &str) {
    println!("{msg}");
}

fn start() {
    loop_(|| hello("Hello World"));
    interval(Duration::from_secs(1), false, || greeting("Hi There!"));
    later(Duration::from_secs(5), || greeting("Nice to see You!"));
}

fn main() -> ExitStatus {
    dispatch(start)
}
