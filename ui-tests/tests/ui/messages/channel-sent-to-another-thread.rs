// A `Channel` belongs to its dispatcher's thread: it cannot move to another thread.
use concurrence::{dispatch, Channel};

fn main() {
    dispatch(|| {
        let channel: Channel<u32> = Channel::new();
        std::thread::spawn(move || channel.send(1));
    });
}
