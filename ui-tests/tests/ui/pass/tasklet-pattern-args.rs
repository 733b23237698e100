// Pattern arguments (`(a, b): (u8, u8)`, `mut x`): `spawn` takes the same types.
use concurrence::{dispatch, tasklet};

#[tasklet]
fn add((a, b): (u8, u8), mut extra: u8) -> u8 {
    extra += 1;
    a + b + extra
}

fn main() {
    let status = dispatch(|| {
        let t = Add::new().spawn((1, 2), 3);
        assert_eq!(t.join().unwrap(), 7);
    });
    assert!(status.success());
}
