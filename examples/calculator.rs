//! Call and reply: a calculator tasklet answers `MSG_SUM` and `MSG_MAX` calls, and the first
//! tasklet prints the answers, then what happens when it calls too late.

use std::time::Duration;

use concurrence::{dispatch, message, receive, sleep, tasklet, ExitStatus};

message!(
    /// Asks for the sum of two numbers.
    MSG_SUM(i64, i64) -> i64,
    /// Asks for the larger of two numbers.
    MSG_MAX(i64, i64) -> i64,
    /// Asks for an answer after a delay (in milliseconds).
    MSG_SLOW_SUM(i64, i64, u64) -> i64,
    /// Tells the calculator to stop.
    MSG_STOP,
);

/// Answers calls until told to stop; returns how many it answered.
#[tasklet(receives(MSG_SUM, MSG_MAX, MSG_SLOW_SUM, MSG_STOP))]
fn calculator() -> usize {
    for (answered, msg) in receive().enumerate() {
        match msg {
            CalculatorMsg::MSG_SUM(MSG_SUM(a, b, reply)) => reply.reply(a + b),
            CalculatorMsg::MSG_MAX(MSG_MAX(a, b, reply)) => reply.reply(a.max(b)),
            CalculatorMsg::MSG_SLOW_SUM(MSG_SLOW_SUM(a, b, delay, reply)) => {
                sleep(Duration::from_millis(delay));
                reply.reply(a + b); // the caller may have given up: then this is dropped
            }
            CalculatorMsg::MSG_STOP(MSG_STOP) => return answered,
        }
    }
    unreachable!("receive never ends")
}

fn main() -> ExitStatus {
    dispatch(|| {
        let calc = Calculator::new().name("calculator").spawn();
        let sum = MSG_SUM::call(&calc)(10, 20).expect("the calculator answers");
        println!("10 + 20 = {sum}");
        let max = MSG_MAX::call(&calc)(10, 20).expect("the calculator answers");
        println!("max(10, 20) = {max}");
        match MSG_SLOW_SUM::call_timeout(&calc, Duration::from_millis(20))(1, 2, 200) {
            Ok(sum) => println!("slow sum = {sum}"),
            Err(err) => println!("{err}"),
        }
        MSG_STOP::send(&calc)().expect("the calculator is running");
        let answered = calc.join().expect("the calculator does not fail");
        println!("the calculator answered {answered} calls");
        match MSG_SUM::call(&calc)(1, 1) {
            Ok(sum) => println!("1 + 1 = {sum}"),
            Err(err) => println!("{err}"),
        }
    })
}
