// The tasklet's return type is the handle's result: `join` gives it back.
use concurrence::{dispatch, tasklet, Tasklet};

#[tasklet]
fn parse(text: String) -> Result<Vec<u32>, std::num::ParseIntError> {
    text.split(',').map(str::parse).collect()
}

fn main() {
    let status = dispatch(|| {
        let t: Tasklet<Result<Vec<u32>, _>> = Parse::new().spawn("1,2".into());
        assert_eq!(t.join().unwrap(), Ok(vec![1, 2]));
    });
    assert!(status.success());
}
