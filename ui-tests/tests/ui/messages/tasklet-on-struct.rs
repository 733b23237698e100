// `#[tasklet]` on an item that is not a function.
use concurrence::tasklet;

#[tasklet]
struct Worker;

fn main() {}
