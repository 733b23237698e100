//! Runs one workload of concurrence in this process, for profilers (valgrind's callgrind counts
//! instructions reproducibly): `probe WORKLOAD N`. Compare two sizes to get the cost per
//! operation without the start-up. `probe --compact WORKLOAD N` runs it with compact stacks.
//! The workloads that cross cores (`xd-*`) run on two dispatchers.

use clap::Parser;
use concurrence_benchmarks::{measure, Runtime, Workload};

/// Runs one workload of concurrence in this process and prints what it measured (for
/// profilers: compare two sizes to get the cost per operation without the start-up).
#[derive(Parser)]
#[command(name = "probe")]
struct Cli {
    /// Runs the tasklets on compact stacks (`StackMode::compact`).
    #[arg(long)]
    compact: bool,
    /// The workload to run.
    #[arg(value_enum)]
    workload: Workload,
    /// The workload's size.
    n: u64,
}

fn main() {
    let cli = Cli::parse();
    let runtime = if cli.workload.crosses_cores() {
        Runtime::Concurrence2
    } else if cli.compact {
        Runtime::ConcurrenceCompact
    } else {
        Runtime::Concurrence
    };
    let sample = measure(runtime, cli.workload, cli.n).expect("concurrence has every workload");
    println!("{sample}");
}
