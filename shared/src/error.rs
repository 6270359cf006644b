//! The one error model of idcbootstrap, shared by the Terraform provider and the
//! CloudFormation handler: the seed API's `{code, message, details, notices}`.
//!
//! Codes are wire strings. They are never renamed: users match on them in
//! scripts, `check {}` blocks and CloudFormation event filters.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::path::AttrPath;

/// A stable, machine-readable error code. [`ErrorCode::as_str`] is the wire spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// An input broke a validation rule; `details` names each field and rule.
    InvalidInput,
    /// Nothing to check: no role ARN (the seed API's 404).
    NotConfigured,
    /// STS `AssumeRole` kept failing past the propagation timeout.
    StsAssumeRoleFailed,
    /// The assumed role lacks a permission its access level needs.
    AccessDenied,
    /// The IAM Identity Center instance is not listed for the assumed role.
    InstanceNotFound,
    /// The instance exists but its status is not `ACTIVE`.
    InstanceNotActive,
    /// The instance is owned by another account than `aws_account_id`.
    AccountMismatch,
    /// The role can be assumed without an external ID (confused-deputy risk).
    ExternalIdNotEnforced,
    /// AWS throttled the calls and retries did not get through in time.
    Throttled,
    /// An operation did not finish in the time allowed.
    Timeout,
    /// An endpoint could not be reached (DNS, connect, TLS, reset).
    NetworkError,
    /// A bug or an unexpected answer; never the user's fault.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order (for docs and exhaustive tests).
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::InvalidInput,
        ErrorCode::NotConfigured,
        ErrorCode::StsAssumeRoleFailed,
        ErrorCode::AccessDenied,
        ErrorCode::InstanceNotFound,
        ErrorCode::InstanceNotActive,
        ErrorCode::AccountMismatch,
        ErrorCode::ExternalIdNotEnforced,
        ErrorCode::Throttled,
        ErrorCode::Timeout,
        ErrorCode::NetworkError,
        ErrorCode::Internal,
    ];

    /// The wire spelling, e.g. `"invalid_input"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotConfigured => "not_configured",
            ErrorCode::StsAssumeRoleFailed => "sts_assume_role_failed",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InstanceNotFound => "instance_not_found",
            ErrorCode::InstanceNotActive => "instance_not_active",
            ErrorCode::AccountMismatch => "account_mismatch",
            ErrorCode::ExternalIdNotEnforced => "external_id_not_enforced",
            ErrorCode::Throttled => "throttled",
            ErrorCode::Timeout => "timeout",
            ErrorCode::NetworkError => "network_error",
            ErrorCode::Internal => "internal",
        }
    }

    /// A short, fixed, sentence-sized summary, used as the diagnostic summary.
    pub const fn summary(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "Invalid input",
            ErrorCode::NotConfigured => "Connectivity check not configured",
            ErrorCode::StsAssumeRoleFailed => "Could not assume the trust role",
            ErrorCode::AccessDenied => "The trust role lacks a permission",
            ErrorCode::InstanceNotFound => "IAM Identity Center instance not found",
            ErrorCode::InstanceNotActive => "IAM Identity Center instance not active",
            ErrorCode::AccountMismatch => "IAM Identity Center instance in another account",
            ErrorCode::ExternalIdNotEnforced => "The trust role does not enforce the external ID",
            ErrorCode::Throttled => "AWS throttled the request",
            ErrorCode::Timeout => "Timed out",
            ErrorCode::NetworkError => "Network error",
            ErrorCode::Internal => "Internal error",
        }
    }

    /// Parses the wire spelling back.
    pub fn from_wire(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One broken rule: which field, which rule, and a sentence a user can act on.
///
/// `message` never contains a secret value (external IDs are never echoed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Detail {
    /// The offending field, e.g. `tags["env"]` or `external_ids[1]`.
    pub field: AttrPath,
    /// A stable rule name, e.g. `pattern`, `length`, `required`, `partition`.
    pub rule: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Detail {
    /// A detail for `field` breaking `rule`.
    pub fn new(field: AttrPath, rule: impl Into<String>, message: impl Into<String>) -> Self {
        Detail { field, rule: rule.into(), message: message.into() }
    }
}

/// The seed API's error body: `{code, message, details, notices}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Error {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Human-readable description; never contains a secret.
    pub message: String,
    /// Each offending field and the rule it broke (empty when not field-specific).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Detail>,
    /// Advisory notes that do not change the outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

impl Error {
    /// An error with a code and a message and nothing else.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), details: Vec::new(), notices: Vec::new() }
    }

    /// An `invalid_input` error carrying every broken rule.
    ///
    /// The message lists the fields so that a front-end that can show only one
    /// line (a CloudFormation `Reason`) still names them.
    pub fn invalid_input(details: Vec<Detail>) -> Self {
        let message = match details.as_slice() {
            [] => "invalid input".to_owned(),
            [one] => format!("{}: {}", one.field, one.message),
            many => {
                let fields: Vec<String> = many.iter().map(|d| d.field.to_string()).collect();
                format!("{} fields are invalid: {}", many.len(), fields.join(", "))
            }
        };
        Error { code: ErrorCode::InvalidInput, message, details, notices: Vec::new() }
    }

    /// Adds a notice.
    pub fn with_notice(mut self, notice: impl Into<String>) -> Self {
        self.notices.push(notice.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_wire_spelling() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_wire(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(ErrorCode::from_wire("nope"), None);
    }

    #[test]
    fn invalid_input_message_names_every_field() {
        let err = Error::invalid_input(vec![
            Detail::new(AttrPath::root().attr("region"), "partition", "x"),
            Detail::new(AttrPath::root().attr("tags").key("env"), "length", "y"),
        ]);
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(err.message.contains("region"), "{}", err.message);
        assert!(err.message.contains("tags[\"env\"]"), "{}", err.message);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["code"], "invalid_input");
        assert_eq!(json["details"][1]["field"], "tags[\"env\"]");
        assert_eq!(json["details"][1]["rule"], "length");
    }
}
