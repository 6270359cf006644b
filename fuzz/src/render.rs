//! Template validation, then rendering.
//!
//! The input is a request, one field per line in the order of
//! [`RawTemplateRequest`]'s fields (an empty or missing line is an absent field);
//! external IDs are separated by spaces, tags by tabs, a tag's key and value by `|`.

use std::collections::BTreeMap;

use idcbootstrap::{ExternalId, RawTemplateRequest, TemplateOutput, TemplateRequest, render};
use serde_json::Value;

use crate::assert_no_echo;

const VOCABULARY: &str = concat!(
    include_str!("../../shared/src/input.rs"),
    include_str!("../../shared/src/external_id.rs"),
    include_str!("../../shared/src/render.rs"),
    include_str!("../../shared/src/error.rs"),
);

/// The request a fuzz input describes.
pub fn request(text: &str) -> RawTemplateRequest {
    let mut lines = text.split('\n');
    let mut next = || lines.next().filter(|l| !l.is_empty()).map(str::to_owned);
    RawTemplateRequest {
        aws_account_id: next(),
        sso_instance_arn: next(),
        region: next(),
        trusted_principal_arn: next(),
        external_ids: next().map(|l| l.split(' ').map(ExternalId::new).collect()),
        role_name: next(),
        role_path: next(),
        permissions_boundary_arn: next(),
        max_session_duration: next().and_then(|l| l.parse().ok()),
        tags: next().map(|l| {
            l.split('\t')
                .map(|kv| match kv.split_once('|') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (kv.to_owned(), String::new()),
                })
                .collect()
        }),
        access_level: next(),
        template_url: next(),
    }
}

/// Validates the request, renders it and checks every artifact.
pub fn render_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let raw = request(text);
    let ids: Vec<String> = raw.external_ids.iter().flatten().map(|i| i.expose().to_owned()).collect();
    // Values that are not secret: an ID that is also part of one of them may be echoed.
    let public: Vec<String> = [
        &raw.aws_account_id,
        &raw.sso_instance_arn,
        &raw.region,
        &raw.trusted_principal_arn,
        &raw.role_name,
        &raw.role_path,
        &raw.permissions_boundary_arn,
        &raw.access_level,
        &raw.template_url,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .chain(raw.tags.iter().flatten().flat_map(|(k, v)| [k.clone(), v.clone()]))
    .collect();
    let req = match TemplateRequest::validate(&raw) {
        Ok(r) => r,
        Err(e) => {
            let text = format!("{e} {e:?} {}", serde_json::to_string(&e).unwrap_or_default());
            assert_no_echo("validation error", &text, &ids, VOCABULARY, &public);
            return;
        }
    };
    let out = match render(&req) {
        Ok(o) => o,
        Err(e) => panic!("a validated request does not render: {e}"),
    };
    assert_eq!(render(&req).ok().as_ref(), Some(&out), "rendering is not deterministic");
    // The output's artifacts carry the IDs by design (parameter defaults, the link);
    // the validated request must not show them.
    assert_no_echo("Debug of the request", &format!("{req:?}"), &ids, VOCABULARY, &public);
    check_artifacts(&req, &out);
}

fn resolve_refs(v: &Value, params: &Value) -> Value {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("Ref") => {
            params[m["Ref"].as_str().unwrap_or_default()]["Default"].clone()
        }
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), resolve_refs(x, params))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve_refs(x, params)).collect()),
        other => other.clone(),
    }
}

/// The artifacts say what the request says: policies are JSON, the YAML parses back
/// to the same strings, the HCL has no live interpolation, the link fits.
pub fn check_artifacts(req: &TemplateRequest, out: &TemplateOutput) {
    let trust: Value = serde_json::from_str(&out.trust_policy_json).expect("trust policy is JSON");
    let perms: Value =
        serde_json::from_str(&out.permissions_policy_json).expect("permissions policy is JSON");
    assert!(trust.is_object() && perms.is_object(), "policies are JSON objects");

    let doc: Value = serde_saphyr::from_str(&out.cloudformation_yaml)
        .unwrap_or_else(|e| panic!("the CloudFormation YAML does not parse: {e}"));
    let params = &doc["Parameters"];
    let props = &doc["Resources"]["TrustRole"]["Properties"];
    assert_eq!(resolve_refs(&props["AssumeRolePolicyDocument"], params), trust, "YAML trust policy");
    assert_eq!(props["Policies"][0]["PolicyDocument"], perms, "YAML permissions policy");
    assert_eq!(props["RoleName"], req.role_name(), "YAML RoleName");
    assert_eq!(props["Path"], req.role_path(), "YAML Path");
    assert_eq!(props["MaxSessionDuration"], req.max_session_duration(), "YAML MaxSessionDuration");
    assert_eq!(props.get("PermissionsBoundary").and_then(Value::as_str), req.permissions_boundary_arn());
    let tags: BTreeMap<String, String> = props
        .get("Tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .map(|kv| {
                    let s =
                        |k: &str| kv[k].as_str().unwrap_or_else(|| panic!("YAML tag {k} is not a string"));
                    (s("Key").to_owned(), s("Value").to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(&tags, req.tags(), "YAML tags");
    let ids: Vec<&str> = req.external_ids().iter().map(ExternalId::expose).collect();
    assert_eq!(params["ExternalId"]["Default"], ids[0], "YAML ExternalId");
    assert_eq!(
        params.get("PreviousExternalId").map(|p| p["Default"].clone()),
        ids.get(1).map(|i| Value::from(*i))
    );

    check_hcl(&out.terraform_hcl);

    assert!(out.launch_stack_url.len() <= 1024, "launch URL of {} bytes", out.launch_stack_url.len());
    assert_eq!(
        out.launch_stack_url.is_empty(),
        req.template_url().is_none(),
        "a launch URL without a template URL"
    );
    assert_eq!(out.external_ids, req.external_ids());
}

/// Every quoted string in the HCL ends, and holds no `${` or `%{` that HCL would
/// evaluate (a literal one is written `$${` or `%%{`).
pub fn check_hcl(hcl: &str) {
    let b = hcl.as_bytes();
    let (mut i, mut in_str) = (0, false);
    while i < b.len() {
        match (in_str, b[i]) {
            (false, b'"') => in_str = true,
            (false, b'#') => {
                // A comment runs to the end of the line.
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            (true, b'\\') => i += 1,
            (true, b'"') => in_str = false,
            (true, b'\n') => panic!("a quoted HCL string spans lines"),
            (true, c @ (b'$' | b'%')) if b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{') => i += 2,
            (true, b'$' | b'%') if b.get(i + 1) == Some(&b'{') => {
                panic!("unescaped interpolation in HCL:\n{hcl}")
            }
            _ => {}
        }
        i += 1;
    }
    assert!(!in_str, "an HCL string does not end");
}
