//! The original documentation's third tasklet example: `start` joins two subtasks and prints their results (30, then 70).

use concurrence::{dispatch, spawn, ExitStatus};

fn sum(a: i64, b: i64) -> i64 {
    // ... potentially long calculation, involving calls to databases etc ...
    a + b
}

fn start() {
    let t1 = spawn(|| sum(10, 20));
    let t2 = spawn(|| sum(30, 40));
    let res1 = t1.join().expect("sum(10, 20) does not fail");
    let res2 = t2.join().expect("sum(30, 40) does not fail");
    println!("{res1}");
    println!("{res2}");
}

fn main() -> ExitStatus {
    dispatch(start)
}
