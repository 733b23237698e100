//! The original documentation's first example: a printer tasklet prints the greetings it is sent. Prints `Hello World`,
//! then `Goodbye World`.

use concurrence::{dispatch, message, receive, tasklet, ExitStatus};

message!(MSG_GREETING(String), MSG_FAREWELL(String));

/// Forever prints the messages it receives.
#[tasklet(receives(MSG_GREETING, MSG_FAREWELL))]
fn printer() {
    for msg in receive::<PrinterMsg>() {
        match msg {
            PrinterMsg::MSG_GREETING(MSG_GREETING(name)) => println!("Hello {name}"),
            PrinterMsg::MSG_FAREWELL(MSG_FAREWELL(name)) => println!("Goodbye {name}"),
        }
    }
}

fn main() -> ExitStatus {
    dispatch(|| {
        // A daemon: the program ends when `main`'s tasklet has nothing left to do.
        let printer_task = Printer::new().daemon(true).spawn();
        MSG_GREETING::send(&printer_task)("World".to_owned()).expect("the printer is running");
        MSG_FAREWELL::send(&printer_task)("World".to_owned()).expect("the printer is running");
        // Wait until the printer has taken both messages.
        while !printer_task.mailbox().is_empty() {
            concurrence::yield_();
        }
    })
}
