//! Inputs: the raw request as front-ends decode it, and the validated request that
//! rendering and the connectivity check accept (decode raw, validate once).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Detail, Error, ErrorCode, Result};
use crate::external_id::ExternalId;
use crate::iam;
use crate::path::AttrPath;

/// What the trust role may do in IAM Identity Center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    /// Inventory only: users, groups, permission sets, assignments. Writes nothing.
    #[default]
    ReadOnly,
    /// `read_only` plus creating and deleting account assignments.
    Assignments,
    /// `assignments` plus managing permission sets.
    Admin,
}

/// An AWS partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Partition {
    /// `aws`
    #[serde(rename = "aws")]
    Aws,
    /// `aws-us-gov`
    #[serde(rename = "aws-us-gov")]
    AwsUsGov,
    /// `aws-cn`
    #[serde(rename = "aws-cn")]
    AwsCn,
    /// `aws-iso`
    #[serde(rename = "aws-iso")]
    AwsIso,
    /// `aws-iso-b`
    #[serde(rename = "aws-iso-b")]
    AwsIsoB,
}

/// The request as a front-end decodes it, as close to the wire as possible.
///
/// Every field is optional here so that a missing field is reported by
/// [`TemplateRequest::validate`] with its name, together with every other
/// problem, rather than by a deserializer that stops at the first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = describe_fields)]
pub struct RawTemplateRequest {
    /// The customer's IAM Identity Center account: 12 digits.
    pub aws_account_id: Option<String>,
    /// ARN of the IAM Identity Center instance.
    pub sso_instance_arn: Option<String>,
    /// Region of the IAM Identity Center instance, in the ARN's partition.
    pub region: Option<String>,
    /// The vendor's IAM principal allowed to assume the role.
    pub trusted_principal_arn: Option<String>,
    /// Trusted external IDs, current first: one at steady state, two during rotation.
    pub external_ids: Option<Vec<ExternalId>>,
    /// Name of the trust role.
    pub role_name: Option<String>,
    /// IAM path of the trust role.
    pub role_path: Option<String>,
    /// ARN of a managed policy to use as the role's permissions boundary.
    pub permissions_boundary_arn: Option<String>,
    /// Maximum session duration in seconds, 3600–43200.
    pub max_session_duration: Option<i64>,
    /// Tags on the role.
    pub tags: Option<BTreeMap<String, String>>,
    /// `read_only`, `assignments` or `admin`.
    pub access_level: Option<String>,
    /// HTTPS URL of the hosted CloudFormation template, for the quick-create link.
    pub template_url: Option<String>,
}

impl AccessLevel {
    /// Every access level, least privilege first.
    pub const ALL: [AccessLevel; 3] = [AccessLevel::ReadOnly, AccessLevel::Assignments, AccessLevel::Admin];

    /// The wire spelling, e.g. `"read_only"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AccessLevel::ReadOnly => "read_only",
            AccessLevel::Assignments => "assignments",
            AccessLevel::Admin => "admin",
        }
    }

    /// Parses the wire spelling (exact, lower case).
    pub fn from_wire(s: &str) -> Option<AccessLevel> {
        AccessLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl std::fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Default `role_name` when none is given.
pub const DEFAULT_ROLE_NAME: &str = "IdcBootstrapTrustRole";
/// Default `role_path` when none is given: the IAM root path.
pub const DEFAULT_ROLE_PATH: &str = "/";
/// Default `max_session_duration` in seconds when none is given: IAM's own default.
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;
/// Default `access_level` when none is given: the one that writes nothing.
pub const DEFAULT_ACCESS_LEVEL: AccessLevel = AccessLevel::ReadOnly;

/// Smallest `max_session_duration` IAM accepts, in seconds.
pub const MIN_SESSION_DURATION: u32 = 3600;
/// Largest `max_session_duration` IAM accepts, in seconds.
pub const MAX_SESSION_DURATION: u32 = 43200;
/// Most tags IAM allows on a role.
pub const MAX_TAGS: usize = 50;
/// Longest quick-create link the console is given.
pub const MAX_LAUNCH_URL_LEN: usize = 1024;

/// Puts the field spec's text (description, rule, default) into the generated JSON
/// Schema, so the schema, the provider schema and the docs say the same thing.
fn describe_fields(schema: &mut schemars::Schema) {
    let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) else { return };
    for f in crate::spec::TEMPLATE.inputs() {
        let Some(prop) = props.get_mut(f.name).and_then(|p| p.as_object_mut()) else { continue };
        prop.insert("description".into(), f.doc().into());
        if let Some(d) = f.default {
            let value = d.parse::<i64>().map_or_else(|_| serde_json::Value::from(d), serde_json::Value::from);
            prop.insert("default".into(), value);
        }
        // The decoder accepts null for every field so that validation can name all
        // missing ones at once; the contract still requires these.
        let required = f.presence == crate::spec::Presence::Required;
        if let Some(t) = prop.get_mut("type").and_then(|t| t.as_array_mut()).filter(|_| required) {
            t.retain(|x| x != "null");
            if t.len() == 1 {
                let only = t[0].clone();
                prop.insert("type".into(), only);
            }
        }
    }
    let required: Vec<serde_json::Value> = crate::spec::TEMPLATE
        .inputs()
        .filter(|f| f.presence == crate::spec::Presence::Required)
        .map(|f| f.name.into())
        .collect();
    schema.insert("required".into(), required.into());
}

/// A request whose every field passed validation. Only [`TemplateRequest::validate`]
/// makes one, so rendering and checking never see unchecked input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRequest {
    pub(crate) aws_account_id: String,
    pub(crate) sso_instance_arn: String,
    pub(crate) partition: Partition,
    pub(crate) region: String,
    pub(crate) trusted_principal_arn: String,
    pub(crate) external_ids: Vec<ExternalId>,
    pub(crate) role_name: String,
    pub(crate) role_path: String,
    pub(crate) permissions_boundary_arn: Option<String>,
    pub(crate) max_session_duration: u32,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) access_level: AccessLevel,
    pub(crate) template_url: Option<String>,
}

impl TemplateRequest {
    /// Validates every field of `raw` and applies the defaults (`DEFAULT_*`).
    ///
    /// # Errors
    ///
    /// `invalid_input`, with one [`crate::Detail`] per broken rule (all of them,
    /// not just the first), each naming the field and a stable rule name:
    /// `required`, `pattern`, `length`, `range`, `count`, `distinct`, `one_of`,
    /// `partition`, `region`, `reserved`, `https`, `console`. External ID values are
    /// never echoed in messages.
    pub fn validate(raw: &RawTemplateRequest) -> Result<TemplateRequest> {
        let mut v = Validator { details: Vec::new(), unknown: &[] };
        let checked = v.check(raw);
        if !v.details.is_empty() {
            return Err(Error::invalid_input(v.details));
        }
        // Every required field was present, or a `required` detail was recorded.
        let c = checked;
        match (c.aws_account_id, c.instance, c.region, c.trusted_principal_arn, c.external_ids) {
            (
                Some(aws_account_id),
                Some((sso_instance_arn, partition)),
                Some(region),
                Some(tp),
                Some(ids),
            ) => Ok(TemplateRequest {
                aws_account_id,
                sso_instance_arn,
                partition,
                region,
                trusted_principal_arn: tp,
                external_ids: ids,
                role_name: c.role_name.unwrap_or_else(|| DEFAULT_ROLE_NAME.to_owned()),
                role_path: c.role_path.unwrap_or_else(|| DEFAULT_ROLE_PATH.to_owned()),
                permissions_boundary_arn: c.permissions_boundary_arn,
                max_session_duration: c.max_session_duration.unwrap_or(DEFAULT_MAX_SESSION_DURATION),
                tags: c.tags.unwrap_or_default(),
                access_level: c.access_level.unwrap_or(DEFAULT_ACCESS_LEVEL),
                template_url: c.template_url,
            }),
            _ => Err(Error::new(ErrorCode::Internal, "validation passed without a required field")),
        }
    }

    /// Validates what is known of `raw` at plan time.
    ///
    /// `unknown` lists the paths (display form: `region`, `external_ids[1]`,
    /// `tags["env"]`) whose values are not known yet; the front-end leaves them
    /// `None` (or puts a placeholder) in `raw`. Those fields are neither required nor
    /// checked, and a rule across two fields (region in the ARN's partition, the
    /// length of the quick-create link) is skipped when either side is unknown.
    /// A field that is absent and not listed as unknown is reported `required`,
    /// as [`TemplateRequest::validate`] would.
    ///
    /// # Errors
    ///
    /// `invalid_input`, as [`TemplateRequest::validate`].
    pub fn validate_partial(raw: &RawTemplateRequest, unknown: &[&str]) -> Result<()> {
        let mut v = Validator { details: Vec::new(), unknown };
        let _ = v.check(raw);
        if v.details.is_empty() { Ok(()) } else { Err(Error::invalid_input(v.details)) }
    }

    /// The customer's IAM Identity Center account (12 digits).
    pub fn aws_account_id(&self) -> &str {
        &self.aws_account_id
    }
    /// The IAM Identity Center instance ARN.
    pub fn sso_instance_arn(&self) -> &str {
        &self.sso_instance_arn
    }
    /// The instance ID, the part of the instance ARN after `instance/`.
    pub fn instance_id(&self) -> &str {
        self.sso_instance_arn.rsplit('/').next().unwrap_or_default()
    }
    /// The partition, taken from the instance ARN.
    pub fn partition(&self) -> Partition {
        self.partition
    }
    /// The instance's region.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The vendor's IAM principal the role trusts.
    pub fn trusted_principal_arn(&self) -> &str {
        &self.trusted_principal_arn
    }
    /// The trusted external IDs, current first (one, or two while rotating).
    pub fn external_ids(&self) -> &[ExternalId] {
        &self.external_ids
    }
    /// The role name (default [`DEFAULT_ROLE_NAME`]).
    pub fn role_name(&self) -> &str {
        &self.role_name
    }
    /// The role path (default [`DEFAULT_ROLE_PATH`]).
    pub fn role_path(&self) -> &str {
        &self.role_path
    }
    /// The permissions boundary policy ARN, if any.
    pub fn permissions_boundary_arn(&self) -> Option<&str> {
        self.permissions_boundary_arn.as_deref()
    }
    /// The maximum session duration in seconds (default [`DEFAULT_MAX_SESSION_DURATION`]).
    pub fn max_session_duration(&self) -> u32 {
        self.max_session_duration
    }
    /// The role's tags.
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }
    /// The access level (default [`DEFAULT_ACCESS_LEVEL`]).
    pub fn access_level(&self) -> AccessLevel {
        self.access_level
    }
    /// The hosted template URL for the quick-create link, if any.
    pub fn template_url(&self) -> Option<&str> {
        self.template_url.as_deref()
    }
    /// The ARN the role will have: `arn:<partition>:iam::<account>:role<path><name>`.
    pub fn role_arn(&self) -> String {
        let mut s = String::with_capacity(
            32 + self.partition.as_str().len() + self.role_path.len() + self.role_name.len(),
        );
        s.push_str("arn:");
        s.push_str(self.partition.as_str());
        s.push_str(":iam::");
        s.push_str(&self.aws_account_id);
        s.push_str(":role");
        s.push_str(&self.role_path);
        s.push_str(&self.role_name);
        s
    }
}

/// The fields that passed their own rules (`None`: absent, unknown or invalid).
#[derive(Default)]
struct Checked {
    aws_account_id: Option<String>,
    instance: Option<(String, Partition)>,
    region: Option<String>,
    trusted_principal_arn: Option<String>,
    external_ids: Option<Vec<ExternalId>>,
    role_name: Option<String>,
    role_path: Option<String>,
    permissions_boundary_arn: Option<String>,
    max_session_duration: Option<u32>,
    tags: Option<BTreeMap<String, String>>,
    access_level: Option<AccessLevel>,
    template_url: Option<String>,
}

struct Validator<'a> {
    details: Vec<Detail>,
    unknown: &'a [&'a str],
}

/// A value shown back in a message: quoted, escaped and cut short. Never used for
/// external IDs.
fn shown(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}…", &s[..i]),
        None => format!("{s:?}"),
    }
}

/// Parses an instance ARN, returning its partition on success.
fn parse_instance_arn(s: &str) -> Option<Partition> {
    let rest = s.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let partition = Partition::from_arn_name(partition)?;
    let id = rest.strip_prefix("sso:::instance/")?;
    let id = id.strip_prefix("sso").unwrap_or(id).strip_prefix("ins-")?;
    (id.len() == 16 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
        .then_some(partition)
}

impl Validator<'_> {
    fn is_unknown(&self, path: &AttrPath) -> bool {
        if self.unknown.is_empty() {
            return false;
        }
        let s = path.to_string();
        self.unknown.iter().any(|u| *u == s)
    }

    fn fail(&mut self, field: AttrPath, rule: &str, message: String) {
        self.details.push(Detail::new(field, rule, message));
    }

    /// The value of a top-level field, or `None` after recording `required` (when the
    /// field is required and not unknown) or when it is unknown.
    fn get<'r, T>(&mut self, name: &'static str, value: &'r Option<T>, required: bool) -> Option<&'r T> {
        let path = AttrPath::field(name);
        if self.is_unknown(&path) {
            return None;
        }
        match value {
            Some(v) => Some(v),
            None => {
                if required {
                    self.fail(path, "required", format!("{name} is required"));
                }
                None
            }
        }
    }

    fn check(&mut self, raw: &RawTemplateRequest) -> Checked {
        let mut c = Checked::default();

        if let Some(v) = self.get("aws_account_id", &raw.aws_account_id, true) {
            if iam::is_account_id(v) {
                c.aws_account_id = Some(v.clone());
            } else {
                self.fail(
                    AttrPath::field("aws_account_id"),
                    "pattern",
                    format!("must be exactly 12 digits, got {}", shown(v)),
                );
            }
        }

        if let Some(v) = self.get("sso_instance_arn", &raw.sso_instance_arn, true) {
            match parse_instance_arn(v) {
                Some(p) => c.instance = Some((v.clone(), p)),
                None => self.fail(
                    AttrPath::field("sso_instance_arn"),
                    "pattern",
                    format!(
                        "must be arn:<partition>:sso:::instance/ssoins-<16 characters of a-z A-Z 0-9 - .> \
                         with partition aws, aws-us-gov, aws-cn, aws-iso or aws-iso-b, got {}",
                        shown(v)
                    ),
                ),
            }
        }
        let partition = c.instance.as_ref().map(|(_, p)| *p);

        if let Some(v) = self.get("region", &raw.region, true) {
            self.check_region(v, partition, &mut c);
        }

        if let Some(v) = self.get("trusted_principal_arn", &raw.trusted_principal_arn, true) {
            self.check_principal(v, partition, &mut c);
        }

        if let Some(ids) = self.get("external_ids", &raw.external_ids, true) {
            self.check_external_ids(ids, &mut c);
        }

        if let Some(v) = self.get("role_name", &raw.role_name, false) {
            let path = AttrPath::field("role_name");
            match iam::check_name(v, iam::MAX_ROLE_NAME_LEN) {
                Err(iam::Problem::Length) => {
                    let n = v.chars().count();
                    self.fail(path, "length", format!("must be 1 to 64 characters, got {n}"))
                }
                Err(_) => self.fail(
                    path,
                    "pattern",
                    format!("may contain only letters, digits and _+=,.@-, got {}", shown(v)),
                ),
                Ok(()) => c.role_name = Some(v.clone()),
            }
        }

        if let Some(v) = self.get("role_path", &raw.role_path, false) {
            let path = AttrPath::field("role_path");
            match iam::check_role_path(v) {
                Err(iam::Problem::Length) => self.fail(
                    path,
                    "length",
                    format!("must be at most 512 characters, got {}", v.chars().count()),
                ),
                Err(iam::Problem::Pattern) => self.fail(
                    path,
                    "pattern",
                    format!(
                        "must be / or start and end with / and contain only printable ASCII without spaces, got {}",
                        shown(v)
                    ),
                ),
                Err(iam::Problem::Reserved) => self.fail(
                    path,
                    "reserved",
                    format!("{} is reserved for roles AWS creates; choose another path", shown(v)),
                ),
                Ok(()) => c.role_path = Some(v.clone()),
            }
        }

        if let Some(v) = self.get("permissions_boundary_arn", &raw.permissions_boundary_arn, false) {
            self.check_boundary(v, partition, &mut c);
        }

        if let Some(&v) = self.get("max_session_duration", &raw.max_session_duration, false) {
            match u32::try_from(v) {
                Ok(s) if (MIN_SESSION_DURATION..=MAX_SESSION_DURATION).contains(&s) => {
                    c.max_session_duration = Some(s)
                }
                _ => self.fail(
                    AttrPath::field("max_session_duration"),
                    "range",
                    format!("must be from 3600 to 43200 seconds (1 to 12 hours), got {v}"),
                ),
            }
        }

        if let Some(tags) = self.get("tags", &raw.tags, false) {
            self.check_tags(tags, &mut c);
        }

        if let Some(v) = self.get("access_level", &raw.access_level, false) {
            match AccessLevel::from_wire(v) {
                Some(l) => c.access_level = Some(l),
                None => self.fail(
                    AttrPath::field("access_level"),
                    "one_of",
                    format!("must be one of read_only, assignments, admin, got {}", shown(v)),
                ),
            }
        }

        if let Some(v) = self.get("template_url", &raw.template_url, false) {
            self.check_template_url(v, partition, &mut c);
        }

        self.check_launch_url_length(raw, &c);
        c
    }

    fn check_region(&mut self, v: &str, partition: Option<Partition>, c: &mut Checked) {
        let path = AttrPath::field("region");
        match (Partition::of_region(v), partition) {
            (None, _) => {
                let hint = match partition {
                    Some(p) => format!("one of {}", p.regions().join(", ")),
                    None => "e.g. us-east-1".to_owned(),
                };
                self.fail(
                    path,
                    "region",
                    format!("must be a real AWS region name ({hint}), got {}", shown(v)),
                );
            }
            (Some(rp), Some(p)) if rp != p => self.fail(
                path,
                "partition",
                format!(
                    "{} is in partition {rp}, but sso_instance_arn is in partition {p}; use one of {}",
                    shown(v),
                    p.regions().join(", ")
                ),
            ),
            _ => c.region = Some(v.to_owned()),
        }
    }

    fn check_principal(&mut self, v: &str, partition: Option<Partition>, c: &mut Checked) {
        let path = AttrPath::field("trusted_principal_arn");
        let Some(arn) = iam::parse_principal_arn(v) else {
            self.fail(
                path,
                "pattern",
                format!(
                    "must be an IAM account root, role or user ARN (arn:<partition>:iam::<12 digits>:root, \
                     :role/<path><name> or :user/<path><name>), got {}",
                    shown(v)
                ),
            );
            return;
        };
        let p = arn.partition;
        match partition {
            Some(ip) if ip != p => self.fail(
                path,
                "partition",
                format!("is in partition {p}, but sso_instance_arn is in partition {ip}; IAM trusts principals of its own partition only"),
            ),
            _ => c.trusted_principal_arn = Some(v.to_owned()),
        }
    }

    fn check_external_ids(&mut self, ids: &[ExternalId], c: &mut Checked) {
        let path = AttrPath::field("external_ids");
        if ids.is_empty() || ids.len() > 2 {
            self.fail(
                path,
                "count",
                format!(
                    "must hold 1 external ID (2 while rotating: current, then previous), got {}",
                    ids.len()
                ),
            );
            return;
        }
        let mut ok = true;
        for (i, id) in ids.iter().enumerate() {
            let p = path.index(i);
            if self.is_unknown(&p) {
                ok = false;
                continue;
            }
            if let Err(d) = ExternalId::parse(p, id.expose()) {
                self.details.push(d);
                ok = false;
            }
        }
        if ids.len() == 2 && ids[0] == ids[1] && !self.is_unknown(&path.index(1)) {
            self.fail(
                path.index(1),
                "distinct",
                "must differ from external_ids[0]: rotation needs a new external ID".to_owned(),
            );
            ok = false;
        }
        if ok {
            c.external_ids = Some(ids.to_vec());
        }
    }

    fn check_boundary(&mut self, v: &str, partition: Option<Partition>, c: &mut Checked) {
        let path = AttrPath::field("permissions_boundary_arn");
        let Some(arn) = iam::parse_policy_arn(v) else {
            self.fail(
                path,
                "pattern",
                format!(
                    "must be an IAM managed policy ARN (arn:<partition>:iam::<12 digits or aws>:policy/<path><name>), got {}",
                    shown(v)
                ),
            );
            return;
        };
        let p = arn.partition;
        match partition {
            Some(ip) if ip != p => self.fail(
                path,
                "partition",
                format!("is in partition {p}, but sso_instance_arn is in partition {ip}"),
            ),
            _ => c.permissions_boundary_arn = Some(v.to_owned()),
        }
    }

    fn check_tags(&mut self, tags: &BTreeMap<String, String>, c: &mut Checked) {
        let path = AttrPath::field("tags");
        let before = self.details.len();
        if tags.len() > MAX_TAGS {
            self.fail(
                path.clone(),
                "count",
                format!("must hold at most {MAX_TAGS} tags, got {}", tags.len()),
            );
        }
        for (k, v) in tags {
            let p = path.key(k.as_str());
            if self.is_unknown(&p) {
                continue;
            }
            let kn = k.chars().count();
            if kn == 0 || kn > 128 {
                self.fail(p.clone(), "key_length", format!("tag keys must be 1 to 128 characters, got {kn}"));
            } else if !tag_chars_ok(k) {
                self.fail(
                    p.clone(),
                    "key_pattern",
                    "tag keys may contain only Unicode letters, digits, spaces and _.:/=+-@".to_owned(),
                );
            } else if k.get(..4).is_some_and(|pre| pre.eq_ignore_ascii_case("aws:")) {
                self.fail(
                    p.clone(),
                    "key_prefix",
                    "tag keys must not start with aws: (reserved for AWS)".to_owned(),
                );
            }
            let vn = v.chars().count();
            if vn > 256 {
                self.fail(p, "value_length", format!("tag values must be at most 256 characters, got {vn}"));
            } else if !tag_chars_ok(v) {
                self.fail(
                    p,
                    "value_pattern",
                    format!(
                        "tag values may contain only Unicode letters, digits, spaces and _.:/=+-@, got {}",
                        shown(v)
                    ),
                );
            }
        }
        if self.details.len() == before {
            c.tags = Some(tags.clone());
        }
    }

    fn check_template_url(&mut self, v: &str, partition: Option<Partition>, c: &mut Checked) {
        let path = AttrPath::field("template_url");
        let Some(rest) = v.strip_prefix("https://") else {
            self.fail(path, "https", format!("must be an https:// URL, got {}", shown(v)));
            return;
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || v.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            self.fail(path, "pattern", format!("must be a URL with a host and no spaces, got {}", shown(v)));
            return;
        }
        if v.len() > MAX_LAUNCH_URL_LEN {
            self.fail(
                path,
                "length",
                format!("must be at most {MAX_LAUNCH_URL_LEN} characters, got {}", v.len()),
            );
            return;
        }
        if let Some(p) = partition.filter(|p| !p.has_public_console()) {
            self.fail(
                AttrPath::field("sso_instance_arn"),
                "console",
                format!(
                    "partition {p} has no public AWS console, so no quick-create link can be made; \
                     leave template_url unset and deploy cloudformation_yaml or terraform_hcl directly"
                ),
            );
            return;
        }
        c.template_url = Some(v.to_owned());
    }

    /// The quick-create link grows with the template URL, the role name and the
    /// external IDs; the console takes at most [`MAX_LAUNCH_URL_LEN`] characters.
    fn check_launch_url_length(&mut self, raw: &RawTemplateRequest, c: &Checked) {
        let (Some(url), Some(ids), Some(region), Some((_, partition))) =
            (&c.template_url, &c.external_ids, &c.region, &c.instance)
        else {
            return;
        };
        if (raw.role_name.is_some() && c.role_name.is_none())
            || self.is_unknown(&AttrPath::field("role_name"))
        {
            return; // role name unknown or invalid: already reported or not knowable.
        }
        let role_name = c.role_name.as_deref().unwrap_or(DEFAULT_ROLE_NAME);
        let len = crate::render::launch_stack_url_parts(*partition, region, url, role_name, ids).len();
        if len > MAX_LAUNCH_URL_LEN {
            self.fail(
                AttrPath::field("template_url"),
                "length",
                format!(
                    "the quick-create link would be {len} characters, over the console's limit of \
                     {MAX_LAUNCH_URL_LEN}; use a shorter template_url, role_name or external IDs"
                ),
            );
        }
    }
}

/// IAM tag keys and values: `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`.
fn tag_chars_ok(s: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").expect("tag pattern compiles")
    });
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b" _.:/=+-@".contains(&b)) || RE.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn valid() -> RawTemplateRequest {
        RawTemplateRequest {
            aws_account_id: Some("123456789012".into()),
            sso_instance_arn: Some("arn:aws:sso:::instance/ssoins-abcdef0123456789".into()),
            region: Some("us-east-1".into()),
            trusted_principal_arn: Some("arn:aws:iam::111122223333:role/vendor/Integration".into()),
            external_ids: Some(vec![ExternalId::new("current-id-0123456789")]),
            ..RawTemplateRequest::default()
        }
    }

    /// The rules broken by `raw`, as `(field, rule)`.
    fn broken(raw: &RawTemplateRequest) -> Vec<(String, String)> {
        match TemplateRequest::validate(raw) {
            Ok(_) => Vec::new(),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::InvalidInput);
                e.details.into_iter().map(|d| (d.field.to_string(), d.rule)).collect()
            }
        }
    }

    /// Runs a table of `(value, expected rule or None)` for one field, plus the null
    /// row (`required` or defaulted) and the unknown row (skipped at plan time).
    fn table<T: Clone + std::fmt::Debug>(
        field: &str,
        set: fn(&mut RawTemplateRequest, Option<T>),
        rows: &[(T, Option<&str>)],
        null_rule: Option<&str>,
    ) {
        for (value, want) in rows {
            let mut raw = valid();
            set(&mut raw, Some(value.clone()));
            let got = broken(&raw);
            match want {
                None => assert!(got.is_empty(), "{field} = {value:?}: unexpected {got:?}"),
                Some(rule) => assert!(
                    got.iter().any(|(f, r)| f.starts_with(field) && r == rule),
                    "{field} = {value:?}: want rule {rule}, got {got:?}"
                ),
            }
            // At plan time, the same field listed as unknown is not checked.
            let partial = TemplateRequest::validate_partial(&raw, &[field]);
            let others: Vec<_> = partial
                .err()
                .map(|e| e.details.into_iter().filter(|d| d.field.top_level() == Some(field)).collect())
                .unwrap_or_default();
            assert!(others.is_empty(), "{field} unknown but checked: {others:?}");
        }
        let mut raw = valid();
        set(&mut raw, None);
        let got = broken(&raw);
        match null_rule {
            None => assert!(got.is_empty(), "{field} = null: unexpected {got:?}"),
            Some(rule) => assert_eq!(got, vec![(field.to_owned(), rule.to_owned())], "{field} = null"),
        }
        assert!(TemplateRequest::validate_partial(&raw, &[field]).is_ok(), "{field} unknown at plan");
    }

    fn s(v: &str) -> String {
        v.to_owned()
    }

    #[test]
    fn aws_account_id_pattern() {
        table(
            "aws_account_id",
            |r, v| r.aws_account_id = v,
            &[
                (s("123456789012"), None),
                (s("12345678901"), Some("pattern")),
                (s("1234567890123"), Some("pattern")),
                (s("12345678901a"), Some("pattern")),
                (s(""), Some("pattern")),
                (s("１２３４５６７８９０１２"), Some("pattern")),
            ],
            Some("required"),
        );
    }

    #[test]
    fn sso_instance_arn_pattern() {
        table(
            "sso_instance_arn",
            |r, v| r.sso_instance_arn = v,
            &[
                (s("arn:aws:sso:::instance/ssoins-abcdef0123456789"), None),
                (s("arn:aws:sso:::instance/ins-abcdef0123456789"), None),
                (s("arn:aws:sso:::instance/ssoins-ab.def-123456789"), None),
                (s("arn:aws:sso:::instance/ssoins-abcdef012345678"), Some("pattern")),
                (s("arn:aws:sso:::instance/ssoins-abcdef01234567890"), Some("pattern")),
                (s("arn:aws-foo:sso:::instance/ssoins-abcdef0123456789"), Some("pattern")),
                (s("arn:aws:sso::123456789012:instance/ssoins-abcdef0123456789"), Some("pattern")),
                (s("arn:aws:sso:::instance/ssoins-abcdef01234567_9"), Some("pattern")),
                (s("ssoins-abcdef0123456789"), Some("pattern")),
            ],
            Some("required"),
        );
    }

    #[test]
    fn region_partition() {
        table(
            "region",
            |r, v| r.region = v,
            &[
                (s("us-east-1"), None),
                (s("ap-southeast-6"), None),
                (s("us-gov-west-1"), Some("partition")),
                (s("cn-north-1"), Some("partition")),
                (s("us-east-9"), Some("region")),
                (s("US-EAST-1"), Some("region")),
                (s("aws-global"), Some("region")),
                (s(""), Some("region")),
            ],
            Some("required"),
        );
    }

    #[test]
    fn region_partition_follows_the_instance_arn() {
        let mut raw = valid();
        raw.sso_instance_arn = Some("arn:aws-cn:sso:::instance/ssoins-abcdef0123456789".into());
        raw.trusted_principal_arn = Some("arn:aws-cn:iam::111122223333:root".into());
        raw.region = Some("cn-northwest-1".into());
        assert_eq!(broken(&raw), vec![]);
        raw.region = Some("us-east-1".into());
        assert_eq!(broken(&raw), vec![(s("region"), s("partition"))]);
        // The cross-field rule is skipped when the instance ARN is not known yet.
        assert!(TemplateRequest::validate_partial(&raw, &["sso_instance_arn"]).is_ok());
    }

    #[test]
    fn trusted_principal_arn_pattern() {
        table(
            "trusted_principal_arn",
            |r, v| r.trusted_principal_arn = v,
            &[
                (s("arn:aws:iam::111122223333:root"), None),
                (s("arn:aws:iam::111122223333:role/Vendor"), None),
                (s("arn:aws:iam::111122223333:role/a/b/c/Vendor+=,.@-_"), None),
                (s("arn:aws:iam::111122223333:user/vendor"), None),
                (s("arn:aws:iam::111122223333:role/"), Some("pattern")),
                (s("arn:aws:iam::111122223333:role/bad name"), Some("pattern")),
                (s("arn:aws:iam::111122223333:group/g"), Some("pattern")),
                (s("arn:aws:sts::111122223333:assumed-role/r/s"), Some("pattern")),
                (s("arn:aws:iam::11112222333:root"), Some("pattern")),
                (s("111122223333"), Some("pattern")),
                (format!("arn:aws:iam::111122223333:role/{}", "r".repeat(65)), Some("pattern")),
                (s("arn:aws-us-gov:iam::111122223333:root"), Some("partition")),
            ],
            Some("required"),
        );
    }

    #[test]
    fn external_ids_rules() {
        let id = |v: &str| ExternalId::new(v);
        table(
            "external_ids",
            |r, v| r.external_ids = v,
            &[
                (vec![id("ab")], None),
                (vec![id(&"a".repeat(1224))], None),
                (vec![id("new-one"), id("old-one")], None),
                (vec![id("a+=,.@:/-_Z9")], None),
                (vec![], Some("count")),
                (vec![id("aa"), id("bb"), id("cc")], Some("count")),
                (vec![id("same"), id("same")], Some("distinct")),
                (vec![id("a")], Some("length")),
                (vec![id(&"a".repeat(1225))], Some("length")),
                (vec![id("has space")], Some("pattern")),
                (vec![id("ok-id"), id("ünïcode")], Some("pattern")),
            ],
            Some("required"),
        );
    }

    #[test]
    fn external_ids_unknown_element_is_skipped() {
        let mut raw = valid();
        raw.external_ids = Some(vec![ExternalId::new("bad id"), ExternalId::new("placeholder")]);
        let err = TemplateRequest::validate_partial(&raw, &["external_ids[1]"]).unwrap_err();
        assert_eq!(err.details.len(), 1);
        assert_eq!(
            (err.details[0].field.to_string(), err.details[0].rule.as_str()),
            (s("external_ids[0]"), "pattern")
        );
        raw.external_ids = Some(vec![ExternalId::new("same-id"), ExternalId::new("same-id")]);
        assert!(
            TemplateRequest::validate_partial(&raw, &["external_ids[1]"]).is_ok(),
            "distinct waits for [1]"
        );
    }

    #[test]
    fn external_ids_are_never_echoed() {
        let secret = "sekrit value!";
        let mut raw = valid();
        raw.external_ids = Some(vec![ExternalId::new("ok-current"), ExternalId::new(secret)]);
        let err = TemplateRequest::validate(&raw).unwrap_err();
        assert_eq!(err.details[0].field.to_string(), "external_ids[1]");
        let text = serde_json::to_string(&err).unwrap();
        assert!(!text.contains("sekrit"), "{text}");
        assert!(!format!("{err} {err:?}").contains("sekrit"));
    }

    #[test]
    fn role_name_pattern() {
        table(
            "role_name",
            |r, v| r.role_name = v,
            &[
                (s("IdcTrust"), None),
                (s("a+=,.@-_9"), None),
                (s(&"r".repeat(64)), None),
                (s(&"r".repeat(65)), Some("length")),
                (s(""), Some("length")),
                (s("has space"), Some("pattern")),
                (s("slash/no"), Some("pattern")),
                (s("${x}"), Some("pattern")),
            ],
            None,
        );
    }

    #[test]
    fn role_path_pattern() {
        table(
            "role_path",
            |r, v| r.role_path = v,
            &[
                (s("/"), None),
                (s("/vendor/"), None),
                (s("/a/b/\"${x}%{y}'!~/"), None),
                (format!("/{}/", "p".repeat(510)), None),
                (format!("/{}/", "p".repeat(511)), Some("length")),
                (s("vendor/"), Some("pattern")),
                (s("/vendor"), Some("pattern")),
                (s("/has space/"), Some("pattern")),
                (s("/é/"), Some("pattern")),
                (s(""), Some("pattern")),
                (s("/aws-reserved/sso.amazonaws.com/"), Some("reserved")),
                (s("/aws-service-role/x/"), Some("reserved")),
            ],
            None,
        );
    }

    #[test]
    fn permissions_boundary_arn_pattern() {
        table(
            "permissions_boundary_arn",
            |r, v| r.permissions_boundary_arn = v,
            &[
                (s("arn:aws:iam::123456789012:policy/Boundary"), None),
                (s("arn:aws:iam::aws:policy/ReadOnlyAccess"), None),
                (s("arn:aws:iam::123456789012:policy/path/to/B+=,.@-"), None),
                (s("arn:aws:iam::123456789012:role/Boundary"), Some("pattern")),
                (s("arn:aws:iam::123456789012:policy/"), Some("pattern")),
                (s("Boundary"), Some("pattern")),
                (s("arn:aws-cn:iam::aws:policy/ReadOnlyAccess"), Some("partition")),
            ],
            None,
        );
    }

    #[test]
    fn max_session_duration_range() {
        table(
            "max_session_duration",
            |r, v| r.max_session_duration = v,
            &[
                (3600, None),
                (43200, None),
                (7200, None),
                (3599, Some("range")),
                (43201, Some("range")),
                (0, Some("range")),
                (-1, Some("range")),
                (i64::MAX, Some("range")),
            ],
            None,
        );
    }

    #[test]
    fn tags_rules() {
        let one = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        let many = |n: usize| (0..n).map(|i| (format!("k{i}"), s("v"))).collect::<BTreeMap<_, _>>();
        table(
            "tags",
            |r, v| r.tags = v,
            &[
                (one("env", "prod"), None),
                (one("env", ""), None),
                (one("Kostenstelle äöü", "東京 1.0 +=:/@_-"), None),
                (one("yes", "0123"), None),
                (many(50), None),
                (many(51), Some("count")),
                (one("", "v"), Some("key_length")),
                (one(&"k".repeat(129), "v"), Some("key_length")),
                (one("a\"b", "v"), Some("key_pattern")),
                (one("aws:createdBy", "v"), Some("key_prefix")),
                (one("AWS:x", "v"), Some("key_prefix")),
                (one("k", &"v".repeat(257)), Some("value_length")),
                (one("k", "${x}"), Some("value_pattern")),
                (one("k", "line\nbreak"), Some("value_pattern")),
            ],
            None,
        );
        let mut raw = valid();
        raw.tags = Some(one("env", "${x}"));
        assert_eq!(broken(&raw), vec![(s("tags[\"env\"]"), s("value_pattern"))]);
        // One unknown tag value is skipped; the others are still checked.
        raw.tags = Some(BTreeMap::from([(s("env"), s("${x}")), (s("team"), s("bad\"value"))]));
        let err = TemplateRequest::validate_partial(&raw, &["tags[\"env\"]"]).unwrap_err();
        assert_eq!(err.details.len(), 1);
        assert_eq!(err.details[0].field.to_string(), "tags[\"team\"]");
    }

    #[test]
    fn access_level_one_of() {
        table(
            "access_level",
            |r, v| r.access_level = v,
            &[
                (s("read_only"), None),
                (s("assignments"), None),
                (s("admin"), None),
                (s("READ_ONLY"), Some("one_of")),
                (s("write"), Some("one_of")),
                (s(""), Some("one_of")),
            ],
            None,
        );
    }

    #[test]
    fn template_url_https() {
        table(
            "template_url",
            |r, v| r.template_url = v,
            &[
                (s("https://bucket.s3.amazonaws.com/t.yaml"), None),
                (s("http://bucket.s3.amazonaws.com/t.yaml"), Some("https")),
                (s("bucket/t.yaml"), Some("https")),
                (s("https:///t.yaml"), Some("pattern")),
                (s("https://b.s3.amazonaws.com/a b.yaml"), Some("pattern")),
                (format!("https://b.s3.amazonaws.com/{}", "t".repeat(1000)), Some("length")),
            ],
            None,
        );
    }

    #[test]
    fn template_url_console() {
        let mut raw = valid();
        raw.sso_instance_arn = Some("arn:aws-iso:sso:::instance/ssoins-abcdef0123456789".into());
        raw.trusted_principal_arn = Some("arn:aws-iso:iam::111122223333:root".into());
        raw.region = Some("us-iso-east-1".into());
        assert_eq!(broken(&raw), vec![], "no template_url: no link needed");
        raw.template_url = Some("https://bucket.s3.amazonaws.com/t.yaml".into());
        assert_eq!(broken(&raw), vec![(s("sso_instance_arn"), s("console"))]);
    }

    #[test]
    fn template_url_length_of_the_link() {
        let mut raw = valid();
        raw.template_url = Some(format!("https://b.s3.amazonaws.com/{}", "t".repeat(300)));
        raw.external_ids = Some(vec![ExternalId::new("a".repeat(400)), ExternalId::new("b".repeat(400))]);
        assert_eq!(broken(&raw), vec![(s("template_url"), s("length"))]);
        assert!(TemplateRequest::validate_partial(&raw, &["external_ids"]).is_ok());
        // Short IDs fit, but an unknown role name might not: the rule waits for it.
        raw.external_ids = Some(vec![ExternalId::new("a".repeat(200))]);
        raw.template_url = Some(format!("https://b.s3.amazonaws.com/{}", "t".repeat(180)));
        assert_eq!(broken(&raw), vec![]);
        raw.role_name = Some("r".repeat(64));
        assert!(TemplateRequest::validate_partial(&raw, &["role_name"]).is_ok());
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let raw = RawTemplateRequest {
            aws_account_id: Some("x".into()),
            region: Some("nowhere-1".into()),
            role_name: Some("bad name".into()),
            max_session_duration: Some(1),
            ..RawTemplateRequest::default()
        };
        let got = broken(&raw);
        for want in [
            ("aws_account_id", "pattern"),
            ("sso_instance_arn", "required"),
            ("region", "region"),
            ("trusted_principal_arn", "required"),
            ("external_ids", "required"),
            ("role_name", "pattern"),
            ("max_session_duration", "range"),
        ] {
            assert!(got.contains(&(s(want.0), s(want.1))), "{want:?} missing from {got:?}");
        }
        let err = TemplateRequest::validate(&raw).unwrap_err();
        assert!(err.message.contains("aws_account_id") && err.message.contains("max_session_duration"));
    }

    #[test]
    fn defaults_are_applied() {
        let req = TemplateRequest::validate(&valid()).unwrap();
        assert_eq!(req.role_name(), DEFAULT_ROLE_NAME);
        assert_eq!(req.role_path(), DEFAULT_ROLE_PATH);
        assert_eq!(req.max_session_duration(), DEFAULT_MAX_SESSION_DURATION);
        assert_eq!(req.access_level(), DEFAULT_ACCESS_LEVEL);
        assert_eq!(req.partition(), Partition::Aws);
        assert_eq!(req.instance_id(), "ssoins-abcdef0123456789");
        assert_eq!(req.role_arn(), "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole");
        assert!(
            req.tags().is_empty() && req.template_url().is_none() && req.permissions_boundary_arn().is_none()
        );
    }

    #[test]
    fn role_arn_includes_path_and_partition() {
        let mut raw = valid();
        raw.sso_instance_arn = Some("arn:aws-us-gov:sso:::instance/ssoins-abcdef0123456789".into());
        raw.trusted_principal_arn = Some("arn:aws-us-gov:iam::111122223333:root".into());
        raw.region = Some("us-gov-west-1".into());
        raw.role_path = Some("/vendor/idc/".into());
        raw.role_name = Some("Trust".into());
        let req = TemplateRequest::validate(&raw).unwrap();
        assert_eq!(req.role_arn(), "arn:aws-us-gov:iam::123456789012:role/vendor/idc/Trust");
    }

    #[test]
    fn partial_validation_requires_what_is_not_unknown() {
        let raw = RawTemplateRequest { aws_account_id: Some("123456789012".into()), ..Default::default() };
        let err = TemplateRequest::validate_partial(&raw, &["region"]).unwrap_err();
        let fields: Vec<String> = err.details.iter().map(|d| d.field.to_string()).collect();
        assert_eq!(fields, ["sso_instance_arn", "trusted_principal_arn", "external_ids"]);
        let unknown = ["sso_instance_arn", "region", "trusted_principal_arn", "external_ids"];
        assert!(TemplateRequest::validate_partial(&raw, &unknown).is_ok());
    }

    #[test]
    fn spec_documents_every_raw_field_with_the_defaults_applied_here() {
        use crate::spec::{Presence, TEMPLATE};
        let raw = serde_json::to_value(RawTemplateRequest::default()).unwrap();
        let names: Vec<&str> = raw.as_object().unwrap().keys().map(String::as_str).collect();
        for n in &names {
            assert!(TEMPLATE.field(n).is_some_and(|f| f.is_input()), "{n} is not declared in spec::TEMPLATE");
        }
        assert_eq!(TEMPLATE.inputs().count(), names.len());
        for f in TEMPLATE.inputs() {
            assert!(
                !(f.presence == Presence::Required && f.default.is_some()),
                "{} is required and has a default",
                f.name
            );
        }
        let default = |n: &str| TEMPLATE.inputs().find(|f| f.name == n).and_then(|f| f.default);
        assert_eq!(default("role_name"), Some(DEFAULT_ROLE_NAME));
        assert_eq!(default("role_path"), Some(DEFAULT_ROLE_PATH));
        assert_eq!(default("max_session_duration"), Some(DEFAULT_MAX_SESSION_DURATION.to_string().as_str()));
        assert_eq!(default("access_level"), Some(DEFAULT_ACCESS_LEVEL.as_str()));
    }
}
