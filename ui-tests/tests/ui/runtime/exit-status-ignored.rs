// The status of a dispatcher says whether it ended well (a deadlock, a panic of the first
// tasklet, SIGINT): dropping it unread is a warning, an error under deny.
#![deny(unused_must_use)]
use concurrence::dispatch;

fn main() {
    dispatch(|| println!("ran"));
}
