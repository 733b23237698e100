// Compact stacks are shared between tasklets: a suspended tasklet's stack holds another
// tasklet's frames until its bytes are copied back, so a borrow of it lent to a scoped thread
// (or a pinned value registered elsewhere) sees them change. Choosing the mode is `unsafe`:
// safe code cannot name it.
use concurrence::{Dispatcher, StackMode};

fn main() {
    let _ = Dispatcher::new()
        .stack_mode(StackMode::compact())
        .run(|| {});
}
