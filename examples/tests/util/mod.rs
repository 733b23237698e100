//! Running the example programs: bounded in time, output captured. Each test file uses a part.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The path of the example program `name`, built (once per test binary, by cargo, which only
/// rebuilds what changed) with the profile of the running tests. `cargo test` builds every
/// example anyway; this makes `cargo test --test NAME` alone work too.
pub fn example(name: &str) -> String {
    static BUILT: Once = Once::new();
    // The test binary is target/<profile>/deps/<test>-<hash>.
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .to_path_buf();
    BUILT.call_once(|| {
        let mut build = Command::new(env!("CARGO"));
        build.args([
            "build",
            "--quiet",
            "-p",
            "concurrence-examples",
            "--examples",
        ]);
        // Only the environment the user gave cargo: the variables cargo sets for this test
        // (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, ...) are tracked by some build scripts and
        // crates, so each build would undo the other's work.
        build.env_clear();
        for (key, value) in std::env::vars_os() {
            let name = key.to_string_lossy();
            let users = [
                "PATH",
                "HOME",
                "TMPDIR",
                "RUSTFLAGS",
                "RUSTDOCFLAGS",
                "RUSTC",
            ];
            let cargo = ["CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_INCREMENTAL"];
            let prefixes = [
                "RUSTUP_",
                "RUSTC_",
                "CARGO_BUILD_",
                "CARGO_PROFILE_",
                "CARGO_REGISTRIES_",
                "CARGO_NET_",
                "CARGO_HTTP_",
            ];
            if users.contains(&&*name)
                || cargo.contains(&&*name)
                || prefixes.iter().any(|prefix| name.starts_with(prefix))
            {
                build.env(&key, value);
            }
        }
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo to build the examples");
        assert!(status.success(), "building the examples failed: {status}");
    });
    let path = profile_dir.join("examples").join(name);
    assert!(path.exists(), "no example program at {}", path.display());
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// Runs `exe` to completion (at most 60 s).
pub fn run(exe: &str) -> Output {
    run_for(exe, None)
}

/// Runs `exe`; after `interrupt_after` sends it SIGINT. Fails the test if it has not ended 60 s
/// later.
pub fn run_for(exe: &str, interrupt_after: Option<Duration>) -> Output {
    run_full(exe, &[], &[], interrupt_after)
}

/// Runs `exe` with `args` to completion (at most 60 s).
pub fn run_with_args(exe: &str, args: &[&str]) -> Output {
    run_full(exe, args, &[], None)
}

/// Runs `exe` with `args` and extra environment variables to completion (at most 60 s).
pub fn run_with_env(exe: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    run_full(exe, args, env, None)
}

fn run_full(
    exe: &str,
    args: &[&str],
    env: &[(&str, &str)],
    interrupt_after: Option<Duration>,
) -> Output {
    let mut child = Command::new(exe)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example");
    let start = Instant::now();
    let mut interrupted = false;
    loop {
        if child.try_wait().expect("poll the example").is_some() {
            break;
        }
        if let Some(after) = interrupt_after {
            if !interrupted && start.elapsed() >= after {
                // SAFETY: sending a signal to our own child process, which is still running.
                unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
                interrupted = true;
            }
        }
        if start.elapsed() > Duration::from_secs(60) + interrupt_after.unwrap_or_default() {
            let _ = child.kill();
            panic!("{exe} did not end");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output {
        status: child.wait().unwrap(),
        stdout,
        stderr,
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

pub fn assert_interrupted(out: &Output) {
    assert_eq!(out.status.code(), Some(130), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted by SIGINT"), "stderr: {stderr}");
}

/// A server example started on a free port (it prints `... listening on ADDRESS` first),
/// stopped (SIGINT, then SIGKILL) when dropped.
pub struct ServerProcess {
    child: std::process::Child,
    pub port: u16,
}

impl ServerProcess {
    /// Starts `exe 127.0.0.1:0` and reads the port from its first line.
    pub fn start(exe: &str) -> ServerProcess {
        ServerProcess::start_with(exe, &[])
    }

    /// Starts `exe 127.0.0.1:0 ARGS...` and reads the port from its first line.
    pub fn start_with(exe: &str, args: &[&str]) -> ServerProcess {
        use std::io::BufRead;
        let mut child = Command::new(exe)
            .arg("127.0.0.1:0")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server example");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("its first line");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        ServerProcess { child, port }
    }

    /// Stops it with SIGINT and returns its exit code (bounded: 20 s).
    pub fn interrupt(mut self) -> Option<i32> {
        // SAFETY: a signal to our own child, which has not been reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a client program to completion (bounded: 30 s) with `input` on its stdin.
pub fn client(program: &str, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{program} is installed (scripts/test installs it): {err}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{program} did not end");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}
