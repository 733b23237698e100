//! The live view: `dump()` of a thousand tasklets in every state, the counters of `stats()`,
//! and the dump on SIGQUIT (opt-in; SIGQUIT keeps its default action otherwise).

use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use concurrence::{
    dump, io, sleep, spawn, stats, yield_, Builder, Channel, Dispatcher, Mailbox, TaskletState,
};
use concurrence_tests::{is_child, run, run_child, run_with};

#[test]
fn a_dump_shows_a_thousand_tasklets_in_every_state_with_what_they_wait_for() {
    run(|| {
        let mailbox = Mailbox::<u8>::new();
        let channel = Channel::<u8>::new();
        let sleeper_parent = Builder::new().name("parent").spawn(|| {
            // Long enough to be dumped waiting; they end on their own (a kill of the parent
            // does not end its children).
            let kids: Vec<_> = (0..400)
                .map(|_| spawn(|| sleep(Duration::from_millis(500))))
                .collect();
            for kid in &kids {
                kid.join().unwrap();
            }
        });
        let takers: Vec<_> = (0..300)
            .map(|_| {
                let mailbox = mailbox.clone();
                Builder::new()
                    .name("taker")
                    .spawn(move || mailbox.popleft())
            })
            .collect();
        let senders: Vec<_> = (0..100)
            .map(|i| {
                let channel = channel.clone();
                Builder::new()
                    .name("sender")
                    .spawn(move || channel.send(i as u8))
            })
            .collect();
        let blocked: Vec<_> = (0..4)
            .map(|_| spawn(|| io::blocking(|| std::thread::sleep(Duration::from_millis(300)))))
            .collect();
        sleep(Duration::from_millis(50)); // every one of them waits now, for 50 ms
                                          // 100 takers are woken (ready, not run yet), 194 tasklets not started yet.
        for i in 0..100 {
            mailbox.append(i).unwrap();
        }
        let fresh: Vec<_> = (0..194).map(|_| spawn(yield_)).collect();
        let dump = dump();
        let mut by_state: HashMap<TaskletState, usize> = HashMap::new();
        for t in &dump.tasklets {
            *by_state.entry(t.state).or_default() += 1;
        }
        // The first tasklet, the parent and its 400, 300 takers, 100 senders, 4 on the pool,
        // 194 new: a thousand.
        assert_eq!(dump.tasklets.len(), 1000);
        assert_eq!(by_state[&TaskletState::Running], 1);
        assert_eq!(by_state[&TaskletState::New], 194);
        assert_eq!(by_state[&TaskletState::Ready], 100);
        assert_eq!(by_state[&TaskletState::Waiting], 1 + 400 + 200 + 100 + 4);
        let waits = |on: &str| {
            dump.tasklets
                .iter()
                .filter(|t| t.waiting_for.as_ref().is_some_and(|(w, _)| w == on))
                .collect::<Vec<_>>()
        };
        assert_eq!(waits("sleep").len(), 400);
        assert_eq!(waits("receive").len(), 200);
        assert_eq!(waits("a receiver on a channel").len(), 100);
        assert_eq!(waits("a function on the blocking pool").len(), 4);
        for sleeper in waits("sleep") {
            let (_, at) = sleeper.waiting_for.as_ref().unwrap();
            assert!(at.contains("dump.rs"), "{at}");
            assert!(sleeper.waited.unwrap() >= Duration::from_millis(40));
            assert!(sleeper
                .spawned_at
                .as_ref()
                .unwrap()
                .contains("tests/tests/dump.rs"));
        }
        let parent = dump.tasklets.iter().find(|t| t.name == "parent").unwrap();
        assert_eq!(parent.children.len(), 400);
        assert!(parent
            .waiting_for
            .as_ref()
            .unwrap()
            .0
            .starts_with("join of tasklet #"));
        let text = dump.to_string();
        assert_eq!(
            text.lines().count(),
            1001,
            "one line a tasklet, and a header"
        );
        assert!(
            text.contains("#") && text.contains(": waits for sleep at"),
            "{}",
            &text[..400]
        );
        // Children are indented under their parent.
        let parent_line = text.lines().position(|l| l.contains(" parent:")).unwrap();
        assert!(text
            .lines()
            .nth(parent_line + 1)
            .unwrap()
            .starts_with("    #"));
        for t in fresh.iter().chain(&blocked) {
            t.join().unwrap();
        }
        for s in senders {
            s.kill();
        }
        for t in takers {
            t.kill();
        }
        sleeper_parent.join().unwrap();
    });
}

#[test]
fn stats_count_spawns_switches_and_live_tasklets() {
    run(|| {
        let before = stats();
        let workers: Vec<_> = (0..10).map(|_| spawn(|| yield_())).collect();
        assert_eq!(stats().live_tasklets, before.live_tasklets + 10);
        assert_eq!(stats().ready, 10);
        for w in workers {
            w.join().unwrap();
        }
        let after = stats();
        assert_eq!(after.spawned, before.spawned + 10);
        assert!(after.switches >= before.switches + 20, "{after:?}");
        assert_eq!(after.live_tasklets, before.live_tasklets);
        assert!(after.free_stacks >= 1);
    });
}

#[test]
fn sigquit_prints_a_dump_and_the_program_goes_on_when_asked() {
    const NAME: &str = "sigquit_prints_a_dump_and_the_program_goes_on_when_asked";
    if is_child(NAME) {
        run_with(
            Dispatcher::new().handle_sigint(false).dump_on_sigquit(true),
            || {
                let _napper = Builder::new()
                    .name("napper")
                    .daemon(true)
                    .spawn(|| sleep(Duration::from_secs(3600)));
                yield_();
                // SAFETY: a signal to this process, whose dispatcher handles it.
                unsafe { libc::raise(libc::SIGQUIT) };
                sleep(Duration::from_millis(100));
                println!("still running");
            },
        );
        return;
    }
    let out = run_child(NAME);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(String::from_utf8_lossy(&out.stdout).contains("still running"));
    assert!(
        stderr.contains("concurrence: SIGQUIT: dispatcher 0"),
        "{stderr}"
    );
    assert!(
        stderr.contains("napper (daemon): waits for sleep at"),
        "{stderr}"
    );
}

#[test]
fn sigquit_keeps_its_default_action_without_the_setting() {
    const NAME: &str = "sigquit_keeps_its_default_action_without_the_setting";
    if is_child(NAME) {
        // No core file: a child killed by SIGQUIT may write one.
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain data in, for this process.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
        run_with(Dispatcher::new().handle_sigint(false), || {
            // SAFETY: a signal to this process.
            unsafe { libc::raise(libc::SIGQUIT) };
            sleep(Duration::from_millis(100));
            println!("survived");
        });
        return;
    }
    let out = run_child(NAME);
    assert_eq!(out.status.signal(), Some(libc::SIGQUIT), "{:?}", out.status);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("survived"));
}
