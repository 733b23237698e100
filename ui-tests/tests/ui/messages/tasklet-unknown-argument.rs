// `#[tasklet]` takes only `receives(...)`: another argument (here a misspelling) is rejected.
use concurrence::{message, tasklet};

message!(MSG_PING);

#[tasklet(receive(MSG_PING))]
fn pinger() {}

fn main() {}
