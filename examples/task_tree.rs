//! The original documentation's sixth tasklet example: named tasklets, and the tree of tasks printed every second. The
//! three greeters say their message, sleep two seconds and finish; the tree shrinks. Runs until
//! Ctrl-C.

use concurrence::{current, dispatch, sleep, Builder, ExitStatus};
use std::time::Duration;

fn greeting(msg: &str) {
    println!("{msg}");
    sleep(Duration::from_secs(2));
    println!("done");
}

fn start() {
    Builder::new().name("task1").spawn(|| greeting("Hello"));
    Builder::new().name("task2").spawn(|| greeting("World"));
    Builder::new().name("task3").spawn(|| greeting("Hi There"));
    loop {
        sleep(Duration::from_secs(1));
        // print a nice tree of tasks and their subtasks
        for (task, level) in current().tree() {
            println!("{}{}", "\t".repeat(level), task.name());
        }
    }
}

fn main() -> ExitStatus {
    dispatch(start)
}
