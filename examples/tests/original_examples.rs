//! Runs every tasklet example program of the original documentation and checks what it prints. The ones that run forever are
//! stopped with SIGINT, which also pins the dispatcher's SIGINT handling (status 130).

mod util;

use std::time::Duration;

use util::{assert_interrupted, example, run, run_for, stdout};

#[test]
fn start_prints_start_done_before_the_greetings() {
    let out = run(&example("spawn_greeters"));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "start done.\nHello\nWorld\n");
}

#[test]
fn join_prints_the_results_of_both_subtasks() {
    let out = run(&example("join_subtasks"));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "30\n70\n");
}

#[test]
fn greeters_alternate_hello_and_world_every_second_until_sigint() {
    let out = run_for(
        &example("separate_greeters"),
        Some(Duration::from_millis(2500)),
    );
    assert_interrupted(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 4, "{lines:?}");
    assert!(lines.len() <= 8, "{lines:?}");
    for pair in lines.chunks(2) {
        assert_eq!(pair[0], "Hello");
        if pair.len() == 2 {
            assert_eq!(pair[1], "World");
        }
    }
}

#[test]
fn helpers_loop_interval_and_later_print_on_their_schedules() {
    let out = run_for(
        &example("periodic_helpers"),
        Some(Duration::from_millis(6500)),
    );
    assert_interrupted(&out);
    let text = stdout(&out);
    let count = |s: &str| text.lines().filter(|l| *l == s).count();
    // loop_: every 0.5 s from the start; interval: every second after the first; later: once.
    assert!((8..=14).contains(&count("Hello World")), "{text}");
    assert!((3..=6).contains(&count("Hi There!")), "{text}");
    assert_eq!(count("Nice to see You!"), 1, "{text}");
    let later_at = text.lines().position(|l| l == "Nice to see You!").unwrap();
    let his_before = text
        .lines()
        .take(later_at)
        .filter(|l| *l == "Hi There!")
        .count();
    assert!(his_before >= 3, "later ran after about 5 s: {text}");
}

#[test]
fn current_prints_each_interval_tasklet_with_its_message() {
    let out = run_for(
        &example("current_tasklet"),
        Some(Duration::from_millis(2600)),
    );
    assert_interrupted(&out);
    let text = stdout(&out);
    let task1: Vec<&str> = text.lines().filter(|l| l.ends_with(" Task 1")).collect();
    let task2: Vec<&str> = text.lines().filter(|l| l.ends_with(" Task 2")).collect();
    assert!(task1.len() >= 2 && task2.len() >= 2, "{text}");
    // Each line names the tasklet that printed it: the same one every time, different for 1 and 2.
    let who = |l: &str| l.split(' ').next().unwrap().to_owned();
    assert!(task1.iter().all(|l| who(l) == who(task1[0])));
    assert!(task2.iter().all(|l| who(l) == who(task2[0])));
    assert_ne!(who(task1[0]), who(task2[0]));
    assert!(who(task1[0]).contains('#'), "{text}");
}

#[test]
fn tree_shows_the_named_tasklets_until_they_finish() {
    let out = run_for(&example("task_tree"), Some(Duration::from_millis(3600)));
    assert_interrupted(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..3], ["Hello", "World", "Hi There"], "{text}");
    // After one second: the root and its three named children, one tab deeper.
    assert_eq!(
        lines[3..7],
        ["start", "\ttask1", "\ttask2", "\ttask3"],
        "{text}"
    );
    assert_eq!(lines.iter().filter(|l| **l == "done").count(), 3, "{text}");
    // After they finished, the tree is the root alone.
    let last_done = lines.iter().rposition(|l| *l == "done").unwrap();
    assert!(
        lines[last_done + 1..].iter().all(|l| *l == "start"),
        "{text}"
    );
    assert!(!lines[last_done + 1..].is_empty(), "{text}");
}
