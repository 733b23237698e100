//! The `tracing` feature: a span per tasklet (id, name, parent) around what it logs, and
//! events at spawn, end, kill and panic, as tracing-subscriber's fmt layer prints them.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concurrence::{sleep, spawn, yield_, Builder, Dispatcher};

/// What the fmt layer wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn each_tasklet_runs_in_its_span_and_its_spawn_end_kill_and_panic_are_events() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    let status = tracing::subscriber::with_default(subscriber, || {
        Dispatcher::new().handle_sigint(false).run(|| {
            let worker = Builder::new().name("worker").spawn(|| {
                tracing::info!("working");
                yield_();
                tracing::info!("still working");
            });
            let victim = Builder::new()
                .name("victim")
                .spawn(|| sleep(Duration::from_secs(3600)));
            let faulty = Builder::new().name("faulty").spawn(|| panic!("out of tea"));
            yield_();
            victim.kill();
            worker.join().unwrap();
            assert!(faulty.join().is_err());
            let child_of_worker = spawn(|| ());
            child_of_worker.join().unwrap();
        })
    });
    assert!(status.success(), "{status:?}");
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = |needles: &[&str]| {
        text.lines()
            .find(|l| needles.iter().all(|n| l.contains(n)))
            .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{text}"))
            .to_owned()
    };
    // What a tasklet logs is inside its span, with its id, name and parent (the first, #1).
    let working = line(&["working", "tasklet{"]);
    assert!(
        working.contains("name=worker") && working.contains("parent=1"),
        "{working}"
    );
    line(&["still working", "name=worker"]);
    // The events of the runtime, in each tasklet's span.
    line(&["DEBUG", "name=worker", "spawn"]);
    line(&["DEBUG", "name=worker", "end", "outcome=\"returned\""]);
    line(&["DEBUG", "name=victim", "kill"]);
    line(&["DEBUG", "name=victim", "end", "outcome=\"killed\""]);
    line(&["ERROR", "name=faulty", "panic", "out of tea"]);
}
