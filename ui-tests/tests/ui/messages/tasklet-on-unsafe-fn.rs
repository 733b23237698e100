// `#[tasklet]` on an `unsafe fn`: spawning would call it without the caller's promise.
use concurrence::tasklet;

#[tasklet]
unsafe fn poke() {}

fn main() {}
