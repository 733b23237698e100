// A message named in `receives(...)` must be declared with `message!` (and be in scope).
use concurrence::tasklet;

#[tasklet(receives(MSG_UNDECLARED))]
fn reader() {}

fn main() {}
