//! Monitors: a watcher is told, by a MSG_DOWN message, when a tasklet ends and how.

use std::time::Duration;

use concurrence::{message, receive, sleep, spawn, tasklet, yield_, Down, JoinCause, MSG_DOWN};
use concurrence_tests::run;

message!(MSG_WATCH(u32));

/// Collects the down messages of `n` monitored tasklets, in the order they came.
#[tasklet(receives(MSG_WATCH, MSG_DOWN))]
fn watcher(n: usize) -> Vec<Down> {
    let mut downs = Vec::new();
    if n == 0 {
        return downs;
    }
    for msg in receive() {
        if let WatcherMsg::MSG_DOWN(MSG_DOWN(down)) = msg {
            downs.push(down);
            if downs.len() == n {
                break;
            }
        }
    }
    downs
}

#[test]
fn a_monitor_reports_a_return_a_panic_and_a_kill() {
    run(|| {
        let watcher = Watcher::new().spawn(3);
        let fine = spawn(|| 7);
        let failing = spawn(|| -> u32 { panic!("broken") });
        let killed = spawn(|| sleep(Duration::from_secs(3600)));
        watcher.monitor_for(&fine);
        watcher.monitor_for(&failing);
        watcher.monitor_for(&killed);
        yield_();
        killed.kill();
        let downs = watcher.join().unwrap();
        let by_id = |id| downs.iter().find(|d| d.id == id).expect("reported");
        assert_eq!(by_id(fine.id()).result, Ok(()));
        assert_eq!(fine.join().unwrap(), 7, "the value stays for a join");
        assert_eq!(
            by_id(failing.id()).result.as_ref().unwrap_err().cause(),
            &JoinCause::Panicked("broken".into())
        );
        assert!(by_id(killed.id()).result.as_ref().unwrap_err().is_killed());
    });
}

#[test]
fn monitoring_a_tasklet_that_has_ended_reports_it_at_once() {
    run(|| {
        let done = spawn(|| ());
        done.join().unwrap();
        let watcher = Watcher::new().spawn(1);
        watcher.monitor_for(&done);
        let downs = watcher.join().unwrap();
        assert_eq!(downs[0].id, done.id());
        assert_eq!(downs[0].result, Ok(()));
    });
}

#[tasklet(receives(MSG_WATCH, MSG_DOWN))]
fn self_watcher() -> Option<Down> {
    let target = spawn(|| sleep(Duration::from_millis(10)));
    target.monitor::<SelfWatcherMsg>();
    for msg in receive() {
        if let SelfWatcherMsg::MSG_DOWN(MSG_DOWN(down)) = msg {
            return Some(down);
        }
    }
    None
}

#[test]
fn a_tasklet_monitors_another_from_itself() {
    run(|| {
        let down = SelfWatcher::new().spawn().join().unwrap().unwrap();
        assert_eq!(down.result, Ok(()));
    });
}

#[test]
fn a_down_message_gets_through_a_full_bounded_mailbox() {
    run(|| {
        let watcher = Watcher::new().max_mailbox_len(1).spawn(1);
        MSG_WATCH::send(&watcher)(1).unwrap(); // the mailbox is full now
        assert!(MSG_WATCH::try_send(&watcher)(2).is_err());
        let short = spawn(|| ());
        watcher.monitor_for(&short);
        let downs = watcher.join().unwrap();
        assert_eq!(downs.len(), 1, "not lost to the bound");
    });
}

#[test]
fn a_watcher_that_ended_first_is_not_told_and_nothing_fails() {
    run(|| {
        let watcher = Watcher::new().spawn(0);
        let target = spawn(|| sleep(Duration::from_millis(10)));
        watcher.monitor_for(&target);
        assert!(watcher.join().unwrap().is_empty());
        target.join().unwrap(); // its end finds the watcher's mailbox closed
    });
}
