//! Guarded stacks for many live tasklets: page-table guards cost no mappings, and the fallback
//! for kernels without them (forced here with CONCURRENCE_STACK_GUARDS=mprotect) fails clearly
//! past its budget. Each case runs in a child process: the budget and the maps are per process.

use std::time::Duration;

use concurrence::{guarded_budget, join_all, sleep, Builder, Dispatcher, JoinCause};
use concurrence_tests::{
    assert_passed, is_child, mapping_count, run_child, run_child_with_env, run_with,
};

#[test]
fn a_hundred_thousand_live_tasklets_are_all_guarded_in_a_few_mappings() {
    const NAME: &str = "a_hundred_thousand_live_tasklets_are_all_guarded_in_a_few_mappings";
    if is_child(NAME) {
        assert_eq!(
            guarded_budget(),
            None,
            "this kernel installs guard pages in page tables"
        );
        run_with(Dispatcher::new().handle_sigint(false), || {
            let before = mapping_count();
            let tasks: Vec<_> = (0..100_000u32)
                .map(|i| {
                    Builder::new().spawn(move || {
                        sleep(Duration::from_millis(500));
                        i
                    })
                })
                .collect();
            sleep(Duration::from_millis(100)); // every tasklet has its stack now
            let during = mapping_count();
            assert!(during < before + 200, "{before} -> {during} mappings");
            let ok = join_all(&tasks).into_iter().filter(|r| r.is_ok()).count();
            assert_eq!(ok, 100_000);
        });
        return;
    }
    assert_passed(&run_child(NAME));
}

#[test]
fn without_page_table_guards_tasklets_past_the_mapping_budget_fail_clearly() {
    const NAME: &str = "without_page_table_guards_tasklets_past_the_mapping_budget_fail_clearly";
    if is_child(NAME) {
        let budget = guarded_budget().expect("mprotect guards have a budget");
        assert!(budget > 1000, "vm.max_map_count / 4 = {budget}");
        run_with(Dispatcher::new().handle_sigint(false), move || {
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
            // Once they ended, their stacks serve new tasklets.
            let again = Builder::new().spawn(|| 7).join();
            assert_eq!(again.unwrap(), 7);
        });
        return;
    }
    assert_passed(&run_child_with_env(
        NAME,
        &[("CONCURRENCE_STACK_GUARDS", "mprotect")],
    ));
}
