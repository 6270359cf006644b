//! Rendering of the bootstrap artifacts from a validated request.
//!
//! Every artifact is built from the same two policy documents ([`crate::policy`]),
//! written into pre-sized strings; the output depends on nothing but the request,
//! so the same request gives byte-identical artifacts.

mod hcl;
mod json;
mod yaml;

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Detail, Error, Result};
use crate::external_id::ExternalId;
use crate::input::{MAX_LAUNCH_URL_LEN, Partition, TemplateRequest};
use crate::path::AttrPath;
use crate::policy;

/// The rendered artifacts: the seed API's four fields plus what IaC users need.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateOutput {
    /// Full CloudFormation YAML body: parameters for the external ID(s), the role
    /// with its trust and inline permissions policies, and a `RoleArn` output.
    pub cloudformation_yaml: String,
    /// Full Terraform HCL body for the hashicorp/aws provider: the role, its inline
    /// policy and a `role_arn` output; `terraform fmt` leaves it unchanged.
    pub terraform_hcl: String,
    /// Quick-create console link for the partition's console and region, with the
    /// external ID(s) as parameters; the empty string when no `template_url` was given.
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

// Names the role and the sizes only: every artifact but the permissions policy
// carries the external IDs.
impl std::fmt::Debug for TemplateOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateOutput")
            .field("role_arn", &self.role_arn)
            .field("role_name", &self.role_name)
            .field("external_ids", &self.external_ids.len())
            .field("cloudformation_yaml_bytes", &self.cloudformation_yaml.len())
            .field("terraform_hcl_bytes", &self.terraform_hcl.len())
            .field("launch_stack_url_bytes", &self.launch_stack_url.len())
            .field("trust_policy_json_bytes", &self.trust_policy_json.len())
            .field("permissions_policy_json_bytes", &self.permissions_policy_json.len())
            .finish()
    }
}

/// CloudFormation logical ID of the role.
pub const CFN_ROLE_LOGICAL_ID: &str = "TrustRole";
/// CloudFormation parameter holding the current external ID.
pub const CFN_PARAM_EXTERNAL_ID: &str = "ExternalId";
/// CloudFormation parameter holding the previous external ID while rotating.
pub const CFN_PARAM_PREVIOUS_EXTERNAL_ID: &str = "PreviousExternalId";
/// Terraform local name of the rendered resources.
pub const TF_LOCAL_NAME: &str = "idcbootstrap";

/// Renders every artifact. Deterministic: the same request gives byte-identical output.
///
/// # Errors
///
/// `invalid_input` on `template_url` (rule `length`) if the quick-create link would
/// exceed 1024 characters; [`TemplateRequest::validate`] already refuses such
/// requests, so this only guards the invariant.
pub fn render(req: &TemplateRequest) -> Result<TemplateOutput> {
    let trust = policy::trust_policy(req);
    let permissions = policy::permissions_policy(req);
    let launch_stack_url = match req.template_url() {
        Some(url) => {
            launch_stack_url_parts(req.partition(), req.region(), url, req.role_name(), req.external_ids())
        }
        None => String::new(),
    };
    if launch_stack_url.len() > MAX_LAUNCH_URL_LEN {
        return Err(Error::invalid_input(vec![Detail::new(
            AttrPath::field("template_url"),
            "length",
            format!(
                "the quick-create link would be {} characters, over {MAX_LAUNCH_URL_LEN}",
                launch_stack_url.len()
            ),
        )]));
    }
    Ok(TemplateOutput {
        cloudformation_yaml: cloudformation_yaml(req, &permissions),
        terraform_hcl: terraform_hcl(req, &trust, &permissions),
        launch_stack_url,
        external_ids: req.external_ids().to_vec(),
        trust_policy_json: json::to_pretty(&trust),
        permissions_policy_json: json::to_pretty(&permissions),
        role_arn: req.role_arn(),
        role_name: req.role_name().to_owned(),
    })
}

/// The role's description, the same in both renderings.
fn role_description(req: &TemplateRequest) -> String {
    format!(
        "Trust role for idcbootstrap: access level {} on IAM Identity Center instance {}",
        req.access_level(),
        req.instance_id()
    )
}

fn cloudformation_yaml(req: &TemplateRequest, permissions: &Value) -> String {
    use yaml::Node;

    let ids = req.external_ids();
    let param = |description: &'static str, id: &ExternalId| {
        Node::Map(vec![
            ("Type", Node::str("String")),
            ("Description", Node::str(description)),
            ("Default", Node::str(id.expose().to_owned())),
            ("MinLength", Node::Int(2)),
            ("MaxLength", Node::Int(1224)),
            ("AllowedPattern", Node::str("[\\w+=,.@:/-]*")),
            ("ConstraintDescription", Node::str("2 to 1224 letters, digits and _+=,.@:/-")),
        ])
    };
    let mut params = vec![(
        CFN_PARAM_EXTERNAL_ID,
        param("External ID the trusted principal must present (sts:ExternalId).", &ids[0]),
    )];
    let condition = if let Some(previous) = ids.get(1) {
        params.push((
            CFN_PARAM_PREVIOUS_EXTERNAL_ID,
            param("Previous external ID, still trusted until the rotation ends.", previous),
        ));
        json!([{ "Ref": CFN_PARAM_EXTERNAL_ID }, { "Ref": CFN_PARAM_PREVIOUS_EXTERNAL_ID }])
    } else {
        json!({ "Ref": CFN_PARAM_EXTERNAL_ID })
    };
    let trust = policy::trust_policy_document(req.trusted_principal_arn(), condition);

    let mut props: Vec<(&str, Node<'_>)> = Vec::with_capacity(9);
    props.push(("RoleName", Node::str(req.role_name())));
    props.push(("Path", Node::str(req.role_path())));
    props.push(("Description", Node::Str(Cow::Owned(role_description(req)))));
    props.push(("MaxSessionDuration", Node::Int(i64::from(req.max_session_duration()))));
    if let Some(b) = req.permissions_boundary_arn() {
        props.push(("PermissionsBoundary", Node::str(b)));
    }
    props.push(("AssumeRolePolicyDocument", Node::Json(&trust)));
    props.push((
        "Policies",
        Node::Seq(vec![Node::Map(vec![
            ("PolicyName", Node::str(policy::PERMISSIONS_POLICY_NAME)),
            ("PolicyDocument", Node::Json(permissions)),
        ])]),
    ));
    if !req.tags().is_empty() {
        props.push((
            "Tags",
            Node::Seq(
                req.tags()
                    .iter()
                    .map(|(k, v)| {
                        Node::Map(vec![("Key", Node::str(k.as_str())), ("Value", Node::str(v.as_str()))])
                    })
                    .collect(),
            ),
        ));
    }

    let doc = [
        ("AWSTemplateFormatVersion", Node::str("2010-09-09")),
        (
            "Description",
            Node::Str(Cow::Owned(format!(
                "idcbootstrap trust role for IAM Identity Center ({} access)",
                req.access_level()
            ))),
        ),
        ("Parameters", Node::Map(params)),
        (
            "Resources",
            Node::Map(vec![(
                CFN_ROLE_LOGICAL_ID,
                Node::Map(vec![("Type", Node::str("AWS::IAM::Role")), ("Properties", Node::Map(props))]),
            )]),
        ),
        (
            "Outputs",
            Node::Map(vec![(
                "RoleArn",
                Node::Map(vec![
                    (
                        "Description",
                        Node::str("ARN of the trust role, for the vendor's integration settings"),
                    ),
                    (
                        "Value",
                        Node::Map(vec![(
                            "Fn::GetAtt",
                            Node::Seq(vec![Node::str(CFN_ROLE_LOGICAL_ID), Node::str("Arn")]),
                        )]),
                    ),
                ]),
            )]),
        ),
    ];
    let mut out = String::with_capacity(8192 + 96 * req.tags().len());
    out.push_str("# Rendered by idcbootstrap. Deploy with CAPABILITY_NAMED_IAM.\n");
    yaml::write_document(&mut out, &doc);
    out
}

fn terraform_hcl(req: &TemplateRequest, trust: &Value, permissions: &Value) -> String {
    use hcl::{Expr, Item};

    let role_ref = format!("aws_iam_role.{TF_LOCAL_NAME}.id");
    let arn_ref = format!("aws_iam_role.{TF_LOCAL_NAME}.arn");

    let mut role: Vec<Item<'_>> = Vec::with_capacity(10);
    role.push(Item::Attr("name", Expr::Str(req.role_name().into())));
    role.push(Item::Attr("path", Expr::Str(req.role_path().into())));
    role.push(Item::Attr("description", Expr::Str(role_description(req).into())));
    role.push(Item::Attr("max_session_duration", Expr::Int(i64::from(req.max_session_duration()))));
    if let Some(b) = req.permissions_boundary_arn() {
        role.push(Item::Attr("permissions_boundary", Expr::Str(b.into())));
    }
    role.push(Item::Attr("assume_role_policy", Expr::Call("jsonencode", Box::new(Expr::Json(trust)))));
    if !req.tags().is_empty() {
        role.push(Item::Blank);
        role.push(Item::Attr(
            "tags",
            Expr::Object(
                req.tags()
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Expr::Str(v.as_str().into())))
                    .collect(),
            ),
        ));
    }

    let config = [
        Item::Block(
            "terraform",
            vec![],
            vec![Item::Block(
                "required_providers",
                vec![],
                vec![Item::Attr(
                    "aws",
                    Expr::Object(vec![
                        ("source".into(), Expr::Str("hashicorp/aws".into())),
                        ("version".into(), Expr::Str(">= 4.0".into())),
                    ]),
                )],
            )],
        ),
        Item::Blank,
        Item::Block("resource", vec!["aws_iam_role", TF_LOCAL_NAME], role),
        Item::Blank,
        Item::Block(
            "resource",
            vec!["aws_iam_role_policy", TF_LOCAL_NAME],
            vec![
                Item::Attr("name", Expr::Str(policy::PERMISSIONS_POLICY_NAME.into())),
                Item::Attr("role", Expr::Raw(&role_ref)),
                Item::Attr("policy", Expr::Call("jsonencode", Box::new(Expr::Json(permissions)))),
            ],
        ),
        Item::Blank,
        Item::Block(
            "output",
            vec!["role_arn"],
            vec![
                Item::Attr(
                    "description",
                    Expr::Str("ARN of the trust role, for the vendor's integration settings".into()),
                ),
                Item::Attr("value", Expr::Raw(&arn_ref)),
            ],
        ),
    ];
    let mut out = String::with_capacity(8192 + 96 * req.tags().len());
    out.push_str("# Rendered by idcbootstrap.\n");
    hcl::write_body(&mut out, &config, 0);
    out
}

/// Appends `n` spaces in as few copies as possible.
fn spaces(out: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// Characters left as they are in query values: RFC 3986 unreserved.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// CloudFormation stack names are `[a-zA-Z][-a-zA-Z0-9]*`, at most 128 characters:
/// the role name with other characters turned into `-`.
fn stack_name(role_name: &str) -> String {
    let mut s = String::with_capacity(role_name.len() + 5);
    if !role_name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.push_str("idcb-");
    }
    s.extend(role_name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }));
    s.truncate(128);
    s
}

/// The quick-create link (used by validation to check its length before rendering).
pub(crate) fn launch_stack_url_parts(
    partition: Partition,
    region: &str,
    template_url: &str,
    role_name: &str,
    ids: &[ExternalId],
) -> String {
    let mut out = String::with_capacity(
        160 + 3 * template_url.len() + ids.iter().map(|i| i.expose().len() * 3).sum::<usize>(),
    );
    partition.write_cloudformation_console(&mut out, region);
    out.push_str("#/stacks/quickcreate?templateURL=");
    out.extend(utf8_percent_encode(template_url, QUERY_VALUE));
    out.push_str("&stackName=");
    out.push_str(&stack_name(role_name));
    out.push_str("&param_");
    out.push_str(CFN_PARAM_EXTERNAL_ID);
    out.push('=');
    if let Some(id) = ids.first() {
        out.extend(utf8_percent_encode(id.expose(), QUERY_VALUE));
    }
    if let Some(previous) = ids.get(1) {
        out.push_str("&param_");
        out.push_str(CFN_PARAM_PREVIOUS_EXTERNAL_ID);
        out.push('=');
        out.extend(utf8_percent_encode(previous.expose(), QUERY_VALUE));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::RawTemplateRequest;

    fn request(partition: &str, region: &str, template_url: Option<&str>, ids: &[&str]) -> TemplateRequest {
        let raw = RawTemplateRequest {
            aws_account_id: Some("123456789012".into()),
            sso_instance_arn: Some(format!("arn:{partition}:sso:::instance/ssoins-abcdef0123456789")),
            region: Some(region.into()),
            trusted_principal_arn: Some(format!("arn:{partition}:iam::111122223333:root")),
            external_ids: Some(ids.iter().map(|i| ExternalId::new(*i)).collect()),
            template_url: template_url.map(str::to_owned),
            ..RawTemplateRequest::default()
        };
        TemplateRequest::validate(&raw).unwrap()
    }

    /// The query parameters of the link's fragment, decoded.
    fn fragment_params(url: &str) -> Vec<(String, String)> {
        let (_, fragment) = url.split_once('#').unwrap();
        let (route, query) = fragment.split_once('?').unwrap();
        assert_eq!(route, "/stacks/quickcreate");
        query
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8().unwrap().into_owned())
            })
            .collect()
    }

    const URL: &str = "https://b.s3.amazonaws.com/t.yaml?versionId=x&y=a+b";

    #[test]
    fn debug_of_the_output_never_prints_an_external_id() {
        let id = "Zq3vDebugSecret-0123456789";
        let out = render(&request("aws", "eu-west-1", Some(URL), &[id])).unwrap();
        assert!(out.trust_policy_json.contains(id), "the guard: the artifacts carry the ID");
        let debug = format!("{out:?} {out:#?}");
        assert!(!debug.contains(id), "{debug}");
        assert!(debug.contains(&out.role_arn));
    }

    #[test]
    fn launch_stack_url_uses_the_partition_console_and_region() {
        for (partition, region, prefix) in [
            (
                "aws",
                "eu-west-1",
                "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#",
            ),
            (
                "aws-us-gov",
                "us-gov-east-1",
                "https://console.amazonaws-us-gov.com/cloudformation/home?region=us-gov-east-1#",
            ),
            ("aws-cn", "cn-north-1", "https://console.amazonaws.cn/cloudformation/home?region=cn-north-1#"),
        ] {
            let url = "https://b.s3.amazonaws.com/t.yaml";
            let out = render(&request(partition, region, Some(url), &["id-1"])).unwrap();
            assert!(out.launch_stack_url.starts_with(prefix), "{}", out.launch_stack_url);
        }
    }

    #[test]
    fn launch_stack_url_carries_every_external_id_percent_encoded() {
        let out = render(&request("aws", "us-east-1", Some(URL), &["a/b=c", "d@e:f"])).unwrap();
        let params = fragment_params(&out.launch_stack_url);
        assert_eq!(
            params,
            [
                ("templateURL".to_owned(), URL.to_owned()),
                ("stackName".to_owned(), "IdcBootstrapTrustRole".to_owned()),
                ("param_ExternalId".to_owned(), "a/b=c".to_owned()),
                ("param_PreviousExternalId".to_owned(), "d@e:f".to_owned()),
            ]
        );
        let (_, fragment) = out.launch_stack_url.split_once('#').unwrap();
        assert!(!fragment.contains(['#', ' ']), "{fragment}");
        assert!(out.launch_stack_url.len() <= MAX_LAUNCH_URL_LEN);
    }

    #[test]
    fn launch_stack_url_is_empty_without_a_template_url() {
        let out = render(&request("aws-iso", "us-iso-east-1", None, &["id-1"])).unwrap();
        assert_eq!(out.launch_stack_url, "");
    }

    #[test]
    fn stack_names_follow_cloudformation_rules() {
        for (role, want) in
            [("Trust", "Trust"), ("a.b@c", "a-b-c"), ("1role", "idcb-1role"), ("_x", "idcb--x")]
        {
            assert_eq!(stack_name(role), want);
        }
        assert_eq!(stack_name(&"r".repeat(200)).len(), 128);
    }

    #[test]
    fn outputs_name_the_role_and_keep_the_external_ids_in_order() {
        let out = render(&request("aws", "us-east-1", None, &["new-id", "old-id"])).unwrap();
        assert_eq!(out.role_name, "IdcBootstrapTrustRole");
        assert_eq!(out.role_arn, "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole");
        assert_eq!(out.external_ids, [ExternalId::new("new-id"), ExternalId::new("old-id")]);
        let trust: Value = serde_json::from_str(&out.trust_policy_json).unwrap();
        assert_eq!(
            trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
            json!(["new-id", "old-id"])
        );
        assert!(out.cloudformation_yaml.contains("PreviousExternalId:"));
    }
}
