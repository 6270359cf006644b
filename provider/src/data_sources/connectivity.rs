//! `data "idcbootstrap_connectivity"`: the connectivity check as a read, for
//! Terraform `check {}` blocks and postconditions.
//!
//! A failed check is a result, not an error: the state says `success = false` with
//! the `code`, `message` and `steps`, so an `assert` in a `check` block warns without
//! failing the apply. Invalid input is still an error, at validate, on its attribute.

use std::sync::LazyLock;

use idcbootstrap::spec;

use crate::config::{Ctx, Settings};
use crate::framework::{BoxFuture, DataSource, Diagnostics, ReadOutcome, Schema, Value};
use crate::resources::connectivity_check::{CANCELLED, decode, run, state, validate};

pub(crate) const TYPE_NAME: &str = "idcbootstrap_connectivity";

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| crate::spec_schema::schema(&spec::CONNECTIVITY));

pub(crate) struct Connectivity;

impl DataSource<Settings> for Connectivity {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &SCHEMA
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate(&decode(config, None), diags);
    }

    fn read<'a>(
        &'a self,
        ctx: &'a Ctx,
        config: &'a Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, Option<ReadOutcome>> {
        Box::pin(async move {
            let d = decode(config, Some(&ctx.settings));
            if !d.unknown.is_empty() {
                if ctx.deferral_allowed {
                    return Some(ReadOutcome::DeferProviderConfigUnknown);
                }
                diags.error(
                    "Provider configuration not known yet",
                    format!(
                        "{TYPE_NAME} needs {} from the provider block, which depends on values known only after \
                         apply. Set them on the data source, or apply the resources they depend on first.",
                        d.unknown.join(", ")
                    ),
                );
                return None;
            }
            let (req, settings) = validate(&d, diags)?;
            let Some(report) = run(ctx, &req, &settings).await else {
                diags.error(CANCELLED.0, CANCELLED.1);
                return None;
            };
            let mut m = state(config, &report);
            m.insert("code".into(), Value::opt_string(report.error.as_ref().map(|e| e.code.as_str())));
            if let Some(e) = &report.error {
                tracing::info!(code = e.code.as_str(), "connectivity check failed; reported as data");
            }
            Some(ReadOutcome::Read(Value::Object(m)))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut m: BTreeMap<String, Value> =
            SCHEMA.attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        m.insert("role_arn".into(), Value::string("arn:aws:iam::123456789012:role/VendorTrust"));
        m.insert("external_ids".into(), Value::List(vec![Value::string("an-external-id-0001")]));
        m.insert("sso_instance_arn".into(), Value::string("arn:aws:sso:::instance/ssoins-1234567890abcdef"));
        m.insert("aws_account_id".into(), Value::string("123456789012"));
        m.insert("region".into(), Value::string("eu-west-1"));
        for (k, v) in pairs {
            m.insert((*k).to_owned(), v.clone());
        }
        Value::Object(m)
    }

    #[test]
    fn invalid_input_is_an_error_on_the_attribute() {
        let mut d = Diagnostics::default();
        Connectivity.validate(&config(&[("sso_instance_arn", Value::string("arn:aws:sso:::nope"))]), &mut d);
        let paths: Vec<String> = d.iter().filter_map(|x| x.path.as_ref().map(ToString::to_string)).collect();
        assert_eq!(paths, ["sso_instance_arn"]);
    }

    #[test]
    fn unknown_provider_settings_defer_or_explain() {
        let s = Settings { unknown: vec!["region"], ..Default::default() };
        let cfg = config(&[("region", Value::Null)]);
        let (_tx, stop) = tokio::sync::watch::channel(false);
        let mut c = Ctx { settings: Arc::new(s), stop, deferral_allowed: false };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut d = Diagnostics::default();
        assert!(rt.block_on(Connectivity.read(&c, &cfg, &mut d)).is_none());
        assert!(d.iter().any(|x| x.detail.contains("region")), "{d:?}");
        c.deferral_allowed = true;
        let mut d = Diagnostics::default();
        assert!(matches!(
            rt.block_on(Connectivity.read(&c, &cfg, &mut d)),
            Some(ReadOutcome::DeferProviderConfigUnknown)
        ));
    }
}
