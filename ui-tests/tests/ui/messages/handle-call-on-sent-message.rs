// `Tasklet::call` needs a message declared with `-> R`; a sent message cannot be called.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_GREETING(String));

#[tasklet(receives(MSG_GREETING))]
fn greeter() {
    for msg in receive::<GreeterMsg>() {
        let GreeterMsg::MSG_GREETING(MSG_GREETING(name)) = msg;
        println!("Hello {name}");
    }
}

fn main() {
    dispatch(|| {
        let t = Greeter::new().daemon(true).spawn();
        let _ = t.call(|_reply| MSG_GREETING("World".into()));
    });
}
