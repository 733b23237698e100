//! A standalone message set is used wherever a generated one is: by `#[tasklet(receives = Set)]`
//! functions sharing it, by `Builder::receives`, and by `receiver`; a generated set takes
//! `derive(...)` from `#[tasklet]`.
#![deny(warnings)]

use concurrence::{dispatch, message, message_set, receive, receiver, tasklet, Builder};

message!(
    #[derive(Debug, Clone, PartialEq)] pub MSG_JOB(u32),
    #[derive(Debug, Clone, PartialEq)] pub Stop,
);
message_set!(
    /// The jobs of every worker.
    #[derive(Debug, Clone, PartialEq)]
    pub enum JobMsg { MSG_JOB, Stop }
);

#[tasklet(receives = JobMsg)]
fn summer() -> u32 {
    let mut sum = 0;
    for msg in receive::<JobMsg>() {
        match msg {
            JobMsg::MSG_JOB(MSG_JOB(n)) => sum += n,
            JobMsg::Stop(Stop) => return sum,
        }
    }
    unreachable!()
}

#[tasklet(receives = JobMsg)]
fn counter() -> usize {
    receive::<JobMsg>().take_while(|m| *m != JobMsg::Stop(Stop)).count()
}

#[tasklet(receives(MSG_JOB, Stop), derive(Debug, Clone))]
fn logger() -> String {
    let first = receive::<LoggerMsg>().next().unwrap();
    format!("{:?}", first.clone())
}

fn main() {
    let status = dispatch(|| {
        let workers = [Summer::new().spawn(), Summer::new().spawn()];
        let count = Counter::new().spawn();
        let plain = Builder::new().receives::<JobMsg>().spawn(|| receive::<JobMsg>().next());
        let seen = std::rc::Rc::new(std::cell::Cell::new(0));
        let s = seen.clone();
        let recv = receiver(move |msg: JobMsg| {
            if let JobMsg::MSG_JOB(MSG_JOB(n)) = msg {
                s.set(s.get() + n);
            }
        });
        for w in &workers {
            MSG_JOB::send(w)(5).unwrap();
            Stop::send(w)().unwrap();
        }
        MSG_JOB::send(&count)(1).unwrap();
        Stop::send(&count)().unwrap();
        MSG_JOB::send(&plain)(7).unwrap();
        MSG_JOB::send(&recv)(9).unwrap();
        let log = Logger::new().spawn();
        MSG_JOB::send(&log)(3).unwrap();
        for w in workers {
            assert_eq!(w.join().unwrap(), 5);
        }
        assert_eq!(count.join().unwrap(), 1);
        assert_eq!(plain.join().unwrap(), Some(JobMsg::MSG_JOB(MSG_JOB(7))));
        assert_eq!(log.join().unwrap(), "MSG_JOB(MSG_JOB(3))");
        concurrence::yield_();
        assert_eq!(seen.get(), 9);
        recv.kill();
    });
    assert!(status.success(), "{status}");
}
