//! Fuzz targets for idcbootstrap, run by AFL++ through cargo-afl on the stable
//! toolchain (`scripts/fuzz.sh`; a short run of each is a stage of `scripts/test.sh`).
//!
//! Each target is a function here that takes the fuzzer's bytes and panics when an
//! invariant breaks; `fuzz_targets/<name>.rs` hands it to `afl::fuzz!`, and the
//! replay test (`tests/seeds.rs`) runs it on every committed seed. The targets call
//! the product's own code: the core (`idcbootstrap`), the provider through its
//! `fuzz` module, and the Lambda's event and response plumbing, compiled here from
//! its own source files (the Lambda is a binary, with no library to link).
//!
//! # What "never echoes" means here
//!
//! A secret is a string the input carried as a value (not as a key or attribute
//! name) of at least [`MIN_SECRET`] characters that does not also occur in the
//! product's own message templates (the `vocabulary` each target passes, the source
//! text of the module that writes the messages). Such a string must not appear in
//! any `Debug` output, error or diagnostic the target sees.

pub mod cfn;
pub mod codec;
pub mod ids;
pub mod render;
pub mod sequence;

/// Shortest string the echo checks look for: shorter ones occur in messages by chance.
pub const MIN_SECRET: usize = 8;

/// The Lambda's plumbing, compiled from `cfn-resource/src/` (a binary crate).
#[allow(dead_code, unreachable_pub, missing_docs, clippy::all)]
#[path = "../../cfn-resource/src/event.rs"]
mod event;
#[allow(dead_code, unreachable_pub, missing_docs, clippy::all)]
#[path = "../../cfn-resource/src/response.rs"]
mod response;

/// Panics if `text` (named `what`) contains one of `secrets`: each at least
/// [`MIN_SECRET`] characters, and not part of `vocabulary` or of any of `public`
/// (strings the input carried where echoing is expected: keys, names).
pub fn assert_no_echo(what: &str, text: &str, secrets: &[String], vocabulary: &str, public: &[String]) {
    for s in secrets {
        if s.chars().count() < MIN_SECRET
            || vocabulary.contains(s.as_str())
            || public.iter().any(|p| p.contains(s.as_str()))
        {
            continue;
        }
        assert!(
            !text.contains(s.as_str()),
            "{what} echoes an input value of {} chars:\n{text}",
            s.chars().count()
        );
    }
}
