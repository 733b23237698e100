//! The mapping budget for guarded stacks, and many live tasklets past it. Its own test binary,
//! because the budget is shared by the whole process.

use std::time::Duration;

use concurrence::{guarded_budget, join_all, sleep, Builder, Dispatcher, JoinCause, StackMode};
use concurrence_tests::run_with;

#[test]
fn guarded_mode_fails_clearly_past_the_budget_and_auto_mode_goes_on_with_canaries() {
    let budget = guarded_budget();
    assert!(budget > 1000, "vm.max_map_count / 4 = {budget}");
    // Guarded: the tasklets past the budget cannot start, and say why.
    let status = run_with(
        Dispatcher::new()
            .stack_mode(StackMode::Guarded)
            .handle_sigint(false),
        move || {
            let tasks: Vec<_> = (0..budget + 10)
                .map(|_| Builder::new().spawn(|| sleep(Duration::from_millis(300))))
                .collect();
            let results = join_all(&tasks);
            let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
            assert!(failed.len() >= 10, "{} failed", failed.len());
            let JoinCause::NoStack(why) = failed[0].cause() else {
                panic!("unexpected cause {:?}", failed[0].cause());
            };
            assert!(why.contains("vm.max_map_count"), "{why}");
        },
    );
    assert!(status.success(), "{status}");
    // Auto: 100,000 tasklets sleep at once, past the guarded budget.
    let status = run_with(Dispatcher::new().handle_sigint(false), || {
        let tasks: Vec<_> = (0..100_000u32)
            .map(|i| {
                Builder::new().spawn(move || {
                    sleep(Duration::from_millis(200));
                    i
                })
            })
            .collect();
        let ok = join_all(&tasks).into_iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 100_000);
    });
    assert!(status.success(), "{status}");
}
