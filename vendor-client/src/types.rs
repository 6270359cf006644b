//! The API's request and answer bodies this client sends and reads. External IDs are
//! secrets: their `Debug` shows `***`.

use serde::{Deserialize, Serialize};

/// `GET external-id` (and rotate, commit, cancel): the tenant's external IDs.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct ExternalIds {
    /// The external ID the vendor uses now.
    #[serde(rename = "external_id")]
    pub current: String,
    /// The external ID being rotated in; `None` at steady state.
    #[serde(rename = "external_id_pending", default)]
    pub pending: Option<String>,
}

impl ExternalIds {
    /// Every ID the role must trust: current, then pending.
    pub fn all(&self) -> Vec<String> {
        std::iter::once(self.current.clone()).chain(self.pending.clone()).collect()
    }
}

impl std::fmt::Debug for ExternalIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalIds")
            .field("current", &"***")
            .field("pending", &self.pending.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `PUT config`: the role the tenant registers, and where its instance lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// ARN of the IAM Identity Center instance.
    pub sso_instance_arn: String,
    /// ARN of the trust role.
    pub role_arn: String,
    /// Region of the instance.
    pub region: String,
}

/// `GET|PUT config`: what the vendor holds for the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Config {
    /// ARN of the instance; `None` when nothing is saved.
    #[serde(default)]
    pub sso_instance_arn: Option<String>,
    /// ARN of the registered role; `None` when nothing is saved.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// Region of the instance; `None` when nothing is saved.
    #[serde(default)]
    pub region: Option<String>,
    /// Whether instance, role and region are saved, so the test can run.
    #[serde(default)]
    pub configured: bool,
}

impl Config {
    /// The saved registration, when there is one.
    pub fn registration(&self) -> Option<Registration> {
        match (&self.sso_instance_arn, &self.role_arn, &self.region) {
            (Some(i), Some(r), Some(g)) if self.configured => {
                Some(Registration { sso_instance_arn: i.clone(), role_arn: r.clone(), region: g.clone() })
            }
            _ => None,
        }
    }
}

/// One step of the vendor's connectivity check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Step {
    /// `assume_role_current`, `list_instances`, `probe:<action>`, ...
    pub step: String,
    /// Whether it passed.
    pub ok: bool,
    /// Its error code; `None` when it passed.
    #[serde(default)]
    pub code: Option<String>,
    /// What it found.
    #[serde(default)]
    pub message: String,
    /// How long it took.
    #[serde(default)]
    pub duration_ms: u64,
}

/// `POST test` passed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TestReport {
    /// Always true: a failed test is an [`crate::Error`].
    pub success: bool,
    /// What the test proved.
    #[serde(default)]
    pub message: String,
    /// Every step that ran.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// How many times the test was asked for (more than 1 when the role was still
    /// propagating).
    #[serde(skip)]
    pub attempts: u32,
}
