//! The `bootstrap` Lambda (placeholder until the handler lands).
fn main() {}
