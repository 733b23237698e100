// `receives(...)` lists messages declared with `message!`: `String` is not one.
use concurrence::tasklet;

#[tasklet(receives(String))]
fn reader() {}

fn main() {}
