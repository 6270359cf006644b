//! connectivity end-to-end tests.
