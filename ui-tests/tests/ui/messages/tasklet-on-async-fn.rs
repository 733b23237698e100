// `#[tasklet]` on an `async fn`: tasklets block on their own stack instead.
use concurrence::tasklet;

#[tasklet]
async fn fetch() -> u32 {
    1
}

fn main() {}
