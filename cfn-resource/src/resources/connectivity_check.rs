//! `Custom::IdcConnectivityCheck`: the core's connectivity check as a resource.
//! Create and Update assume the trust role with each external ID (waiting out IAM
//! propagation), check the instance and the read permissions, and prove the role
//! refuses callers without an external ID; the stack fails with the check's error
//! code otherwise. Delete has nothing to remove and makes no AWS call.
//!
//! The base credentials are the function's own (the standard chain: in Lambda, its
//! execution role), which must be allowed `sts:AssumeRole` on the trust role. The
//! endpoints are AWS's unless `StsEndpoint`, `SsoAdminEndpoint` or
//! `IdentityStoreEndpoint` say otherwise (or the SDK's `AWS_ENDPOINT_URL_<SERVICE>`
//! variables in the function's environment), which is how tests reach local peers.
//!
//! The check finishes before the handler's deadline guard: it gets that instant,
//! less [`CHECK_SLACK`], as its overall deadline, and answers `timeout` itself with
//! the steps it could not finish; the guard stays the last line.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use idcbootstrap::connectivity::{
    self, CheckReport, CheckRequest, MAX_PROPAGATION_TIMEOUT, RawCheckRequest, RawSettings, Settings,
};
use idcbootstrap::path::PathStep;
use idcbootstrap::{AttrPath, Detail, Error, ErrorCode, ExternalId};
use tokio::time::Instant;

use super::properties::{Props, display_property_path, invalid_message};
use crate::event::{Request, RequestKind};
use crate::handler::{BoxFuture, CustomResource, Failure, PropertyDetail, Success};

/// The `ResourceType`.
pub(crate) const TYPE: &str = "Custom::IdcConnectivityCheck";

/// `Fn::GetAtt` attribute names.
pub(crate) const ATTRIBUTES: [&str; 3] = ["Success", "Message", "Steps"];

/// Property ↔ core field (of `RawCheckRequest` or `RawSettings`).
pub(crate) const PROPERTIES: [(&str, &str); 10] = [
    ("RoleArn", "role_arn"),
    ("ExternalIds", "external_ids"),
    ("SsoInstanceArn", "sso_instance_arn"),
    ("AwsAccountId", "aws_account_id"),
    ("Region", "region"),
    ("AccessLevel", "access_level"),
    ("PropagationTimeout", "propagation_timeout_seconds"),
    ("StsEndpoint", "sts_endpoint"),
    ("SsoAdminEndpoint", "sso_admin_endpoint"),
    ("IdentityStoreEndpoint", "identitystore_endpoint"),
];

/// How long before the deadline guard the check must have answered: building the
/// report and handing it over takes milliseconds, this leaves room on a busy host.
pub(crate) const CHECK_SLACK: Duration = Duration::from_millis(500);

/// The longest `Message` and `Steps` attributes: with the envelope they stay well
/// inside CloudFormation's 4096-byte response.
const MAX_ATTRIBUTE: usize = 1200;

pub(crate) struct ConnectivityCheck;

impl CustomResource for ConnectivityCheck {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn handle(&self, request: Arc<Request>) -> BoxFuture<Result<Success, Failure>> {
        Box::pin(run(request, None))
    }

    fn handle_until(&self, request: Arc<Request>, guard_at: Instant) -> BoxFuture<Result<Success, Failure>> {
        Box::pin(run(request, Some(guard_at)))
    }
}

async fn run(request: Arc<Request>, guard_at: Option<Instant>) -> Result<Success, Failure> {
    if request.kind == RequestKind::Delete {
        // A check owns nothing; whatever the properties are now (even invalid),
        // deleting succeeds without calling AWS.
        return Ok(Success {
            physical_resource_id: request.physical_resource_id().unwrap_or_default().to_owned(),
            data: BTreeMap::new(),
            no_echo: false,
        });
    }
    let (req, mut settings) = decode(&request)?;
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
        Ok(report) => Ok(Success {
            physical_resource_id: physical_id(req),
            data: BTreeMap::from([
                ("Success".to_owned(), "true".to_owned()),
                ("Message".to_owned(), cut(&report.message, MAX_ATTRIBUTE)),
                ("Steps".to_owned(), steps),
            ]),
            // Role and instance ARNs, step names: nothing secret to hide.
            no_echo: false,
        }),
        Err(e) => Err(check_failure(&e)),
    }
}

/// The check's error as the `Reason`: code, the failed step's sentence, then what
/// else failed. Translated to property names; the plumbing cuts it to size.
fn check_failure(e: &Error) -> Failure {
    let mut message = translate_message(&e.message);
    for notice in &e.notices {
        message.push_str("; ");
        message.push_str(&translate_message(notice));
    }
    Failure { code: e.code, message, details: e.details.iter().map(translate_detail).collect() }
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
fn decode(request: &Request) -> Result<(CheckRequest, Settings), Failure> {
    let mut p = Props::new(&request.properties);
    let known: Vec<&str> = PROPERTIES.iter().map(|(prop, _)| *prop).collect();
    p.reject_unknown(TYPE, &known);
    let propagation = p.string("PropagationTimeout").and_then(|s| {
        let path = AttrPath::root().attr("PropagationTimeout");
        match idcbootstrap::parse::integer(path, &s).map(u64::try_from) {
            Ok(Ok(n)) => Some(n),
            Ok(Err(_)) => {
                p.details.push(PropertyDetail {
                    property: "PropagationTimeout".to_owned(),
                    rule: "range".to_owned(),
                    message: format!("must be between 0 and {} seconds", MAX_PROPAGATION_TIMEOUT.as_secs()),
                });
                None
            }
            Err(d) => {
                p.details.push(translate_detail(&d));
                None
            }
        }
    });
    let mut raw = RawCheckRequest {
        role_arn: p.string("RoleArn"),
        external_ids: p.string_list("ExternalIds").map(|v| v.into_iter().map(ExternalId::new).collect()),
        sso_instance_arn: p.string("SsoInstanceArn"),
        aws_account_id: p.string("AwsAccountId"),
        region: p.string("Region"),
        access_level: p.string("AccessLevel"),
    };
    let settings = RawSettings {
        sts_endpoint: p.string("StsEndpoint"),
        sso_admin_endpoint: p.string("SsoAdminEndpoint"),
        identitystore_endpoint: p.string("IdentityStoreEndpoint"),
        propagation_timeout_seconds: propagation,
        ..RawSettings::default()
    };
    // In a template a missing RoleArn is a missing property, not the API's "nothing
    // configured yet": report it `required` with every other problem, validating the
    // rest against a placeholder role in the instance's partition.
    let mut missing_role = Vec::new();
    if raw.role_arn.as_deref().is_none_or(|r| r.trim().is_empty()) {
        missing_role.push(PropertyDetail {
            property: "RoleArn".to_owned(),
            rule: "required".to_owned(),
            message: "is required: the ARN of the trust role to check".to_owned(),
        });
        let partition = raw
            .sso_instance_arn
            .as_deref()
            .and_then(|a| a.split(':').nth(1))
            .filter(|p| idcbootstrap::Partition::from_arn_name(p).is_some())
            .unwrap_or("aws");
        raw.role_arn = Some(format!("arn:{partition}:iam::000000000000:role/placeholder"));
    }
    let decoded = p.finish();
    let validated = connectivity::validate_all(&raw, &settings);
    let mut details = match decoded {
        Ok(()) => Vec::new(),
        Err(f) => f.details,
    };
    details.extend(missing_role);
    match validated {
        Ok(ok) if details.is_empty() => Ok(ok),
        Ok(_) => Err(invalid(details)),
        Err(e) if e.code == ErrorCode::InvalidInput => {
            // A property that failed decoding is absent for the validator, which
            // then reports it `required`: keep only the decoding problem.
            for d in e.details.iter().map(translate_detail) {
                if !details.iter().any(|x| x.property == d.property) {
                    details.push(d);
                }
            }
            Err(invalid(details))
        }
        Err(e) => Err(check_failure(&e)),
    }
}

fn invalid(details: Vec<PropertyDetail>) -> Failure {
    Failure { code: ErrorCode::InvalidInput, message: invalid_message(details.len()), details }
}

fn property_for_field(field: &str) -> Option<&'static str> {
    PROPERTIES.iter().find(|(_, f)| *f == field).map(|(p, _)| *p)
}

/// Core path → template path (`external_ids[1]` → `ExternalIds[1]`).
fn to_property_path(core: &AttrPath) -> String {
    let mut path = AttrPath::root();
    for (i, step) in core.steps().iter().enumerate() {
        path = match step {
            PathStep::Attr(a) if i == 0 => match property_for_field(a) {
                Some(p) => path.attr(p),
                None => path.attr(a.to_string()),
            },
            PathStep::Attr(a) => path.attr(a.to_string()),
            PathStep::Index(n) => path.index(*n),
            PathStep::Key(k) => path.key(k.clone()),
        };
    }
    display_property_path(&path)
}

fn translate_detail(d: &Detail) -> PropertyDetail {
    PropertyDetail {
        property: to_property_path(&d.field),
        rule: d.rule.clone(),
        message: translate_message(&d.message),
    }
}

/// Core field names in a sentence become property names (`role_arn` → `RoleArn`);
/// longer identifiers that merely contain one are left alone.
fn translate_message(message: &str) -> String {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut out = message.to_owned();
    for (property, field) in PROPERTIES {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(pos) = rest.find(field) {
            let before = rest[..pos].chars().next_back();
            let after = rest[pos + field.len()..].chars().next();
            result.push_str(&rest[..pos]);
            result.push_str(if ident(before) || ident(after) { field } else { property });
            rest = &rest[pos + field.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// The properties for `bootstrap --describe`: the core's documentation where the
/// field is a template input too, this type's own otherwise.
pub(crate) fn describe_properties() -> Vec<serde_json::Value> {
    use serde_json::json;
    PROPERTIES
        .iter()
        .map(|(property, field)| match idcbootstrap::spec::TEMPLATE.inputs().find(|f| f.name == *field) {
            Some(doc) => json!({
                "name": property, "core_field": field,
                "required": doc.presence == idcbootstrap::spec::Presence::Required,
                "default": doc.default, "description": doc.description, "rule": doc.rule,
                "secret": doc.sensitive,
            }),
            None => {
                let (required, default, description, rule) = own_doc(property);
                json!({
                    "name": property, "core_field": field, "required": required,
                    "default": default, "description": description, "rule": rule, "secret": false,
                })
            }
        })
        .collect()
}

fn own_doc(property: &str) -> (bool, Option<&'static str>, &'static str, &'static str) {
    match property {
        "RoleArn" => (
            true,
            None,
            "ARN of the trust role to check, usually !GetAtt of the AWS::IAM::Role. The function's execution role must be allowed sts:AssumeRole on it.",
            "arn:<partition>:iam::<12 digits>:role/<optional path/><name>, in the instance's partition.",
        ),
        "PropagationTimeout" => (
            false,
            Some("120"),
            "How long to keep retrying AssumeRole while IAM propagates a new role, in seconds; the check always answers before the function's deadline.",
            "An integer from 0 to 3600.",
        ),
        "StsEndpoint" => (
            false,
            None,
            "STS endpoint override, for tests against local servers.",
            "An http:// or https:// URL.",
        ),
        "SsoAdminEndpoint" => (
            false,
            None,
            "sso-admin endpoint override, for tests against local servers.",
            "An http:// or https:// URL.",
        ),
        _ => (
            false,
            None,
            "identitystore endpoint override, for tests against local servers.",
            "An http:// or https:// URL.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::event::ReplyTo;

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
            resource_type: TYPE.into(),
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
            "StsEndpoint": "http://127.0.0.1:4566",
        })
    }

    fn props_of(f: &Failure) -> Vec<(&str, &str)> {
        f.details.iter().map(|d| (d.property.as_str(), d.rule.as_str())).collect()
    }

    #[test]
    fn valid_properties_decode() {
        let (req, settings) = decode(&request(RequestKind::Create, good())).unwrap();
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
        props["SsoAdminEndpoint"] = json!("ftp://x");
        props["Bogus"] = json!("x");
        let f = decode(&request(RequestKind::Create, props)).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidInput);
        assert_eq!(
            props_of(&f),
            [
                ("Bogus", "unknown"),
                ("PropagationTimeout", "range"),
                ("RoleArn", "pattern"),
                ("ExternalIds[1]", "pattern"),
                ("SsoAdminEndpoint", "url"),
            ]
        );
        let reason = f.reason();
        assert!(reason.starts_with("invalid_input: 5 properties are invalid"), "{reason}");
        assert!(!reason.contains("secret-external-id") && !reason.contains("bad id!"), "{reason}");
    }

    #[test]
    fn missing_role_is_required_with_the_rest() {
        let mut props = good();
        props.as_object_mut().unwrap().remove("RoleArn");
        props["Region"] = json!("mars-1");
        props["PropagationTimeout"] = json!("soon");
        let f = decode(&request(RequestKind::Create, props)).unwrap_err();
        assert_eq!(
            props_of(&f),
            [("PropagationTimeout", "integer"), ("RoleArn", "required"), ("Region", "region")]
        );
        let too_long = json!({"PropagationTimeout": "7200"});
        let mut props = good();
        props["PropagationTimeout"] = too_long["PropagationTimeout"].clone();
        let f = decode(&request(RequestKind::Update, props)).unwrap_err();
        assert_eq!(props_of(&f), [("PropagationTimeout", "range")]);
    }

    #[test]
    fn partition_message_uses_property_names() {
        let mut props = good();
        props["RoleArn"] = json!("arn:aws-cn:iam::123456789012:role/x");
        let f = decode(&request(RequestKind::Create, props)).unwrap_err();
        assert_eq!(props_of(&f), [("RoleArn", "partition")]);
        assert!(f.details[0].message.contains("SsoInstanceArn"), "{}", f.details[0].message);
    }

    #[tokio::test]
    async fn delete_succeeds_without_valid_properties() {
        let req = Arc::new(request(RequestKind::Delete, json!({"RoleArn": "nope"})));
        let ok = ConnectivityCheck.handle(req).await.unwrap();
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

    #[test]
    fn describe_covers_every_property() {
        let names: Vec<String> =
            describe_properties().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, PROPERTIES.map(|(p, _)| p.to_owned()));
    }
}
