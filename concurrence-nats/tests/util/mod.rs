//! A real nats-server on loopback for the tests: started on ports the kernel picks, killed
//! when dropped; several of them routed into a cluster.

#![allow(dead_code)] // each test binary uses part of it

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a server may take to start.
const START: Duration = Duration::from_secs(15);

/// A nats-server process on 127.0.0.1.
pub struct NatsServer {
    child: Child,
    /// The port clients connect to.
    pub port: u16,
    /// The port of routes from other cluster members, for a cluster member.
    pub cluster_port: Option<u16>,
}

impl NatsServer {
    /// A server alone.
    pub fn start() -> NatsServer {
        NatsServer::start_with(&[])
    }

    /// A server with these extra arguments (`--max_payload`, cluster settings).
    pub fn start_with(args: &[&str]) -> NatsServer {
        let clustered = args.contains(&"--cluster");
        let mut child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", "-1"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nats-server starts (scripts/test installs it)");
        let stderr = child.stderr.take().expect("piped");
        let (lines, seen) = mpsc::channel();
        // Read for the server's life, so that its log never fills the pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var_os("NATS_LOG").is_some() {
                    eprintln!("nats-server: {line}");
                }
                let _ = lines.send(line);
            }
        });
        let port_after = |line: &str, what: &str| {
            line.split(what)
                .nth(1)
                .and_then(|rest| rest.trim().rsplit(':').next())
                .and_then(|port| port.parse::<u16>().ok())
        };
        let (mut port, mut cluster_port) = (None, None);
        while port.is_none() || (clustered && cluster_port.is_none()) {
            let line = match seen.recv_timeout(START) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    panic!("nats-server did not start within {START:?}");
                }
            };
            port = port.or(port_after(&line, "Listening for client connections on"));
            cluster_port = cluster_port.or(port_after(&line, "Listening for route connections on"));
        }
        // The rest of the log is read and dropped.
        std::thread::spawn(move || while seen.recv().is_ok() {});
        NatsServer {
            child,
            port: port.expect("read"),
            cluster_port,
        }
    }

    /// A cluster of `n` servers, each routed to the first.
    pub fn cluster(n: usize) -> Vec<NatsServer> {
        let first = NatsServer::start_with(&[
            "--cluster_name",
            "concurrence",
            "--cluster",
            "nats://127.0.0.1:-1",
        ]);
        let routes = format!(
            "nats://127.0.0.1:{}",
            first.cluster_port.expect("clustered")
        );
        let mut servers = vec![first];
        for _ in 1..n {
            servers.push(NatsServer::start_with(&[
                "--cluster_name",
                "concurrence",
                "--cluster",
                "nats://127.0.0.1:-1",
                "--routes",
                &routes,
            ]));
        }
        servers
    }

    /// The address clients connect to.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: no goodbye to its clients).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `f` as the first tasklet of a dispatcher connected to a fresh nats-server; the test
/// fails unless the dispatcher ends with every tasklet finished.
pub fn with_nats(f: impl FnOnce(concurrence_nats::Nats) + 'static) {
    let server = NatsServer::start();
    let addr = server.addr();
    let status = concurrence::dispatch(move || {
        f(concurrence_nats::Nats::connect(addr).expect("connects to the test's nats-server"))
    });
    assert!(status.success(), "{status:?}");
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
