//! A crate that declares its own `usize`, `bool`, `str`, `Option`, `Result`, `Default`, ...
//! still compiles every macro: the generated code names every type, trait and variant by its
//! absolute path (`::core::primitive::usize`, `::core::option::Option::Some`, ...).
#![deny(warnings)]
#![allow(non_camel_case_types, dead_code)]

use concurrence::{
    dispatch, match_message, message, message_set, receive, select, tasklet, wait_for,
};

// The user's own types, shadowing the primitive and prelude names.
struct usize;
struct bool;
struct str;
struct u8;
struct u32;
struct Option;
struct Some;
struct None;
struct Result;
struct Ok;
struct Err;
struct Box;
struct String;
struct Vec;
struct Cow;
struct Duration;
trait Default {}
trait Into {}
trait FnOnce {}
trait Clone {}

message!(MSG_ADD(::core::primitive::u32), MSG_SUM -> ::core::primitive::u32, MSG_STOP);
message_set!(enum CounterSet { MSG_ADD, MSG_STOP });

#[tasklet(receives(MSG_ADD, MSG_SUM, MSG_STOP))]
fn adder(base: ::core::primitive::u32) -> ::core::primitive::u32 {
    let mut total = base;
    for msg in receive() {
        match_message!(msg: AdderMsg {
            MSG_ADD(n) => total += n,
            MSG_SUM(reply) => reply.reply(total),
            MSG_STOP => break,
        })
    }
    total
}

#[tasklet(receives = CounterSet)]
fn counter() -> ::core::primitive::usize {
    let mut n = 0;
    for msg in receive::<CounterSet>() {
        match msg {
            CounterSet::MSG_ADD(_) => n += 1,
            CounterSet::MSG_STOP(MSG_STOP) => break,
        }
    }
    n
}

#[tasklet]
fn idle() {}

fn main() {
    let status = dispatch(|| {
        let a = Adder::new()
            .name("adder")
            .daemon(false)
            .stack_size(concurrence::DEFAULT_STACK_SIZE)
            .max_mailbox_len(4)
            .spawn(1);
        MSG_ADD::send(&a)(2).unwrap();
        assert_eq!(MSG_SUM::call(&a)().unwrap(), 3);
        MSG_STOP::send(&a)().unwrap();
        assert_eq!(a.join().unwrap(), 3);

        let c = Counter::new().spawn();
        MSG_ADD::send(&c)(5).unwrap();
        MSG_STOP::send(&c)().unwrap();
        assert_eq!(c.join().unwrap(), 1);

        let i = <Idle as ::core::default::Default>::default().spawn();
        let fired = select! {
            joined = wait_for::join(&i) => joined.map_or(0, |()| 1),
            () = wait_for::timeout(::core::time::Duration::from_secs(5)) => 2,
        };
        assert_eq!(fired, 1);
    });
    assert!(status.success(), "{status}");
}
