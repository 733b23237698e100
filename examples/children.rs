//! Several child processes at once, each waited for by a tasklet of its own (kiwi's
//! WaitForProcess idiom): the dispatcher runs them side by side and reports each as it ends.
//!
//! `cargo run --example children`

use std::time::Instant;

use concurrence::process::Command;
use concurrence::{dispatch, join_all, spawn, ExitStatus};

fn main() -> ExitStatus {
    dispatch(|| {
        let start = Instant::now();
        let jobs = [
            ("slow", "sleep 0.8; echo slow done"),
            ("fast", "sleep 0.2; echo fast done"),
            ("failing", "sleep 0.5; exit 4"),
        ];
        let waiters: Vec<_> = jobs
            .into_iter()
            .map(|(name, script)| {
                spawn(move || {
                    let out = Command::new("sh")
                        .args(["-c", script])
                        .output()
                        .expect("run sh");
                    println!(
                        "{name}: status {:?}, output {:?}",
                        out.status.code(),
                        String::from_utf8_lossy(&out.stdout).trim()
                    );
                })
            })
            .collect();
        join_all(&waiters);
        let elapsed = start.elapsed();
        println!(
            "all done in {}",
            if elapsed.as_millis() < 1200 {
                "less than the sum of their times"
            } else {
                "their summed times"
            }
        );
    })
}
