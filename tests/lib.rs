//! End-to-end test crate; the tests live in `tests.rs` and its modules.
