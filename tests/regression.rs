//! regression end-to-end tests.
