// `receive_timeout`, `try_receive` and `receive_batch` over a tasklet's message set.
use concurrence::{dispatch, message, receive_batch, receive_timeout, tasklet, try_receive};
use std::time::Duration;

message!(MSG_N(u32));

#[tasklet(receives(MSG_N))]
fn summer() -> u32 {
    let SummerMsg::MSG_N(MSG_N(first)) = receive_timeout::<SummerMsg>(Duration::from_secs(5)).unwrap();
    let batch = receive_batch::<SummerMsg>(2, Some(Duration::from_millis(1)));
    let rest: u32 = batch.into_iter().map(|SummerMsg::MSG_N(MSG_N(n))| n).sum();
    assert!(try_receive::<SummerMsg>().is_none());
    first + rest
}

fn main() {
    let status = dispatch(|| {
        let t = Summer::new().spawn();
        for n in 1..=3 {
            MSG_N::send_timeout(&t, Duration::from_secs(5))(n).unwrap();
        }
        assert_eq!(t.join().unwrap(), 6);
    });
    assert!(status.success());
}
