//! Requests and parsers shared by the integration tests of the core.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use idcbootstrap::{ExternalId, RawTemplateRequest, TemplateOutput, TemplateRequest, render};
use serde_json::Value;

pub(crate) const ID_CURRENT: &str = "Zq3vXw9LkT2mNb7RcY5pHs1dFg8jKa4e";
pub(crate) const ID_PREVIOUS: &str = "prev:ious/Id=1,2@example.com+x_y-z";

/// (partition, region, instance ARN) for each partition.
pub(crate) const PARTITIONS: &[(&str, &str)] = &[
    ("aws", "us-east-1"),
    ("aws-us-gov", "us-gov-west-1"),
    ("aws-cn", "cn-north-1"),
    ("aws-iso", "us-iso-east-1"),
    ("aws-iso-b", "us-isob-east-1"),
];

pub(crate) fn base(partition: &str, region: &str, level: &str) -> RawTemplateRequest {
    RawTemplateRequest {
        aws_account_id: Some("123456789012".into()),
        sso_instance_arn: Some(format!("arn:{partition}:sso:::instance/ssoins-abcdef0123456789")),
        region: Some(region.into()),
        trusted_principal_arn: Some(format!(
            "arn:{partition}:iam::111122223333:role/vendor/IdcBootstrapIntegration"
        )),
        external_ids: Some(vec![ExternalId::new(ID_CURRENT)]),
        access_level: Some(level.into()),
        ..RawTemplateRequest::default()
    }
}

/// Values that YAML 1.1, HCL templates or JSON would misread if written carelessly,
/// within what validation accepts.
pub(crate) fn tricky(partition: &str, region: &str) -> RawTemplateRequest {
    let mut raw = base(partition, region, "assignments");
    raw.external_ids = Some(vec![ExternalId::new(ID_CURRENT), ExternalId::new(ID_PREVIOUS)]);
    raw.role_name = Some("Trust+Role=1,2.@-_".into());
    raw.role_path = Some("/a\"b/${x}/%{if}/$${y}/\\/'#:-/".into());
    raw.permissions_boundary_arn = Some(format!("arn:{partition}:iam::aws:policy/ReadOnlyAccess"));
    raw.max_session_duration = Some(43200);
    raw.tags = Some(BTreeMap::from(
        [
            ("yes", "on"),
            ("no", "off"),
            ("null", "Null"),
            ("0123", "2024-01-01"),
            ("1e3", "12:30:00"),
            ("true", ""),
            ("- dash", "@at"),
            ("=", "a: b"),
            ("trailing ", " leading"),
            ("Kostenstelle äöü", "東京 ﬁ"),
            ("\u{1100}\u{1161}\u{11a8}", "jamo"),
            ("x", "\u{2028}\u{3000}"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    ));
    if partition == "aws" || partition == "aws-us-gov" || partition == "aws-cn" {
        raw.template_url =
            Some("https://bucket.s3.amazonaws.com/path/t.yaml?versionId=a&b=c%20d#frag".into());
    }
    raw
}

/// Every rendering the tool-driven tests check: each access level in each partition,
/// a rotation, and the tricky values.
pub(crate) fn matrix() -> Vec<(String, RawTemplateRequest)> {
    let mut v = Vec::new();
    for (partition, region) in PARTITIONS {
        for level in ["read_only", "assignments", "admin"] {
            v.push((format!("{level}_{partition}"), base(partition, region, level)));
        }
        v.push((format!("tricky_{partition}"), tricky(partition, region)));
    }
    v
}

pub(crate) fn rendered(raw: &RawTemplateRequest) -> (TemplateRequest, TemplateOutput) {
    let req = TemplateRequest::validate(raw).unwrap_or_else(|e| panic!("{e}: {:?}", e.details));
    let out = render(&req).unwrap();
    (req, out)
}

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The project's Python venv (`IDCB_VENV` overrides), as `tests/util` finds it.
pub(crate) fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("IDCB_VENV").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".venv"));
    let path = venv.join("bin").join(name);
    assert!(path.is_file(), "{} is missing: run scripts/setup.sh first", path.display());
    path
}

/// Replaces `{"Ref": P}` with the default of parameter `P`.
pub(crate) fn resolve_refs(v: &Value, params: &Value) -> Value {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("Ref") => {
            let name = m["Ref"].as_str().unwrap();
            params[name]["Default"].clone()
        }
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), resolve_refs(x, params))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve_refs(x, params)).collect()),
        other => other.clone(),
    }
}

/// Checks a parsed CloudFormation template (as JSON) against the request and the
/// rendered policies: every value must come back as the same string.
pub(crate) fn check_cfn(doc: &Value, req: &TemplateRequest, out: &TemplateOutput) {
    assert_eq!(doc["AWSTemplateFormatVersion"], "2010-09-09");
    let params = &doc["Parameters"];
    let props = &doc["Resources"]["TrustRole"]["Properties"];
    let trust: Value = serde_json::from_str(&out.trust_policy_json).unwrap();
    let perms: Value = serde_json::from_str(&out.permissions_policy_json).unwrap();
    assert_eq!(resolve_refs(&props["AssumeRolePolicyDocument"], params), trust);
    assert_eq!(props["Policies"][0]["PolicyDocument"], perms);
    assert_eq!(props["RoleName"], req.role_name());
    assert_eq!(props["Path"], req.role_path());
    assert_eq!(props["MaxSessionDuration"], req.max_session_duration());
    match req.permissions_boundary_arn() {
        Some(b) => assert_eq!(props["PermissionsBoundary"], b),
        None => assert!(props.get("PermissionsBoundary").is_none()),
    }
    let tags: BTreeMap<String, String> = props
        .get("Tags")
        .map(|t| {
            t.as_array()
                .unwrap()
                .iter()
                .map(|kv| {
                    let k = kv["Key"].as_str().unwrap_or_else(|| panic!("tag key not a string: {kv}"));
                    let v = kv["Value"].as_str().unwrap_or_else(|| panic!("tag value not a string: {kv}"));
                    (k.to_owned(), v.to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(&tags, req.tags());
    let ids: Vec<&str> = req.external_ids().iter().map(|i| i.expose()).collect();
    assert_eq!(params["ExternalId"]["Default"], ids[0]);
    assert_eq!(
        params.get("PreviousExternalId").map(|p| p["Default"].clone()),
        ids.get(1).map(|i| Value::from(*i))
    );
}

/// Converts an hcl value to JSON.
fn hcl_to_json(v: hcl::Value) -> Value {
    serde_json::to_value(v).unwrap()
}

/// Evaluates a literal HCL expression; `jsonencode(x)` evaluates to `x`.
fn eval(expr: &hcl::Expression) -> Value {
    use hcl::eval::{Context, Evaluate};
    if let hcl::Expression::FuncCall(f) = expr {
        assert_eq!(f.name.name.as_str(), "jsonencode");
        return eval(&f.args[0]);
    }
    hcl_to_json(expr.evaluate(&Context::new()).unwrap_or_else(|e| panic!("cannot evaluate {expr:?}: {e}")))
}

/// Attributes of the block `kind "labels..."` in `body`, evaluated.
fn block_attrs(body: &hcl::Body, kind: &str, labels: &[&str]) -> BTreeMap<String, hcl::Expression> {
    let block = body
        .blocks()
        .find(|b| b.identifier() == kind && b.labels().iter().map(|l| l.as_str()).eq(labels.iter().copied()))
        .unwrap_or_else(|| panic!("no block {kind} {labels:?}"));
    block.body().attributes().map(|a| (a.key().to_owned(), a.expr().clone())).collect()
}

/// Checks the rendered Terraform configuration, parsed back with the `hcl` crate,
/// against the request and the rendered policies.
pub(crate) fn check_hcl(text: &str, req: &TemplateRequest, out: &TemplateOutput) {
    let body = hcl::parse(text).unwrap_or_else(|e| panic!("HCL does not parse: {e}\n{text}"));
    let role = block_attrs(&body, "resource", &["aws_iam_role", "idcbootstrap"]);
    let trust: Value = serde_json::from_str(&out.trust_policy_json).unwrap();
    let perms: Value = serde_json::from_str(&out.permissions_policy_json).unwrap();
    assert_eq!(eval(&role["assume_role_policy"]), trust);
    assert_eq!(eval(&role["name"]), req.role_name());
    assert_eq!(eval(&role["path"]), req.role_path());
    assert_eq!(eval(&role["max_session_duration"]), req.max_session_duration());
    match req.permissions_boundary_arn() {
        Some(b) => assert_eq!(eval(&role["permissions_boundary"]), b),
        None => assert!(!role.contains_key("permissions_boundary")),
    }
    let tags = role.get("tags").map(eval).unwrap_or_else(|| Value::Object(Default::default()));
    assert_eq!(tags, serde_json::to_value(req.tags()).unwrap());
    let policy = block_attrs(&body, "resource", &["aws_iam_role_policy", "idcbootstrap"]);
    assert_eq!(eval(&policy["policy"]), perms);
}
