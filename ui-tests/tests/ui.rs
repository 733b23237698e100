//! trybuild cases for the concurrence macros and runtime types.
//!
//! - `tests/ui/runtime/*.rs`, `tests/ui/messages/*.rs`, `tests/ui/select/*.rs` and `tests/ui/remote/*.rs` must fail to compile, each with the
//!   reviewed message in its `.stderr`: one file per mistake, named after it, with a comment
//!   saying what it pins. Regenerate with `TRYBUILD=overwrite`, then review every `.stderr`:
//!   the error must tell the user what to change.
//! - `tests/ui/pass/*.rs` must compile and run: one file per accepted form of `message!` and
//!   `#[tasklet]`, each `main` dispatching and asserting.

#[test]
fn runtime_misuse_is_rejected_at_compile_time() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/runtime/*.rs");
}

#[test]
fn message_and_tasklet_mistakes_are_rejected_with_actionable_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/messages/*.rs");
}

#[test]
fn select_mistakes_are_rejected_at_the_arm_that_has_them() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/select/*.rs");
}

#[test]
fn a_remote_set_of_messages_that_cannot_cross_processes_is_rejected_naming_the_message() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/remote/*.rs");
}

#[test]
fn every_accepted_message_and_tasklet_form_compiles_and_runs() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
}
