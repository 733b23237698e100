// A `#[tasklet]` without `receives(...)` receives nothing: sending to its handle is rejected.
use concurrence::{dispatch, message, tasklet};

message!(MSG_PING);

#[tasklet]
fn idle() {}

fn main() {
    dispatch(|| {
        let t = Idle::new().spawn();
        MSG_PING::send(&t)().unwrap();
    });
}
