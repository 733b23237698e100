//! The runnable programs live in `src/bin/`; this library checks that the tour in the README
//! compiles and runs (its Rust blocks are doctests), and holds [`memcache`], the memcached
//! client the `memcache` example uses.
#![doc = include_str!("../../README.md")]

pub mod memcache;
