// A message with one payload `MSG_X(T)`: a tuple struct with a public field.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_GREETING(String));

#[tasklet(receives(MSG_GREETING))]
fn greeter() -> String {
    let GreeterMsg::MSG_GREETING(MSG_GREETING(name)) = receive::<GreeterMsg>().next().unwrap();
    format!("Hello {name}")
}

fn main() {
    let status = dispatch(|| {
        let t = Greeter::new().spawn();
        MSG_GREETING::send(&t)("World".into()).unwrap();
        assert_eq!(t.join().unwrap(), "Hello World");
        assert_eq!(MSG_GREETING("x".into()).0, "x");
    });
    assert!(status.success());
}
