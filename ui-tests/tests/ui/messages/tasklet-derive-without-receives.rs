// `derive(...)` goes on the set #[tasklet] generates from `receives(...)`: without one there is
// nothing to derive on.
use concurrence::tasklet;

#[tasklet(derive(Debug))]
fn worker() {}

fn main() {}
