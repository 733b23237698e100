//! A service that reloads its configuration on SIGHUP (kiwi's WaitForSignal idiom), while a
//! worker tasklet keeps serving with the configuration it has.
//!
//! `cargo run --example reload -- CONFIG_FILE`, then `kill -HUP <pid>` after
//! editing the file. Ctrl-C (or SIGTERM) stops it cleanly.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use concurrence::signal::Signals;
use concurrence::{sleep, spawn, Dispatcher, ExitStatus};

fn main() -> ExitStatus {
    let path = std::env::args().nth(1).expect("usage: reload CONFIG_FILE");
    Dispatcher::new().handle_sigterm(true).run(move || {
        let read = move || std::fs::read_to_string(&path).map(|s| s.trim().to_owned());
        let config = Rc::new(RefCell::new(read().unwrap_or_default()));
        let hangups = Signals::new(&[libc::SIGHUP]).expect("catch SIGHUP");
        println!("ready with {:?}", config.borrow());
        let c = config.clone();
        spawn(move || {
            // The worker: uses whatever configuration is current.
            let mut last = String::new();
            loop {
                if *c.borrow() != last {
                    last = c.borrow().clone();
                    println!("worker uses {last:?}");
                }
                sleep(Duration::from_millis(20));
            }
        });
        loop {
            hangups.wait(); // only this tasklet waits for the signal
            match read() {
                Ok(new) => {
                    println!("reloaded {new:?}");
                    *config.borrow_mut() = new;
                }
                Err(err) => println!("reload failed, keeping the old configuration: {err}"),
            }
        }
    })
}
