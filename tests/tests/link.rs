//! Links (Erlang's): an abnormal end takes the linked tasklets down, or reaches them as
//! MSG_EXIT when they trap exits; a normal return does not.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use concurrence::{
    message, receive, sleep, spawn, tasklet, trap_exits, yield_, JoinCause, MSG_EXIT,
};
use concurrence_tests::run;

#[test]
fn a_panic_kills_the_linked_tasklet() {
    run(|| {
        let partner = spawn(|| sleep(Duration::from_secs(3600)));
        let p = partner.clone();
        let doomed = spawn(move || {
            p.link();
            sleep(Duration::from_millis(5));
            panic!("down with my partner");
        });
        assert!(doomed.join().unwrap_err().is_panic());
        assert_eq!(partner.join().unwrap_err().cause(), &JoinCause::Killed);
    });
}

#[test]
fn a_kill_travels_along_a_chain_of_links() {
    run(|| {
        let c = spawn(|| sleep(Duration::from_secs(3600)));
        let c2 = c.clone();
        let b = spawn(move || {
            c2.link();
            sleep(Duration::from_secs(3600));
        });
        let b2 = b.clone();
        let a = spawn(move || {
            b2.link();
            sleep(Duration::from_secs(3600));
        });
        yield_(); // the links are made
        a.kill();
        assert!(b.has_finished() && c.has_finished());
        assert!(b.join().unwrap_err().is_killed());
        assert!(c.join().unwrap_err().is_killed());
    });
}

#[test]
fn a_normal_return_leaves_the_linked_tasklet_alone() {
    run(|| {
        let survivor = spawn(|| {
            sleep(Duration::from_millis(30));
            "lived on"
        });
        let s = survivor.clone();
        let quitter = spawn(move || s.link());
        quitter.join().unwrap();
        assert_eq!(survivor.join().unwrap(), "lived on");
    });
}

message!(MSG_NOTE);

#[tasklet(receives(MSG_NOTE, MSG_EXIT))]
fn trapper(linked_to: concurrence::Tasklet<()>) -> Option<String> {
    trap_exits::<TrapperMsg>();
    linked_to.link();
    for msg in receive() {
        if let TrapperMsg::MSG_EXIT(MSG_EXIT(down)) = msg {
            return Some(down.result.unwrap_err().to_string());
        }
    }
    None
}

#[test]
fn a_tasklet_that_traps_exits_gets_a_message_and_lives_on() {
    run(|| {
        let failing = spawn(|| {
            sleep(Duration::from_millis(10));
            panic!("crash");
        });
        let trapper = Trapper::new().spawn(failing.clone());
        let report = trapper.join().unwrap().expect("an exit message");
        assert!(report.contains("crash"), "{report}");
        assert!(failing.join().unwrap_err().is_panic());
    });
}

#[test]
fn the_killer_of_a_linked_tasklet_is_taken_down_after_the_kill() {
    run(|| {
        let victim = spawn(|| sleep(Duration::from_secs(3600)));
        let went_on = Rc::new(Cell::new(false));
        let (v, w) = (victim.clone(), went_on.clone());
        let killer = spawn(move || {
            v.link();
            v.kill(); // an abnormal end of a linked tasklet: the killer goes too
            w.set(true);
        });
        assert!(killer.join().unwrap_err().is_killed());
        assert!(!went_on.get());
    });
}
