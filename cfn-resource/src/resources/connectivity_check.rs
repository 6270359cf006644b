//! `Custom::IdcConnectivityCheck`: the core's connectivity check as a resource.
//! Create and Update assume the trust role with each external ID (waiting out IAM
//! propagation), check the instance and the read permissions, and prove the role
//! refuses callers without an external ID; the stack fails with the check's error
//! code otherwise. Delete has nothing to remove and makes no AWS call.
//!
//! The base credentials are the function's own (the standard chain: in Lambda, its
//! execution role), which must be allowed `sts:AssumeRole` on the trust role. The
//! endpoints are AWS's unless the function's configuration says otherwise
//! (`IDCBOOTSTRAP_STS_ENDPOINT`, `IDCBOOTSTRAP_SSO_ADMIN_ENDPOINT`,
//! `IDCBOOTSTRAP_IDENTITYSTORE_ENDPOINT`, or the SDK's `AWS_ENDPOINT_URL_<SERVICE>`),
//! which is how tests reach local peers. Never a stack: the signed AssumeRole
//! request carries the external ID, and a stack author must not choose where it
//! goes, so the properties of those names are refused.
//!
//! The check finishes before the handler's deadline guard: it gets that instant,
//! less [`CHECK_SLACK`], as its overall deadline, and answers `timeout` itself with
//! the steps it could not finish; the guard stays the last line.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use idcbootstrap::connectivity::{self, CheckReport, CheckRequest, RawCheckRequest, RawSettings, Settings};
use idcbootstrap::spec;
use idcbootstrap::{AttrPath, Detail, Error, ErrorCode, ExternalId};
use tokio::time::Instant;

use super::TableResource;
use super::properties::{Defaults, Table};
use crate::config::ConfigError;
use crate::event::{Request, RequestKind};
use crate::handler::{Failure, Success};

/// Properties and attributes: the core's connectivity-check fields, the endpoint
/// overrides taken from the function's configuration only.
pub(crate) const TABLE: Table = Table::new(&spec::CONNECTIVITY_CHECK, &[]).with_settings(&ENDPOINTS);

/// The endpoint overrides (core names): where the signed AssumeRole request with
/// the external ID goes, so the function's configuration alone decides them.
const ENDPOINTS: [&str; 3] = ["sts_endpoint", "sso_admin_endpoint", "identitystore_endpoint"];

/// How long before the deadline guard the check must have answered: building the
/// report and handing it over takes milliseconds, this leaves room on a busy host.
pub(crate) const CHECK_SLACK: Duration = Duration::from_millis(500);

/// The longest `Message` and `Steps` attributes: with the envelope they stay well
/// inside CloudFormation's 4096-byte response.
const MAX_ATTRIBUTE: usize = 1200;

/// The handler of `Custom::IdcConnectivityCheck`, with the function's `IDCBOOTSTRAP_*` defaults of the
/// check's properties.
///
/// # Errors
///
/// A variable that is set but not a value of its field's type.
pub(crate) fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<TableResource, ConfigError> {
    TableResource::from_env(TABLE, get, |defaults, request, guard_at| {
        Box::pin(run(defaults, request, guard_at))
    })
}

async fn run(
    defaults: Arc<Defaults>,
    request: Arc<Request>,
    guard_at: Option<Instant>,
) -> Result<Success, Failure> {
    if request.kind == RequestKind::Delete {
        // A check owns nothing; whatever the properties are now (even invalid),
        // deleting succeeds without calling AWS.
        return Ok(Success {
            physical_resource_id: request.physical_resource_id().unwrap_or_default().to_owned(),
            data: BTreeMap::new(),
            no_echo: false,
        });
    }
    let (req, mut settings) = decode(&request, &defaults)?;
    if let Some(guard_at) = guard_at {
        let by = guard_at.checked_sub(CHECK_SLACK).unwrap_or_else(Instant::now);
        settings = settings.with_deadline(by.into_std());
    }
    let report = connectivity::check(&req, &settings).await;
    outcome(&req, report)
}

/// The stable physical ID: the role and the instance it was checked against. It
/// changes (a replacement: a new check, the old one deleted) exactly when either
/// does; a rotation of the external IDs re-runs the check under the same ID.
fn physical_id(req: &CheckRequest) -> String {
    let instance = req.sso_instance_arn().rsplit('/').next().unwrap_or_default();
    format!("{}#connectivity-check:{instance}", req.role_arn())
}

fn outcome(req: &CheckRequest, report: CheckReport) -> Result<Success, Failure> {
    let steps = steps_summary(&report);
    match report.into_result() {
        Ok(report) => {
            let mut data = BTreeMap::new();
            for attribute in TABLE.attributes() {
                let value = match attribute.name {
                    "success" => "true".to_owned(),
                    "message" => cut(&report.message, MAX_ATTRIBUTE),
                    "steps" => steps.clone(),
                    other => {
                        return Err(Failure::new(
                            ErrorCode::Internal,
                            format!("no value for the attribute of {other}"),
                        ));
                    }
                };
                data.insert(attribute.cfn.unwrap_or(attribute.name).to_owned(), value);
            }
            // Role and instance ARNs, step names: nothing secret to hide.
            Ok(Success { physical_resource_id: physical_id(req), data, no_echo: false })
        }
        Err(e) => Err(check_failure(&e)),
    }
}

/// The check's error as the `Reason`: code, the failed step's sentence, then what
/// else failed. Translated to property names; the plumbing cuts it to size.
fn check_failure(e: &Error) -> Failure {
    TABLE.translate_error(e)
}

/// `assume_role_current ok 41 ms; list_instances ok 12 ms; …`: one entry per step,
/// with the code of a failed one, cut after whole entries to fit the response.
fn steps_summary(report: &CheckReport) -> String {
    let entries: Vec<String> = report
        .steps
        .iter()
        .map(|s| match s.code {
            _ if s.ok => format!("{} ok {} ms", s.step, s.duration_ms),
            Some(code) => format!("{} {} {} ms", s.step, code.as_str(), s.duration_ms),
            None => format!("{} failed {} ms", s.step, s.duration_ms),
        })
        .collect();
    let mut out = String::new();
    for (i, e) in entries.iter().enumerate() {
        let more = format!("; … {} more", entries.len() - i);
        if out.len() + 2 + e.len() + more.len() > MAX_ATTRIBUTE {
            out.push_str(if out.is_empty() { &more[2..] } else { &more });
            break;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(e);
    }
    out
}

/// At most `max` bytes, cut on a character boundary, ending in `…` when cut.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max - '…'.len_utf8();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Decodes the properties and validates them with the core's rules, collecting
/// every problem, each named by its property.
fn decode(request: &Request, defaults: &Defaults) -> Result<(CheckRequest, Settings), Failure> {
    let mut d = TABLE.decode(&request.properties, defaults);
    let mut raw = RawCheckRequest {
        role_arn: d.string("role_arn"),
        external_ids: d.string_list("external_ids").map(|v| v.into_iter().map(ExternalId::new).collect()),
        sso_instance_arn: d.string("sso_instance_arn"),
        aws_account_id: d.string("aws_account_id"),
        region: d.string("region"),
        access_level: d.string("access_level"),
    };
    let settings = RawSettings {
        sts_endpoint: d.string("sts_endpoint"),
        sso_admin_endpoint: d.string("sso_admin_endpoint"),
        identitystore_endpoint: d.string("identitystore_endpoint"),
        propagation_timeout_seconds: d.integer("propagation_timeout").and_then(|n| u64::try_from(n).ok()),
        ..RawSettings::default()
    };
    // In a template a missing RoleArn is a missing property, not the API's "nothing
    // configured yet": report it `required` with every other problem, validating the
    // rest against a placeholder role in the instance's partition.
    if raw.role_arn.as_deref().is_none_or(|r| r.trim().is_empty())
        && !d
            .details
            .iter()
            .any(|x| TABLE.field_for_property(&x.property).is_some_and(|f| f.name == "role_arn"))
    {
        let path = AttrPath::field("role_arn");
        d.details.push(TABLE.translate_detail(&Detail::new(path, "required", "role_arn is required")));
        let partition = raw
            .sso_instance_arn
            .as_deref()
            .and_then(|a| a.split(':').nth(1))
            .filter(|p| idcbootstrap::Partition::from_arn_name(p).is_some())
            .unwrap_or("aws");
        raw.role_arn = Some(format!("arn:{partition}:iam::000000000000:role/placeholder"));
    }
    match connectivity::validate_all(&raw, &settings) {
        Ok(ok) => d.merge(None).map(|()| ok),
        Err(e) if e.code == ErrorCode::InvalidInput => {
            d.merge(Some(TABLE.translate_error(&e)))?;
            Err(TABLE.translate_error(&e))
        }
        Err(e) => Err(check_failure(&e)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::event::ReplyTo;
    use crate::handler::CustomResource;

    fn request(kind: RequestKind, props: Value) -> Request {
        Request {
            kind,
            reply: ReplyTo {
                response_url: "http://127.0.0.1:1/".into(),
                stack_id: "s".into(),
                request_id: "r".into(),
                logical_resource_id: "Check".into(),
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
            "ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:f",
            "RoleArn": "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole",
            "ExternalIds": ["secret-external-id-0001"],
            "SsoInstanceArn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
            "AwsAccountId": "123456789012",
            "Region": "eu-west-1",
            "PropagationTimeout": "30",
        })
    }

    fn props_of(f: &Failure) -> Vec<(&str, &str)> {
        f.details.iter().map(|d| (d.property.as_str(), d.rule.as_str())).collect()
    }

    #[test]
    fn valid_properties_decode() {
        let (req, settings) = decode(&request(RequestKind::Create, good()), &Defaults::default()).unwrap();
        assert_eq!(settings.propagation_timeout(), Duration::from_secs(30));
        assert_eq!(
            physical_id(&req),
            "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole#connectivity-check:ssoins-1234567890abcdef"
        );
    }

    #[test]
    fn every_problem_names_its_property_and_no_secret() {
        let mut props = good();
        props["RoleArn"] = json!("arn:aws:iam::1:role/x");
        props["ExternalIds"] = json!(["secret-external-id-0001", "bad id!"]);
        props["PropagationTimeout"] = json!("-5");
        props["Bogus"] = json!("x");
        let f = decode(&request(RequestKind::Create, props), &Defaults::default()).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidInput);
        assert_eq!(
            props_of(&f),
            [
                ("Bogus", "unknown"),
                ("PropagationTimeout", "range"),
                ("RoleArn", "pattern"),
                ("ExternalIds[1]", "pattern"),
            ]
        );
        let reason = f.reason();
        assert!(reason.starts_with("invalid_input: 4 properties are invalid"), "{reason}");
        assert!(!reason.contains("secret-external-id") && !reason.contains("bad id!"), "{reason}");
    }

    /// A stack author must not choose where the function sends a signed
    /// AssumeRole request with the external ID: endpoint overrides are the
    /// function's configuration, and a property naming one is refused.
    #[test]
    fn endpoint_overrides_come_from_the_function_never_from_the_stack() {
        for property in ["StsEndpoint", "SsoAdminEndpoint", "IdentityStoreEndpoint"] {
            let mut props = good();
            props[property] = json!("https://collector.example");
            let f = decode(&request(RequestKind::Create, props), &Defaults::default()).unwrap_err();
            assert_eq!(props_of(&f), [(property, "configuration")], "{}", f.reason());
            assert!(f.reason().contains("IDCBOOTSTRAP_"), "{}", f.reason());
        }
        let env = |name: &str| match name {
            "IDCBOOTSTRAP_STS_ENDPOINT" => Some("http://127.0.0.1:4566".to_owned()),
            "IDCBOOTSTRAP_SSO_ADMIN_ENDPOINT" => Some("http://127.0.0.1:4567".to_owned()),
            _ => None,
        };
        let defaults = TABLE.env_defaults(&env).unwrap();
        let (_, settings) = decode(&request(RequestKind::Create, good()), &defaults).unwrap();
        let want = Settings::default()
            .with_propagation_timeout(Duration::from_secs(30))
            .with_endpoints(Some("http://127.0.0.1:4566".into()), Some("http://127.0.0.1:4567".into()));
        assert_eq!(settings, want);
    }

    #[test]
    fn missing_role_is_required_with_the_rest() {
        let mut props = good();
        props.as_object_mut().unwrap().remove("RoleArn");
        props["Region"] = json!("mars-1");
        props["PropagationTimeout"] = json!("soon");
        let f = decode(&request(RequestKind::Create, props), &Defaults::default()).unwrap_err();
        assert_eq!(
            props_of(&f),
            [("PropagationTimeout", "integer"), ("RoleArn", "required"), ("Region", "region")]
        );
        let too_long = json!({"PropagationTimeout": "7200"});
        let mut props = good();
        props["PropagationTimeout"] = too_long["PropagationTimeout"].clone();
        let f = decode(&request(RequestKind::Update, props), &Defaults::default()).unwrap_err();
        assert_eq!(props_of(&f), [("PropagationTimeout", "range")]);
    }

    #[test]
    fn partition_message_uses_property_names() {
        let mut props = good();
        props["RoleArn"] = json!("arn:aws-cn:iam::123456789012:role/x");
        let f = decode(&request(RequestKind::Create, props), &Defaults::default()).unwrap_err();
        assert_eq!(props_of(&f), [("RoleArn", "partition")]);
        assert!(f.details[0].message.contains("SsoInstanceArn"), "{}", f.details[0].message);
    }

    #[tokio::test]
    async fn delete_succeeds_without_valid_properties() {
        let req = Arc::new(request(RequestKind::Delete, json!({"RoleArn": "nope"})));
        let ok = from_env(&|_| None).unwrap().handle(req).await.unwrap();
        assert_eq!(ok.physical_resource_id, "p");
        assert!(ok.data.is_empty());
    }

    #[test]
    fn steps_fit() {
        let step = |i: usize| connectivity::StepReport {
            step: format!("probe:sso:Action{i:03}"),
            ok: i.is_multiple_of(2),
            code: (!i.is_multiple_of(2)).then_some(ErrorCode::AccessDenied),
            message: "m".into(),
            duration_ms: 7,
        };
        let report = CheckReport {
            success: false,
            message: "x".into(),
            steps: (0..100).map(step).collect(),
            error: None,
        };
        let s = steps_summary(&report);
        assert!(s.len() <= MAX_ATTRIBUTE, "{}", s.len());
        assert!(s.starts_with("probe:sso:Action000 ok 7 ms; probe:sso:Action001 access_denied 7 ms"), "{s}");
        assert!(s.ends_with("more"), "{s}");
        assert_eq!(cut("ééé", 5), "é…");
    }
}
