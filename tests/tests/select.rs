//! Waiting for the first of several conditions (`select!`, `wait_for::any`): each condition
//! fires alone with its event, the first of several wins, the others take nothing and keep no
//! registration, a kill while waiting leaves every source consistent, and a timeout object
//! reused across waits keeps its deadline.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::process::Command;
use concurrence::signal::Signals;
use concurrence::wait_for::Condition;
use concurrence::{
    message, select, sleep, spawn, tasklet, wait_for, yield_, CallWait, Channel, ExitReason,
    JoinCause, Mailbox,
};
use concurrence_tests::{assert_child_passed, is_child, run, run_status};

const MS: Duration = Duration::from_millis(1);
/// Long enough never to fire in a test that does not expect it.
const NEVER: Duration = Duration::from_secs(30);

message!(MSG_WORK(u32), MSG_STOP);

#[tasklet(receives(MSG_WORK, MSG_STOP))]
fn worker() -> Vec<u32> {
    let mut done = Vec::new();
    loop {
        select! {
            msg = wait_for::message() => match msg {
                WorkerMsg::MSG_WORK(MSG_WORK(n)) => done.push(n),
                WorkerMsg::MSG_STOP(MSG_STOP) => return done,
            },
            () = wait_for::timeout(NEVER) => panic!("no message came"),
        }
    }
}

#[test]
fn a_timeout_alone_fires_after_its_period() {
    run(|| {
        let start = Instant::now();
        let fired = select! {
            () = wait_for::timeout(20 * MS) => "timeout",
        };
        assert_eq!(fired, "timeout");
        let took = start.elapsed();
        assert!(took >= 20 * MS && took < 5 * NEVER / 30, "{took:?}");
        // An absolute deadline in the past fires at once.
        select! {
            () = wait_for::deadline(Instant::now() - MS) => {}
        }
    });
}

#[test]
fn messages_wake_a_tasklet_waiting_for_messages_or_a_timeout() {
    run(|| {
        let worker = Worker::new().spawn();
        for n in 0..5 {
            MSG_WORK::send(&worker)(n).unwrap();
            sleep(MS);
        }
        MSG_STOP::send(&worker)().unwrap();
        assert_eq!(worker.join().unwrap(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn a_join_condition_gives_the_result_or_the_join_error() {
    run(|| {
        let answer = spawn(|| {
            sleep(5 * MS);
            42
        });
        let crash = spawn(|| -> u32 { panic!("boom") });
        let fired = select! {
            r = wait_for::join(&answer) => r.unwrap(),
            () = wait_for::timeout(NEVER) => 0,
        };
        assert_eq!(fired, 42);
        let err = select! {
            r = wait_for::join(&crash) => r.unwrap_err(),
            () = wait_for::timeout(NEVER) => panic!("the crash was not reported"),
        };
        assert!(matches!(err.cause(), JoinCause::Panicked(m) if m == "boom"));
    });
}

#[test]
fn the_first_of_several_workers_to_finish_is_reported_with_its_index() {
    run(|| {
        let workers: Vec<_> = [40u64, 5, 20]
            .into_iter()
            .map(|ms| {
                spawn(move || {
                    sleep(Duration::from_millis(ms));
                    ms
                })
            })
            .collect();
        let mut ends: Vec<_> = workers.iter().map(wait_for::join).collect();
        let (first, result) = wait_for::any(&mut ends);
        assert_eq!((first, result.unwrap()), (1, 5));
        drop(ends);
        // The others were not joined by the wait: their results are still there.
        assert_eq!(workers[0].join().unwrap(), 40);
        assert_eq!(workers[2].join().unwrap(), 20);
    });
}

#[test]
fn when_several_conditions_are_ready_the_first_arm_wins_and_the_others_keep_their_events() {
    run(|| {
        let jobs = Mailbox::new();
        jobs.append("job").unwrap();
        let ch = Channel::new();
        let sender = {
            let ch = ch.clone();
            spawn(move || ch.send("value"))
        };
        yield_(); // the sender now waits with its value
                  // Timeout first: it wins, though the job and the value are there too.
        let fired = select! {
            () = wait_for::deadline(Instant::now()) => "timeout",
            job = wait_for::popleft(&jobs) => job,
            v = wait_for::receive(&ch) => v,
        };
        assert_eq!(fired, "timeout");
        assert_eq!(jobs.len(), 1, "the job stayed in the mailbox");
        assert!(ch.has_sender(), "the value stayed with its sender");
        // In the other order, the mailbox wins and the value still waits.
        let fired = select! {
            job = wait_for::popleft(&jobs) => job,
            v = wait_for::receive(&ch) => v,
        };
        assert_eq!(fired, "job");
        assert!(ch.has_sender());
        let fired = select! {
            job = wait_for::popleft(&jobs) => job,
            v = wait_for::receive(&ch) => v,
        };
        assert_eq!(fired, "value");
        sender.join().unwrap();
    });
}

#[test]
fn a_selective_wait_takes_only_the_accepted_message_and_keeps_the_others_in_order() {
    message!(MSG_A(u32), MSG_B(u32));
    #[tasklet(receives(MSG_A, MSG_B))]
    fn picker() -> Vec<String> {
        let mut seen = Vec::new();
        // Only B's, until the third; then everything that is left, in order.
        while seen.len() < 3 {
            select! {
                msg = wait_for::message_matching(|m: &PickerMsg| matches!(m, PickerMsg::MSG_B(_))) => {
                    if let PickerMsg::MSG_B(MSG_B(n)) = msg {
                        seen.push(format!("B{n}"));
                    }
                }
                () = wait_for::timeout(NEVER) => panic!("no B came"),
            }
        }
        while let Some(msg) = concurrence::try_receive::<PickerMsg>() {
            match msg {
                PickerMsg::MSG_A(MSG_A(n)) => seen.push(format!("A{n}")),
                PickerMsg::MSG_B(MSG_B(n)) => seen.push(format!("B{n}")),
            }
        }
        seen
    }
    run(|| {
        let picker = Picker::new().spawn();
        MSG_A::send(&picker)(1).unwrap();
        MSG_B::send(&picker)(1).unwrap();
        MSG_A::send(&picker)(2).unwrap();
        sleep(2 * MS);
        MSG_B::send(&picker)(2).unwrap();
        MSG_A::send(&picker)(3).unwrap();
        MSG_B::send(&picker)(3).unwrap();
        assert_eq!(picker.join().unwrap(), ["B1", "B2", "B3", "A1", "A2", "A3"]);
    });
}

#[test]
fn a_condition_that_did_not_win_leaves_no_registration_behind() {
    let status = run_status(|| {
        let ch: Channel<u32> = Channel::new();
        let calls: CallWait<(), ()> = CallWait::new();
        let (a, _b) = UnixStream::pair().unwrap();
        // A wait on a channel, a descriptor and a call-wait that times out: none of them keeps
        // the waiter.
        let fired = select! {
            v = wait_for::receive(&ch) => Some(v),
            _ = wait_for::readable(&a) => panic!("nothing was written"),
            _ = wait_for::call(&calls) => panic!("nobody called"),
            () = wait_for::timeout(5 * MS) => None,
        };
        assert_eq!(fired, None);
        assert!(
            !ch.has_receiver(),
            "the timed-out wait left a receiver behind"
        );
        // Same for a wait for a receiver.
        let listener = {
            let ch = ch.clone();
            spawn(move || {
                select! {
                    () = wait_for::receiver(&ch) => true,
                    () = wait_for::timeout(5 * MS) => false,
                }
            })
        };
        assert!(!listener.join().unwrap());
        // And for idle: a later idle moment does not wake a wait that ended.
        let idle_seen = Rc::new(Cell::new(0));
        let i = idle_seen.clone();
        let waiter = spawn(move || {
            select! {
                () = wait_for::idle() => i.set(i.get() + 1),
                () = wait_for::timeout(MS) => {}
            }
        });
        // Busy until the timeout has won, then idle.
        let until = Instant::now() + 10 * MS;
        while Instant::now() < until {
            yield_();
        }
        waiter.join().unwrap();
        assert_eq!(
            idle_seen.get(),
            0,
            "the timeout won while the dispatcher was busy"
        );
        // Nothing counts as waiting for IO or for another thread any more: a wait that can
        // never end is reported as a deadlock instead of polling for ever.
        ch.receive();
    });
    assert!(
        matches!(status.reason(), ExitReason::Deadlock(_)),
        "{status}"
    );
}

#[test]
fn a_receiver_condition_lets_a_send_hand_over_without_waiting() {
    run(|| {
        let ch = Channel::new();
        let receiver = {
            let ch = ch.clone();
            spawn(move || ch.receive())
        };
        select! {
            () = wait_for::receiver(&ch) => ch.send(7),
            () = wait_for::timeout(NEVER) => panic!("no receiver came"),
        }
        assert_eq!(receiver.join().unwrap(), 7);
    });
}

#[test]
fn a_kill_while_waiting_on_several_leaves_every_source_consistent() {
    message!(MSG_PING);
    #[tasklet(receives(MSG_PING))]
    fn waiter(ch: Channel<u32>, jobs: Mailbox<u32>, other: concurrence::Tasklet<u32>) {
        let (a, _b) = UnixStream::pair().unwrap();
        select! {
            _ = wait_for::message::<WaiterMsg>() => {}
            _ = wait_for::receive(&ch) => {}
            _ = wait_for::popleft(&jobs) => {}
            _ = wait_for::join(&other) => {}
            _ = wait_for::readable(&a) => {}
            () = wait_for::idle() => {}
            () = wait_for::timeout(NEVER) => {}
        }
        unreachable!("killed while waiting");
    }
    let status = run_status(|| {
        let ch = Channel::new();
        let jobs = Mailbox::new();
        let other = spawn(|| {
            sleep(20 * MS);
            5
        });
        let w = Waiter::new().spawn(ch.clone(), jobs.clone(), other.clone());
        yield_();
        assert!(ch.has_receiver());
        w.kill();
        assert!(w.join().unwrap_err().is_killed());
        assert!(
            !ch.has_receiver(),
            "the killed waiter still counts as a receiver"
        );
        // Its other sources work as if it had never waited.
        let taker = {
            let jobs = jobs.clone();
            spawn(move || jobs.popleft())
        };
        jobs.append(3).unwrap();
        assert_eq!(taker.join().unwrap(), 3);
        assert_eq!(other.join().unwrap(), 5);
        // And it is not counted as waiting for IO: a wait that can never end is reported
        // as a deadlock instead of polling for ever.
        ch.receive();
    });
    assert!(
        matches!(status.reason(), ExitReason::Deadlock(_)),
        "{status}"
    );
}

#[test]
fn a_timeout_reused_across_waits_keeps_its_deadline_until_it_fires() {
    run(|| {
        let inbox = Mailbox::new();
        let producing = Rc::new(Cell::new(true));
        let producer = {
            let inbox = inbox.clone();
            let producing = producing.clone();
            spawn(move || {
                // A message every millisecond or so, for far longer than the period.
                let until = Instant::now() + Duration::from_millis(600);
                while Instant::now() < until {
                    inbox.append(()).unwrap();
                    sleep(MS);
                }
                producing.set(false);
            })
        };
        let mut tick = wait_for::timeout(40 * MS);
        let mut ticks = 0;
        let mut messages = 0;
        let start = Instant::now();
        while ticks < 2 {
            select! {
                () = wait_for::popleft(&inbox) => messages += 1,
                () = &mut tick => ticks += 1,
            }
        }
        // Both periods ended while messages still came: the messages did not push the
        // deadline back. (A timeout made anew at each wait would never fire.)
        assert!(
            producing.get(),
            "the ticks came only after the messages stopped"
        );
        assert!(start.elapsed() >= 80 * MS, "{:?}", start.elapsed());
        assert!(messages > 0);
        // restart() starts the period again from now.
        tick.restart();
        let before = tick.deadline();
        assert!(before >= Instant::now() + 30 * MS);
        producer.kill();
    });
}

#[test]
fn conditions_of_different_kinds_built_at_run_time_wait_side_by_side() {
    #[derive(Debug, PartialEq)]
    enum Event {
        Job(u32),
        Value(&'static str),
        Timeout,
    }
    run(|| {
        let jobs = Mailbox::new();
        let ch = Channel::new();
        let feeder = {
            let ch = ch.clone();
            spawn(move || {
                sleep(2 * MS);
                ch.send("late")
            })
        };
        let mut seen = Vec::new();
        for _ in 0..2 {
            let mut conditions = vec![
                wait_for::popleft(&jobs).map(Event::Job).boxed(),
                wait_for::receive(&ch).map(Event::Value).boxed(),
                wait_for::timeout(50 * MS).map(|()| Event::Timeout).boxed(),
            ];
            seen.push(wait_for::any(&mut conditions));
        }
        assert_eq!(seen, [(1, Event::Value("late")), (2, Event::Timeout)]);
        feeder.join().unwrap();
    });
}

#[test]
fn several_tasklets_waiting_on_one_mailbox_each_get_distinct_items_and_none_is_lost() {
    run(|| {
        let jobs = Mailbox::new();
        let got = Rc::new(RefCell::new(Vec::new()));
        let takers: Vec<_> = (0..4)
            .map(|_| {
                let jobs = jobs.clone();
                let got = got.clone();
                spawn(move || loop {
                    select! {
                        n = wait_for::popleft(&jobs) => got.borrow_mut().push(n),
                        () = wait_for::timeout(30 * MS) => return,
                    }
                })
            })
            .collect();
        for n in 0..100 {
            jobs.append(n).unwrap();
            if n % 7 == 0 {
                yield_();
            }
        }
        for t in takers {
            t.join().unwrap();
        }
        let mut got = got.take();
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn a_descriptor_condition_fires_with_its_readiness() {
    run(|| {
        let (a, mut b) = UnixStream::pair().unwrap();
        let writer = spawn(move || {
            sleep(5 * MS);
            b.write_all(b"x").unwrap();
            b
        });
        let ready = select! {
            r = wait_for::readable(&a) => r.unwrap(),
            () = wait_for::timeout(NEVER) => panic!("no data came"),
        };
        assert!(ready.readable && !ready.hangup, "{ready:?}");
        let b = writer.join().unwrap();
        drop(b);
        let ready = wait_for::readable(&a).wait().unwrap();
        assert!(ready.readable, "{ready:?}");
        // Writable at once, and a registered socket can be waited for too (a duplicate is
        // registered).
        let ready = wait_for::writable(&a).wait().unwrap();
        assert!(ready.writable);
    });
}

#[test]
fn a_child_process_exit_or_a_timeout_whichever_comes_first() {
    run(|| {
        let mut quick = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let status = select! {
            s = wait_for::exit(&mut quick) => s.unwrap(),
            () = wait_for::timeout(NEVER) => panic!("sh did not end"),
        };
        assert_eq!(status.code(), Some(3));
        let mut slow = Command::new("sleep").arg("10").spawn().unwrap();
        let ended = select! {
            s = wait_for::exit(&mut slow) => Some(s.unwrap()),
            () = wait_for::timeout(20 * MS) => None,
        };
        assert_eq!(ended, None);
        slow.kill().unwrap();
        assert!(slow.wait().unwrap().code().is_none(), "killed by a signal");
    });
}

#[test]
fn a_call_from_another_thread_is_waited_for_beside_a_timeout() {
    run(|| {
        let doubler: CallWait<u32, u32> = CallWait::new();
        let caller = {
            let doubler = doubler.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                doubler.call_timeout(21, Duration::from_secs(30))
            })
        };
        select! {
            called = wait_for::call(&doubler) => {
                let n = *called.args();
                called.reply(n * 2);
            }
            () = wait_for::timeout(NEVER) => panic!("no call came"),
        }
        let answer = concurrence::io::blocking(move || caller.join().unwrap());
        assert_eq!(answer, Ok(42));
    });
}

#[test]
fn idle_fires_only_once_every_other_tasklet_has_nothing_to_do() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let busy = {
            let log = log.clone();
            spawn(move || {
                for _ in 0..3 {
                    log.borrow_mut().push("busy");
                    yield_();
                }
            })
        };
        let l = log.clone();
        let idler = spawn(move || {
            select! {
                () = wait_for::idle() => l.borrow_mut().push("idle"),
                () = wait_for::timeout(NEVER) => panic!("never idle"),
            }
        });
        busy.join().unwrap();
        idler.join().unwrap();
        assert_eq!(*log.borrow(), ["busy", "busy", "busy", "idle"]);
    });
}

#[test]
fn a_signal_or_a_message_whichever_comes_first() {
    const NAME: &str = "a_signal_or_a_message_whichever_comes_first";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    run(|| {
        let signals = Signals::new(&[libc::SIGUSR1]).unwrap();
        let jobs = Mailbox::new();
        let feeder = {
            let jobs = jobs.clone();
            spawn(move || {
                jobs.append("job").unwrap();
                sleep(5 * MS);
                // SAFETY: raise(3) sends SIGUSR1 to this thread; `signals` catches it.
                unsafe { libc::raise(libc::SIGUSR1) };
            })
        };
        let mut events = Vec::new();
        for _ in 0..2 {
            events.push(select! {
                s = wait_for::signal(&signals) => format!("signal {}", s.unwrap()),
                job = wait_for::popleft(&jobs) => job.to_string(),
                () = wait_for::timeout(NEVER) => panic!("nothing came"),
            });
        }
        assert_eq!(
            events,
            ["job".to_string(), format!("signal {}", libc::SIGUSR1)]
        );
        feeder.join().unwrap();
    });
}

#[test]
#[should_panic(expected = "needs at least one condition")]
fn waiting_for_none_of_no_conditions_is_refused() {
    let mut none: Vec<wait_for::Timeout> = Vec::new();
    wait_for::any(&mut none);
}
