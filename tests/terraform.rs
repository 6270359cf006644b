//! terraform end-to-end tests.
