//! The original documentation's second tasklet example: two greeters that really are separate execution units, each
//! printing its message and sleeping a second, forever (stop it with Ctrl-C).

use concurrence::{dispatch, sleep, spawn, ExitStatus};
use std::time::Duration;

fn greeting(msg: &str) {
    loop {
        println!("{msg}");
        sleep(Duration::from_secs(1));
    }
}

fn start() {
    spawn(|| greeting("Hello"));
    spawn(|| greeting("World"));
}

fn main() -> ExitStatus {
    dispatch(start)
}
