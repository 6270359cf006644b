//! The product, declared once: every resource idcbootstrap serves and every field of
//! it — its name, its CloudFormation name, type, presence, secrecy, default,
//! description and rule.
//!
//! Front-ends read this and restate nothing: the provider builds its tfplugin5
//! schema from it, the Lambda its property tables and `bootstrap --describe`, the
//! vendor API its OpenAPI components ([`ResourceSpec::json_schema`]), and `docs/` is
//! generated from those. A description changed here changes all of them.
//!
//! The *rules* are enforced where the values are parsed ([`crate::input`],
//! [`crate::iam`], [`crate::external_id`], the connectivity request); the `rule`
//! text here is what each of them enforces, in one sentence, and the validators'
//! tests hold the two together.
//!
//! This module is data: it knows that a field has a CloudFormation property name,
//! not what a CloudFormation event looks like.

use serde_json::{Map, Value, json};

use crate::external_id::{MAX_LEN, MAX_ROTATION_LEN, MIN_LEN};

/// The shape of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A string.
    String,
    /// A whole number (CloudFormation sends it as a string).
    Integer,
    /// `true` or `false` (CloudFormation sends `"true"`/`"false"`).
    Bool,
    /// A duration: Terraform and the environment take `2m`, `90s`, `1h30m` or a
    /// number of seconds; CloudFormation and the vendor API take whole seconds.
    Duration,
    /// A list of strings (CloudFormation: a list, or one comma-separated string).
    StringList,
    /// A map of strings to strings.
    StringMap,
    /// A list of objects with these fields.
    ObjectList(&'static [Field]),
    /// A universally unique identifier (RFC 9562), as a string.
    Uuid,
}

/// Who sets a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The user must set it.
    Required,
    /// The user may set it.
    Optional,
    /// The user may set it; when they do not, it is computed (a default that depends
    /// on other settings).
    OptionalComputed,
    /// Only the product sets it: an output.
    Computed,
}

impl Presence {
    /// Whether a user sets it (an input).
    pub const fn is_input(self) -> bool {
        !matches!(self, Presence::Computed)
    }
}

/// One field of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The snake_case name: Terraform attribute, JSON wire name, core field.
    pub name: &'static str,
    /// The CloudFormation property (inputs) or `Fn::GetAtt` attribute (outputs), if
    /// CloudFormation serves this field.
    pub cfn: Option<&'static str>,
    /// The value's shape.
    pub ty: Type,
    /// Input or output, required or not.
    pub presence: Presence,
    /// A secret (external IDs): never echoed, sensitive in Terraform, `NoEcho` in
    /// CloudFormation.
    pub sensitive: bool,
    /// The default, as a user would write it.
    pub default: Option<&'static str>,
    /// What the field is for.
    pub description: &'static str,
    /// The validation rule, as a sentence (inputs).
    pub rule: Option<&'static str>,
    /// In Terraform, a value left out falls back to the provider setting of the same
    /// name (and its `IDCBOOTSTRAP_*` variable); so does the Lambda's environment.
    pub fallback: bool,
    /// An output that may be null (CloudFormation: the empty string).
    pub nullable: bool,
    /// A regular expression (ECMA-262 subset, anchored) every valid value matches,
    /// for JSON Schema. It is a necessary condition the validator also enforces, not
    /// the whole rule (a region's partition, for one, is not a pattern).
    pub pattern: Option<&'static str>,
    /// Served by Terraform only (the `id` every Terraform object has); left out of
    /// [`ResourceSpec::json_schema`].
    pub terraform_only: bool,
}

impl Field {
    const fn new(name: &'static str, ty: Type, presence: Presence, description: &'static str) -> Field {
        Field {
            name,
            cfn: None,
            ty,
            presence,
            sensitive: false,
            default: None,
            description,
            rule: None,
            fallback: false,
            nullable: false,
            pattern: None,
            terraform_only: false,
        }
    }

    const fn cfn(mut self, name: &'static str) -> Field {
        self.cfn = Some(name);
        self
    }

    const fn rule(mut self, rule: &'static str) -> Field {
        self.rule = Some(rule);
        self
    }

    const fn default(mut self, default: &'static str) -> Field {
        self.default = Some(default);
        self
    }

    const fn sensitive(mut self) -> Field {
        self.sensitive = true;
        self
    }

    const fn fallback(mut self) -> Field {
        self.fallback = true;
        self
    }

    const fn nullable(mut self) -> Field {
        self.nullable = true;
        self
    }

    const fn pattern(mut self, pattern: &'static str) -> Field {
        self.pattern = Some(pattern);
        self
    }

    const fn terraform_only(mut self) -> Field {
        self.terraform_only = true;
        self
    }

    const fn describe(mut self, description: &'static str) -> Field {
        self.description = description;
        self
    }

    const fn presence(mut self, presence: Presence) -> Field {
        self.presence = presence;
        self
    }

    /// The environment variable that sets this field's default for both the
    /// provider and the Lambda: `IDCBOOTSTRAP_<NAME>`.
    pub fn env_var(&self) -> String {
        format!("IDCBOOTSTRAP_{}", self.name.to_ascii_uppercase())
    }

    /// The whole documentation in one paragraph: description, rule, default.
    /// Terraform schema descriptions and the generated docs use this.
    pub fn doc(&self) -> String {
        let mut s = String::from(self.description);
        if let Some(r) = self.rule {
            s.push(' ');
            s.push_str(r);
        }
        if let Some(d) = self.default {
            s.push_str(" Default: `");
            s.push_str(d);
            s.push_str("`.");
        }
        s
    }

    /// Whether it is an input.
    pub const fn is_input(&self) -> bool {
        self.presence.is_input()
    }
}

/// Where a resource is served in Terraform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerraformKind {
    /// The provider block.
    Provider,
    /// A data source.
    DataSource,
    /// A managed resource.
    Resource,
    /// Not served by Terraform.
    None,
}

/// One thing the product serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceSpec {
    /// A short stable key, e.g. `template`.
    pub key: &'static str,
    /// The Terraform type name, e.g. `idcbootstrap_template`.
    pub terraform: &'static str,
    /// How Terraform serves it.
    pub terraform_kind: TerraformKind,
    /// The CloudFormation resource type, e.g. `Custom::IdcBootstrapTemplate`.
    pub cloudformation: Option<&'static str>,
    /// What it does, for schema descriptions and docs.
    pub description: &'static str,
    /// Inputs then outputs.
    pub fields: &'static [Field],
}

/// Which half of a resource a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// What a caller sends.
    Input,
    /// What the product answers.
    Output,
}

impl ResourceSpec {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field whose CloudFormation name is `cfn`.
    pub fn field_by_cfn(&self, cfn: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.cfn == Some(cfn))
    }

    /// The inputs.
    pub fn inputs(&self) -> impl Iterator<Item = &'static Field> {
        self.fields.iter().filter(|f| f.is_input())
    }

    /// The outputs.
    pub fn outputs(&self) -> impl Iterator<Item = &'static Field> {
        self.fields.iter().filter(|f| !f.is_input())
    }

    /// A JSON Schema (2020-12, as OpenAPI 3.1 embeds it) of the inputs or outputs,
    /// leaving out the fields named in `omit`. Inputs reject unknown fields; every
    /// output is listed as required (it is always present, possibly null).
    pub fn json_schema(&self, part: Part, omit: &[&str]) -> Value {
        let fields = self.fields.iter().filter(|f| {
            (f.is_input() == (part == Part::Input)) && !f.terraform_only && !omit.contains(&f.name)
        });
        object_schema(self.description, fields, part)
    }
}

fn object_schema<'a>(description: &str, fields: impl Iterator<Item = &'a Field>, part: Part) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in fields {
        let mut s = type_schema(f.ty, part);
        let obj = s.as_object_mut().expect("type schemas are objects");
        obj.insert("description".into(), f.doc().into());
        if let Some(d) = f.default {
            let v = match f.ty {
                Type::Integer => d.parse::<i64>().map_or_else(|_| Value::from(d), Value::from),
                Type::Bool => Value::Bool(d == "true"),
                _ => Value::from(d),
            };
            obj.insert("default".into(), v);
        }
        if let Some(p) = f.pattern {
            obj.insert("pattern".into(), p.into());
        }
        if f.nullable
            && let Some(t) = obj.get("type").and_then(Value::as_str).map(str::to_owned)
        {
            obj.insert("type".into(), json!([t, "null"]));
        }
        if f.sensitive {
            // OpenAPI tooling shows `writeOnly`/`format: password` masked; a hint, not a guarantee.
            obj.insert("x-sensitive".into(), true.into());
        }
        if f.presence == Presence::Required || part == Part::Output {
            required.push(Value::from(f.name));
        }
        props.insert(f.name.into(), s);
    }
    let mut schema = json!({
        "type": "object",
        "description": description,
        "properties": props,
        "required": required,
    });
    if part == Part::Input {
        schema["additionalProperties"] = false.into();
    }
    schema
}

fn type_schema(ty: Type, part: Part) -> Value {
    match ty {
        Type::String => json!({"type": "string"}),
        Type::Uuid => json!({"type": "string", "format": "uuid"}),
        Type::Integer => json!({"type": "integer"}),
        Type::Bool => json!({"type": "boolean"}),
        Type::Duration => json!({"type": "integer", "minimum": 0}),
        Type::StringList => json!({"type": "array", "items": {"type": "string"}}),
        Type::StringMap => json!({"type": "object", "additionalProperties": {"type": "string"}}),
        Type::ObjectList(fields) => {
            let item = object_schema("", fields.iter(), part);
            json!({"type": "array", "items": item})
        }
    }
}

// ---------------------------------------------------------------- shared fields

const AWS_ACCOUNT_ID: Field = Field::new(
    "aws_account_id",
    Type::String,
    Presence::Required,
    "The AWS account that holds the IAM Identity Center instance; the trust role is created there.",
)
.cfn("AwsAccountId")
.rule("Exactly 12 digits.")
.pattern("^[0-9]{12}$");

const SSO_INSTANCE_ARN: Field = Field::new(
    "sso_instance_arn",
    Type::String,
    Presence::Required,
    "ARN of the IAM Identity Center instance; its partition decides the partition of every other ARN.",
)
.cfn("SsoInstanceArn")
.pattern("^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9.-]{16}$")
.rule(
    "arn:<partition>:sso:::instance/(sso)ins-<16 characters of a-z A-Z 0-9 - .>, partition one of aws, \
     aws-us-gov, aws-cn, aws-iso, aws-iso-b.",
);

const REGION: Field =
    Field::new("region", Type::String, Presence::Required, "Region of the IAM Identity Center instance.")
        .cfn("Region")
        .rule("A real region name of the instance ARN's partition, e.g. us-east-1.")
        .pattern("^[a-z]{2}(-[a-z]+)+-[0-9]+$");

const TRUSTED_PRINCIPAL_ARN: Field = Field::new(
    "trusted_principal_arn",
    Type::String,
    Presence::Required,
    "The vendor's IAM principal that may assume the trust role.",
)
.cfn("TrustedPrincipalArn")
.rule(
    "An IAM account root, role or user ARN (arn:<partition>:iam::<12 digits>:root, :role/<path><name> or \
     :user/<path><name>) in the instance's partition.",
);

/// The rule of every list of trusted external IDs.
const EXTERNAL_IDS_RULE: &str =
    "1 or 2 distinct values, each 2 to 1224 characters of letters, digits and _+=,.@:/-.";

const EXTERNAL_IDS: Field = Field::new(
    "external_ids",
    Type::StringList,
    Presence::Required,
    "External IDs the trusted principal must present, current first: one at steady state, two while rotating.",
)
.cfn("ExternalIds")
.rule(EXTERNAL_IDS_RULE)
.sensitive();

const ROLE_NAME: Field = Field::new("role_name", Type::String, Presence::Optional, "Name of the trust role.")
    .cfn("RoleName")
    .rule("1 to 64 characters of letters, digits and _+=,.@-.")
    .pattern("^[A-Za-z0-9_+=,.@-]{1,64}$")
    .default(crate::input::DEFAULT_ROLE_NAME)
    .fallback();

const ROLE_PATH: Field = Field::new(
    "role_path",
    Type::String,
    Presence::Optional,
    "IAM path of the trust role.",
)
.cfn("RolePath")
.pattern("^(/|/[!-~]+/)$")
.rule(
    "/ or /<segments>/: starts and ends with /, at most 512 characters of printable ASCII except space, \
         not under /aws-reserved/ or /aws-service-role/.",
)
.default(crate::input::DEFAULT_ROLE_PATH)
.fallback();

const PERMISSIONS_BOUNDARY_ARN: Field = Field::new(
    "permissions_boundary_arn",
    Type::String,
    Presence::Optional,
    "ARN of a managed policy set as the trust role's permissions boundary.",
)
.cfn("PermissionsBoundaryArn")
.pattern("^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):iam::([0-9]{12}|aws):policy/([!-~]*/)?[A-Za-z0-9_+=,.@-]{1,128}$")
.rule("An IAM policy ARN (arn:<partition>:iam::<12 digits or aws>:policy/<path><name>) in the instance's partition.")
.fallback();

const MAX_SESSION_DURATION: Field = Field::new(
    "max_session_duration",
    Type::Integer,
    Presence::Optional,
    "Maximum session duration of the trust role, in seconds.",
)
.cfn("MaxSessionDuration")
.rule("An integer from 3600 to 43200.")
.default("3600")
.fallback();

const TAGS: Field = Field::new("tags", Type::StringMap, Presence::Optional, "Tags on the trust role.")
    .cfn("Tags")
    .rule(
        "At most 50; keys 1 to 128 and values 0 to 256 Unicode letters, digits, spaces and _.:/=+-@; keys must \
         not start with aws:.",
    )
    .fallback();

const ACCESS_LEVEL: Field = Field::new(
    "access_level",
    Type::String,
    Presence::Optional,
    "What the trust role may do: read_only (inventory, writes nothing), assignments (plus account \
     assignments), admin (plus permission sets).",
)
.cfn("AccessLevel")
.rule("One of read_only, assignments, admin.")
.pattern("^(read_only|assignments|admin)$")
.default("read_only")
.fallback();

const TEMPLATE_URL: Field = Field::new(
    "template_url",
    Type::String,
    Presence::Optional,
    "HTTPS URL where the rendered CloudFormation template is hosted (usually S3); without it \
     launch_stack_url is the empty string.",
)
.cfn("TemplateUrl")
.rule(
    "An https:// URL without spaces, at most 1024 characters; not for aws-iso and aws-iso-b, which have no \
     public console.",
)
.fallback();

const ROLE_ARN_PATTERN: &str =
    "^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):iam::[0-9]{12}:role/([!-~]*/)?[A-Za-z0-9_+=,.@-]{1,64}$";

const ROLE_ARN_RULE: &str = "An IAM role ARN: arn:<partition>:iam::<12 digits>:role/<optional path/><name>, name \
     1 to 64 characters of letters, digits and _+=,.@-.";

// ---------------------------------------------------------------- template

/// `idcbootstrap_template` / `Custom::IdcBootstrapTemplate` / `POST bootstrap-template`.
pub const TEMPLATE: ResourceSpec = ResourceSpec {
    key: "template",
    terraform: "idcbootstrap_template",
    terraform_kind: TerraformKind::DataSource,
    cloudformation: Some("Custom::IdcBootstrapTemplate"),
    description: "Renders the bootstrap artifacts of the IAM Identity Center trust role: CloudFormation, \
         Terraform, quick-create link and policies. Rendering is deterministic and makes no network call.",
    fields: &[
        AWS_ACCOUNT_ID,
        SSO_INSTANCE_ARN,
        REGION,
        TRUSTED_PRINCIPAL_ARN.fallback(),
        EXTERNAL_IDS,
        ROLE_NAME.presence(Presence::OptionalComputed),
        ROLE_PATH,
        PERMISSIONS_BOUNDARY_ARN,
        MAX_SESSION_DURATION,
        TAGS,
        ACCESS_LEVEL,
        TEMPLATE_URL,
        Field::new(
            "cloudformation_yaml",
            Type::String,
            Presence::Computed,
            "CloudFormation template (YAML) that creates the trust role; cfn-lint clean.",
        )
        .sensitive(),
        Field::new(
            "terraform_hcl",
            Type::String,
            Presence::Computed,
            "Terraform configuration (HCL, hashicorp/aws provider) that creates the trust role; `terraform fmt` clean.",
        )
        .sensitive(),
        Field::new(
            "launch_stack_url",
            Type::String,
            Presence::Computed,
            "Quick-create console link for the CloudFormation stack (empty without `template_url`).",
        )
        .cfn("LaunchStackUrl")
        .sensitive(),
        Field::new(
            "trust_policy_json",
            Type::String,
            Presence::Computed,
            "The role's trust policy: only `trusted_principal_arn`, only `sts:AssumeRole`, only with one of the \
             external IDs.",
        )
        .cfn("TrustPolicy")
        .sensitive(),
        Field::new(
            "permissions_policy_json",
            Type::String,
            Presence::Computed,
            "The role's permissions policy for the access level.",
        )
        .cfn("PermissionsPolicy"),
        Field::new("role_arn", Type::String, Presence::Computed, "The ARN the trust role will have.").cfn("RoleArn"),
        Field::new("role_name", Type::String, Presence::Computed, "The name the trust role will have.")
            .cfn("RoleName"),
        Field::new(
            "external_ids",
            Type::StringList,
            Presence::Computed,
            "The trusted external IDs, current first, as rendered into the trust policy (CloudFormation: \
             comma-separated).",
        )
        .cfn("ExternalIds")
        .sensitive(),
        Field::new("id", Type::String, Presence::Computed, "The role ARN; stable for the same inputs.")
            .terraform_only(),
    ],
};

/// Fields of `Custom::IdcBootstrapTemplate` that only CloudFormation has: its answer
/// is capped at 4096 bytes, so the larger permissions policies come back one part
/// per resource. Not in [`TEMPLATE`], whose inputs are the core's request.
pub const TEMPLATE_CLOUDFORMATION_ONLY: &[Field] = &[
    Field::new(
        "permissions_policy_part",
        Type::Integer,
        Presence::Optional,
        "Which part of the permissions policy this resource returns as PermissionsPolicy. CloudFormation caps a \
         custom resource's answer at 4096 bytes, so the policy of assignments (2 parts) and admin (3 parts) is \
         returned one part per resource: declare one resource per part and give the role one inline policy each.",
    )
    .cfn("PermissionsPolicyPart")
    .rule("A whole number from 1 to PermissionsPolicyParts.")
    .default("1"),
    Field::new(
        "permissions_policy_parts",
        Type::Integer,
        Presence::Computed,
        "How many parts the access level's permissions policy has: 1 for read_only, 2 for assignments, 3 for \
         admin.",
    )
    .cfn("PermissionsPolicyParts"),
];

// ---------------------------------------------------------------- external ID

/// `idcbootstrap_external_id` / `Custom::IdcExternalId`.
pub const EXTERNAL_ID: ResourceSpec = ResourceSpec {
    key: "external_id",
    terraform: "idcbootstrap_external_id",
    terraform_kind: TerraformKind::Resource,
    cloudformation: Some("Custom::IdcExternalId"),
    description: "Generates and keeps the external ID(s) the trust role requires, and rotates them without ever \
         dropping an ID that is still in use. In Terraform, import with `terraform import <address> <external \
         ID>`, or `env:IDCBOOTSTRAP_EXTERNAL_ID_<NAME>` to read the ID from that variable of the provider's \
         environment instead of the command line (no variable without that prefix is read).",
    fields: &[
        Field::new(
            "rotation",
            Type::String,
            Presence::Optional,
            "Names the generation of the external ID; any string you choose. Changing it from one value to \
             another starts a rotation: a new current external ID, with the old one kept as previous and still \
             trusted. Setting it where it was unset (or empty) only records it.",
        )
        .cfn("Rotation")
        .rule(ROTATION_RULE),
        Field::new(
            "retire_previous",
            Type::Bool,
            Presence::Optional,
            "Set to true once the vendor uses the current external ID: the previous one stops being trusted. \
             Must be false (or unset) in the change that starts a rotation.",
        )
        .cfn("RetirePrevious")
        .rule("true or false; not true in the change that starts a rotation.")
        .default("false"),
        Field::new("id", Type::String, Presence::Computed, "A non-secret identifier of this resource, fixed at creation."),
        Field::new("current", Type::String, Presence::Computed, "The external ID the vendor should use.")
            .cfn("ExternalId")
            .sensitive(),
        Field::new(
            "previous",
            Type::String,
            Presence::Computed,
            "The external ID being rotated out, still trusted; null (CloudFormation: empty) when steady.",
        )
        .nullable()
        .cfn("PreviousExternalId")
        .sensitive(),
        Field::new(
            "all",
            Type::StringList,
            Presence::Computed,
            "Every trusted external ID, current first: pass it to the template's external_ids (CloudFormation: \
             comma-separated, for `Fn::Split`).",
        )
        .cfn("ExternalIds")
        .sensitive(),
        Field::new("rotation_state", Type::String, Presence::Computed, "steady (one ID) or rotating (current and previous).")
            .cfn("RotationState"),
    ],
};

/// The rule of the `rotation` keeper, one for every front-end.
pub const ROTATION_RULE: &str = "At most 256 characters; empty is the same as unset.";
const _: () = assert!(MAX_ROTATION_LEN == 256);

// ---------------------------------------------------------------- connectivity

const STEP_FIELDS: &[Field] = &[
    Field::new(
        "step",
        Type::String,
        Presence::Computed,
        "assume_role_current, assume_role_previous, list_instances, probe:<action> or external_id_enforced.",
    ),
    Field::new("ok", Type::Bool, Presence::Computed, "Whether the step passed."),
    Field::new("code", Type::String, Presence::Computed, "The error code; null when the step passed.")
        .nullable(),
    Field::new("message", Type::String, Presence::Computed, "What the step found."),
    Field::new(
        "duration_ms",
        Type::Integer,
        Presence::Computed,
        "How long the step took, retries and waits included.",
    ),
];

const CHECK_INPUTS: [Field; 11] = [
    Field::new(
        "role_arn",
        Type::String,
        Presence::Required,
        "ARN of the trust role to check: the template's role_arn, or the ARN of the role resource that creates \
         it (so the check runs after the role exists).",
    )
    .cfn("RoleArn")
    .rule(ROLE_ARN_RULE)
    .pattern(ROLE_ARN_PATTERN),
    EXTERNAL_IDS.describe(
        "Trusted external IDs, current first: one at steady state, two while rotating. Each is used for one \
         AssumeRole, so during a rotation both IDs are proven to work.",
    ),
    SSO_INSTANCE_ARN,
    AWS_ACCOUNT_ID.describe("The AWS account that must own the IAM Identity Center instance."),
    REGION
        .describe("Region of the IAM Identity Center instance; the STS and sso-admin calls go there.")
        .presence(Presence::Optional)
        .fallback(),
    ACCESS_LEVEL
        .describe("Decides which read permissions are probed (writes are never called): read_only, assignments or admin."),
    Field::new(
        "propagation_timeout",
        Type::Duration,
        Presence::Optional,
        "How long to retry AssumeRole while a new role propagates through IAM.",
    )
    .cfn("PropagationTimeout")
    .rule("0 to 3600 seconds (Terraform: a duration such as 2m, 90s or a number of seconds).")
    .default("2m")
    .fallback(),
    Field::new(
        "profile",
        Type::String,
        Presence::Optional,
        "Named AWS profile whose credentials call STS; without one, the standard credential chain (environment, \
         shared files, SSO, instance role).",
    )
    .fallback(),
    STS_ENDPOINT,
    SSO_ADMIN_ENDPOINT,
    IDENTITYSTORE_ENDPOINT,
];

/// The rule of every endpoint override: plain http only where it cannot leave the
/// machine, since the override receives signed requests that carry the external ID.
const ENDPOINT_RULE: &str =
    "An https:// URL, or an http:// URL to a loopback address (localhost, 127.0.0.0/8 or [::1]).";

const STS_ENDPOINT: Field = Field::new(
    "sts_endpoint",
    Type::String,
    Presence::Optional,
    "Override of the STS endpoint URL, e.g. a local test server.",
)
.cfn("StsEndpoint")
.rule(ENDPOINT_RULE)
.fallback();

const SSO_ADMIN_ENDPOINT: Field = Field::new(
    "sso_admin_endpoint",
    Type::String,
    Presence::Optional,
    "Override of the IAM Identity Center (sso-admin) endpoint URL.",
)
.cfn("SsoAdminEndpoint")
.rule(ENDPOINT_RULE)
.fallback();

const IDENTITYSTORE_ENDPOINT: Field = Field::new(
    "identitystore_endpoint",
    Type::String,
    Presence::Optional,
    "Override of the Identity Store endpoint URL (the ListUsers probe); falls back to sso_admin_endpoint when \
     only that is overridden (a local emulator serving both).",
)
.cfn("IdentityStoreEndpoint")
.rule(ENDPOINT_RULE)
.fallback();

const SUCCESS: Field =
    Field::new("success", Type::Bool, Presence::Computed, "Whether every step passed.").cfn("Success");
const MESSAGE: Field =
    Field::new("message", Type::String, Presence::Computed, "What the check proved, or why it failed.")
        .cfn("Message");
const STEPS: Field =
    Field::new("steps", Type::ObjectList(STEP_FIELDS), Presence::Computed, "Every step that ran, in order.")
        .cfn("Steps");

/// `idcbootstrap_connectivity_check` / `Custom::IdcConnectivityCheck`.
pub const CONNECTIVITY_CHECK: ResourceSpec = ResourceSpec {
    key: "connectivity_check",
    terraform: "idcbootstrap_connectivity_check",
    terraform_kind: TerraformKind::Resource,
    cloudformation: Some("Custom::IdcConnectivityCheck"),
    description: "Proves that the trust role works: assumes it with each external ID (waiting out IAM \
         propagation), lists the IAM Identity Center instance, probes one read per permission of the access \
         level, and makes sure the role cannot be assumed without an external ID or with a random one. A failed \
         check fails the apply (or the stack) with its error code.",
    fields: &[
        CHECK_INPUTS[0],
        CHECK_INPUTS[1],
        CHECK_INPUTS[2],
        CHECK_INPUTS[3],
        CHECK_INPUTS[4],
        CHECK_INPUTS[5],
        CHECK_INPUTS[6],
        CHECK_INPUTS[7],
        CHECK_INPUTS[8],
        CHECK_INPUTS[9],
        CHECK_INPUTS[10],
        Field::new(
            "triggers",
            Type::StringMap,
            Presence::Optional,
            "Arbitrary values; changing any re-runs the check, e.g. the role's policy JSON so that a policy \
             change is checked again.",
        ),
        Field::new("id", Type::String, Presence::Computed, "The role ARN."),
        SUCCESS.describe("Always true in state: a failed check fails the apply."),
        MESSAGE,
        STEPS,
    ],
};

/// `data "idcbootstrap_connectivity"`: the check as a read, for `check {}` blocks.
pub const CONNECTIVITY: ResourceSpec = ResourceSpec {
    key: "connectivity",
    terraform: "idcbootstrap_connectivity",
    terraform_kind: TerraformKind::DataSource,
    cloudformation: None,
    description: "Runs the connectivity check on every read and reports a failure as data (success, code, \
         message) instead of an error, for an assert in a check {} block.",
    fields: &[
        CHECK_INPUTS[0],
        CHECK_INPUTS[1],
        CHECK_INPUTS[2],
        CHECK_INPUTS[3],
        CHECK_INPUTS[4],
        CHECK_INPUTS[5],
        CHECK_INPUTS[6],
        CHECK_INPUTS[7],
        CHECK_INPUTS[8],
        CHECK_INPUTS[9],
        CHECK_INPUTS[10],
        Field::new("id", Type::String, Presence::Computed, "The role ARN."),
        SUCCESS,
        Field::new(
            "code",
            Type::String,
            Presence::Computed,
            "The error code of the first failed step; null on success.",
        )
        .nullable(),
        MESSAGE,
        STEPS,
    ],
};

// ---------------------------------------------------------------- provider settings

/// The provider block (and the defaults the Lambda reads from its environment).
pub const PROVIDER: ResourceSpec = ResourceSpec {
    key: "provider",
    terraform: "idcbootstrap",
    terraform_kind: TerraformKind::Provider,
    cloudformation: None,
    description: "Renders IAM Identity Center trust-role artifacts and manages their external IDs. Every \
         argument can also be set with an `IDCBOOTSTRAP_<NAME>` environment variable.",
    fields: &[
        TRUSTED_PRINCIPAL_ARN.presence(Presence::Optional),
        ROLE_NAME,
        ACCESS_LEVEL,
        TEMPLATE_URL,
        ROLE_PATH,
        PERMISSIONS_BOUNDARY_ARN,
        MAX_SESSION_DURATION,
        TAGS,
        Field::new(
            "region",
            Type::String,
            Presence::Optional,
            "AWS region for the connectivity check's STS and sso-admin calls.",
        ),
        CHECK_INPUTS[7],
        CHECK_INPUTS[8],
        CHECK_INPUTS[9],
        CHECK_INPUTS[10],
        CHECK_INPUTS[6],
        API_URL,
        API_TOKEN,
        TENANT_ID,
    ],
};

/// Template inputs a provider block (or the Lambda's environment) may default.
pub fn template_defaults() -> impl Iterator<Item = &'static Field> {
    PROVIDER.fields.iter().filter(|f| TEMPLATE.field(f.name).is_some_and(|t| t.fallback))
}

// ---------------------------------------------------------------- vendor API

/// The vendor API's saved configuration of a tenant (`PUT|GET config`).
pub const VENDOR_CONFIG: ResourceSpec = ResourceSpec {
    key: "vendor_config",
    terraform: "",
    terraform_kind: TerraformKind::None,
    cloudformation: None,
    description: "The trust role a tenant registered with the vendor, and where its IAM Identity Center lives.",
    fields: &[
        SSO_INSTANCE_ARN,
        CHECK_INPUTS[0].describe("ARN of the trust role the customer created; the vendor assumes it."),
        REGION,
        Field::new(
            "sso_instance_arn",
            Type::String,
            Presence::Computed,
            "ARN of the IAM Identity Center instance; null when nothing is saved.",
        )
        .nullable(),
        Field::new(
            "role_arn",
            Type::String,
            Presence::Computed,
            "ARN of the registered trust role; null when nothing is saved.",
        )
        .nullable(),
        Field::new(
            "region",
            Type::String,
            Presence::Computed,
            "Region of the instance; null when nothing is saved.",
        )
        .nullable(),
        Field::new(
            "configured",
            Type::Bool,
            Presence::Computed,
            "Whether the instance and the role ARN are saved, so the connectivity test can run.",
        ),
    ],
};

/// The vendor API's external IDs of a tenant (`GET external-id`, rotate, commit, cancel).
pub const VENDOR_EXTERNAL_ID: ResourceSpec = ResourceSpec {
    key: "vendor_external_id",
    terraform: "",
    terraform_kind: TerraformKind::None,
    cloudformation: None,
    description: "The external IDs the vendor issued to a tenant: the one in use and, during a rotation, the \
         pending one. Both are trusted by a role rendered during the rotation.",
    fields: &[
        Field::new(
            "force",
            Type::Bool,
            Presence::Optional,
            "Commit only: make the pending ID current even though no connectivity test with it has passed since \
             the rotation began.",
        )
        .default("false"),
        Field::new("external_id", Type::Uuid, Presence::Computed, "The external ID in use (UUID v4, issued by the vendor).")
            .sensitive(),
        Field::new(
            "external_id_pending",
            Type::Uuid,
            Presence::Computed,
            "The external ID being rotated in; null at steady state.",
        )
        .nullable()
        .sensitive(),
    ],
};

// ---------------------------------------------------------------- the vendor API's clients

/// The rule of an API URL.
const API_URL_RULE: &str = "An https:// URL (http:// only to a loopback address: localhost, 127.0.0.0/8 or \
     [::1], since the token travels with every request) with no query, fragment or user info; the API's paths \
     (/v1/integrations/aws-identity-center/...) are appended to it.";

const API_URL: Field = Field::new(
    "api_url",
    Type::String,
    Presence::Optional,
    "Base URL of the vendor's idcbootstrap API, e.g. https://api.vendor.example. Needed only by the vendor data \
     source and resource.",
)
.cfn("ApiUrl")
.rule(API_URL_RULE)
.fallback();

const API_TOKEN: Field = Field::new(
    "api_token",
    Type::String,
    Presence::Optional,
    "Bearer token the vendor issued to this tenant (`idcbootstrap-server token create`). Needed only by the \
     vendor data source and resource; never logged or echoed.",
)
.cfn("ApiToken")
.rule("Printable ASCII without spaces, 1 to 4096 characters.")
.sensitive()
.fallback();

const TENANT_ID: Field = Field::new(
    "tenant_id",
    Type::Uuid,
    Presence::Optional,
    "This customer's tenant ID at the vendor (sent as X-Tenant-ID; it must be the token's tenant). Needed only \
     by the vendor data source and resource.",
)
.cfn("TenantId")
.rule("A UUID, e.g. 2489e9ad-2ee2-4e00-8ec9-32d5f69181c0.")
.pattern("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
.fallback();

/// How a front-end reaches the vendor API: provider arguments in Terraform (the
/// vendor data source and resource read them from there); in CloudFormation,
/// properties of `Custom::IdcVendorExternalIds` and `Custom::IdcVendorRegistration`
/// (pass them as the type's CloudFormation-only fields), each defaulting to the
/// function's `IDCBOOTSTRAP_<NAME>` variable like every other fallback.
pub const VENDOR_API_CLOUDFORMATION: &[Field] = &[API_URL, TENANT_ID, API_TOKEN];

/// `data "idcbootstrap_vendor_external_ids"` / `Custom::IdcVendorExternalIds`:
/// `GET external-id`.
pub const VENDOR_EXTERNAL_IDS: ResourceSpec = ResourceSpec {
    key: "vendor_external_ids",
    terraform: "idcbootstrap_vendor_external_ids",
    terraform_kind: TerraformKind::DataSource,
    cloudformation: Some("Custom::IdcVendorExternalIds"),
    description: "Reads the external IDs the vendor issued to this tenant from the vendor API (GET external-id): \
         the one in use and, during a rotation the vendor started, the pending one. Pass `all` to the template's \
         external_ids so the role trusts exactly what the vendor presents.",
    fields: &[
        Field::new("id", Type::String, Presence::Computed, "The tenant ID.").terraform_only(),
        Field::new("current", Type::Uuid, Presence::Computed, "The external ID the vendor uses now.")
            .cfn("Current")
            .sensitive(),
        Field::new(
            "pending",
            Type::Uuid,
            Presence::Computed,
            "The external ID the vendor is rotating in; null (CloudFormation: empty) at steady state.",
        )
        .cfn("Pending")
        .nullable()
        .sensitive(),
        Field::new(
            "all",
            Type::StringList,
            Presence::Computed,
            "Every external ID the role must trust, current then pending: pass it to the template's external_ids \
             (CloudFormation: comma-separated, for `Fn::Split`).",
        )
        .cfn("All")
        .sensitive(),
    ],
};

/// `resource "idcbootstrap_vendor_registration"` / `Custom::IdcVendorRegistration`:
/// `PUT|GET|DELETE config` and `POST test`.
pub const VENDOR_REGISTRATION: ResourceSpec = ResourceSpec {
    key: "vendor_registration",
    terraform: "idcbootstrap_vendor_registration",
    terraform_kind: TerraformKind::Resource,
    cloudformation: Some("Custom::IdcVendorRegistration"),
    description: "Registers the trust role with the vendor (PUT config) and, with `test`, has the vendor test it \
         (POST test), waiting out IAM propagation; a failed test fails the apply (or the stack) with the vendor's \
         error code. Reads the vendor's saved role back (a role the vendor holds that differs is drift), and \
         deleting it clears the registration (DELETE config); the external IDs stay. In Terraform, import with \
         `terraform import <address> <tenant ID>`.",
    fields: &[
        CHECK_INPUTS[0].describe(
            "ARN of the trust role the vendor should assume: the ARN of the role resource that creates it, so the \
             registration follows the role.",
        ),
        SSO_INSTANCE_ARN,
        REGION,
        Field::new(
            "test",
            Type::Bool,
            Presence::Optional,
            "Have the vendor test the role after registering it (POST test), retrying while the role propagates \
             through IAM; a failure fails the apply. Turn off where the vendor cannot reach the role yet.",
        )
        .cfn("Test")
        .rule("true or false.")
        .default("true"),
        CHECK_INPUTS[6].describe(
            "How long to keep asking the vendor to test the role while the role's failures look like IAM \
             propagation (sts_assume_role_failed, access_denied).",
        ),
        Field::new(
            "triggers",
            Type::StringMap,
            Presence::Optional,
            "Arbitrary values; changing any registers and tests the role again, e.g. the template's \
             trust_policy_json, so each step of a rotation is tested once the role trusts the new IDs.",
        ),
        Field::new("id", Type::String, Presence::Computed, "The tenant ID: one registration per tenant.")
            .terraform_only(),
        Field::new(
            "configured",
            Type::Bool,
            Presence::Computed,
            "Whether the vendor holds a role, instance and region for this tenant, so its test can run.",
        )
        .cfn("Configured"),
    ],
};

/// Fields of `Custom::IdcVendorExternalIds` that only CloudFormation has: the API
/// settings, and `Refresh`. A Terraform data source is read on every plan;
/// CloudFormation calls a custom resource only when one of its properties changes,
/// so a stack re-reads the vendor's IDs (after the vendor rotates or commits) by
/// changing this one.
pub const VENDOR_EXTERNAL_IDS_CLOUDFORMATION_ONLY: &[Field] = &[
    API_URL,
    TENANT_ID,
    API_TOKEN,
    Field::new(
        "refresh",
        Type::String,
        Presence::Optional,
        "Any value; change it to have CloudFormation read the vendor's external IDs again (it calls a custom \
         resource only when a property changes), e.g. after the vendor starts or commits a rotation.",
    )
    .cfn("Refresh")
    .rule("Any string of at most 256 characters."),
];

/// Fields of `Custom::IdcVendorRegistration` that only CloudFormation has: the API
/// settings, and `ExternalIds`, so that a rotation (new IDs, new trust policy)
/// changes a property and CloudFormation registers and tests the role again; in
/// Terraform the registration's `test` re-runs with the plan instead.
pub const VENDOR_REGISTRATION_CLOUDFORMATION_ONLY: &[Field] = &[
    API_URL,
    TENANT_ID,
    API_TOKEN,
    Field::new(
        "external_ids",
        Type::StringList,
        Presence::Optional,
        "The external IDs the role trusts (the vendor external IDs' All). Not sent to the vendor: a change makes \
         CloudFormation update the registration, so each rotation step is registered and tested again. When the \
         vendor holds an ID this list lacks (the rollback of a failed rotation step), the vendor's test could only \
         fail: the role is registered without it.",
    )
    .cfn("ExternalIds")
    .rule("A list of at most 2 external IDs.")
    .sensitive(),
];

/// Every resource, in docs order.
pub const RESOURCES: &[&ResourceSpec] = &[
    &PROVIDER,
    &TEMPLATE,
    &EXTERNAL_ID,
    &CONNECTIVITY_CHECK,
    &CONNECTIVITY,
    &VENDOR_EXTERNAL_IDS,
    &VENDOR_REGISTRATION,
    &VENDOR_CONFIG,
    &VENDOR_EXTERNAL_ID,
];

/// The external-ID length bounds named in [`EXTERNAL_IDS_RULE`].
const _: () = assert!(MIN_LEN == 2 && MAX_LEN == 1224);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_resource_and_part() {
        for r in RESOURCES {
            for part in [true, false] {
                let mut names: Vec<_> =
                    r.fields.iter().filter(|f| f.is_input() == part).map(|f| f.name).collect();
                let n = names.len();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), n, "{} has a duplicate field", r.key);
                let mut cfn: Vec<_> =
                    r.fields.iter().filter(|f| f.is_input() == part).filter_map(|f| f.cfn).collect();
                let n = cfn.len();
                cfn.sort_unstable();
                cfn.dedup();
                assert_eq!(cfn.len(), n, "{} has a duplicate CloudFormation name", r.key);
            }
        }
    }

    #[test]
    fn template_inputs_are_the_raw_request_fields() {
        let schema = schemars::schema_for!(crate::RawTemplateRequest);
        let props: Vec<&str> = schema
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut spec: Vec<&str> = TEMPLATE.inputs().map(|f| f.name).collect();
        let mut props = props;
        spec.sort_unstable();
        props.sort_unstable();
        assert_eq!(spec, props);
    }

    #[test]
    fn json_schema_lists_required_inputs_and_omits() {
        let s = TEMPLATE.json_schema(Part::Input, &["external_ids", "trusted_principal_arn"]);
        assert_eq!(s["required"], json!(["aws_account_id", "sso_instance_arn", "region"]));
        assert!(s["properties"].get("external_ids").is_none());
        assert_eq!(s["properties"]["max_session_duration"]["default"], 3600);
        assert_eq!(s["additionalProperties"], false);
        let template_out = TEMPLATE.json_schema(Part::Output, &[]);
        assert!(template_out["properties"].get("id").is_none(), "Terraform's id is not on the wire");
        let out = CONNECTIVITY.json_schema(Part::Output, &[]);
        assert_eq!(out["properties"]["steps"]["items"]["properties"]["ok"]["type"], "boolean");
    }

    /// Each pattern is a necessary condition of its field's validator: what the
    /// validator accepts matches, and a sample of what it refuses does not.
    #[test]
    fn patterns_agree_with_the_validators() {
        let re = |f: &Field| regex::Regex::new(f.pattern.expect("a pattern")).expect("pattern compiles");
        for p in crate::input::Partition::ALL {
            for region in p.regions() {
                assert!(re(&REGION).is_match(region), "{region}");
            }
        }
        let role = re(&CHECK_INPUTS[0]);
        for arn in [
            "arn:aws:iam::123456789012:role/R",
            "arn:aws-us-gov:iam::123456789012:role/a/b:c/Name.with@chars",
            "arn:aws-iso-b:iam::123456789012:role/x/",
        ] {
            assert_eq!(role.is_match(arn), crate::iam::parse_role_arn(arn).is_some(), "{arn}");
        }
        for bad in ["arn:aws:iam::123456789012:user/R", "arn:aws:iam::1234:role/R", "x"] {
            assert!(!role.is_match(bad), "{bad}");
        }
        assert!(
            re(&AWS_ACCOUNT_ID).is_match("123456789012") && !re(&AWS_ACCOUNT_ID).is_match("12345678901a")
        );
        let instance = re(&SSO_INSTANCE_ARN);
        assert!(instance.is_match("arn:aws:sso:::instance/ssoins-abcdef0123456789"));
        assert!(!instance.is_match("arn:aws:sso:::instance/ssoins-short"));
        for level in crate::AccessLevel::ALL {
            assert!(re(&ACCESS_LEVEL).is_match(level.as_str()));
        }
        assert!(
            re(&ROLE_PATH).is_match("/")
                && re(&ROLE_PATH).is_match("/a:b/")
                && !re(&ROLE_PATH).is_match("a/")
        );
        assert!(re(&PERMISSIONS_BOUNDARY_ARN).is_match("arn:aws:iam::aws:policy/ReadOnlyAccess"));
        assert!(re(&ROLE_NAME).is_match("IdcBootstrapTrustRole") && !re(&ROLE_NAME).is_match("é"));
    }

    #[test]
    fn nullable_outputs_say_so_in_json_schema() {
        let s = VENDOR_EXTERNAL_ID.json_schema(Part::Output, &[]);
        assert_eq!(s["properties"]["external_id_pending"]["type"], json!(["string", "null"]));
        assert_eq!(s["properties"]["external_id"]["type"], "string");
    }

    #[test]
    fn env_var_names_follow_one_scheme() {
        assert_eq!(TEMPLATE_URL.env_var(), "IDCBOOTSTRAP_TEMPLATE_URL");
        let defaults: Vec<&str> = template_defaults().map(|f| f.name).collect();
        assert!(
            defaults.contains(&"trusted_principal_arn") && defaults.contains(&"template_url"),
            "{defaults:?}"
        );
        assert!(!defaults.contains(&"region"), "the provider's region is the check's, not the template's");
        let vendor: Vec<String> = VENDOR_API_CLOUDFORMATION.iter().map(Field::env_var).collect();
        assert_eq!(vendor, ["IDCBOOTSTRAP_API_URL", "IDCBOOTSTRAP_TENANT_ID", "IDCBOOTSTRAP_API_TOKEN"]);
        for f in VENDOR_API_CLOUDFORMATION {
            assert_eq!(PROVIDER.field(f.name), Some(f), "{} is a provider argument too", f.name);
        }
    }

    #[test]
    fn vendor_types_have_the_cloudformation_names_of_the_issue() {
        let props = |r: &ResourceSpec| -> Vec<&str> {
            r.inputs().chain(VENDOR_API_CLOUDFORMATION).filter_map(|f| f.cfn).collect()
        };
        let atts = |r: &ResourceSpec| -> Vec<&str> { r.outputs().filter_map(|f| f.cfn).collect() };
        assert_eq!(atts(&VENDOR_EXTERNAL_IDS), ["Current", "Pending", "All"]);
        assert_eq!(props(&VENDOR_EXTERNAL_IDS), ["ApiUrl", "TenantId", "ApiToken"]);
        assert_eq!(
            props(&VENDOR_REGISTRATION),
            [
                "RoleArn",
                "SsoInstanceArn",
                "Region",
                "Test",
                "PropagationTimeout",
                "ApiUrl",
                "TenantId",
                "ApiToken"
            ]
        );
        assert_eq!(atts(&VENDOR_REGISTRATION), ["Configured"]);
        assert!(
            API_TOKEN.sensitive && VENDOR_EXTERNAL_IDS.fields.iter().all(|f| f.sensitive || f.name == "id")
        );
        let tenant = regex::Regex::new(TENANT_ID.pattern.expect("a pattern")).expect("compiles");
        assert!(tenant.is_match("2489e9ad-2ee2-4e00-8ec9-32d5f69181c0") && !tenant.is_match("tenant-1"));
    }
}
