//! Looks on PATH for the real clients and servers that the examples' tests drive, and sets the
//! cfg `has_PROGRAM` for each one found (`has_redis_cli` for redis-cli). A test that needs a
//! program this machine lacks carries `#[cfg_attr(not(has_PROGRAM), ignore = "needs PROGRAM
//! ...")]`: plain `cargo test --workspace` reports it as ignored, with the program named, instead
//! of failing. `scripts/test` (the README's test command) installs the programs first and fails
//! if a test was still ignored for one of them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The programs, each with its cfg name. `scripts/test` installs the same ones.
const PROGRAMS: [(&str, &str); 5] = [
    ("socat", "has_socat"),
    ("curl", "has_curl"),
    ("redis-cli", "has_redis_cli"),
    ("memcached", "has_memcached"),
    ("openssl", "has_openssl"),
];

fn main() {
    // The answer depends on PATH and on what its directories hold: the script runs again when
    // PATH changes or when a program is installed into (or removed from) one of them, which
    // changes the directory's modification time. Relative entries are left out: they name a
    // different directory for the build script (run in the package's directory) than for a
    // test, and are not where apt-get installs.
    println!("cargo::rerun-if-env-changed=PATH");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute() && dir.is_dir())
        .collect();
    for dir in &dirs {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    for (program, cfg) in PROGRAMS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if dirs.iter().any(|dir| is_executable(&dir.join(program))) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}

/// Whether `path` is a file (or a link to one) that someone may execute, as a shell looking the
/// program up on PATH requires.
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
