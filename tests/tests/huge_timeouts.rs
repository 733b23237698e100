//! A huge duration (`Duration::MAX`) anywhere a timeout, delay or period is taken means
//! "practically for ever", never an overflow panic; and a tiny `rate` is a very long period.

use std::time::Duration;

use concurrence::{
    interval, join_all_timeout, later, message, rate, receive_timeout, sleep, spawn, tasklet,
    yield_, Channel, Mailbox,
};
use concurrence_tests::run;

message!(MSG_ECHO(u32) -> u32, MSG_PING);

#[tasklet(receives(MSG_ECHO, MSG_PING))]
fn echo() {
    loop {
        match receive_timeout::<EchoMsg>(Duration::MAX) {
            Ok(EchoMsg::MSG_ECHO(MSG_ECHO(n, reply))) => reply.reply(n),
            Ok(EchoMsg::MSG_PING(_)) => {}
            Err(_) => unreachable!("a receive for ever does not time out"),
        }
    }
}

#[test]
fn sleeping_for_duration_max_waits_until_killed() {
    run(|| {
        let sleeper = spawn(|| sleep(Duration::MAX));
        yield_();
        assert!(!sleeper.has_finished());
        sleeper.kill();
        assert!(sleeper.join().unwrap_err().is_killed());
    });
}

#[test]
fn joins_with_duration_max_wait_for_the_result() {
    run(|| {
        let t = spawn(|| {
            sleep(Duration::from_millis(5));
            5
        });
        assert_eq!(t.join_timeout(Duration::MAX).unwrap().unwrap(), 5);
        let all: Vec<_> = (0..3).map(|i| spawn(move || i)).collect();
        let results = join_all_timeout(&all, Duration::MAX).unwrap();
        assert_eq!(results.into_iter().map(Result::unwrap).sum::<i32>(), 3);
    });
}

#[test]
fn later_interval_and_a_tiny_rate_with_huge_periods_never_fire_and_can_be_killed() {
    run(|| {
        let l = later(Duration::MAX, || unreachable!("never due"));
        let i = interval(Duration::MAX, false, || unreachable!("never due"));
        let r = rate(1e-300, |_| unreachable!("never due"));
        let tiny = rate(f64::MIN_POSITIVE, |_| unreachable!("never due"));
        sleep(Duration::from_millis(20));
        for t in [l.erase(), i.erase(), r.erase(), tiny.erase()] {
            assert!(!t.has_finished());
            t.kill();
            assert!(t.join().unwrap_err().is_killed());
        }
    });
}

#[test]
fn mailbox_channel_receive_and_call_timeouts_of_duration_max_wait_for_their_event() {
    run(|| {
        let mailbox = Mailbox::new();
        let m = mailbox.clone();
        let popper = spawn(move || m.popleft_timeout(Duration::MAX).unwrap());
        yield_();
        mailbox.append_timeout(9, Duration::MAX).unwrap();
        assert_eq!(popper.join().unwrap(), 9);

        let channel = Channel::new();
        let c = channel.clone();
        let receiver = spawn(move || c.receive_timeout(Duration::MAX).unwrap());
        channel.send_timeout(4, Duration::MAX).unwrap();
        assert_eq!(receiver.join().unwrap(), 4);

        let e = Echo::new().daemon(true).spawn();
        MSG_PING::send_timeout(&e, Duration::MAX)().unwrap();
        assert_eq!(MSG_ECHO::call_timeout(&e, Duration::MAX)(11), Ok(11));
    });
}
