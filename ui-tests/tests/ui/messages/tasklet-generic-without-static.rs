// The arguments of a generic tasklet move into the new tasklet, which may outlive the caller:
// type parameters need a `'static` bound.
use concurrence::{dispatch, tasklet};

#[tasklet]
fn echo<T>(value: T) -> T {
    value
}

fn main() {
    dispatch(|| {
        Echo::new().spawn(1).join().unwrap();
    });
}
