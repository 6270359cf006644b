//! `Custom::IdcBootstrapTemplate`: the bootstrap-template call as a resource.
//! Validates the properties with the core and returns the role's policies and
//! names as `Fn::GetAtt` attributes.
//!
//! Nothing is created outside CloudFormation: Create and Update compute, Delete
//! has nothing to remove. The physical ID is the ARN the role will have, so it
//! changes exactly when the role it describes changes (another account, name or
//! path), which CloudFormation rightly treats as a replacement.
//!
//! The full CloudFormation YAML and Terraform HCL are not returned: with the
//! policies they exceed the 4096-byte response. In a stack they are not needed
//! (build the `AWS::IAM::Role` from `TrustPolicy` and `PermissionsPolicy`); the
//! Terraform data source `idcbootstrap_template` and the vendor API return them.

use std::collections::BTreeMap;
use std::sync::Arc;

use idcbootstrap::spec;
use idcbootstrap::{AttrPath, ErrorCode, ExternalId, RawTemplateRequest, TemplateRequest};
use serde_json::Value;

use super::properties::{Defaults, Table, invalid_message};
use crate::config::ConfigError;
use crate::event::{Request, RequestKind};
use crate::handler::{BoxFuture, CustomResource, Failure, PropertyDetail, Success};

/// Properties and attributes: the core's template fields, plus the part selector.
pub(crate) const TABLE: Table = Table::new(&spec::TEMPLATE, spec::TEMPLATE_CLOUDFORMATION_ONLY);

/// The core field selecting which part of the permissions policy this resource
/// returns (1-based). Not a core input: it exists only because of the response limit.
const PART: &str = "permissions_policy_part";

/// What joins the IDs of the `ExternalIds` attribute, for `Fn::Split`. The ID
/// alphabet allows it, so an ID that holds one is refused here (rule
/// `separator`), rather than split into two by the template that reads it.
const ID_SEPARATOR: char = ',';

/// Largest minified size of one permissions-policy part. A part plus the trust
/// policy, the link and the envelope must stay under CloudFormation's 4096-byte
/// response; the `read_only` policy (about 1.6 KB) fits in one part, `assignments`
/// and `admin` (3–4 KB, more than a whole response once JSON-escaped) take two or
/// three. Each part is a complete policy document of whole statements, for one
/// entry of the role's `Policies`.
const PART_LIMIT: usize = 1800;

/// `Custom::IdcBootstrapTemplate`, with the function's environment defaults.
#[derive(Clone, Default)]
pub(crate) struct Template {
    defaults: Arc<Defaults>,
}

impl Template {
    /// Reads the `IDCBOOTSTRAP_*` defaults of the template's properties through `get`.
    ///
    /// # Errors
    ///
    /// A variable that is set but not a value of its field's type.
    pub(crate) fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Template, ConfigError> {
        Ok(Template { defaults: Arc::new(TABLE.env_defaults(get)?) })
    }

    /// Decodes the properties into the core's raw request, collecting every problem.
    #[cfg(test)]
    fn decode(&self, request: &Request) -> Result<RawTemplateRequest, Failure> {
        self.decode_with_part(request).map(|(raw, _)| raw)
    }

    /// [`Template::decode`], plus the selected policy part (1-based).
    fn decode_with_part(&self, request: &Request) -> Result<(RawTemplateRequest, usize), Failure> {
        let mut d = TABLE.decode(&request.properties, &self.defaults);
        let ids = d.values.get("external_ids").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, id) in ids.iter().enumerate() {
            if id.as_str().is_some_and(|id| id.contains(ID_SEPARATOR)) {
                d.details.push(PropertyDetail {
                    property: TABLE.property_path(&AttrPath::field("external_ids").index(i)),
                    rule: "separator".to_owned(),
                    message: format!(
                        "contains `{ID_SEPARATOR}`, which joins the IDs of the ExternalIds attribute (for \
                         Fn::Split): use an external ID without it"
                    ),
                });
            }
        }
        let part = match d.values.remove(PART).map(|v| v.as_i64()) {
            None => 1,
            Some(Some(n)) if n >= 1 => n as usize,
            Some(_) => {
                d.details.push(part_problem(None));
                1
            }
        };
        let raw: RawTemplateRequest =
            serde_json::from_value(Value::Object(d.values.clone())).map_err(|e| {
                Failure::new(
                    ErrorCode::Internal,
                    format!("the decoded properties do not fit the core's request: {e}"),
                )
            })?;
        // Run the core's validation even when decoding found problems, so one answer
        // names every bad property.
        let validated = TemplateRequest::validate(&raw).err().map(|e| TABLE.translate_error(&e));
        d.merge(validated)?;
        Ok((raw, part))
    }

    fn compute(&self, request: &Request) -> Result<Success, Failure> {
        let (raw, part) = self.decode_with_part(request)?;
        let validated = TemplateRequest::validate(&raw).map_err(|e| TABLE.translate_error(&e))?;
        let out = idcbootstrap::render(&validated).map_err(|e| TABLE.translate_error(&e))?;
        let parts =
            split_policy(&minify_json(&out.permissions_policy_json), PART_LIMIT).ok_or_else(|| {
                Failure::new(ErrorCode::Internal, "the rendered permissions policy has no Statement list")
            })?;
        let Some(selected) = parts.get(part - 1) else {
            let mut f = Failure::new(ErrorCode::InvalidInput, invalid_message(1));
            f.details.push(part_problem(Some(format!(
                "this access level's policy has {} part(s); got {part}",
                parts.len()
            ))));
            return Err(f);
        };
        // Several parts of one role are several resources: keep their physical IDs apart.
        let physical_resource_id = if part == 1 {
            out.role_arn.clone()
        } else {
            format!("{}#permissions-policy-part-{part}", out.role_arn)
        };
        let mut data = BTreeMap::new();
        for attribute in TABLE.attributes() {
            let value = match attribute.name {
                "trust_policy_json" => minify_json(&out.trust_policy_json),
                "permissions_policy_json" => selected.clone(),
                "permissions_policy_parts" => parts.len().to_string(),
                "role_arn" => out.role_arn.clone(),
                "role_name" => out.role_name.clone(),
                "launch_stack_url" => out.launch_stack_url.clone(),
                // No ID holds the separator (refused above); `Fn::Split` turns this
                // back into the list.
                "external_ids" => out
                    .external_ids
                    .iter()
                    .map(ExternalId::expose)
                    .collect::<Vec<_>>()
                    .join(ID_SEPARATOR.encode_utf8(&mut [0; 4])),
                other => {
                    return Err(Failure::new(
                        ErrorCode::Internal,
                        format!("no value for the attribute of {other}"),
                    ));
                }
            };
            data.insert(attribute.cfn.unwrap_or(attribute.name).to_owned(), value);
        }
        // The trust policy and link carry the external IDs: hide them from describe output.
        Ok(Success { physical_resource_id, data, no_echo: true })
    }
}

/// A bad `PermissionsPolicyPart`: the field's rule, or `message`.
fn part_problem(message: Option<String>) -> PropertyDetail {
    let field = TABLE.properties().find(|f| f.name == PART);
    PropertyDetail {
        property: field.and_then(|f| f.cfn).unwrap_or(PART).to_owned(),
        rule: "range".to_owned(),
        message: message.unwrap_or_else(|| field.and_then(|f| f.rule).unwrap_or_default().to_owned()),
    }
}

impl CustomResource for Template {
    fn resource_type(&self) -> &'static str {
        TABLE.resource_type()
    }

    /// The external IDs are echoed three times (`TrustPolicy`, `ExternalIds`,
    /// `LaunchStackUrl`): when shorter IDs would make the answer fit, the answer
    /// names `ExternalIds`.
    fn too_large(&self, _request: &Request, success: &Success, size: usize) -> Option<Failure> {
        let ids = success.data.get(TABLE.attributes().find(|f| f.name == "external_ids")?.cfn?)?;
        let over = size - crate::response::MAX_BODY;
        if ids.len() * 2 < over {
            return None;
        }
        let property = TABLE.property_path(&AttrPath::field("external_ids"));
        let mut f = Failure::new(ErrorCode::InvalidInput, invalid_message(1));
        f.details.push(PropertyDetail {
            property,
            rule: "size".to_owned(),
            message: format!(
                "the IDs ({} characters together) are echoed in the trust policy, the ExternalIds attribute and \
                 the launch link, which makes the answer {size} bytes, over CloudFormation's {}-byte limit: use \
                 shorter IDs (about {} characters fewer in all)",
                ids.len(),
                crate::response::MAX_BODY,
                over.div_ceil(2)
            ),
        });
        Some(f)
    }

    fn handle(&self, request: Arc<Request>) -> BoxFuture<Result<Success, Failure>> {
        let this = self.clone();
        Box::pin(async move {
            if request.kind == RequestKind::Delete {
                // Nothing exists outside CloudFormation; whatever the properties are
                // now (even invalid), deleting succeeds.
                return Ok(Success {
                    physical_resource_id: request.physical_resource_id().unwrap_or_default().to_owned(),
                    data: BTreeMap::new(),
                    no_echo: true,
                });
            }
            // Validation and rendering are CPU work: off the async thread, so the
            // deadline guard can always fire. A panic in there is re-raised here and
            // caught by the handler's catch-panic.
            match tokio::task::spawn_blocking(move || this.compute(&request)).await {
                Ok(result) => result,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => Err(Failure::new(ErrorCode::Internal, "rendering was cancelled")),
            }
        })
    }
}

/// The core's JSON without the whitespace between tokens: the policies must share
/// a 4096-byte response. Done on the text rather than through `serde_json::Value`,
/// which would reorder the keys (`Version` first, `Effect` before `Action`).
fn minify_json(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in pretty.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Splits a minified policy document into documents of whole statements, in
/// order, each at most `limit` bytes unless a single statement is larger. `None`
/// if the document has no top-level `Statement` array.
///
/// Works on the text so each part keeps the core's key order (see [`minify_json`]).
fn split_policy(doc: &str, limit: usize) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(doc).ok()?;
    let version = value.get("Version")?.as_str()?.to_owned();
    let start = doc.find("\"Statement\":[")? + "\"Statement\":[".len();
    // Top-level elements of the array: balanced braces outside strings.
    let mut statements = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut from) = (0usize, false, false, None);
    for (i, c) in doc[start..].char_indices() {
        let at = start + i;
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => {
                if depth == 0 {
                    from = Some(at);
                }
                depth += 1;
            }
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    statements.push(&doc[from?..=at]);
                }
            }
            ']' if depth == 0 => break,
            _ => {}
        }
    }
    let wrap = |body: &[&str]| format!("{{\"Version\":\"{version}\",\"Statement\":[{}]}}", body.join(","));
    let mut parts = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for s in statements {
        current.push(s);
        if current.len() > 1 && wrap(&current).len() > limit {
            current.pop();
            parts.push(wrap(&current));
            current = vec![s];
        }
    }
    if !current.is_empty() {
        parts.push(wrap(&current));
    }
    if parts.is_empty() { None } else { Some(parts) }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::event::ReplyTo;

    const PART_PROPERTY: &str = "PermissionsPolicyPart";

    fn compute(r: &Request) -> Result<Success, Failure> {
        Template::default().compute(r)
    }

    fn decode(r: &Request) -> Result<RawTemplateRequest, Failure> {
        Template::default().decode(r)
    }

    fn request(kind: RequestKind, props: Value) -> Request {
        Request {
            kind,
            reply: ReplyTo {
                response_url: "http://127.0.0.1:1/".into(),
                stack_id: "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1".into(),
                request_id: "r".into(),
                logical_resource_id: "Template".into(),
                physical_resource_id: (kind != RequestKind::Create).then(|| "p".to_owned()),
                kind: Some(kind),
            },
            resource_type: TABLE.resource_type().into(),
            properties: serde_json::from_value(props).unwrap(),
            old_properties: None,
        }
    }

    fn good() -> Value {
        json!({
            "ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:idcbootstrap",
            "AwsAccountId": "111122223333",
            "SsoInstanceArn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
            "Region": "us-east-1",
            "TrustedPrincipalArn": "arn:aws:iam::999988887777:role/vendor",
            "ExternalIds": ["abcdefghijklmnopqrstuvwxyz012345"],
            "RoleName": "IdcTrust",
            "AccessLevel": "read_only",
            "MaxSessionDuration": "7200",
            "Tags": {"env": "prod"},
        })
    }

    #[test]
    fn create_returns_every_attribute_within_the_size_limit() {
        for level in ["read_only", "assignments", "admin"] {
            let mut props = good();
            props["AccessLevel"] = json!(level);
            props["ExternalIds"] =
                json!(["abcdefghijklmnopqrstuvwxyz012345", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"]);
            props["TemplateUrl"] =
                json!("https://example-bucket.s3.amazonaws.com/idcbootstrap/template.yaml");
            props["RolePath"] = json!("/integrations/vendor/");
            let first = compute(&request(RequestKind::Create, props.clone())).unwrap();
            let n: usize = first.data["PermissionsPolicyParts"].parse().unwrap();
            assert!((1..=3).contains(&n), "{level}: {n} parts");
            if level == "read_only" {
                assert_eq!(n, 1);
            }
            let mut statements = Vec::new();
            for part in 1..=n {
                props[PART_PROPERTY] = json!(part.to_string());
                let s = compute(&request(RequestKind::Create, props.clone())).unwrap();
                let keys: Vec<&str> = s.data.keys().map(String::as_str).collect();
                let mut want: Vec<&str> = TABLE.attributes().filter_map(|f| f.cfn).collect();
                want.sort_unstable();
                assert_eq!(keys, want);
                let arn = "arn:aws:iam::111122223333:role/integrations/vendor/IdcTrust";
                if part == 1 {
                    assert_eq!(s.physical_resource_id, arn);
                } else {
                    assert_eq!(s.physical_resource_id, format!("{arn}#permissions-policy-part-{part}"));
                }
                assert!(s.no_echo);
                // The whole response, with a long stack ID, fits in 4096 bytes.
                let reply = request(RequestKind::Create, json!({})).reply;
                let mut resp = crate::response::CfnResponse::new(
                    &reply,
                    crate::response::Status::Success,
                    s.physical_resource_id.clone(),
                );
                resp.stack_id = format!(
                    "arn:aws:cloudformation:us-east-1:111122223333:stack/{}/{}",
                    "s".repeat(60),
                    "u".repeat(36)
                );
                resp.data = s.data.clone();
                let body = serde_json::to_vec(&resp).unwrap();
                assert!(body.len() <= crate::response::MAX_BODY, "{level} part {part}: {} bytes", body.len());
                let trust: Value = serde_json::from_str(&s.data["TrustPolicy"]).unwrap();
                assert!(trust.to_string().contains("sts:ExternalId"));
                let policy: Value = serde_json::from_str(&s.data["PermissionsPolicy"]).unwrap();
                statements.extend(policy["Statement"].as_array().unwrap().iter().cloned());
            }
            // The parts together are exactly the core's policy.
            let raw = decode(&request(RequestKind::Create, props.clone())).unwrap();
            let full = idcbootstrap::render(&TemplateRequest::validate(&raw).unwrap()).unwrap();
            let full: Value = serde_json::from_str(&full.permissions_policy_json).unwrap();
            assert_eq!(&Value::from(statements), &full["Statement"], "{level}");
            props[PART_PROPERTY] = json!((n + 1).to_string());
            let f = compute(&request(RequestKind::Create, props)).unwrap_err();
            assert_eq!(f.details[0].property, PART_PROPERTY);
        }
    }

    /// The documented part counts (README, example stack conditions) hold in every
    /// partition, whose ARNs differ in length.
    #[test]
    fn policy_part_counts_per_access_level() {
        let partitions = [
            ("aws", "us-east-1"),
            ("aws-us-gov", "us-gov-west-1"),
            ("aws-cn", "cn-north-1"),
            ("aws-iso", "us-iso-east-1"),
            ("aws-iso-b", "us-isob-east-1"),
        ];
        for (partition, region) in partitions {
            for (level, want) in [("read_only", "1"), ("assignments", "2"), ("admin", "3")] {
                let mut props = good();
                props["SsoInstanceArn"] =
                    json!(format!("arn:{partition}:sso:::instance/ssoins-1234567890abcdef"));
                props["Region"] = json!(region);
                props["TrustedPrincipalArn"] =
                    json!(format!("arn:{partition}:iam::999988887777:role/vendor"));
                props["AccessLevel"] = json!(level);
                let s = compute(&request(RequestKind::Create, props))
                    .unwrap_or_else(|f| panic!("{}", f.reason()));
                assert_eq!(s.data["PermissionsPolicyParts"], want, "{partition} {level}");
            }
        }
    }

    #[test]
    fn invalid_properties_are_all_named() {
        let mut props = good();
        props["AwsAccountId"] = json!("12345");
        props["MaxSessionDuration"] = json!("an hour");
        props["Tags"] = json!({"env": "x".repeat(300)});
        props["Colour"] = json!("blue");
        let f = compute(&request(RequestKind::Create, props)).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidInput);
        let named: Vec<&str> = f.details.iter().map(|d| d.property.as_str()).collect();
        for want in ["AwsAccountId", "MaxSessionDuration", "Tags.env", "Colour"] {
            assert!(named.contains(&want), "{want} missing from {named:?}");
        }
        // MaxSessionDuration failed to parse: not also reported as missing.
        assert_eq!(named.iter().filter(|n| **n == "MaxSessionDuration").count(), 1);
    }

    #[test]
    fn missing_required_properties_are_named() {
        let f = compute(&request(RequestKind::Create, json!({"ServiceToken": "x"}))).unwrap_err();
        let named: Vec<&str> = f.details.iter().map(|d| d.property.as_str()).collect();
        for want in ["AwsAccountId", "SsoInstanceArn", "Region", "TrustedPrincipalArn", "ExternalIds"] {
            assert!(named.contains(&want), "{want} missing from {named:?}");
        }
    }

    #[test]
    fn external_ids_are_never_in_a_failure() {
        let mut props = good();
        props["ExternalIds"] = json!(["secret value with spaces"]);
        let f = compute(&request(RequestKind::Create, props)).unwrap_err();
        assert!(!f.reason().contains("secret value"), "{}", f.reason());
        assert!(f.reason().contains("ExternalIds[0]"), "{}", f.reason());
    }

    /// `ExternalIds` is joined with `,` for `Fn::Split`; an ID that holds one
    /// (the ID alphabet allows it) would split into two.
    #[test]
    fn external_ids_with_the_separator_are_refused_by_name() {
        let mut props = good();
        props["ExternalIds"] = json!(["first-id-0001", "vendor,id,with,commas"]);
        let f = compute(&request(RequestKind::Create, props)).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidInput);
        let d = f.details.iter().find(|d| d.property == "ExternalIds[1]").expect("ExternalIds[1] named");
        assert_eq!(d.rule, "separator");
        assert!(!f.reason().contains("vendor,id"), "{}", f.reason());
    }

    /// Two long but valid IDs with the admin policy cannot fit CloudFormation's
    /// 4096 bytes: the answer names `ExternalIds`, not an internal error.
    #[tokio::test]
    async fn ids_too_long_for_the_response_name_the_property() {
        let config = crate::config::Config::from_lookup(&|_| None).unwrap();
        let handler = crate::handler::Handler::new(
            &config,
            crate::response_url::ResponseEndpoints::default(),
            vec![Arc::new(Template::default())],
        );
        let long = ["A".repeat(1224), "B".repeat(1224)];
        for part in ["1", "2", "3"] {
            let mut props = good();
            props["AccessLevel"] = json!("admin");
            props["ExternalIds"] = json!(long);
            props[PART_PROPERTY] = json!(part);
            let guard_at = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
            let resp = handler.run(request(RequestKind::Create, props), guard_at).await;
            let body = resp.encode();
            assert!(body.len() <= crate::response::MAX_BODY, "{} bytes", body.len());
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["Status"], "FAILED", "part {part}");
            let reason = v["Reason"].as_str().unwrap();
            assert!(reason.starts_with("invalid_input: ") && reason.contains("ExternalIds"), "{reason}");
            assert!(!reason.contains("AAAA") && !reason.contains("BBBB"), "{reason}");
        }
    }

    #[tokio::test]
    async fn delete_with_invalid_properties_succeeds() {
        let r = request(RequestKind::Delete, json!({"AwsAccountId": "nope"}));
        let s = Template::default().handle(Arc::new(r)).await.unwrap();
        assert_eq!(s.physical_resource_id, "p");
    }

    #[test]
    fn minified_policies_are_the_same_documents() {
        let s = "{\n  \"a b\": [\"x \\\" y\", 1],\n  \"c\": {}\n}";
        let m = minify_json(s);
        assert_eq!(m, "{\"a b\":[\"x \\\" y\",1],\"c\":{}}");
        assert_eq!(serde_json::from_str::<Value>(s).unwrap(), serde_json::from_str::<Value>(&m).unwrap());
    }

    #[test]
    fn rendering_is_deterministic() {
        let a = compute(&request(RequestKind::Create, good())).unwrap();
        let b = compute(&request(RequestKind::Update, good())).unwrap();
        assert_eq!(a, b);
    }
}
