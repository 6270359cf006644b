//! idcbootstrap core: validates the inputs of an IAM Identity Center trust role,
//! renders its bootstrap artifacts (CloudFormation YAML, Terraform HCL, quick-create
//! link, policies), manages external IDs and runs the connectivity check.
//!
//! # What this crate must not know
//!
//! Nothing of Terraform or CloudFormation *as protocols*: no tfplugin5, gRPC,
//! msgpack, unknown-value encodings, custom-resource events or Lambda runtime; it has
//! no tonic, prost or Lambda dependency. It renders Terraform and CloudFormation
//! *files* as text, and that is all it knows of them. It keeps no state: generated
//! external IDs are returned to the caller, which stores them. Apart from the
//! optional `aws` feature (the connectivity check) it does no I/O beyond reading the
//! operating system's random source.
//!
//! # Use
//!
//! Front-ends decode their wire format into a [`RawTemplateRequest`] (CloudFormation
//! strings go through [`parse`] first), call [`TemplateRequest::validate`] once
//! (or [`TemplateRequest::validate_partial`] at plan time with unknown values), and
//! hand the validated value to [`render()`]. Every failure is an [`Error`] with a
//! stable [`ErrorCode`]; `invalid_input` errors carry one [`Detail`] per broken rule,
//! each with the field's [`AttrPath`].
//!
//! ```
//! use idcbootstrap::{ExternalId, RawTemplateRequest, TemplateRequest, render};
//!
//! let raw = RawTemplateRequest {
//!     aws_account_id: Some("123456789012".into()),
//!     sso_instance_arn: Some("arn:aws:sso:::instance/ssoins-abcdef0123456789".into()),
//!     region: Some("us-east-1".into()),
//!     trusted_principal_arn: Some("arn:aws:iam::111122223333:role/Vendor".into()),
//!     external_ids: Some(vec![ExternalId::generate()?]),
//!     ..RawTemplateRequest::default()
//! };
//! let out = render(&TemplateRequest::validate(&raw)?)?;
//! assert_eq!(out.role_arn, "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole");
//! assert!(out.launch_stack_url.is_empty()); // no template_url given
//! # Ok::<(), idcbootstrap::Error>(())
//! ```
//!
//! Every field of every resource is declared in [`spec`]; the defaults are
//! the `input::DEFAULT_*` constants; external-ID rotation is [`ExternalIdSet`].

#[cfg(feature = "aws")]
pub mod connectivity;
pub mod error;
pub mod external_id;
pub mod iam;
pub mod input;
pub mod parse;
mod partition;
pub mod path;
pub mod policy;
pub mod registration;
pub mod render;
pub mod spec;

pub use error::{Detail, Error, ErrorCode, Result};
pub use external_id::{ExternalId, ExternalIdSet, RotationState};
pub use input::{AccessLevel, Partition, RawTemplateRequest, TemplateRequest};
pub use path::AttrPath;
pub use render::{TemplateOutput, render};
