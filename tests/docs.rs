//! docs end-to-end tests.
