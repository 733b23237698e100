//! A selective receive that waits looks at each arriving message once: it starts where it left
//! off instead of from the first message (Erlang marks the same place), and it still finds a
//! message that others put in front of what it looked at, and survives what others take.

use std::cell::Cell;
use std::rc::Rc;

use concurrence::{
    message, message_set, receive_matching, select, tasklet, try_receive, wait_for, yield_, Tasklet,
};
use concurrence_tests::run;

message!(MSG_WORK(u32), MSG_URGENT(u32));
message_set!(
    enum PickerMsg {
        MSG_WORK,
        MSG_URGENT,
    }
);

/// Counts its calls and accepts only urgent messages.
fn urgent_only(calls: &Rc<Cell<u64>>) -> impl FnMut(&PickerMsg) -> bool {
    let calls = calls.clone();
    move |m| {
        calls.set(calls.get() + 1);
        matches!(m, PickerMsg::MSG_URGENT(_))
    }
}

/// Waits for an urgent message with `receive_matching`, then returns its number and the work
/// numbers left, in order.
#[tasklet(receives = PickerMsg)]
fn picker(calls: Rc<Cell<u64>>) -> (u32, Vec<u32>) {
    let PickerMsg::MSG_URGENT(MSG_URGENT(n)) = receive_matching(urgent_only(&calls)) else {
        unreachable!("only urgent messages are accepted")
    };
    (n, left())
}

/// The same with `select!`'s `wait_for::message_matching`.
#[tasklet(receives = PickerMsg)]
fn select_picker(calls: Rc<Cell<u64>>) -> (u32, Vec<u32>) {
    let n = select! {
        msg = wait_for::message_matching(urgent_only(&calls)) => match msg {
            PickerMsg::MSG_URGENT(MSG_URGENT(n)) => n,
            PickerMsg::MSG_WORK(_) => unreachable!("only urgent messages are accepted"),
        },
    };
    (n, left())
}

/// The work numbers still in the current tasklet's mailbox.
fn left() -> Vec<u32> {
    let mut work = Vec::new();
    while let Some(msg) = try_receive::<PickerMsg>() {
        match msg {
            PickerMsg::MSG_WORK(MSG_WORK(n)) => work.push(n),
            PickerMsg::MSG_URGENT(MSG_URGENT(n)) => panic!("a second urgent message {n}"),
        }
    }
    work
}

type PickerHandle = Tasklet<(u32, Vec<u32>), PickerMsg>;

/// Spawns a picker with `spawn`, sends it 2,000 work messages, yielding after each so that it
/// wakes for each, then one urgent message, and checks what it took, what it left and how often
/// it called its filter.
fn check_each_arrival_is_looked_at_once(spawn: fn(Rc<Cell<u64>>) -> PickerHandle) {
    run(move || {
        let calls = Rc::new(Cell::new(0));
        let picker = spawn(calls.clone());
        for i in 0..2_000 {
            MSG_WORK::send(&picker)(i).unwrap();
            yield_();
        }
        MSG_URGENT::send(&picker)(7).unwrap();
        let (urgent, work) = picker.join().unwrap();
        assert_eq!(urgent, 7);
        assert_eq!(work, (0..2_000).collect::<Vec<_>>());
        // Each of the 2,001 arrivals once; a rescan from the start would be about two million.
        assert_eq!(calls.get(), 2_001);
    });
}

#[test]
fn a_waiting_selective_receive_looks_at_each_arrival_once() {
    check_each_arrival_is_looked_at_once(|calls| Picker::new().spawn(calls));
}

#[test]
fn a_waiting_select_on_a_matching_message_looks_at_each_arrival_once() {
    check_each_arrival_is_looked_at_once(|calls| SelectPicker::new().spawn(calls));
}

#[test]
fn a_selective_receive_finds_a_message_put_in_front_of_what_it_looked_at() {
    run(|| {
        let calls = Rc::new(Cell::new(0));
        let (urgent, work) = {
            let picker = Picker::new().spawn(calls.clone());
            for i in 0..3 {
                MSG_WORK::send(&picker)(i).unwrap();
                yield_();
            }
            // In front of the three it has looked at.
            picker
                .mailbox()
                .appendleft(PickerMsg::MSG_URGENT(MSG_URGENT(9)))
                .unwrap();
            picker.join().unwrap()
        };
        assert_eq!((urgent, work), (9, vec![0, 1, 2]));
    });
}

#[test]
fn a_selective_receive_keeps_its_place_when_others_take_messages_from_either_end() {
    run(|| {
        let calls = Rc::new(Cell::new(0));
        let (urgent, work) = {
            let picker = Picker::new().spawn(calls.clone());
            let mailbox = picker.mailbox();
            for i in 0..6 {
                MSG_WORK::send(&picker)(i).unwrap();
                yield_();
            }
            // Others take two it looked at from the front and one from the back.
            assert!(matches!(
                mailbox.popleft(),
                PickerMsg::MSG_WORK(MSG_WORK(0))
            ));
            assert!(matches!(
                mailbox.popleft(),
                PickerMsg::MSG_WORK(MSG_WORK(1))
            ));
            assert!(matches!(mailbox.pop(), PickerMsg::MSG_WORK(MSG_WORK(5))));
            MSG_WORK::send(&picker)(6).unwrap();
            yield_();
            // Everything it looked at is taken, and more: it must not skip the new ones.
            for expected in [2, 3, 4, 6] {
                let PickerMsg::MSG_WORK(MSG_WORK(n)) = mailbox.popleft() else {
                    panic!("work expected")
                };
                assert_eq!(n, expected);
            }
            MSG_WORK::send(&picker)(10).unwrap();
            MSG_URGENT::send(&picker)(11).unwrap();
            picker.join().unwrap()
        };
        assert_eq!((urgent, work), (11, vec![10]));
        // 6 arrivals; the one taken from the back sends it back to the start when 6 arrives
        // (4 looks: 2, 3, 4 and 6); then 10 and 11. A rescan at every arrival is twice that.
        assert_eq!(calls.get(), 12, "{} filter calls", calls.get());
    });
}

#[test]
fn a_selective_receive_finds_a_message_sent_after_one_it_looked_at_was_taken_from_the_back() {
    run(|| {
        let calls = Rc::new(Cell::new(0));
        let picker = Picker::new().spawn(calls.clone());
        for i in 0..3 {
            MSG_WORK::send(&picker)(i).unwrap();
            yield_();
        }
        // The last one it looked at goes; the urgent message takes its place.
        assert!(matches!(
            picker.mailbox().pop(),
            PickerMsg::MSG_WORK(MSG_WORK(2))
        ));
        MSG_URGENT::send(&picker)(5).unwrap();
        assert_eq!(picker.join().unwrap(), (5, vec![0, 1]));
    });
}

#[test]
fn two_matching_arms_of_one_select_each_look_at_each_arrival_once() {
    #[tasklet(receives(MSG_WORK, MSG_URGENT))]
    fn two_arms(calls: Rc<Cell<u64>>) -> (u32, Vec<u32>) {
        let (a, b) = (calls.clone(), calls.clone());
        let n = select! {
            msg = wait_for::message_matching(move |m: &TwoArmsMsg| {
                a.set(a.get() + 1);
                matches!(m, TwoArmsMsg::MSG_WORK(MSG_WORK(n)) if *n >= 1_000)
            }) => match msg {
                TwoArmsMsg::MSG_WORK(MSG_WORK(n)) => n,
                TwoArmsMsg::MSG_URGENT(_) => unreachable!("only work is accepted"),
            },
            msg = wait_for::message_matching(move |m: &TwoArmsMsg| {
                b.set(b.get() + 1);
                matches!(m, TwoArmsMsg::MSG_URGENT(_))
            }) => match msg {
                TwoArmsMsg::MSG_URGENT(MSG_URGENT(n)) => n,
                TwoArmsMsg::MSG_WORK(_) => unreachable!("only urgent messages are accepted"),
            },
        };
        let mut work = Vec::new();
        while let Some(TwoArmsMsg::MSG_WORK(MSG_WORK(n))) = try_receive::<TwoArmsMsg>() {
            work.push(n);
        }
        (n, work)
    }
    run(|| {
        let calls = Rc::new(Cell::new(0));
        let (n, work) = {
            let picker = TwoArms::new().spawn(calls.clone());
            for i in 0..500 {
                MSG_WORK::send(&picker)(i).unwrap();
                yield_();
            }
            MSG_URGENT::send(&picker)(3).unwrap();
            picker.join().unwrap()
        };
        assert_eq!((n, work), (3, (0..500).collect::<Vec<_>>()));
        // 501 arrivals, each looked at once by each arm at most.
        assert!(calls.get() <= 2 * 501, "{} filter calls", calls.get());
    });
}
