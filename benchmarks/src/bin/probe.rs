//! Runs one workload of concurrence in this process, for profilers (valgrind's callgrind counts
//! instructions reproducibly): `probe WORKLOAD N`. Compare two sizes to get the cost per
//! operation without the start-up. `probe --compact WORKLOAD N` runs it with compact stacks.

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = if args.first().map(String::as_str) == Some("--compact") {
        args.remove(0);
        concurrence_benchmarks::Runtime::ConcurrenceCompact
    } else {
        concurrence_benchmarks::Runtime::Concurrence
    };
    let workload = args
        .first()
        .and_then(|w| concurrence_benchmarks::Workload::from_name(w))
        .expect("usage: probe WORKLOAD N");
    let n: u64 = args
        .get(1)
        .and_then(|n| n.parse().ok())
        .expect("usage: probe WORKLOAD N");
    let sample = concurrence_benchmarks::measure(runtime, workload, n)
        .expect("concurrence has every workload");
    println!("{sample}");
}
