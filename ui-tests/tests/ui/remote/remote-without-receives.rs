// `remote` on a tasklet that generates no message set of its own.
use concurrence::tasklet;

#[tasklet(remote)]
fn lonely() {}

fn main() {}
