// An arm's pattern must accept every event of its condition, as a match arm must: a join
// that may fail needs both outcomes handled.
use concurrence::{dispatch, select, spawn, wait_for};

fn main() {
    let _ = dispatch(|| {
        let worker = spawn(|| 42);
        select! {
            Ok(answer) = wait_for::join(&worker) => println!("{answer}"),
        }
    });
}
