//! Child processes whose waits and pipes suspend only the calling tasklet (kiwi's
//! `WaitForProcess`): [`Command`], [`Child`] and the child's stdio.
//!
//! A child's exit is waited for through a pidfd (Linux 5.3+), which the dispatcher's poller
//! watches like a socket; where the kernel has no pidfd, the wait polls the child every few
//! milliseconds instead (sleeping between, so other tasklets run). The stdio pipes are
//! [`Registered`] non-blocking descriptors.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{self as stdprocess, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::engine::condition::{first, sealed, wait_until, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::error::TimeoutError;
use crate::io::fd::{FdWake, Ready};
use crate::io::source::Dir;
use crate::io::Registered;

/// Builds and starts a child process: std's `Command`, whose `spawn` gives a [`Child`] that
/// tasklets wait for without blocking the dispatcher, and whose [`output`](Command::output) and
/// [`status`](Command::status) suspend only the calling tasklet.
///
/// # Examples
///
/// ```
/// use concurrence::dispatch;
/// use concurrence::process::Command;
///
/// dispatch(|| {
///     let out = Command::new("sh").args(["-c", "echo hello; exit 3"]).output().unwrap();
///     assert_eq!(out.stdout, b"hello\n");
///     assert_eq!(out.status.code(), Some(3));
/// });
/// ```
pub struct Command {
    inner: stdprocess::Command,
}

impl Command {
    /// A command running `program`, with std's defaults (inherited stdio for `spawn` and
    /// `status`, piped stdout and stderr for `output`).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            inner: stdprocess::Command::new(program),
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.inner.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.inner.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.inner.env(key, value);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.inner.env_remove(key);
        self
    }

    /// Starts with an empty environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.inner.env_clear();
        self
    }

    /// The working directory of the child.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.inner.current_dir(dir);
        self
    }

    /// The child's standard input.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stdin(cfg);
        self
    }

    /// The child's standard output.
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stdout(cfg);
        self
    }

    /// The child's standard error.
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stderr(cfg);
        self
    }

    /// The std command, for what this wrapper does not forward.
    pub fn as_std_mut(&mut self) -> &mut stdprocess::Command {
        &mut self.inner
    }

    /// Starts the child. Its piped stdio comes as [`ChildStdin`], [`ChildStdout`] and
    /// [`ChildStderr`], whose reads and writes suspend only the calling tasklet.
    ///
    /// # Errors
    ///
    /// When the program cannot be started.
    pub fn spawn(&mut self) -> io::Result<Child> {
        Child::from_std(self.inner.spawn()?)
    }

    /// Runs the child to its end and returns its exit status (stdio inherited).
    ///
    /// The child is this call's alone: when the calling tasklet is killed while it waits, the
    /// child is killed (SIGKILL) and reaped before the kill goes on, so nothing of it is left
    /// behind. (Dropping a [`Child`] from [`spawn`](Command::spawn) does neither, as std's.)
    ///
    /// # Errors
    ///
    /// When the program cannot be started or waited for.
    #[track_caller]
    pub fn status(&mut self) -> io::Result<ExitStatus> {
        Owned(self.spawn()?).wait()
    }

    /// Runs the child to its end with stdout and stderr piped (stdin empty) and returns all
    /// they wrote and its exit status; both pipes are read at once, so a child that fills one
    /// while the other is read does not stall. The calling tasklet reads both itself: no other
    /// tasklet is started.
    ///
    /// Everything this call starts ends with it: on an error, or when the calling tasklet is
    /// killed, the child is killed (SIGKILL) and reaped, and its pipes are closed, so neither a
    /// zombie nor a wait for a descendant that holds the pipes open is left behind.
    ///
    /// # Errors
    ///
    /// When the program cannot be started, or a pipe fails.
    #[track_caller]
    pub fn output(&mut self) -> io::Result<Output> {
        self.inner
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = Owned(self.spawn()?);
        let mut pipes = [
            Pipe::new(child.0.stdout.take().map(|p| p.io.into_inner().into())),
            Pipe::new(child.0.stderr.take().map(|p| p.io.into_inner().into())),
        ];
        read_all(&mut pipes)?;
        let status = child.wait()?;
        let [stdout, stderr] = pipes.map(|p| p.data);
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

/// A child that a call of [`Command`] owns wholly: unless waited for to its end, it is killed
/// and reaped when dropped (on an error or a kill of the calling tasklet).
struct Owned(Child);

impl Owned {
    /// Waits for the child's end; the child is reaped then, and dropping does nothing more.
    #[track_caller]
    fn wait(&mut self) -> io::Result<ExitStatus> {
        self.0.wait()
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.0.try_wait() {
            return; // ended and reaped already
        }
        let _ = self.0.kill();
        // A killed child ends at once; the wait suspends only this tasklet (a second kill of
        // an unwinding tasklet ends one wait early, hence the loop).
        loop {
            match self.0.wait_until(None) {
                Ok(Some(_)) => return,
                Ok(None) => continue,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // The wait itself failed: reap on the thread (the child is dying).
                    let _ = self.0.inner.wait();
                    return;
                }
            }
        }
    }
}

/// One of the pipes `output` reads: everything read so far, and the pipe until its end.
struct Pipe {
    /// The read end (non-blocking); `None` once at its end, or never piped.
    file: Option<std::fs::File>,
    data: Vec<u8>,
}

impl Pipe {
    fn new(file: Option<OwnedFd>) -> Pipe {
        Pipe {
            file: file.map(std::fs::File::from),
            data: Vec::new(),
        }
    }

    /// Reads what the pipe holds now, without waiting; closes it at its end.
    fn drain(&mut self) -> io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match (&*file).read(&mut chunk) {
                Ok(0) => {
                    self.file = None;
                    return Ok(());
                }
                Ok(n) => self.data.extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }
}

/// Reads every pipe to its end, waiting for whichever has data: in a tasklet only the tasklet
/// waits; outside one the thread does, with `poll(2)`.
#[track_caller]
fn read_all(pipes: &mut [Pipe]) -> io::Result<()> {
    loop {
        for pipe in pipes.iter_mut() {
            pipe.drain()?;
        }
        let open: Vec<BorrowedFd<'_>> = pipes
            .iter()
            .filter_map(|p| p.file.as_ref().map(AsFd::as_fd))
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        if scheduler::try_get().and_then(|s| s.current()).is_some() {
            let mut ready: Vec<Ready<'_>> =
                open.iter().map(|&fd| Ready::new(fd, Dir::Read)).collect();
            match first(&mut ready) {
                Ok((_, readiness)) => drop(readiness?),
                // Killed again while unwinding (output called from a destructor during a kill).
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::Interrupted,
                        "concurrence: output's wait ended early: the tasklet was killed while unwinding",
                    ))
                }
            }
        } else {
            poll_any(&open)?;
        }
    }
}

/// Waits with `poll(2)`, blocking the thread, until one of `fds` is readable (or at its end).
fn poll_any(fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `pollfds` is a valid array of `pollfds.len()` entries for the whole call.
        let n = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, -1) };
        if n >= 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

impl From<stdprocess::Command> for Command {
    fn from(inner: stdprocess::Command) -> Command {
        Command { inner }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A running child process: std's `Child`, whose [`wait`](Child::wait) suspends only the
/// calling tasklet. Like std's, dropping it neither kills nor waits for the process.
pub struct Child {
    inner: stdprocess::Child,
    /// Readable once the process has ended (none where the kernel has no pidfd).
    pidfd: Option<Registered<OwnedFd>>,
    /// Its standard input, when piped.
    pub stdin: Option<ChildStdin>,
    /// Its standard output, when piped.
    pub stdout: Option<ChildStdout>,
    /// Its standard error, when piped.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    /// Wraps a std child (its piped stdio too).
    ///
    /// # Errors
    ///
    /// When a pipe cannot be put in non-blocking mode.
    pub fn from_std(mut inner: stdprocess::Child) -> io::Result<Child> {
        // SAFETY: pidfd_open has no memory arguments; a non-negative result is a new
        // descriptor, which the OwnedFd then owns.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, inner.id(), 0) };
        let pidfd = if pidfd >= 0 {
            // SAFETY: as above: a fresh descriptor with no other owner.
            Some(Registered::new(unsafe {
                OwnedFd::from_raw_fd(pidfd as i32)
            })?)
        } else {
            None // no pidfd (before Linux 5.3): `wait` polls instead
        };
        Ok(Child {
            stdin: inner.stdin.take().map(ChildStdin::new).transpose()?,
            stdout: inner.stdout.take().map(ChildStdout::new).transpose()?,
            stderr: inner.stderr.take().map(ChildStderr::new).transpose()?,
            inner,
            pidfd,
        })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.inner.id()
    }

    /// Sends SIGKILL (as std's `kill`).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn kill(&mut self) -> io::Result<()> {
        self.inner.kill()
    }

    /// Its exit status if it has ended, without waiting.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.inner.try_wait()
    }

    /// Waits for the process to end and returns its status; only the calling tasklet waits. Its
    /// stdin, if piped, is closed first (as std does), so a child reading it sees the end.
    ///
    /// # Errors
    ///
    /// The OS's error.
    #[track_caller]
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        loop {
            if let Some(status) = self.wait_until(None)? {
                return Ok(status);
            }
        }
    }

    /// [`wait`](Child::wait), at most `timeout`. As for [`Tasklet::join_timeout`], the outer
    /// `Result` says whether the process ended in time, the inner one what `wait` gave.
    ///
    /// [`Tasklet::join_timeout`]: crate::Tasklet::join_timeout
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the process is still running after `timeout`.
    #[track_caller]
    pub fn wait_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<io::Result<ExitStatus>, TimeoutError> {
        self.wait_until(Some(deadline_after(timeout)))
            .transpose()
            .ok_or(TimeoutError)
    }

    #[track_caller]
    fn wait_until(&mut self, deadline: Option<Instant>) -> io::Result<Option<ExitStatus>> {
        if scheduler::try_get().and_then(|s| s.current()).is_some() {
            return wait_until(Exit::new(self), deadline).transpose();
        }
        // Outside a tasklet the thread waits, as with std.
        let Some(deadline) = deadline else {
            return self.inner.wait().map(Some);
        };
        let mut nap = Duration::from_millis(1);
        loop {
            if let Some(status) = self.inner.try_wait()? {
                return Ok(Some(status));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            std::thread::sleep(nap.min(left));
            nap = (nap * 2).min(MAX_NAP);
        }
    }
}

/// A child process ending: the condition of [`wait_for::exit`](crate::wait_for::exit) (kiwi's
/// `WaitForProcess`). It fires with the process's exit status (or the OS's error asking for
/// it). The end is announced by a pidfd where the kernel has them (Linux 5.3 and later);
/// elsewhere the condition looks again after growing naps, 1 to 50 ms.
pub struct Exit<'a> {
    child: &'a mut Child,
    wake: FdWake,
    /// Without a pidfd: when to look again, and the nap after that.
    next_look: Option<(Instant, Duration)>,
}

impl<'a> Exit<'a> {
    pub(crate) fn new(child: &'a mut Child) -> Exit<'a> {
        Exit {
            child,
            wake: FdWake::default(),
            next_look: None,
        }
    }
}

impl sealed::Sealed for Exit<'_> {}

impl Condition for Exit<'_> {
    type Output = io::Result<ExitStatus>;

    fn poll(&mut self) -> Option<io::Result<ExitStatus>> {
        if let Some(err) = self.wake.failed.take() {
            return Some(Err(err));
        }
        self.child.inner.try_wait().transpose()
    }

    fn arm(&mut self, waiter: &Waiter) {
        match &self.child.pidfd {
            Some(pidfd) => self.wake.arm(pidfd.get_ref().as_fd(), Dir::Read, waiter),
            None => {
                let nap = self
                    .next_look
                    .map_or(Duration::from_millis(1), |(_, nap)| nap);
                self.next_look = Some((Instant::now() + nap, (nap * 2).min(MAX_NAP)));
            }
        }
    }

    fn disarm(&mut self, waiter: &Waiter) {
        self.wake.disarm(waiter);
    }

    fn fires_at(&self) -> Option<Instant> {
        self.next_look.map(|(at, _)| at)
    }

    fn label(&self) -> Label {
        Label(WaitOn::Exit(self.child.id()))
    }
}

/// The longest nap between two looks at a child without a pidfd.
const MAX_NAP: Duration = Duration::from_millis(50);

impl fmt::Debug for Exit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exit")
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

macro_rules! pipe_end {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        pub struct $name {
            io: Registered<$std>,
        }

        impl $name {
            fn new(end: $std) -> io::Result<$name> {
                Ok($name {
                    io: Registered::new(end)?,
                })
            }

            /// The std pipe end (still non-blocking).
            pub fn into_std(self) -> $std {
                self.io.into_inner()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

pipe_end!(
    /// A child's piped standard input: writes suspend only the calling tasklet.
    ChildStdin,
    stdprocess::ChildStdin
);
pipe_end!(
    /// A child's piped standard output: reads suspend only the calling tasklet.
    ChildStdout,
    stdprocess::ChildStdout
);
pipe_end!(
    /// A child's piped standard error: reads suspend only the calling tasklet.
    ChildStderr,
    stdprocess::ChildStderr
);

impl Write for ChildStdin {
    #[track_caller]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for ChildStdout {
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read(buf)
    }
}

impl Read for ChildStderr {
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read(buf)
    }
}
