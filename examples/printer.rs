//! kiwi's printer example: a printer tasklet waits for `print` and `quit` messages with one
//! reused wait condition, and a counter sends it a number once a period, then `quit`.
//!
//! `printer [N] [PERIOD_MS]` (defaults: 10 numbers, 100 ms). Prints `>>> 0` ... `>>> N-1`,
//! then `printer done after N messages`.

use std::time::Duration;

use concurrence::wait_for::{self, Condition};
use concurrence::{dispatch, message, tasklet, ExitStatus, Tasklet};

message!(MSG_PRINT(u64), MSG_QUIT);

/// Prints what it is sent until told to quit; returns how many numbers it printed.
#[tasklet(receives(MSG_PRINT, MSG_QUIT))]
fn printer() -> u64 {
    // kiwi: `msgwait = tasklet.WaitForMessages(accept=("quit", "print"))`. Messages it does not
    // accept would stay in the mailbox, in order, for a later wait.
    let mut msgwait = wait_for::message_matching(|msg: &PrinterMsg| {
        matches!(msg, PrinterMsg::MSG_PRINT(_) | PrinterMsg::MSG_QUIT(_))
    });
    let mut printed = 0;
    loop {
        match msgwait.wait() {
            PrinterMsg::MSG_QUIT(MSG_QUIT) => return printed,
            PrinterMsg::MSG_PRINT(MSG_PRINT(value)) => {
                println!(">>> {value}");
                printed += 1;
            }
        }
    }
}

/// Sends the printer `0..numbers`, one per period, then `quit`.
#[tasklet]
fn simple_counter(numbers: u64, period: Duration, task: Tasklet<u64, PrinterMsg>) {
    let mut timeout = wait_for::timeout(period);
    for x in 0..numbers {
        MSG_PRINT::send(&task)(x).expect("the printer runs until it is told to quit");
        timeout.wait();
    }
    MSG_QUIT::send(&task)().expect("the printer runs until it is told to quit");
}

fn main() -> ExitStatus {
    let (numbers, period) = concurrence_examples::count_and_period("printer");
    dispatch(move || {
        let task = Printer::new().spawn();
        SimpleCounter::new().spawn(numbers, period, task.clone());
        let printed = task.join().expect("the printer ends when told to quit");
        println!("printer done after {printed} messages");
    })
}
