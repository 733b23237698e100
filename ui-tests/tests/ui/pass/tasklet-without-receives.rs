// `#[tasklet]` without arguments: only the builder, whose handle receives no messages.
use concurrence::{dispatch, tasklet, NoMessages, Tasklet};

#[tasklet]
fn answer() -> u32 {
    42
}

fn main() {
    let status = dispatch(|| {
        let t: Tasklet<u32, NoMessages> = Answer::new().spawn();
        assert_eq!(t.join().unwrap(), 42);
        assert_eq!(answer(), 42);
    });
    assert!(status.success());
}
