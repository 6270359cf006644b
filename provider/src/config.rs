//! The provider block: defaults for the template inputs, the AWS settings the
//! connectivity check uses, and how to reach the vendor API (`api_url`, `tenant_id`,
//! `api_token`; only the vendor data source and resource need them). Every setting can also come from an environment
//! variable `IDCBOOTSTRAP_<NAME>` (e.g. `IDCBOOTSTRAP_TRUSTED_PRINCIPAL_ARN`); the
//! provider block wins over the environment.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use idcbootstrap::spec;
use idcbootstrap::{RawTemplateRequest, TemplateRequest};

use crate::diag_core::CoreDiagnostics;
use crate::framework::{Diagnostics, Path, ProviderDef, Schema, Value};

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| crate::spec_schema::schema(&spec::PROVIDER));

/// Template defaults from the provider block or the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TemplateDefaults {
    pub(crate) trusted_principal_arn: Option<String>,
    pub(crate) role_name: Option<String>,
    pub(crate) access_level: Option<String>,
    pub(crate) template_url: Option<String>,
    pub(crate) role_path: Option<String>,
    pub(crate) permissions_boundary_arn: Option<String>,
    pub(crate) max_session_duration: Option<i64>,
    pub(crate) tags: Option<BTreeMap<String, String>>,
}

/// A secret setting: `Debug` shows `***`, so no log line or panic message prints it.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct Secret(pub(crate) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How to reach the vendor API, from the provider block or `IDCBOOTSTRAP_API_*`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct VendorApi {
    pub(crate) api_url: Option<String>,
    pub(crate) tenant_id: Option<String>,
    pub(crate) api_token: Option<Secret>,
}

/// The configured provider, as every later RPC sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Settings {
    pub(crate) vendor: VendorApi,
    pub(crate) template: TemplateDefaults,
    pub(crate) region: Option<String>,
    pub(crate) profile: Option<String>,
    pub(crate) sts_endpoint: Option<String>,
    pub(crate) sso_admin_endpoint: Option<String>,
    pub(crate) identitystore_endpoint: Option<String>,
    pub(crate) propagation_timeout: Option<Duration>,
    /// Settings whose value was unknown at Configure (they depend on a resource not
    /// yet created); reads that need them are deferred.
    pub(crate) unknown: Vec<&'static str>,
    pub(crate) terraform_version: String,
}

/// What the data sources and resources of this provider see.
pub(crate) type Ctx = crate::framework::Ctx<Settings>;

pub(crate) struct ProviderConfig;

/// The environment variable of the provider argument `attr` (`IDCBOOTSTRAP_<NAME>`).
fn env_name(attr: &str) -> String {
    spec::PROVIDER
        .field(attr)
        .map_or_else(|| format!("IDCBOOTSTRAP_{}", attr.to_ascii_uppercase()), |f| f.env_var())
}

impl ProviderConfig {
    /// Reads settings from `config`, falling back to `env` for each null attribute.
    pub(crate) fn settings(
        config: &Value,
        env: &dyn Fn(&str) -> Option<String>,
        diags: &mut Diagnostics,
    ) -> Settings {
        let mut unknown = Vec::new();
        let mut string = |name: &'static str| -> Option<String> {
            match config.get(name) {
                Value::String(s) => Some(s.clone()),
                Value::Unknown => {
                    unknown.push(name);
                    None
                }
                _ => env(&env_name(name)).filter(|s| !s.is_empty()),
            }
        };
        let mut t = TemplateDefaults {
            trusted_principal_arn: string("trusted_principal_arn"),
            role_name: string("role_name"),
            access_level: string("access_level"),
            template_url: string("template_url"),
            role_path: string("role_path"),
            permissions_boundary_arn: string("permissions_boundary_arn"),
            ..Default::default()
        };
        let region = string("region");
        let profile = string("profile");
        let sts_endpoint = string("sts_endpoint");
        let sso_admin_endpoint = string("sso_admin_endpoint");
        let identitystore_endpoint = string("identitystore_endpoint");
        let timeout = string("propagation_timeout");
        let vendor = VendorApi {
            api_url: string("api_url"),
            tenant_id: string("tenant_id").map(|t| t.trim().to_owned()),
            api_token: string("api_token").map(Secret),
        };
        Self::check_vendor(&vendor, diags);

        let propagation_timeout = timeout.and_then(|s| {
            let d = idcbootstrap::parse::duration(&s);
            if d.is_none() {
                diags.attribute_error(
                    Path::field("propagation_timeout"),
                    "Invalid input",
                    "propagation_timeout: must be a duration such as `2m`, `90s` or `1h30m` (rule `duration`)",
                );
            }
            d
        });

        match config.get("max_session_duration") {
            Value::Number(n) => t.max_session_duration = integer(*n, "max_session_duration", diags),
            Value::Unknown => unknown.push("max_session_duration"),
            _ => {
                if let Some(s) = env(&env_name("max_session_duration")).filter(|s| !s.is_empty()) {
                    match s.trim().parse::<i64>() {
                        Ok(n) => t.max_session_duration = Some(n),
                        Err(_) => diags.error(
                            "Invalid input",
                            "IDCBOOTSTRAP_MAX_SESSION_DURATION must be a whole number of seconds (rule `integer`)",
                        ),
                    }
                }
            }
        }
        match config.get("tags") {
            Value::Map(m) => {
                let mut tags = BTreeMap::new();
                for (k, v) in m {
                    match v {
                        Value::String(s) => {
                            tags.insert(k.clone(), s.clone());
                        }
                        _ => unknown.push("tags"),
                    }
                }
                t.tags = Some(tags);
            }
            Value::Unknown => unknown.push("tags"),
            _ => {
                if let Some(s) = env(&env_name("tags")).filter(|s| !s.is_empty()) {
                    match serde_json::from_str::<BTreeMap<String, String>>(&s) {
                        Ok(m) => t.tags = Some(m),
                        Err(_) => diags.error(
                            "Invalid input",
                            "IDCBOOTSTRAP_TAGS must be a JSON object of strings, e.g. {\"team\":\"platform\"} (rule `json`)",
                        ),
                    }
                }
            }
        }
        unknown.sort_unstable();
        unknown.dedup();
        Settings {
            vendor,
            template: t,
            region,
            profile,
            sts_endpoint,
            sso_admin_endpoint,
            identitystore_endpoint,
            propagation_timeout,
            unknown,
            terraform_version: String::new(),
        }
    }

    /// Checks the vendor API settings that are set, with the client's own rules (the
    /// token's message never quotes it). An unset one is only needed by the vendor data
    /// source and resource, which say so when they run.
    fn check_vendor(v: &VendorApi, diags: &mut Diagnostics) {
        use idcbootstrap_vendor_client as vc;
        let checks = [
            ("api_url", v.api_url.as_deref().map(|u| vc::check_api_url(u).map(|_| ()))),
            ("tenant_id", v.tenant_id.as_deref().map(vc::check_tenant_id)),
            ("api_token", v.api_token.as_ref().map(|t| vc::check_token(&t.0))),
        ];
        for (name, result) in checks {
            if let Some(Err(e)) = result {
                diags.attribute_error(
                    Path::field(name),
                    "Invalid input",
                    format!(
                        "{} (provider argument `{name}` or {}; error code `invalid_input`)",
                        e.message(),
                        env_name(name)
                    ),
                );
            }
        }
    }

    /// Checks the template defaults that are set with the core's rules. Fields that
    /// are absent may still come from each data source, so they count as unknown here.
    fn check_defaults(s: &Settings, diags: &mut Diagnostics) {
        let t = &s.template;
        let raw = RawTemplateRequest {
            trusted_principal_arn: t.trusted_principal_arn.clone(),
            role_name: t.role_name.clone(),
            access_level: t.access_level.clone(),
            template_url: t.template_url.clone(),
            role_path: t.role_path.clone(),
            permissions_boundary_arn: t.permissions_boundary_arn.clone(),
            max_session_duration: t.max_session_duration,
            tags: t.tags.clone(),
            ..Default::default()
        };
        let absent: Vec<&str> = spec::TEMPLATE
            .inputs()
            .map(|f| f.name)
            .filter(|n| match *n {
                "trusted_principal_arn" => raw.trusted_principal_arn.is_none(),
                "role_name" => raw.role_name.is_none(),
                "access_level" => raw.access_level.is_none(),
                "template_url" => raw.template_url.is_none(),
                "role_path" => raw.role_path.is_none(),
                "permissions_boundary_arn" => raw.permissions_boundary_arn.is_none(),
                "max_session_duration" => raw.max_session_duration.is_none(),
                "tags" => raw.tags.is_none(),
                // Only a data source knows these.
                _ => true,
            })
            .collect();
        if let Err(e) = TemplateRequest::validate_partial(&raw, &absent) {
            diags.core_error(&e);
        }
    }
}

/// A whole number from a Terraform number, or a diagnostic at `name`.
pub(crate) fn integer(n: f64, name: &'static str, diags: &mut Diagnostics) -> Option<i64> {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Some(n as i64)
    } else {
        diags.attribute_error(
            Path::field(name),
            "Invalid input",
            format!("{name}: must be a whole number of seconds (rule `integer`)"),
        );
        None
    }
}

impl ProviderDef for ProviderConfig {
    type Settings = Settings;

    fn schema(&self) -> &Schema {
        &SCHEMA
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // Only what the block itself says: the environment is read at Configure.
        let s = Self::settings(config, &|_| None, diags);
        Self::check_defaults(&s, diags);
    }

    fn configure(
        &self,
        terraform_version: &str,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Settings> {
        let mut s = Self::settings(config, &|k| std::env::var(k).ok(), diags);
        Self::check_defaults(&s, diags);
        s.terraform_version = terraform_version.to_owned();
        tracing::debug!(terraform_version, unknown_settings = ?s.unknown, "provider configured");
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    #[test]
    fn environment_fills_what_the_block_leaves_out() {
        let env = |k: &str| match k {
            "IDCBOOTSTRAP_TRUSTED_PRINCIPAL_ARN" => Some("arn:aws:iam::123456789012:root".to_owned()),
            "IDCBOOTSTRAP_ROLE_NAME" => Some("FromEnv".to_owned()),
            "IDCBOOTSTRAP_MAX_SESSION_DURATION" => Some("7200".to_owned()),
            "IDCBOOTSTRAP_TAGS" => Some(r#"{"team":"platform"}"#.to_owned()),
            "IDCBOOTSTRAP_PROPAGATION_TIMEOUT" => Some("90s".to_owned()),
            "IDCBOOTSTRAP_IDENTITYSTORE_ENDPOINT" => Some("http://127.0.0.1:3".to_owned()),
            _ => None,
        };
        let mut d = Diagnostics::default();
        let s = ProviderConfig::settings(&obj(&[("role_name", Value::string("FromBlock"))]), &env, &mut d);
        assert!(!d.has_errors());
        assert_eq!(s.template.role_name.as_deref(), Some("FromBlock"), "the block wins");
        assert_eq!(s.template.trusted_principal_arn.as_deref(), Some("arn:aws:iam::123456789012:root"));
        assert_eq!(s.template.max_session_duration, Some(7200));
        assert_eq!(s.template.tags.unwrap()["team"], "platform");
        assert_eq!(s.propagation_timeout, Some(Duration::from_secs(90)));
        assert_eq!(s.identitystore_endpoint.as_deref(), Some("http://127.0.0.1:3"));
    }

    #[test]
    fn vendor_api_settings_come_from_the_block_or_the_environment_and_are_checked() {
        let env = |k: &str| match k {
            "IDCBOOTSTRAP_API_URL" => Some("http://127.0.0.1:8080".to_owned()),
            "IDCBOOTSTRAP_TENANT_ID" => Some(" 2489e9ad-2ee2-4e00-8ec9-32d5f69181c0 ".to_owned()),
            "IDCBOOTSTRAP_API_TOKEN" => Some("idcb_env-token".to_owned()),
            _ => None,
        };
        let mut d = Diagnostics::default();
        let s =
            ProviderConfig::settings(&obj(&[("api_token", Value::string("idcb_block-token"))]), &env, &mut d);
        assert!(!d.has_errors(), "{d:?}");
        assert_eq!(s.vendor.api_url.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(s.vendor.tenant_id.as_deref(), Some("2489e9ad-2ee2-4e00-8ec9-32d5f69181c0"));
        assert_eq!(s.vendor.api_token, Some(Secret("idcb_block-token".into())), "the block wins");
        assert!(!format!("{s:?}").contains("block-token"), "the token is never in Debug");

        let mut d = Diagnostics::default();
        let bad = obj(&[
            ("api_url", Value::string("http://vendor.example")),
            ("tenant_id", Value::string("tenant-1")),
            ("api_token", Value::string("two words")),
        ]);
        let _ = ProviderConfig::settings(&bad, &|_| None, &mut d);
        let paths: Vec<String> = d.iter().filter_map(|x| x.path.as_ref().map(ToString::to_string)).collect();
        assert_eq!(paths, ["api_url", "tenant_id", "api_token"]);
        assert!(d.iter().all(|x| !x.detail.contains("two words")), "{d:?}");
        // Nothing set: nothing to say (only the vendor blocks need them).
        let mut d = Diagnostics::default();
        let s = ProviderConfig::settings(&obj(&[]), &|_| None, &mut d);
        assert!(!d.has_errors() && s.vendor == VendorApi::default());
    }

    #[test]
    fn unknown_settings_are_recorded_not_rejected() {
        let mut d = Diagnostics::default();
        let s =
            ProviderConfig::settings(&obj(&[("trusted_principal_arn", Value::Unknown)]), &|_| None, &mut d);
        assert_eq!(s.unknown, ["trusted_principal_arn"]);
        assert!(!d.has_errors());
    }

    #[test]
    fn max_session_duration_integer_rule() {
        let mut d = Diagnostics::default();
        let _ = ProviderConfig::settings(
            &obj(&[("max_session_duration", Value::Number(3600.5))]),
            &|_| None,
            &mut d,
        );
        assert!(d.has_errors());
    }
}
