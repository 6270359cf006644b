//! `data "idcbootstrap_template"`: the seed API's bootstrap-template call as a data
//! source. Inputs fall back to the provider block (and its environment variables).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use idcbootstrap::spec;
use idcbootstrap::{ExternalId, RawTemplateRequest, TemplateRequest};

use crate::config::{Ctx, Settings, integer};
use crate::diag_core::CoreDiagnostics;
use crate::framework::{BoxFuture, DataSource, Diagnostics, Path, ReadOutcome, Schema, Value};

pub(crate) const TYPE_NAME: &str = "idcbootstrap_template";

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| crate::spec_schema::schema(&spec::TEMPLATE));

/// The inputs a data source may leave out because the provider block defaults them.
fn fallbacks() -> impl Iterator<Item = &'static str> {
    spec::TEMPLATE.inputs().filter(|f| f.fallback).map(|f| f.name)
}

pub(crate) struct Template;

/// A raw request from `config` with provider fallbacks, and the paths that are unknown.
fn raw_request(
    config: &Value,
    settings: &Settings,
    diags: &mut Diagnostics,
) -> (RawTemplateRequest, Vec<String>) {
    let mut unknown = Vec::new();
    config.unknown_paths(&Path::root(), &mut unknown);
    let s = |name: &str| config.get(name).as_str().map(str::to_owned);
    let t = &settings.template;
    let mut raw = RawTemplateRequest {
        aws_account_id: s("aws_account_id"),
        sso_instance_arn: s("sso_instance_arn"),
        region: s("region"),
        trusted_principal_arn: s("trusted_principal_arn").or_else(|| t.trusted_principal_arn.clone()),
        role_name: s("role_name").or_else(|| t.role_name.clone()),
        role_path: s("role_path").or_else(|| t.role_path.clone()),
        permissions_boundary_arn: s("permissions_boundary_arn")
            .or_else(|| t.permissions_boundary_arn.clone()),
        access_level: s("access_level").or_else(|| t.access_level.clone()),
        template_url: s("template_url").or_else(|| t.template_url.clone()),
        ..Default::default()
    };
    raw.max_session_duration = match config.get("max_session_duration") {
        Value::Number(n) => integer(*n, "max_session_duration", diags),
        _ => t.max_session_duration,
    };
    raw.tags = match config.get("tags") {
        Value::Map(m) => {
            Some(m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        }
        _ => t.tags.clone(),
    };
    raw.external_ids = match config.get("external_ids") {
        // Unknown elements get distinct placeholders; their paths are in `unknown`, so
        // the core skips them.
        Value::List(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    ExternalId::new(v.as_str().map_or_else(|| format!("unknown-{i}"), str::to_owned))
                })
                .collect(),
        ),
        _ => None,
    };
    // A setting the provider could not know yet may still fill a field left out here.
    for name in &settings.unknown {
        if config.get(name).is_null() {
            unknown.push((*name).to_owned());
        }
    }
    (raw, unknown)
}

impl DataSource<Settings> for Template {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &SCHEMA
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // The provider block is not known at validate time: a field left out here may
        // come from it, so it is not required yet (it is at read).
        let (raw, mut unknown) = raw_request(config, &Settings::default(), diags);
        for n in fallbacks() {
            if config.get(n).is_null() {
                unknown.push(n.to_owned());
            }
        }
        let unknown: Vec<&str> = unknown.iter().map(String::as_str).collect();
        if let Err(e) = TemplateRequest::validate_partial(&raw, &unknown) {
            diags.core_error(&e);
        }
    }

    fn read<'a>(
        &'a self,
        ctx: &'a Ctx,
        config: &'a Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, Option<ReadOutcome>> {
        Box::pin(async move { read(ctx, config, diags) })
    }
}

fn read(ctx: &Ctx, config: &Value, diags: &mut Diagnostics) -> Option<ReadOutcome> {
    let (raw, unknown) = raw_request(config, &ctx.settings, diags);
    if !unknown.is_empty() {
        if ctx.deferral_allowed {
            return Some(ReadOutcome::DeferProviderConfigUnknown);
        }
        diags.error(
            "Provider configuration not known yet",
            format!(
                "idcbootstrap_template needs {} from the provider block, which depends on values known only after apply. \
                 Set them on the data source, or apply the resources they depend on first.",
                unknown.join(", ")
            ),
        );
        return None;
    }
    if diags.has_errors() {
        return None;
    }
    let out = match TemplateRequest::validate(&raw).and_then(|req| idcbootstrap::render(&req)) {
        Ok(out) => out,
        Err(e) => {
            diags.core_error(&e);
            return None;
        }
    };
    let mut state: BTreeMap<String, Value> = match config {
        Value::Object(m) => m.clone(),
        _ => BTreeMap::new(),
    };
    state.insert("role_name".into(), Value::string(out.role_name));
    state.insert("cloudformation_yaml".into(), Value::string(out.cloudformation_yaml));
    state.insert("terraform_hcl".into(), Value::string(out.terraform_hcl));
    state.insert("launch_stack_url".into(), Value::string(out.launch_stack_url));
    state.insert("trust_policy_json".into(), Value::string(out.trust_policy_json));
    state.insert("permissions_policy_json".into(), Value::string(out.permissions_policy_json));
    state.insert("id".into(), Value::string(out.role_arn.clone()));
    state.insert("role_arn".into(), Value::string(out.role_arn));
    Some(ReadOutcome::Read(Value::Object(state)))
}

/// The schema, for the codec benchmarks.
pub(crate) fn schema_for_bench() -> &'static Schema {
    &SCHEMA
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const ID: &str = "s3cr3t-Ext3rnal-Id-for-tests-0001";

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut m: BTreeMap<String, Value> =
            SCHEMA.attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        m.insert("aws_account_id".into(), Value::string("123456789012"));
        m.insert("sso_instance_arn".into(), Value::string("arn:aws:sso:::instance/ssoins-1234567890abcdef"));
        m.insert("region".into(), Value::string("us-east-1"));
        m.insert("external_ids".into(), Value::List(vec![Value::string(ID)]));
        m.insert("trusted_principal_arn".into(), Value::string("arn:aws:iam::210987654321:role/vendor"));
        for (k, v) in pairs {
            m.insert((*k).to_owned(), v.clone());
        }
        Value::Object(m)
    }

    fn ctx(settings: Settings) -> Ctx {
        let (_tx, stop) = tokio::sync::watch::channel(false);
        Ctx { settings: Arc::new(settings), stop, deferral_allowed: false }
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.iter().filter_map(|d| d.path.as_ref().map(ToString::to_string)).collect()
    }

    #[test]
    fn valid_config_validates_and_renders() {
        let mut d = Diagnostics::default();
        Template.validate(&config(&[]), &mut d);
        assert!(!d.has_errors(), "{d:?}");
        let Some(ReadOutcome::Read(state)) = read(&ctx(Settings::default()), &config(&[]), &mut d) else {
            panic!("{d:?}")
        };
        assert!(state.get("role_arn").as_str().unwrap().starts_with("arn:aws:iam::123456789012:role/"));
        assert_eq!(state.get("id"), state.get("role_arn"));
        assert!(state.get("trust_policy_json").as_str().unwrap().contains(ID));
    }

    #[test]
    fn aws_account_id_pattern_names_the_attribute() {
        let mut d = Diagnostics::default();
        Template.validate(&config(&[("aws_account_id", Value::string("12345"))]), &mut d);
        assert_eq!(paths(&d), ["aws_account_id"]);
    }

    #[test]
    fn external_ids_errors_point_at_the_element_and_hide_the_value() {
        let mut d = Diagnostics::default();
        let bad = "bad value with spaces";
        Template.validate(
            &config(&[("external_ids", Value::List(vec![Value::string(ID), Value::string(bad)]))]),
            &mut d,
        );
        assert_eq!(paths(&d), ["external_ids[1]"]);
        assert!(d.iter().all(|x| !x.detail.contains(bad) && !x.summary.contains(bad)));
    }

    #[test]
    fn unknown_values_are_skipped_at_plan() {
        let mut d = Diagnostics::default();
        Template.validate(
            &config(&[
                ("region", Value::Unknown),
                ("external_ids", Value::Unknown),
                ("tags", Value::Map([("env".to_owned(), Value::Unknown)].into())),
            ]),
            &mut d,
        );
        assert!(!d.has_errors(), "{d:?}");
        Template.validate(
            &config(&[("external_ids", Value::List(vec![Value::Unknown, Value::Unknown]))]),
            &mut d,
        );
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn null_required_values_are_reported_at_read_with_provider_fallback() {
        let mut d = Diagnostics::default();
        let cfg = config(&[("trusted_principal_arn", Value::Null)]);
        Template.validate(&cfg, &mut d);
        assert!(!d.has_errors(), "may come from the provider block");
        assert!(read(&ctx(Settings::default()), &cfg, &mut d).is_none());
        assert_eq!(paths(&d), ["trusted_principal_arn"]);

        let mut d = Diagnostics::default();
        let mut s = Settings::default();
        s.template.trusted_principal_arn = Some("arn:aws:iam::210987654321:root".into());
        s.template.role_name = Some("FromProvider".into());
        let Some(ReadOutcome::Read(state)) = read(&ctx(s), &cfg, &mut d) else { panic!("{d:?}") };
        assert_eq!(state.get("role_name").as_str(), Some("FromProvider"));
    }

    #[test]
    fn unknown_provider_settings_defer_or_explain() {
        let s = Settings { unknown: vec!["trusted_principal_arn"], ..Default::default() };
        let cfg = config(&[("trusted_principal_arn", Value::Null)]);
        let mut c = ctx(s);
        let mut d = Diagnostics::default();
        assert!(read(&c, &cfg, &mut d).is_none());
        assert!(d.has_errors());
        c.deferral_allowed = true;
        let mut d = Diagnostics::default();
        assert!(matches!(read(&c, &cfg, &mut d), Some(ReadOutcome::DeferProviderConfigUnknown)));
    }

    #[test]
    fn max_session_duration_range_rule() {
        let mut d = Diagnostics::default();
        Template.validate(&config(&[("max_session_duration", Value::Number(60.0))]), &mut d);
        assert_eq!(paths(&d), ["max_session_duration"]);
        assert!(d.iter().any(|x| x.detail.contains("rule `range`")), "{d:?}");
    }
}
