//! Looks on PATH for the real clients and servers that the examples' (and concurrence-nats's)
//! tests drive, and sets the
//! cfg `has_PROGRAM` for each one found (`has_redis_cli` for redis-cli). A test that needs a
//! program this machine lacks carries `#[cfg_attr(not(has_PROGRAM), ignore = "needs PROGRAM
//! ...")]`: plain `cargo test --workspace` reports it as ignored, with the program named, instead
//! of failing. `scripts/test` (the README's test command) installs the programs first and fails
//! if a test was still ignored for one of them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The programs, each with its cfg name. `scripts/test` installs the same ones.
const PROGRAMS: [(&str, &str); 6] = [
    ("socat", "has_socat"),
    ("curl", "has_curl"),
    ("redis-cli", "has_redis_cli"),
    ("memcached", "has_memcached"),
    ("openssl", "has_openssl"),
    ("nats-server", "has_nats_server"),
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
    python_modules();
}

/// Sets `has_nats_py` when python3 imports nats-py and msgpack (from PyPI: the Python peer of
/// concurrence-nats's interoperability tests). The script runs again when the place pip
/// installs into changes.
fn python_modules() {
    println!("cargo::rustc-check-cfg=cfg(has_nats_py)");
    let python = |code: &str| {
        std::process::Command::new("python3")
            .args(["-c", code])
            .output()
            .ok()
            .filter(|out| out.status.success())
    };
    if let Some(out) = python("import site, sys; print(site.getsitepackages()[0] if hasattr(site, 'getsitepackages') else sys.prefix)") {
        let packages = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if Path::new(&packages).is_dir() {
            println!("cargo::rerun-if-changed={packages}");
        }
    }
    if python("import nats, msgpack").is_some() {
        println!("cargo::rustc-cfg=has_nats_py");
    }
}

/// Whether `path` is a file (or a link to one) that someone may execute, as a shell looking the
/// program up on PATH requires.
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
