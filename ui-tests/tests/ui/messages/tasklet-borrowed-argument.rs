// A tasklet may outlive its spawner, so its arguments cannot borrow: `&str` needs `'static`
// (or take a `String`).
use concurrence::{dispatch, tasklet};

#[tasklet]
fn greet(name: &str) -> usize {
    name.len()
}

fn main() {
    dispatch(|| {
        Greet::new().spawn("World").join().unwrap();
    });
}
