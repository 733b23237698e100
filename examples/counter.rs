//! kiwi's `simple_counter`: prints the numbers `0..N`, one per period, waiting on one timeout
//! object that is reused for every period (kiwi's `yield timeout`).
//!
//! `counter [N] [PERIOD_MS]` (defaults: 10 numbers, 100 ms).

use std::time::Instant;

use concurrence::wait_for::{self, Condition};
use concurrence::{dispatch, ExitStatus};

fn main() -> ExitStatus {
    let (numbers, period) = concurrence_examples::count_and_period("counter");
    dispatch(move || {
        let start = Instant::now();
        let mut timeout = wait_for::timeout(period);
        for x in 0..numbers {
            println!("{x}");
            timeout.wait(); // fires once a period: a fired timeout starts a new one
        }
        eprintln!("counted {numbers} in {:?}", start.elapsed());
    })
}
