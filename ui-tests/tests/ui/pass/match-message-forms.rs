//! Every arm form of `match_message!`: payload, no payload, a path, `|`, a guard, `name @`,
//! a lowercase catch-all and `_`.
#![deny(warnings)]

mod msgs {
    concurrence::message!(pub MSG_C(u8));
}

use concurrence::{dispatch, match_message, message, receive, tasklet};
use msgs::MSG_C;

message!(MSG_A(u32), MSG_B(u32), MSG_QUIT, MSG_NOTE(String));

#[tasklet(receives(MSG_A, MSG_B, msgs::MSG_C, MSG_QUIT, MSG_NOTE))]
fn sorter() -> Vec<String> {
    let mut seen = Vec::new();
    for msg in receive() {
        let more = match_message!(msg: SorterMsg {
            MSG_A(n) | MSG_B(n) if n > 100 => { seen.push(format!("big {n}")); true }
            MSG_A(n) => { seen.push(format!("a {n}")); true }
            whole @ MSG_B(_) => { seen.push(format!("{}", whole.0)); true }
            msgs::MSG_C(c) => { seen.push(format!("c {c}")); true }
            MSG_QUIT => false,
            other => { seen.push(format!("other {}", concurrence::Messages::message_name(&other))); true }
        });
        if !more {
            break;
        }
    }
    seen
}

#[tasklet(receives(MSG_A, MSG_QUIT))]
fn counter() -> u32 {
    let mut n = 0;
    for msg in receive() {
        match_message!(msg: CounterMsg {
            MSG_QUIT => return n,
            _ => n += 1,
        })
    }
    n
}

fn main() {
    let status = dispatch(|| {
        let s = Sorter::new().spawn();
        MSG_A::send(&s)(1).unwrap();
        MSG_B::send(&s)(2).unwrap();
        MSG_B::send(&s)(200).unwrap();
        MSG_C::send(&s)(3).unwrap();
        MSG_NOTE::send(&s)("x".into()).unwrap();
        MSG_QUIT::send(&s)().unwrap();
        assert_eq!(s.join().unwrap(), ["a 1", "2", "big 200", "c 3", "other MSG_NOTE"]);
        let c = Counter::new().spawn();
        MSG_A::send(&c)(1).unwrap();
        MSG_A::send(&c)(1).unwrap();
        MSG_QUIT::send(&c)().unwrap();
        assert_eq!(c.join().unwrap(), 2);
    });
    assert!(status.success(), "{status}");
}
