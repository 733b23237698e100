// Each arm starts with the pattern the event is bound to: `_ = condition => body`.
use concurrence::{dispatch, select, wait_for};

fn main() {
    let _ = dispatch(|| {
        select! {
            wait_for::idle() => println!("idle"),
        }
    });
}
