// `max_mailbox_len` bounds a mailbox: a tasklet without `receives(...)` has none, so its
// builder does not offer it.
use concurrence::{dispatch, tasklet};

#[tasklet]
fn idle() {}

fn main() {
    dispatch(|| {
        Idle::new().max_mailbox_len(4).spawn().join().unwrap();
    });
}
