//! Compile-fail cases: each `tests/ui/<area>/<mistake>.rs` must fail to compile with the
//! reviewed message in its `.stderr` (regenerate with `TRYBUILD=overwrite`, then review).

#[test]
fn runtime_misuse_is_rejected_at_compile_time() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/runtime/*.rs");
}
