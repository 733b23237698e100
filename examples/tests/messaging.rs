//! Runs the messaging example programs (the original documentation's printer, the calculator, the channel) and
//! checks what they print.

mod util;

use util::{example, run, stdout};

#[test]
fn printer_prints_hello_world_then_goodbye_world() {
    let out = run(&example("hello_printer"));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "Hello World\nGoodbye World\n");
}

#[test]
fn calculator_answers_calls_and_reports_a_timeout_and_a_finished_receiver() {
    let out = run(&example("calculator"));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        "10 + 20 = 30\n\
         max(10, 20) = 20\n\
         call of MSG_SLOW_SUM failed: no reply came before the timeout\n\
         the calculator answered 3 calls\n\
         call of MSG_SUM failed: the receiving tasklet has finished\n"
    );
}

#[test]
fn channel_hands_each_value_to_the_consumer_which_runs_first() {
    let out = run(&example("channel"));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        "consumer got 1\nproducer sent 1\n\
         consumer got 2\nproducer sent 2\n\
         consumer got 3\nproducer sent 3\n\
         consumer: end of stream\ntotal 6\n\
         receive with nobody sending: Err(TimeoutError)\n"
    );
}
