//! The original documentation's first tasklet example: `start` spawns two greeters and finishes first.
//!
//! Prints `start done.`, then `Hello`, then `World`.

use concurrence::{dispatch, spawn, ExitStatus};

fn greeting(msg: &str) {
    println!("{msg}");
}

fn start() {
    spawn(|| greeting("Hello"));
    spawn(|| greeting("World"));
    println!("start done.");
}

fn main() -> ExitStatus {
    dispatch(start)
}
