//! The connectivity check: proves the trust role can be assumed with the external
//! ID(s), reaches the IAM Identity Center instance, and refuses callers without one.
//!
//! # Use from a front-end
//!
//! Decode the wire into [`RawCheckRequest`] and [`RawSettings`], validate both at
//! once with [`validate_all`], then run [`check`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), idcbootstrap::Error> {
//! use std::time::{Duration, Instant};
//! use idcbootstrap::connectivity::{self, RawCheckRequest, RawSettings};
//!
//! let raw: RawCheckRequest = serde_json::from_str(r#"{
//!     "role_arn": "arn:aws:iam::123456789012:role/VendorTrust",
//!     "external_ids": ["c7e1f0a4-current"],
//!     "sso_instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
//!     "aws_account_id": "123456789012",
//!     "region": "eu-west-1"
//! }"#).unwrap();
//! let (req, settings) = connectivity::validate_all(&raw, &RawSettings::default())?;
//! // A Lambda answers before its own deadline: leave it a few seconds.
//! let settings = settings.with_deadline(Instant::now() + Duration::from_secs(50));
//! let report = connectivity::check(&req, &settings).await;
//! println!("{}", serde_json::to_string(&report).unwrap());
//! report.into_result()?;
//! # Ok(()) }
//! ```
//!
//! # Steps
//!
//! 1. STS `AssumeRole` with each trusted external ID (session name
//!    `idcbootstrap-connectivity-check`, 900 s). A new role is denied until IAM
//!    propagates it, so denials and throttling are retried with jittered exponential
//!    backoff up to the propagation timeout (default 2 minutes); then
//!    `sts_assume_role_failed` (or `throttled`).
//! 2. With the assumed credentials, in parallel:
//!    * sso-admin `ListInstances`: the instance must be listed (`instance_not_found`),
//!      `ACTIVE` (`instance_not_active`) and owned by `aws_account_id`
//!      (`account_mismatch`);
//!    * one read per permission of the access level, with `MaxResults` 1
//!      (`access_denied` names the action; [`probed_actions`] lists them): sso-admin
//!      `ListPermissionSets`, `ListPermissionSetsProvisionedToAccount`, identitystore
//!      `ListUsers` on the instance's identity store, plus the status list of the
//!      level's writes (`assignments`, `admin`). Writes are never probed.
//!    * `AssumeRole` **without** an external ID and with a fresh random one, which
//!      must both be denied (`external_id_not_enforced`): a trust policy that only
//!      asks for some ID (`StringLike "*"`, a `Null` condition) fails the second.
//!
//! Transport failures are `timeout` and `network_error`; an overall deadline
//! ([`Settings::with_deadline`]) turns every unfinished step into `timeout`.
//!
//! # Secrets
//!
//! External IDs and credentials never appear in the report, its errors, or the
//! `tracing` events this module emits (step, outcome, code, duration only). The AWS
//! SDK's own `TRACE`-level wire logs are outside this guarantee: do not enable them
//! in production subscribers.

mod aws_error;
mod report;
mod request;
mod run;

pub use report::{CheckReport, StepReport, step};
pub use request::{
    BaseCredentials, CheckRequest, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_PROPAGATION_TIMEOUT,
    MAX_PROPAGATION_TIMEOUT, RawCheckRequest, RawSettings, Secret, Settings, validate_all,
};

use crate::input::AccessLevel;

/// Runs the connectivity check. It never fails as a call: every failure is a step
/// of the report, and [`CheckReport::into_result`] gives the first as an
/// [`Error`](crate::Error).
///
/// Needs a tokio runtime with the time and I/O drivers. Installs the aws-lc-rs
/// rustls provider if none is installed yet ([`install_crypto_provider`]).
pub async fn check(req: &CheckRequest, settings: &Settings) -> CheckReport {
    install_crypto_provider();
    run::run(req, settings).await
}

/// The read actions the check probes for `level`, e.g. `sso:ListPermissionSets`.
/// The trust role's permissions policy must grant each of them.
pub fn probed_actions(level: AccessLevel) -> &'static [&'static str] {
    run::probe_actions(level)
}

/// The STS session name the check uses; customers see it in CloudTrail.
pub const SESSION_NAME: &str = run::SESSION_NAME;

/// Installs rustls' aws-lc-rs `CryptoProvider` as the process default, once.
///
/// rustls panics on first use when more than one provider is compiled in and none
/// is installed; front-ends may call this at start, and [`check`] calls it anyway.
/// A provider installed earlier by someone else is kept.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means a provider is already installed, which is what we want.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}
