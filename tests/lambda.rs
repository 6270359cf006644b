//! lambda end-to-end tests.
