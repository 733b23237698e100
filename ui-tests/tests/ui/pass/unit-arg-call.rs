// Called messages without payload, written `MSG_X -> R` and `MSG_X() -> R`: both are called
// with no arguments.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_ONE -> u8, MSG_TWO() -> u8);

#[tasklet(receives(MSG_ONE, MSG_TWO))]
fn counter() {
    for msg in receive::<CounterMsg>() {
        match msg {
            CounterMsg::MSG_ONE(MSG_ONE(reply)) => reply.reply(1),
            CounterMsg::MSG_TWO(MSG_TWO(reply)) => reply.reply(2),
        }
    }
}

fn main() {
    let status = dispatch(|| {
        let t = Counter::new().daemon(true).spawn();
        assert_eq!(MSG_ONE::call(&t)(), Ok(1));
        assert_eq!(MSG_TWO::call(&t)(), Ok(2));
    });
    assert!(status.success());
}
