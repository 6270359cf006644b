//! Inputs: the raw request as front-ends decode it, and the validated request that
//! rendering and the connectivity check accept (decode raw, validate once).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::external_id::ExternalId;

/// What the trust role may do in IAM Identity Center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    /// Inventory only: users, groups, permission sets, assignments. Writes nothing.
    #[default]
    ReadOnly,
    /// `read_only` plus creating and deleting account assignments.
    Assignments,
    /// `assignments` plus managing permission sets.
    Admin,
}

/// An AWS partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Partition {
    /// `aws`
    #[serde(rename = "aws")]
    Aws,
    /// `aws-us-gov`
    #[serde(rename = "aws-us-gov")]
    AwsUsGov,
    /// `aws-cn`
    #[serde(rename = "aws-cn")]
    AwsCn,
    /// `aws-iso`
    #[serde(rename = "aws-iso")]
    AwsIso,
    /// `aws-iso-b`
    #[serde(rename = "aws-iso-b")]
    AwsIsoB,
}

/// The request as a front-end decodes it, as close to the wire as possible.
///
/// Every field is optional here so that a missing field is reported by
/// [`TemplateRequest::validate`] with its name, together with every other
/// problem, rather than by a deserializer that stops at the first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTemplateRequest {
    /// The customer's IAM Identity Center account: 12 digits.
    pub aws_account_id: Option<String>,
    /// ARN of the IAM Identity Center instance.
    pub sso_instance_arn: Option<String>,
    /// Region of the IAM Identity Center instance, in the ARN's partition.
    pub region: Option<String>,
    /// The vendor's IAM principal allowed to assume the role.
    pub trusted_principal_arn: Option<String>,
    /// Trusted external IDs, current first: one at steady state, two during rotation.
    pub external_ids: Option<Vec<ExternalId>>,
    /// Name of the trust role.
    pub role_name: Option<String>,
    /// IAM path of the trust role.
    pub role_path: Option<String>,
    /// ARN of a managed policy to use as the role's permissions boundary.
    pub permissions_boundary_arn: Option<String>,
    /// Maximum session duration in seconds, 3600–43200.
    pub max_session_duration: Option<i64>,
    /// Tags on the role.
    pub tags: Option<BTreeMap<String, String>>,
    /// `read_only`, `assignments` or `admin`.
    pub access_level: Option<String>,
    /// HTTPS URL of the hosted CloudFormation template, for the quick-create link.
    pub template_url: Option<String>,
}

/// A request whose every field passed validation. Only [`TemplateRequest::validate`]
/// makes one, so rendering and checking never see unchecked input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRequest {
    pub(crate) aws_account_id: String,
    pub(crate) sso_instance_arn: String,
    pub(crate) partition: Partition,
    pub(crate) region: String,
    pub(crate) trusted_principal_arn: String,
    pub(crate) external_ids: Vec<ExternalId>,
    pub(crate) role_name: String,
    pub(crate) role_path: String,
    pub(crate) permissions_boundary_arn: Option<String>,
    pub(crate) max_session_duration: u32,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) access_level: AccessLevel,
    pub(crate) template_url: Option<String>,
}

impl TemplateRequest {
    /// Validates every field of `raw` and applies defaults.
    ///
    /// # Errors
    ///
    /// `invalid_input`, with one [`crate::Detail`] per broken rule (all of them,
    /// not just the first), each naming the field and the rule.
    pub fn validate(raw: &RawTemplateRequest) -> Result<TemplateRequest> {
        let _ = raw;
        todo!("validation")
    }
}
