//! The runnable programs live in `src/bin/`; this library only checks that the tour in the
//! README compiles and runs (its Rust block is a doctest).
#![doc = include_str!("../../README.md")]
