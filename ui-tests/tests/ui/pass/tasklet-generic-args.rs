// A generic tasklet function: `spawn` takes the same type parameters and bounds.
use concurrence::{dispatch, tasklet};
use std::fmt::Display;

#[tasklet]
fn show<T: Display + 'static, const N: usize>(value: T, copies: [u8; N]) -> String
where
    T: Clone,
{
    format!("{value}x{}", copies.len())
}

fn main() {
    let status = dispatch(|| {
        let t = Show::new().spawn(7, [0u8; 3]);
        assert_eq!(t.join().unwrap(), "7x3");
    });
    assert!(status.success());
}
