// A type named like a message but not declared with `message!` does not implement `Message`.
use concurrence::tasklet;

#[allow(non_camel_case_types)]
struct MSG_FAKE;

#[tasklet(receives(MSG_FAKE))]
fn reader() {}

fn main() {}
