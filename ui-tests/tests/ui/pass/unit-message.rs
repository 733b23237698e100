// A unit message `MSG_X`: a unit struct, sent with `MSG_X::send(&t)()`.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_STOP);

#[tasklet(receives(MSG_STOP))]
fn stopper() -> &'static str {
    let StopperMsg::MSG_STOP(MSG_STOP) = receive::<StopperMsg>().next().unwrap();
    "stopped"
}

fn main() {
    let status = dispatch(|| {
        let t = Stopper::new().spawn();
        MSG_STOP::send(&t)().unwrap();
        assert_eq!(t.join().unwrap(), "stopped");
    });
    assert!(status.success());
}
