//! The runnable programs are this package's examples (`cargo run --example NAME`); this library checks that the tour in the README
//! compiles and runs (its Rust blocks are doctests), and holds [`memcache`], the memcached
//! client the `memcache` example uses.
#![doc = include_str!("../../README.md")]

pub mod memcache;

/// The command line of the counting examples (`counter`, `printer`): `[N] [PERIOD_MS]`, each
/// defaulting to 10 numbers and 100 ms. A word that is not a number ends the program with
/// `usage` and the word.
pub fn count_and_period(usage: &str) -> (u64, std::time::Duration) {
    let mut args = std::env::args().skip(1).map(|a| {
        a.parse::<u64>().unwrap_or_else(|_| {
            eprintln!("usage: {usage} [N] [PERIOD_MS]: {a:?} is not a number");
            std::process::exit(2)
        })
    });
    let numbers = args.next().unwrap_or(10);
    let period = std::time::Duration::from_millis(args.next().unwrap_or(100));
    (numbers, period)
}

/// The command line of the server examples (`http`, `kv`): the positional arguments, and the
/// number of dispatchers `--threads N` (or `--threads=N`) asks for, anywhere on the line: 1
/// when it is absent, 0 for one per core, as [`Dispatcher::threads`](concurrence::Dispatcher::threads)
/// takes it. A missing or non-numeric N ends the program with `usage`.
pub fn server_args(usage: &str) -> (Vec<String>, usize) {
    let fail = |why: String| -> ! {
        eprintln!("usage: {usage}: {why}");
        std::process::exit(2)
    };
    let mut positional = Vec::new();
    let mut threads = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = if arg == "--threads" {
            args.next()
                .unwrap_or_else(|| fail("--threads needs a number".into()))
        } else if let Some(value) = arg.strip_prefix("--threads=") {
            value.to_owned()
        } else {
            positional.push(arg);
            continue;
        };
        threads = value
            .parse()
            .unwrap_or_else(|_| fail(format!("--threads {value:?} is not a number")));
    }
    (positional, threads)
}
