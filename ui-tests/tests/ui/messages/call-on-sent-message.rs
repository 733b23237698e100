// A message declared without `-> R` has no reply: it has `send`, not `call`.
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
        let _ = MSG_GREETING::call(&t)("World".into());
    });
}
