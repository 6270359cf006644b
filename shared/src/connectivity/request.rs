//! What to check ([`RawCheckRequest`] → [`CheckRequest`]) and how to reach AWS
//! ([`RawSettings`] → [`Settings`]): decoded raw by a front-end, validated once here.

use std::fmt;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Detail, Error, ErrorCode, Result};
use crate::external_id::ExternalId;
use crate::input::{AccessLevel, Partition, RawTemplateRequest, TemplateRequest};
use crate::path::AttrPath;

/// Default time to wait for a new role to become assumable (IAM propagation).
pub const DEFAULT_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest propagation timeout accepted: IAM propagation never takes an hour.
pub const MAX_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(3600);

/// Default limit on one attempt of one AWS call (connect + answer).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The check's inputs as a front-end decodes them. Every field is optional so that
/// [`CheckRequest::validate`] can name each missing one along with every other problem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCheckRequest {
    /// ARN of the trust role. Missing or empty means nothing is configured yet.
    pub role_arn: Option<String>,
    /// Trusted external IDs, current first: one at steady state, two during rotation.
    pub external_ids: Option<Vec<ExternalId>>,
    /// ARN of the IAM Identity Center instance the role must reach.
    pub sso_instance_arn: Option<String>,
    /// The account that must own the instance: 12 digits.
    pub aws_account_id: Option<String>,
    /// Region of the instance, in the ARN's partition.
    pub region: Option<String>,
    /// `read_only` (default), `assignments` or `admin`: decides the read probes.
    pub access_level: Option<String>,
}

/// A check request whose every field passed validation. Only
/// [`CheckRequest::validate`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    pub(crate) role_arn: String,
    pub(crate) external_ids: Vec<ExternalId>,
    pub(crate) sso_instance_arn: String,
    pub(crate) partition: Partition,
    pub(crate) aws_account_id: String,
    pub(crate) region: String,
    pub(crate) access_level: AccessLevel,
}

impl CheckRequest {
    /// Validates every field of `raw`.
    ///
    /// # Errors
    ///
    /// * `not_configured` when `role_arn` is missing or empty (the seed API's 404),
    ///   before anything else is looked at.
    /// * `invalid_input` with one [`Detail`] per broken rule, each naming its field.
    pub fn validate(raw: &RawCheckRequest) -> Result<CheckRequest> {
        let mut details = Vec::new();
        let req = validate_request(raw, &mut details)?;
        match req {
            Some(req) if details.is_empty() => Ok(req),
            _ => Err(Error::invalid_input(details)),
        }
    }

    /// The trust role's ARN.
    pub fn role_arn(&self) -> &str {
        &self.role_arn
    }

    /// The trusted external IDs, current first.
    pub fn external_ids(&self) -> &[ExternalId] {
        &self.external_ids
    }

    /// The instance ARN.
    pub fn sso_instance_arn(&self) -> &str {
        &self.sso_instance_arn
    }

    /// The account that must own the instance.
    pub fn aws_account_id(&self) -> &str {
        &self.aws_account_id
    }

    /// The region of the instance.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The partition of the role and the instance.
    pub fn partition(&self) -> Partition {
        self.partition
    }

    /// The access level whose read permissions are probed.
    pub fn access_level(&self) -> AccessLevel {
        self.access_level
    }
}

/// A secret string (AWS secret key, session token): `Debug` and `Display` redact.
#[derive(Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How to reach AWS, as a front-end decodes it (provider config, Lambda environment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    /// STS endpoint override: an `https://` URL, or `http://` to a loopback address
    /// (a local test server).
    pub sts_endpoint: Option<String>,
    /// sso-admin endpoint override (`https://`, or `http://` to loopback).
    pub sso_admin_endpoint: Option<String>,
    /// identitystore endpoint override (`https://`, or `http://` to loopback).
    pub identitystore_endpoint: Option<String>,
    /// How long to wait for a new role to become assumable, in seconds (0–3600,
    /// default 120).
    pub propagation_timeout_seconds: Option<u64>,
    /// Named profile of the standard credential chain (shared config files).
    pub profile: Option<String>,
    /// Explicit base credentials: access key ID (with `secret_access_key`).
    pub access_key_id: Option<String>,
    /// Explicit base credentials: secret access key (with `access_key_id`).
    pub secret_access_key: Option<Secret>,
    /// Explicit base credentials: session token, for temporary credentials.
    pub session_token: Option<Secret>,
}

/// The credentials the check calls STS with, to assume the trust role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseCredentials {
    /// The standard chain of aws-config: environment, profile files (including SSO
    /// and `credential_process`), web identity, ECS and EC2 instance metadata.
    DefaultChain {
        /// A named profile instead of `AWS_PROFILE`/`default`.
        profile: Option<String>,
    },
    /// Explicit keys.
    Static {
        /// Access key ID.
        access_key_id: String,
        /// Secret access key.
        secret_access_key: Secret,
        /// Session token of temporary credentials.
        session_token: Option<Secret>,
    },
}

/// Validated settings of the check. [`Settings::default`] uses the standard
/// credential chain, the real endpoints, a 2-minute propagation timeout and no
/// overall deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub(crate) sts_endpoint: Option<String>,
    pub(crate) sso_admin_endpoint: Option<String>,
    pub(crate) identitystore_endpoint: Option<String>,
    pub(crate) propagation_timeout: Duration,
    pub(crate) attempt_timeout: Duration,
    pub(crate) credentials: BaseCredentials,
    pub(crate) deadline: Option<Instant>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sts_endpoint: None,
            sso_admin_endpoint: None,
            identitystore_endpoint: None,
            propagation_timeout: DEFAULT_PROPAGATION_TIMEOUT,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            credentials: BaseCredentials::DefaultChain { profile: None },
            deadline: None,
        }
    }
}

impl Settings {
    /// Validates every field of `raw` and applies defaults.
    ///
    /// # Errors
    ///
    /// `invalid_input` with one [`Detail`] per broken rule, each naming its field.
    pub fn validate(raw: &RawSettings) -> Result<Settings> {
        let mut details = Vec::new();
        let settings = validate_settings(raw, &mut details);
        if details.is_empty() { Ok(settings) } else { Err(Error::invalid_input(details)) }
    }

    /// The same settings with an overall deadline: the check answers by then, with
    /// `timeout` on every step it could not finish. A Lambda passes its own deadline
    /// minus the time it needs to answer.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The same settings with another propagation timeout (capped at one hour).
    #[must_use]
    pub fn with_propagation_timeout(mut self, timeout: Duration) -> Self {
        self.propagation_timeout = timeout.min(MAX_PROPAGATION_TIMEOUT);
        self
    }

    /// The same settings with another limit on each attempt of each AWS call.
    #[must_use]
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The same settings with other base credentials.
    #[must_use]
    pub fn with_credentials(mut self, credentials: BaseCredentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The same settings with endpoint overrides (`None` keeps the real endpoint).
    ///
    /// Unlike [`Settings::validate`], the URLs are not checked here; the check refuses
    /// to run with one that breaks the same rule (plain `http://` to a host that is not
    /// loopback): its first step fails with `invalid_input`, and nothing is sent.
    #[must_use]
    pub fn with_endpoints(mut self, sts: Option<String>, sso_admin: Option<String>) -> Self {
        self.sts_endpoint = sts;
        self.sso_admin_endpoint = sso_admin;
        self
    }

    /// The same settings with an identitystore endpoint override (`None` keeps the
    /// real endpoint); not checked, as [`Settings::with_endpoints`].
    #[must_use]
    pub fn with_identitystore_endpoint(mut self, url: Option<String>) -> Self {
        self.identitystore_endpoint = url;
        self
    }

    /// The propagation timeout in effect.
    pub fn propagation_timeout(&self) -> Duration {
        self.propagation_timeout
    }

    /// The overall deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

/// Validates a request and its settings together, so a front-end reports every
/// broken rule of both in one error.
///
/// # Errors
///
/// As [`CheckRequest::validate`] and [`Settings::validate`]; `not_configured` wins.
pub fn validate_all(raw: &RawCheckRequest, settings: &RawSettings) -> Result<(CheckRequest, Settings)> {
    let mut details = Vec::new();
    let req = validate_request(raw, &mut details)?;
    let settings = validate_settings(settings, &mut details);
    match req {
        Some(req) if details.is_empty() => Ok((req, settings)),
        _ => Err(Error::invalid_input(details)),
    }
}

fn validate_request(raw: &RawCheckRequest, details: &mut Vec<Detail>) -> Result<Option<CheckRequest>> {
    let role_arn = match raw.role_arn.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(Error::new(
                ErrorCode::NotConfigured,
                "no role ARN is configured: create the trust role and set role_arn",
            ));
        }
        Some(s) => s,
    };

    let role_partition = validate_role_arn(role_arn, AttrPath::field("role_arn"), details);
    let before = details.len();
    shared_fields(raw, details);
    let shared_ok = details.len() == before;
    let partition = raw
        .sso_instance_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(1))
        .and_then(Partition::from_arn_name);
    if let (Some(role_partition), Some(partition)) = (role_partition, partition)
        && role_partition != partition
    {
        details.push(Detail::new(
            AttrPath::field("role_arn"),
            "partition",
            format!(
                "the role is in partition {role_partition} but sso_instance_arn is in {partition}; \
                 both must be in the same partition"
            ),
        ));
    }
    if !shared_ok || role_partition.is_none() {
        return Ok(None);
    }
    // The shared rules passed, so every field below is present and well formed.
    Ok(match (partition, &raw.aws_account_id, &raw.region, &raw.external_ids, &raw.sso_instance_arn) {
        (Some(partition), Some(account), Some(region), Some(ids), Some(instance)) => Some(CheckRequest {
            role_arn: role_arn.to_owned(),
            external_ids: ids.clone(),
            sso_instance_arn: instance.clone(),
            partition,
            aws_account_id: account.clone(),
            region: region.clone(),
            access_level: raw.access_level.as_deref().and_then(AccessLevel::from_wire).unwrap_or_default(),
        }),
        _ => return Err(Error::new(ErrorCode::Internal, "validation passed without a required field")),
    })
}

/// The fields the check shares with the template request are validated by the
/// core's own rules ([`TemplateRequest::validate_partial`]), so both report the same
/// field, rule and message. The template's other required field, the trusted
/// principal, is not an input of the check and is passed as unknown.
fn shared_fields(raw: &RawCheckRequest, details: &mut Vec<Detail>) {
    let template = RawTemplateRequest {
        aws_account_id: raw.aws_account_id.clone(),
        sso_instance_arn: raw.sso_instance_arn.clone(),
        region: raw.region.clone(),
        external_ids: raw.external_ids.clone(),
        access_level: raw.access_level.clone(),
        ..RawTemplateRequest::default()
    };
    if let Err(e) = TemplateRequest::validate_partial(&template, &["trusted_principal_arn"]) {
        details.extend(e.details);
    }
}

fn validate_settings(raw: &RawSettings, details: &mut Vec<Detail>) -> Settings {
    let mut settings = Settings::default();
    if let Some(url) = &raw.sts_endpoint {
        validate_endpoint(url, AttrPath::field("sts_endpoint"), details);
        settings.sts_endpoint = Some(url.clone());
    }
    if let Some(url) = &raw.sso_admin_endpoint {
        validate_endpoint(url, AttrPath::field("sso_admin_endpoint"), details);
        settings.sso_admin_endpoint = Some(url.clone());
    }
    if let Some(url) = &raw.identitystore_endpoint {
        validate_endpoint(url, AttrPath::field("identitystore_endpoint"), details);
        settings.identitystore_endpoint = Some(url.clone());
    }
    if let Some(secs) = raw.propagation_timeout_seconds {
        let d = Duration::from_secs(secs);
        if d > MAX_PROPAGATION_TIMEOUT {
            details.push(Detail::new(
                AttrPath::field("propagation_timeout_seconds"),
                "range",
                format!("must be between 0 and {} seconds", MAX_PROPAGATION_TIMEOUT.as_secs()),
            ));
        }
        settings.propagation_timeout = d;
    }
    match (&raw.access_key_id, &raw.secret_access_key) {
        (Some(id), Some(secret)) => {
            if id.trim().is_empty() {
                details.push(Detail::new(AttrPath::field("access_key_id"), "required", "must not be empty"));
            }
            if secret.expose().is_empty() {
                details.push(Detail::new(
                    AttrPath::field("secret_access_key"),
                    "required",
                    "must not be empty",
                ));
            }
            if raw.profile.is_some() {
                details.push(Detail::new(
                    AttrPath::field("profile"),
                    "conflicts",
                    "set either profile or explicit keys (access_key_id, secret_access_key), not both",
                ));
            }
            settings.credentials = BaseCredentials::Static {
                access_key_id: id.trim().to_owned(),
                secret_access_key: secret.clone(),
                session_token: raw.session_token.clone(),
            };
        }
        (Some(_), None) => details.push(Detail::new(
            AttrPath::field("secret_access_key"),
            "required_with",
            "is required when access_key_id is set",
        )),
        (None, Some(_)) => details.push(Detail::new(
            AttrPath::field("access_key_id"),
            "required_with",
            "is required when secret_access_key is set",
        )),
        (None, None) => {
            if raw.session_token.is_some() {
                details.push(Detail::new(
                    AttrPath::field("session_token"),
                    "required_with",
                    "is only used with access_key_id and secret_access_key",
                ));
            }
            if let Some(p) = &raw.profile
                && p.trim().is_empty()
            {
                details.push(Detail::new(
                    AttrPath::field("profile"),
                    "required",
                    "must not be empty when set",
                ));
            }
            settings.credentials = BaseCredentials::DefaultChain { profile: raw.profile.clone() };
        }
    }
    settings
}

fn validate_role_arn(s: &str, field: AttrPath, details: &mut Vec<Detail>) -> Option<Partition> {
    crate::iam::check_role_arn(field, s).map_err(|d| details.push(d)).ok()
}

/// Every endpoint override of `settings` that breaks the endpoint rule, as details.
pub(crate) fn endpoint_problems(settings: &Settings) -> Vec<Detail> {
    let mut details = Vec::new();
    for (name, url) in [
        ("sts_endpoint", &settings.sts_endpoint),
        ("sso_admin_endpoint", &settings.sso_admin_endpoint),
        ("identitystore_endpoint", &settings.identitystore_endpoint),
    ] {
        if let Some(url) = url {
            validate_endpoint(url, AttrPath::field(name), &mut details);
        }
    }
    details
}

/// An absolute `https` URL with a host, or an `http` one whose host is a loopback
/// address: an override receives signed `AssumeRole` requests carrying the external
/// ID, which must not cross a network in clear text.
fn validate_endpoint(s: &str, field: AttrPath, details: &mut Vec<Detail>) {
    let uri = s.parse::<http::Uri>().ok();
    let host = uri.as_ref().and_then(http::Uri::host).filter(|h| !h.is_empty());
    match (uri.as_ref().and_then(http::Uri::scheme_str), host) {
        (Some("https"), Some(_)) => {}
        (Some("http"), Some(h)) if is_loopback(h) => {}
        (Some("http"), Some(_)) => details.push(Detail::new(
            field,
            "https",
            "plain http:// is allowed only to a loopback address (localhost, 127.0.0.0/8 or [::1]); \
             use https:// for any other host",
        )),
        _ => details.push(Detail::new(
            field,
            "url",
            "must be an absolute https:// URL (http:// only to loopback)",
        )),
    }
}

/// `localhost` or a literal loopback IP (`127.0.0.0/8`, `[::1]`); names that merely
/// resolve to one (or look like one, `127.0.0.1.example.com`) do not count.
fn is_loopback(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-1234567890abcdef";

    fn good() -> RawCheckRequest {
        RawCheckRequest {
            role_arn: Some("arn:aws:iam::123456789012:role/idc/VendorTrust".into()),
            external_ids: Some(vec![ExternalId::new("current-id-0001"), ExternalId::new("previous-id-0001")]),
            sso_instance_arn: Some(INSTANCE.into()),
            aws_account_id: Some("123456789012".into()),
            region: Some("eu-west-1".into()),
            access_level: None,
        }
    }

    fn fields(err: &Error) -> Vec<(String, String)> {
        err.details.iter().map(|d| (d.field.to_string(), d.rule.clone())).collect()
    }

    #[test]
    fn valid_request_passes_with_read_only_default() {
        let req = CheckRequest::validate(&good()).unwrap();
        assert_eq!(req.access_level(), AccessLevel::ReadOnly);
        assert_eq!(req.external_ids().len(), 2);
        assert_eq!(req.partition(), Partition::Aws);
    }

    #[test]
    fn role_arn_missing_or_empty_is_not_configured() {
        for role in [None, Some(String::new()), Some("  ".into())] {
            let raw = RawCheckRequest { role_arn: role, region: Some("bogus".into()), ..good() };
            assert_eq!(CheckRequest::validate(&raw).unwrap_err().code, ErrorCode::NotConfigured);
        }
    }

    #[test]
    fn role_arn_pattern() {
        for bad in [
            "arn:aws:iam::123:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "arn:nope:iam::123456789012:role/x",
        ] {
            let raw = RawCheckRequest { role_arn: Some(bad.into()), ..good() };
            let err = CheckRequest::validate(&raw).unwrap_err();
            assert_eq!(fields(&err), [("role_arn".into(), "pattern".into())], "{bad}");
        }
    }

    #[test]
    fn role_arn_partition_must_match_instance() {
        let raw = RawCheckRequest { role_arn: Some("arn:aws-cn:iam::123456789012:role/x".into()), ..good() };
        let err = CheckRequest::validate(&raw).unwrap_err();
        assert_eq!(fields(&err), [("role_arn".into(), "partition".into())]);
    }

    #[test]
    fn every_broken_field_is_reported() {
        let raw = RawCheckRequest {
            role_arn: Some("arn:aws:iam::123456789012:role/x".into()),
            external_ids: Some(vec![ExternalId::new("a"), ExternalId::new("bad id!")]),
            sso_instance_arn: Some("arn:aws:sso:::instance/ssoins-short".into()),
            aws_account_id: Some("12345".into()),
            region: Some("EU".into()),
            access_level: Some("root".into()),
        };
        let err = CheckRequest::validate(&raw).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert_eq!(
            fields(&err),
            [
                ("aws_account_id".into(), "pattern".into()),
                ("sso_instance_arn".into(), "pattern".into()),
                ("region".into(), "region".into()),
                ("external_ids[0]".into(), "length".into()),
                ("external_ids[1]".into(), "pattern".into()),
                ("access_level".into(), "one_of".into()),
            ]
        );
        // External ID values are never echoed.
        let json = serde_json::to_string(&err).unwrap();
        assert!(!json.contains("bad id!"), "{json}");
    }

    #[test]
    fn missing_fields_are_required() {
        let raw = RawCheckRequest { role_arn: good().role_arn, ..Default::default() };
        let err = CheckRequest::validate(&raw).unwrap_err();
        assert_eq!(
            fields(&err),
            [
                ("aws_account_id".into(), "required".into()),
                ("sso_instance_arn".into(), "required".into()),
                ("region".into(), "required".into()),
                ("external_ids".into(), "required".into()),
            ]
        );
    }

    #[test]
    fn external_ids_count_and_uniqueness() {
        let three = RawCheckRequest {
            external_ids: Some(vec![ExternalId::new("aa"), ExternalId::new("bb"), ExternalId::new("cc")]),
            ..good()
        };
        assert_eq!(
            fields(&CheckRequest::validate(&three).unwrap_err()),
            [("external_ids".into(), "count".into())]
        );
        let none = RawCheckRequest { external_ids: Some(vec![]), ..good() };
        assert_eq!(
            fields(&CheckRequest::validate(&none).unwrap_err()),
            [("external_ids".into(), "count".into())]
        );
        let dup = RawCheckRequest {
            external_ids: Some(vec![ExternalId::new("aa"), ExternalId::new("aa")]),
            ..good()
        };
        assert_eq!(
            fields(&CheckRequest::validate(&dup).unwrap_err()),
            [("external_ids[1]".into(), "distinct".into())]
        );
    }

    #[test]
    fn region_partition() {
        let raw = RawCheckRequest { region: Some("cn-north-1".into()), ..good() };
        assert_eq!(
            fields(&CheckRequest::validate(&raw).unwrap_err()),
            [("region".into(), "partition".into())]
        );
        let gov = RawCheckRequest {
            role_arn: Some("arn:aws-us-gov:iam::123456789012:role/x".into()),
            sso_instance_arn: Some("arn:aws-us-gov:sso:::instance/ssoins-1234567890abcdef".into()),
            region: Some("us-gov-west-1".into()),
            ..good()
        };
        assert!(CheckRequest::validate(&gov).is_ok());
    }

    #[test]
    fn settings_defaults_and_rules() {
        let s = Settings::validate(&RawSettings::default()).unwrap();
        assert_eq!(s.propagation_timeout(), DEFAULT_PROPAGATION_TIMEOUT);
        assert_eq!(s.credentials, BaseCredentials::DefaultChain { profile: None });

        let raw = RawSettings {
            sts_endpoint: Some("localhost:4566".into()),
            sso_admin_endpoint: Some("http://127.0.0.1:4566".into()),
            propagation_timeout_seconds: Some(7200),
            access_key_id: Some("AKIDEXAMPLE".into()),
            ..Default::default()
        };
        let err = Settings::validate(&raw).unwrap_err();
        assert_eq!(
            fields(&err),
            [
                ("sts_endpoint".into(), "url".into()),
                ("propagation_timeout_seconds".into(), "range".into()),
                ("secret_access_key".into(), "required_with".into()),
            ]
        );
    }

    #[test]
    fn endpoints_allow_plain_http_only_to_loopback() {
        let rule = |url: &str| {
            let raw = RawSettings { sts_endpoint: Some(url.into()), ..Default::default() };
            Settings::validate(&raw).err().map(|e| e.details[0].rule.clone())
        };
        for ok in [
            "https://sts.eu-west-1.amazonaws.com",
            "https://vpce-0123.sts.eu-west-1.vpce.amazonaws.com:443/",
            "http://127.0.0.1:4566",
            "http://127.8.9.10",
            "http://localhost:5000",
            "http://LOCALHOST",
            "http://[::1]:8080",
        ] {
            assert_eq!(rule(ok), None, "{ok}");
        }
        for bad in [
            "http://sts.eu-west-1.amazonaws.com",
            "http://attacker.example",
            "http://127.0.0.1.nip.io",
            "http://10.0.0.1:4566",
            "http://[::2]",
            "http://0.0.0.0",
            "http://localhost.example.com",
        ] {
            assert_eq!(rule(bad).as_deref(), Some("https"), "{bad}");
        }
        for bad in ["localhost:4566", "ftp://127.0.0.1", "https://", "not a url"] {
            assert_eq!(rule(bad).as_deref(), Some("url"), "{bad}");
        }
    }

    #[test]
    fn validate_all_collects_both() {
        let raw = RawCheckRequest { aws_account_id: Some("x".into()), ..good() };
        let settings = RawSettings { sts_endpoint: Some("ftp://x".into()), ..Default::default() };
        let err = validate_all(&raw, &settings).unwrap_err();
        assert_eq!(
            fields(&err),
            [("aws_account_id".into(), "pattern".into()), ("sts_endpoint".into(), "url".into())]
        );
    }

    #[test]
    fn secrets_redact() {
        let raw = RawSettings {
            access_key_id: Some("AKID".into()),
            secret_access_key: Some(Secret::new("s3cr3t-value")),
            session_token: Some(Secret::new("t0ken-value")),
            ..Default::default()
        };
        let s = Settings::validate(&raw).unwrap();
        let dbg = format!("{s:?} {raw:?}");
        assert!(!dbg.contains("s3cr3t-value") && !dbg.contains("t0ken-value"), "{dbg}");
    }
}
