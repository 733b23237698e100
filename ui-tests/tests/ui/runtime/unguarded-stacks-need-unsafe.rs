// Unguarded canary stacks let an overflowing tasklet write into its neighbour's stack: safe code
// cannot choose them.
use concurrence::{Dispatcher, StackMode};

fn main() {
    let _ = Dispatcher::new()
        .stack_mode(StackMode::unguarded_canary())
        .run(|| {});
}
