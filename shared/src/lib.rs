//! idcbootstrap core: validates the inputs of an IAM Identity Center trust role,
//! renders its bootstrap artifacts (CloudFormation YAML, Terraform HCL, quick-create
//! link, policies), manages external IDs and runs the connectivity check.
//!
//! This crate knows nothing of Terraform or CloudFormation *as protocols*: it has no
//! tonic, prost or Lambda dependency. Front-ends decode their wire format into a
//! [`RawTemplateRequest`], call [`TemplateRequest::validate`] once, and hand the
//! validated value to [`render`]. Every failure is an [`Error`] with a stable
//! [`ErrorCode`].

#[cfg(feature = "aws")]
pub mod connectivity;
pub mod error;
pub mod external_id;
pub mod input;
pub mod parse;
mod partition;
pub mod path;
pub mod policy;
pub mod render;

pub use error::{Detail, Error, ErrorCode, Result};
pub use external_id::{ExternalId, ExternalIdSet, RotationState};
pub use input::{AccessLevel, Partition, RawTemplateRequest, TemplateRequest};
pub use path::AttrPath;
pub use render::{TemplateOutput, render};
