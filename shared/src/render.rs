//! Rendering of the bootstrap artifacts from a validated request.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::external_id::ExternalId;
use crate::input::TemplateRequest;

/// The rendered artifacts: the seed API's four fields plus what IaC users need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateOutput {
    /// Full CloudFormation YAML body.
    pub cloudformation_yaml: String,
    /// Full Terraform HCL body (hashicorp/aws provider).
    pub terraform_hcl: String,
    /// Quick-create console link.
    pub launch_stack_url: String,
    /// Trusted external IDs, current first.
    pub external_ids: Vec<ExternalId>,
    /// The role's trust policy, JSON.
    pub trust_policy_json: String,
    /// The role's permissions policy, JSON.
    pub permissions_policy_json: String,
    /// The ARN the role will have.
    pub role_arn: String,
    /// The role's name.
    pub role_name: String,
}

/// Renders every artifact. Deterministic: the same request gives byte-identical output.
///
/// # Errors
///
/// `internal` only if a renderer breaks its own invariants.
pub fn render(req: &TemplateRequest) -> Result<TemplateOutput> {
    let _ = req;
    todo!("render")
}
