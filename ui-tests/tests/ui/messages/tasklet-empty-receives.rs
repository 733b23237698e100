// `receives()` with no message: list at least one, or leave `receives` out.
use concurrence::tasklet;

#[tasklet(receives())]
fn idle() {}

fn main() {}
