//! The one-command benchmark runner: every workload on every runtime, each measurement in a
//! fresh child process, the median of several runs, printed as two tables with ratios: one
//! core (concurrence on one dispatcher against the peers), and two cores (concurrence on two
//! dispatchers, `conc-2`, against one dispatcher and the peers' two workers or threads).
//!
//! ```text
//! cargo run --release -p concurrence-benchmarks --features peers --bin runner -- [OPTIONS]
//! ```
//!
//! `runner --help` lists the options: `--quick` (tiny sizes, a smoke run of a few seconds),
//! `--runs K` (runs per measurement, the median is kept; 3 by default), `--only a,b` (only these
//! workloads, named as in the table) and `--csv FILE` (also write the medians as CSV, for
//! plot.py). `runner child RUNTIME WORKLOAD N` makes one measurement in its own process: it is
//! what the runner spawns for each cell.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use concurrence_benchmarks::{measure, Runtime, Sample, Workload};

/// Runs every workload on every runtime, each measurement in a fresh child process, and prints
/// the medians as a table with ratios.
#[derive(Parser)]
#[command(name = "runner", args_conflicts_with_subcommands = true)]
struct Cli {
    /// Tiny sizes: a smoke run of a few seconds.
    #[arg(long)]
    quick: bool,
    /// Runs per measurement; the median is kept.
    #[arg(long, value_name = "K", default_value_t = 3)]
    runs: usize,
    /// Only these workloads (named as in the table), separated by commas.
    #[arg(long, value_name = "WORKLOADS", value_enum, value_delimiter = ',')]
    only: Option<Vec<Workload>>,
    /// Also write the medians as CSV to FILE (for plot.py).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    #[command(subcommand)]
    mode: Option<Mode>,
}

/// What the runner does instead of the whole table.
#[derive(Subcommand)]
enum Mode {
    /// Makes one measurement in this process and prints it (the runner spawns one per cell).
    Child {
        /// The runtime to measure.
        #[arg(value_enum)]
        runtime: Runtime,
        /// The workload to run.
        #[arg(value_enum)]
        workload: Workload,
        /// The workload's size.
        n: u64,
    },
}

/// Which table a row is in: each has its columns, and its first column is the one the others
/// are divided by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    /// One dispatcher against the peers on one core (tokio-mt2 and may have two workers, but
    /// the work is on one task at a time).
    OneCore,
    /// Two dispatchers against the peers' two workers or threads, and against one dispatcher.
    TwoCores,
}

impl Table {
    fn columns(self) -> &'static [Runtime] {
        match self {
            Table::OneCore => &[
                Runtime::Concurrence,
                Runtime::ConcurrenceCompact,
                Runtime::TokioCurrentThread,
                Runtime::TokioMultiThread2,
                Runtime::May1,
                Runtime::MayDefault,
                Runtime::Threads,
                Runtime::Actix,
                Runtime::Ractor,
                Runtime::Kameo,
            ],
            Table::TwoCores => &[
                Runtime::Concurrence2,
                Runtime::Concurrence,
                Runtime::TokioMultiThread2,
                Runtime::MayDefault,
                Runtime::Threads,
            ],
        }
    }

    fn title(self) -> &'static str {
        match self {
            Table::OneCore => "One core",
            Table::TwoCores => "Two cores",
        }
    }
}

/// One row of a table: a workload at a size.
struct Row {
    table: Table,
    workload: Workload,
    n: u64,
    label: String,
}

fn rows(quick: bool) -> Vec<Row> {
    let row = |table: Table, workload: Workload, n: u64, full: u64| Row {
        table,
        workload,
        n: if quick { n } else { full },
        label: {
            let name = match table {
                // Its own label, so that the CSV and the plot tell it from the one-core row.
                Table::TwoCores if workload == Workload::Skynet => "skynet 2 cores",
                _ => workload.name(),
            };
            if quick {
                name.to_owned()
            } else {
                match workload {
                    Workload::SpawnJoinBatch => format!("{name} (100k)"),
                    Workload::Skynet => format!("{name} (1M leaves)"),
                    Workload::ManyLive => format!("{name} ({}k)", full / 1000),
                    Workload::Timers => format!("{name} (100k)"),
                    Workload::XdOneWay => format!("{name} (1M)"),
                    _ => name.to_owned(),
                }
            }
        },
    };
    use Table::{OneCore, TwoCores};
    vec![
        row(OneCore, Workload::Switch, 1_000, 500_000),
        row(OneCore, Workload::PingPong, 1_000, 200_000),
        row(OneCore, Workload::CallReply, 1_000, 200_000),
        row(OneCore, Workload::Channel, 1_000, 200_000),
        row(OneCore, Workload::SpawnJoinSeq, 500, 100_000),
        row(OneCore, Workload::SpawnJoinBatch, 1_000, 100_000),
        row(OneCore, Workload::Skynet, 1_000, 1_000_000),
        row(OneCore, Workload::ManyLive, 1_000, 100_000),
        row(OneCore, Workload::ManyLive, 1_000, 1_000_000),
        row(OneCore, Workload::Timers, 1_000, 100_000),
        row(TwoCores, Workload::XdPingPong, 1_000, 100_000),
        row(TwoCores, Workload::XdOneWay, 10_000, 1_000_000),
        row(TwoCores, Workload::Skynet, 1_000, 1_000_000),
    ]
}

/// The size a runtime runs a row at: OS threads spawn far fewer, and their round trips are
/// slow.
fn size_for(runtime: Runtime, row: &Row) -> u64 {
    match (runtime, row.workload) {
        (Runtime::Threads, Workload::SpawnJoinSeq) => row.n.min(5_000),
        (Runtime::Threads, Workload::XdOneWay) => row.n,
        (Runtime::Threads, _) => row.n.min(50_000),
        _ => row.n,
    }
}

/// A measured cell: the rows of both tables that share a runtime, workload and size (skynet's
/// concurrence, tokio-mt2 and may cells) are measured once.
type Measured = HashMap<(Runtime, Workload, u64), Option<Sample>>;

/// A row as measured: its label, its table and workload, and one cell per column.
type RowResult = (String, Table, Workload, Vec<Option<Sample>>);

fn main() {
    let cli = Cli::parse();
    if let Some(Mode::Child {
        runtime,
        workload,
        n,
    }) = cli.mode
    {
        child(runtime, workload, n);
        return;
    }
    let started = Instant::now();
    let exe = std::env::current_exe().expect("the runner's path");
    let mut measured = Measured::new();
    let mut results: Vec<RowResult> = Vec::new();
    for row in rows(cli.quick) {
        if let Some(only) = &cli.only {
            if !only.contains(&row.workload) {
                continue;
            }
        }
        let mut cells = Vec::new();
        for &runtime in row.table.columns() {
            let n = size_for(runtime, &row);
            eprint!("{} on {} ...", row.label, runtime.name());
            let cell = *measured
                .entry((runtime, row.workload, n))
                .or_insert_with(|| median(cli.runs, || run_child(&exe, runtime, row.workload, n)));
            eprintln!(" {}", cell.map_or("n/a".to_owned(), |s| s.to_string()));
            cells.push(cell);
        }
        results.push((row.label, row.table, row.workload, cells));
    }
    for table in [Table::OneCore, Table::TwoCores] {
        print_table(table, &results);
    }
    if let Some(path) = cli.csv {
        write_csv(&path, &results);
    }
    eprintln!("runner: done in {:.0?}", started.elapsed());
}

/// How long one measurement may take before it counts as failed (a peer that deadlocks when it
/// runs out of resources, as may does past its mapping limit).
const CHILD_LIMIT: Duration = Duration::from_secs(45);

/// Runs one measurement in a child process; `None` when the runtime lacks the workload, and a
/// sample with `failed = u64::MAX` when the child failed (crashed, hung, ran out of resources).
fn run_child(
    exe: &std::path::Path,
    runtime: Runtime,
    workload: Workload,
    n: u64,
) -> Option<Sample> {
    let failed = Sample {
        value: f64::NAN,
        extra: None,
        failed: Some(u64::MAX),
    };
    let mut child = Command::new(exe)
        .args(["child", runtime.name(), workload.name(), &n.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            break status;
        }
        if started.elapsed() > CHILD_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            eprint!(" (killed after {CHILD_LIMIT:?})");
            return Some(failed);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .expect("read the child's output");
    if stdout.trim() == "n/a" {
        return None;
    }
    match stdout.lines().find_map(Sample::parse) {
        Some(sample) if status.success() => Some(sample),
        _ => Some(failed),
    }
}

/// The run with the median main value among `runs` runs (a failed run counts as failed).
fn median(runs: usize, mut once: impl FnMut() -> Option<Sample>) -> Option<Sample> {
    let mut samples = Vec::new();
    for _ in 0..runs.max(1) {
        let sample = once()?;
        if sample.value.is_nan() {
            return Some(sample);
        }
        samples.push(sample);
    }
    samples.sort_by(|a, b| a.value.total_cmp(&b.value));
    Some(samples[samples.len() / 2])
}

/// Makes one measurement and prints it as one line (`n/a` when the runtime lacks the workload).
fn child(runtime: Runtime, workload: Workload, n: u64) {
    #[cfg(feature = "peers")]
    match runtime {
        Runtime::May1 => concurrence_benchmarks::may_rt::configure(1),
        // Two parties on two cores: two workers, whatever the machine has.
        Runtime::MayDefault if workload.crosses_cores() => {
            concurrence_benchmarks::may_rt::configure(2)
        }
        Runtime::MayDefault => concurrence_benchmarks::may_rt::configure(0),
        _ => {}
    }
    match measure(runtime, workload, n) {
        Some(sample) => println!("{sample}"),
        None => println!("n/a"),
    }
    std::io::stdout().flush().unwrap();
}

/// How a cell prints: the main figure, its unit, and the second figure if any.
fn cell_text(workload: Workload, sample: &Sample) -> String {
    if sample.failed == Some(u64::MAX) {
        return "fails".to_owned();
    }
    match workload {
        Workload::Skynet => format!(
            "{:.0} ms, {:.0} MiB",
            sample.value,
            sample.extra.unwrap_or(f64::NAN)
        ),
        Workload::ManyLive => {
            let failed = sample.failed.unwrap_or(0);
            let base = format!(
                "{:.0} ns, {:.2} KiB",
                sample.value,
                sample.extra.unwrap_or(f64::NAN) / 1024.0
            );
            if failed > 0 {
                format!("{base}, {failed} failed")
            } else {
                base
            }
        }
        Workload::Timers => format!(
            "{:.0} ms wall, {:.0} ms CPU",
            sample.value,
            sample.extra.unwrap_or(f64::NAN)
        ),
        Workload::XdPingPong | Workload::XdOneWay => format!(
            "{:.0} ns, {:.0} ns CPU",
            sample.value,
            sample.extra.unwrap_or(f64::NAN)
        ),
        _ => format!("{:.0} ns", sample.value),
    }
}

/// Prints the rows of `table` (nothing when none ran), the ratios to its first column.
fn print_table(table: Table, results: &[RowResult]) {
    let rows: Vec<_> = results.iter().filter(|r| r.1 == table).collect();
    if rows.is_empty() {
        return;
    }
    let columns = table.columns();
    println!("{}:", table.title());
    println!();
    let mut header = String::from("| workload |");
    let mut rule = String::from("|---|");
    for runtime in columns {
        header.push_str(&format!(" {} |", runtime.name()));
        rule.push_str("---|");
    }
    println!("{header}");
    println!("{rule}");
    for (label, _, workload, cells) in rows {
        let ours = cells[0].filter(|s| !s.value.is_nan());
        let mut line = format!("| {label} |");
        for (i, cell) in cells.iter().enumerate() {
            let text = match cell {
                None => "n/a".to_owned(),
                Some(sample) => {
                    let mut text = cell_text(*workload, sample);
                    if let (true, Some(ours)) = (i > 0 && !sample.value.is_nan(), ours) {
                        text.push_str(&format!(" ({:.1}x)", sample.value / ours.value));
                    }
                    text
                }
            };
            line.push_str(&format!(" {text} |"));
        }
        println!("{line}");
    }
    println!();
    println!(
        "(x): the column's main figure divided by {}'s; above 1, {} is faster.",
        columns[0].name(),
        columns[0].name()
    );
    println!();
}

/// Writes the medians as CSV, one line per cell; the first column of a row's table is the one
/// plot.py divides by (concurrence, or conc-2 in the two-core rows).
fn write_csv(path: &Path, results: &[RowResult]) {
    let mut out = String::from("workload,runtime,value,extra,failed\n");
    for (label, table, _, cells) in results {
        for (runtime, cell) in table.columns().iter().zip(cells) {
            if let Some(s) = cell {
                out.push_str(&format!(
                    "{label},{},{},{},{}\n",
                    runtime.name(),
                    s.value,
                    s.extra.map_or(String::new(), |e| e.to_string()),
                    s.failed.map_or(String::new(), |f| f.to_string()),
                ));
            }
        }
    }
    std::fs::write(path, out).expect("write the CSV");
}
