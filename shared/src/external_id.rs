//! External IDs: the confused-deputy guard on the trust role. Generated from a
//! CSPRNG, never logged: `Debug` and `Display` redact.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A secret external ID. Serializes as the plain string (it must reach the wire),
/// but `Debug` and `Display` print `<redacted>`; use [`ExternalId::expose`] to read it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ExternalId(String);

impl ExternalId {
    /// Wraps a value without validating it (validation happens in `TemplateRequest::validate`).
    pub fn new(value: impl Into<String>) -> Self {
        ExternalId(value.into())
    }

    /// The secret value. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalId(<redacted>)")
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
