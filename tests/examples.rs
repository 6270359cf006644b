//! examples end-to-end tests.
