// A message declared without `-> R` is sent, not called: it carries no reply token to answer.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_PING(u32));

#[tasklet(receives(MSG_PING))]
fn ponger() {
    for msg in receive::<PongerMsg>() {
        let PongerMsg::MSG_PING(MSG_PING(n, reply)) = msg;
        reply.reply(n);
    }
}

fn main() {
    dispatch(|| {
        let t = Ponger::new().daemon(true).spawn();
        MSG_PING::send(&t)(1).unwrap();
    });
}
