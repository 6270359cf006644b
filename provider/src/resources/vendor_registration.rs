//! `resource "idcbootstrap_vendor_registration"`: registers the trust role with the
//! vendor (`PUT config`) and has the vendor test it (`POST test`), so one apply takes
//! a customer from nothing to a role the vendor has proven it can use.
//!
//! * Create and every change of an input (including `triggers`, e.g. the trust
//!   policy during a rotation) `PUT config`, then, with `test` (the default), ask the
//!   vendor to test the role, again while its failures are those of IAM propagation
//!   and `propagation_timeout` has not passed.
//! * A failed test fails the apply with the vendor's code, and the vendor's previous
//!   registration is put back (`PUT` of what it held, or `DELETE` when it held
//!   nothing), so nothing is half-applied: the next plan tries again.
//! * Read refreshes `role_arn`, `sso_instance_arn` and `region` from `GET config`: a
//!   role the vendor holds that differs from the configuration is drift, planned back;
//!   a vendor that holds nothing means the registration is gone (planned as a create).
//! * Delete is `DELETE config` (the vendor's external IDs stay). Import by tenant ID.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use idcbootstrap::spec;
use idcbootstrap_vendor_client::{Registration, VendorClient};

use crate::config::{self, Ctx};
use crate::framework::{BoxFuture, Diagnostics, Path, Planned, Resource, Schema, Value};
use crate::resources::vendor::{self, Access};

pub(crate) const TYPE_NAME: &str = "idcbootstrap_vendor_registration";

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| crate::spec_schema::schema(&spec::VENDOR_REGISTRATION));

/// The propagation timeout when neither the resource nor the provider sets one.
const DEFAULT_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest propagation timeout the rule allows.
const MAX_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(3600);

pub(crate) struct VendorRegistration;

/// Checks `config` with the core's registration rules and the timeout's; unknown
/// values are skipped. Returns the propagation timeout when it is known and valid.
fn validate(
    config: &Value,
    settings: Option<&config::Settings>,
    diags: &mut Diagnostics,
) -> Option<Duration> {
    let mut unknown = Vec::new();
    config.unknown_paths(&Path::root(), &mut unknown);
    let top: Vec<&str> = unknown.iter().map(|p| p.split(['.', '[']).next().unwrap_or(p)).collect();
    let s = |n: &str| config.get(n).as_str();
    for d in idcbootstrap::registration::validate_registration(
        s("sso_instance_arn"),
        s("role_arn"),
        s("region"),
        &top,
    ) {
        diags.attribute_error(
            Path::field(d.field.to_string()),
            "Invalid input",
            format!("{}: {} (rule `{}`, error code `invalid_input`)", d.field, d.message, d.rule),
        );
    }
    match config.get("propagation_timeout") {
        Value::Unknown => None,
        Value::String(t) => check_timeout(t, diags),
        _ => Some(settings.and_then(|st| st.propagation_timeout).unwrap_or(DEFAULT_PROPAGATION_TIMEOUT)),
    }
}

fn check_timeout(t: &str, diags: &mut Diagnostics) -> Option<Duration> {
    let (rule, message) = match idcbootstrap::parse::duration(t) {
        Some(d) if d <= MAX_PROPAGATION_TIMEOUT => return Some(d),
        Some(_) => ("range", "must be at most 1h (3600 seconds)"),
        None => ("duration", "must be a duration such as `2m`, `90s`, `1h30m` or a number of seconds"),
    };
    diags.attribute_error(
        Path::field("propagation_timeout"),
        "Invalid input",
        format!("propagation_timeout: {message} (rule `{rule}`, error code `invalid_input`)"),
    );
    None
}

/// The registration a known, valid config asks for.
fn registration(config: &Value) -> Registration {
    let s = |n: &str| config.get(n).as_str().unwrap_or_default().to_owned();
    Registration { sso_instance_arn: s("sso_instance_arn"), role_arn: s("role_arn"), region: s("region") }
}

/// Whether any input differs between `prior` and `config` (or is not known yet).
fn inputs_changed(prior: &Value, config: &Value) -> bool {
    SCHEMA
        .attributes
        .iter()
        .filter(|a| !a.computed)
        .any(|a| config.get(a.name).is_unknown() || prior.get(a.name) != config.get(a.name))
}

/// The client, or `None` with a diagnostic (an unknown provider argument at apply is
/// an error: Terraform resolves the provider block before it applies).
fn ready(ctx: &Ctx, diags: &mut Diagnostics) -> Option<VendorClient> {
    match vendor::client(ctx, TYPE_NAME, diags) {
        Access::Ready(c) => Some(*c),
        Access::Unknown(u) => {
            vendor::unknown_settings(TYPE_NAME, &u, diags);
            None
        }
        Access::Failed => None,
    }
}

/// Puts back what the vendor held before a registration whose test failed.
async fn restore(client: &VendorClient, before: Option<Registration>, diags: &mut Diagnostics) {
    let outcome = match &before {
        Some(r) => client.put_config(r).await.map(|_| "the vendor's previous registration was put back"),
        None => client.delete_config().await.map(|()| "the registration was removed again"),
    };
    match outcome {
        Ok(what) => tracing::info!(what, "registration rolled back after a failed test"),
        Err(e) => diags.warning(
            "Vendor API: registration not rolled back",
            format!(
                "The role failed the vendor's test, and restoring the vendor's previous registration failed too: {e}. \
                 The vendor now holds the role of this configuration; the next apply registers and tests it again."
            ),
        ),
    }
}

async fn apply(ctx: &Ctx, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
    let timeout = validate(config, Some(&ctx.settings), diags)?;
    if diags.has_errors() {
        return None;
    }
    let client = ready(ctx, diags)?;
    let reg = registration(config);
    let test = config.get("test").as_bool().unwrap_or(true);
    // What the vendor holds now, to put it back if the new role fails its test.
    let before = if test {
        Some(vendor::call(ctx, diags, "GET config", &SCHEMA, client.get_config()).await?.registration())
    } else {
        None
    };
    let saved = vendor::call(ctx, diags, "PUT config", &SCHEMA, client.put_config(&reg)).await?;
    tracing::info!(role_arn = %reg.role_arn, test, "registered the role with the vendor");
    if let Some(before) = before {
        tracing::info!(propagation_timeout_s = timeout.as_secs(), "asking the vendor to test the role");
        let failed = match vendor::unless_stopped(ctx, client.test(timeout)).await {
            None => {
                vendor::cancelled(diags, "POST test");
                true
            }
            Some(Err(e)) => {
                let attr = (e.status() == Some(422)).then_some("role_arn");
                vendor::report(diags, &e, "POST test", &SCHEMA, attr);
                true
            }
            Some(Ok(r)) => {
                tracing::info!(attempts = r.attempts, steps = r.steps.len(), "the vendor's test passed");
                false
            }
        };
        if failed {
            if before.as_ref() != Some(&reg) {
                restore(&client, before, diags).await;
            }
            return None;
        }
    }
    let mut state = match config {
        Value::Object(m) => m.clone(),
        _ => BTreeMap::new(),
    };
    state.insert("id".into(), Value::string(client.tenant_id()));
    state.insert("configured".into(), Value::Bool(saved.configured));
    Some(Value::Object(state))
}

async fn read(ctx: &Ctx, state: Value, diags: &mut Diagnostics) -> Option<Value> {
    let client = ready(ctx, diags)?;
    let config = vendor::call(ctx, diags, "GET config", &SCHEMA, client.get_config()).await?;
    let Some(held) = config.registration() else {
        tracing::info!("the vendor holds no registration: gone");
        return Some(Value::Null);
    };
    let mut m = match state {
        Value::Object(m) => m,
        _ => SCHEMA.attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect(),
    };
    if m.get("role_arn").and_then(Value::as_str) != Some(held.role_arn.as_str()) {
        tracing::info!("the vendor holds another role than the state: drift");
    }
    m.insert("role_arn".into(), Value::string(held.role_arn));
    m.insert("sso_instance_arn".into(), Value::string(held.sso_instance_arn));
    m.insert("region".into(), Value::string(held.region));
    m.insert("configured".into(), Value::Bool(true));
    m.insert("id".into(), Value::string(client.tenant_id()));
    Some(Value::Object(m))
}

impl Resource<config::Settings> for VendorRegistration {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &SCHEMA
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let _ = validate(config, None, diags);
    }

    fn read<'a>(
        &'a self,
        ctx: &'a Ctx,
        state: Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, Option<Value>> {
        Box::pin(read(ctx, state, diags))
    }

    fn plan(
        &self,
        ctx: &Ctx,
        prior: &Value,
        _proposed: &Value,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Planned> {
        let _ = validate(config, Some(&ctx.settings), diags);
        if diags.has_errors() {
            return None;
        }
        let mut m = match config {
            Value::Object(m) => m.clone(),
            _ => BTreeMap::new(),
        };
        if !prior.is_null() && !inputs_changed(prior, config) {
            for k in ["id", "configured"] {
                m.insert(k.to_owned(), prior.get(k).clone());
            }
        } else {
            let s = &ctx.settings;
            let id = match &s.vendor.tenant_id {
                Some(t) if !s.unknown.contains(&"tenant_id") => Value::string(t.to_ascii_lowercase()),
                _ => Value::Unknown,
            };
            m.insert("id".into(), id);
            // Only a saved registration is stored.
            m.insert("configured".into(), Value::Bool(true));
        }
        Some(Planned { state: Value::Object(m), requires_replace: Vec::new() })
    }

    fn apply<'a>(
        &'a self,
        ctx: &'a Ctx,
        _prior: &'a Value,
        _planned: &'a Value,
        config: &'a Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, Option<Value>> {
        Box::pin(apply(ctx, config, diags))
    }

    fn delete<'a>(
        &'a self,
        ctx: &'a Ctx,
        _prior: &'a Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let Some(client) = ready(ctx, diags) else { return false };
            vendor::call(ctx, diags, "DELETE config", &SCHEMA, client.delete_config()).await.is_some()
        })
    }

    fn import(&self, ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let id = id.trim().to_ascii_lowercase();
        if idcbootstrap_vendor_client::check_tenant_id(&id).is_err() {
            diags.error(
                "Invalid import ID",
                "Import idcbootstrap_vendor_registration by tenant ID: `terraform import <address> <tenant ID>`, a \
                 UUID such as 2489e9ad-2ee2-4e00-8ec9-32d5f69181c0 (error code `invalid_input`).",
            );
            return None;
        }
        if let Some(t) = ctx.settings.vendor.tenant_id.as_deref().filter(|t| !t.eq_ignore_ascii_case(&id)) {
            diags.error(
                "Invalid import ID",
                format!(
                    "The import ID is tenant {id}, but the provider's tenant_id is {t}: the registration is read with the \
                     provider's token, so import the provider's tenant (error code `invalid_input`)."
                ),
            );
            return None;
        }
        let mut m: BTreeMap<String, Value> =
            SCHEMA.attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        m.insert("id".into(), Value::string(id));
        Some(Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::VendorApi;
    use crate::resources::vendor::tests::{TENANT, ctx_with, stand_in};

    const ROLE: &str = "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole";
    const OTHER_ROLE: &str = "arn:aws:iam::123456789012:role/Other";
    const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-1234567890abcdef";
    const OK: &str = r#"{"success":true,"message":"ok","steps":[]}"#;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut m: BTreeMap<String, Value> =
            SCHEMA.attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        m.insert("role_arn".into(), Value::string(ROLE));
        m.insert("sso_instance_arn".into(), Value::string(INSTANCE));
        m.insert("region".into(), Value::string("eu-west-1"));
        for (k, v) in pairs {
            m.insert((*k).to_owned(), v.clone());
        }
        Value::Object(m)
    }

    fn saved(role: &str) -> String {
        format!(
            r#"{{"sso_instance_arn":"{INSTANCE}","role_arn":"{role}","region":"eu-west-1","configured":true}}"#
        )
    }

    const NOTHING: &str = r#"{"sso_instance_arn":null,"role_arn":null,"region":null,"configured":false}"#;

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.iter().filter_map(|d| d.path.as_ref().map(ToString::to_string)).collect()
    }

    #[test]
    fn validation_names_each_attribute_and_skips_unknowns() {
        let mut d = Diagnostics::default();
        VendorRegistration.validate(&config(&[]), &mut d);
        assert!(!d.has_errors(), "{d:?}");
        VendorRegistration.validate(
            &config(&[
                ("role_arn", Value::string("arn:aws:iam::1:role/x")),
                ("region", Value::string("mars-1")),
                ("propagation_timeout", Value::string("2h")),
            ]),
            &mut d,
        );
        assert_eq!(paths(&d), ["region", "role_arn", "propagation_timeout"]);
        let mut d = Diagnostics::default();
        VendorRegistration
            .validate(&config(&[("role_arn", Value::Unknown), ("region", Value::Unknown)]), &mut d);
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn create_registers_then_tests_and_records_the_tenant() {
        let (v, seen) = stand_in(vec![(200, NOTHING.into()), (200, saved(ROLE)), (200, OK.into())]);
        let c = ctx_with(v);
        let mut d = Diagnostics::default();
        let cfg = config(&[]);
        let planned = VendorRegistration.plan(&c, &Value::Null, &cfg, &cfg, &mut d).unwrap();
        assert_eq!(planned.state.get("id").as_str(), Some(TENANT));
        let state =
            block_on(VendorRegistration.apply(&c, &Value::Null, &planned.state, &cfg, &mut d)).unwrap();
        assert!(!d.has_errors(), "{d:?}");
        assert_eq!(state.get("id").as_str(), Some(TENANT));
        assert_eq!(state.get("configured"), &Value::Bool(true));
        let seen = seen.lock().unwrap().clone();
        let calls: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
        let p = "/v1/integrations/aws-identity-center";
        assert_eq!(calls, [format!("GET {p}/config"), format!("PUT {p}/config"), format!("POST {p}/test")]);
        let body: serde_json::Value = serde_json::from_str(&seen[1].1).unwrap();
        assert_eq!(body["role_arn"], ROLE);
    }

    #[test]
    fn test_false_only_registers() {
        let (v, seen) = stand_in(vec![(200, saved(ROLE))]);
        let mut d = Diagnostics::default();
        let cfg = config(&[("test", Value::Bool(false))]);
        assert!(block_on(VendorRegistration.apply(&ctx_with(v), &Value::Null, &cfg, &cfg, &mut d)).is_some());
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_failed_test_fails_the_apply_with_its_code_and_puts_the_old_role_back() {
        let fail = r#"{"code":"external_id_not_enforced","message":"the role trusts callers without an external ID","details":{"steps":[]},"notices":[]}"#;
        let (v, seen) = stand_in(vec![
            (200, saved(OTHER_ROLE)),
            (200, saved(ROLE)),
            (422, fail.into()),
            (200, saved(OTHER_ROLE)),
        ]);
        let mut d = Diagnostics::default();
        let cfg = config(&[]);
        assert!(block_on(VendorRegistration.apply(&ctx_with(v), &Value::Null, &cfg, &cfg, &mut d)).is_none());
        let x = d.iter().next().unwrap();
        assert!(
            x.summary.contains("external_id_not_enforced") && x.summary.contains("HTTP 422"),
            "{}",
            x.summary
        );
        assert_eq!(paths(&d), ["role_arn"]);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 4);
        assert!(seen[3].0.starts_with("PUT") && seen[3].1.contains(OTHER_ROLE), "{seen:?}");

        // Nothing was held before: the registration is removed again.
        let (v, seen) = stand_in(vec![
            (200, NOTHING.into()),
            (200, saved(ROLE)),
            (422, fail.into()),
            (204, String::new()),
        ]);
        let mut d = Diagnostics::default();
        assert!(block_on(VendorRegistration.apply(&ctx_with(v), &Value::Null, &cfg, &cfg, &mut d)).is_none());
        assert!(seen.lock().unwrap()[3].0.starts_with("DELETE"));
    }

    #[test]
    fn invalid_input_from_the_api_points_at_the_attribute() {
        let bad = r#"{"code":"invalid_input","message":"region is not in the partition","details":{"fields":[{"field":"region","rule":"partition","message":"not in aws"}]},"notices":[]}"#;
        let (v, _) = stand_in(vec![(400, bad.into())]);
        let mut d = Diagnostics::default();
        let cfg = config(&[("test", Value::Bool(false))]);
        assert!(block_on(VendorRegistration.apply(&ctx_with(v), &Value::Null, &cfg, &cfg, &mut d)).is_none());
        assert_eq!(paths(&d), ["region"]);
        assert!(d.iter().next().unwrap().detail.contains("rule `partition`"));
    }

    #[test]
    fn read_reports_drift_and_a_vanished_registration() {
        let (v, _) = stand_in(vec![(200, saved(OTHER_ROLE)), (200, NOTHING.into())]);
        let c = ctx_with(v);
        let mut d = Diagnostics::default();
        let state = config(&[("id", Value::string(TENANT)), ("configured", Value::Bool(true))]);
        let read = block_on(VendorRegistration.read(&c, state.clone(), &mut d)).unwrap();
        assert_eq!(read.get("role_arn").as_str(), Some(OTHER_ROLE));
        // The drifted state plans an update back to the configuration.
        let planned = VendorRegistration.plan(&c, &read, &state, &config(&[]), &mut d).unwrap();
        assert_eq!(planned.state.get("role_arn").as_str(), Some(ROLE));
        assert!(planned.requires_replace.is_empty());
        assert_eq!(block_on(VendorRegistration.read(&c, state, &mut d)), Some(Value::Null));
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn plan_keeps_outputs_until_an_input_or_trigger_changes() {
        let c = ctx_with(VendorApi { tenant_id: Some(TENANT.into()), ..Default::default() });
        let mut d = Diagnostics::default();
        let prior = config(&[("id", Value::string(TENANT)), ("configured", Value::Bool(true))]);
        let same = VendorRegistration.plan(&c, &prior, &prior, &config(&[]), &mut d).unwrap();
        assert_eq!(same.state, prior);
        let triggers = Value::Map([("trust".to_owned(), Value::string("v2"))].into());
        let changed = config(&[("triggers", triggers)]);
        let p = VendorRegistration.plan(&c, &prior, &changed, &changed, &mut d).unwrap();
        assert_ne!(p.state, prior);
        assert_eq!(p.state.get("configured"), &Value::Bool(true));
    }

    #[test]
    fn delete_clears_and_import_takes_the_providers_tenant() {
        let (v, seen) = stand_in(vec![(204, String::new())]);
        let c = ctx_with(v);
        let mut d = Diagnostics::default();
        assert!(block_on(VendorRegistration.delete(&c, &config(&[]), &mut d)));
        assert!(seen.lock().unwrap()[0].0.starts_with("DELETE"));

        let imported = VendorRegistration.import(&c, &TENANT.to_ascii_uppercase(), &mut d).unwrap();
        assert_eq!(imported.get("id").as_str(), Some(TENANT));
        assert!(!d.has_errors());
        assert!(VendorRegistration.import(&c, "not-a-uuid", &mut d).is_none());
        let mut d = Diagnostics::default();
        assert!(VendorRegistration.import(&c, "00000000-0000-4000-8000-000000000000", &mut d).is_none());
        assert!(d.iter().any(|x| x.detail.contains("provider's tenant_id")));
    }

    #[test]
    fn unauthorized_names_the_provider_argument() {
        let denied = r#"{"code":"unauthenticated","message":"unknown token","details":{},"notices":[]}"#;
        let (v, _) = stand_in(vec![(401, denied.into())]);
        let mut d = Diagnostics::default();
        assert!(!block_on(VendorRegistration.delete(&ctx_with(v), &config(&[]), &mut d)));
        assert!(d.iter().any(|x| x.detail.contains("`api_token` (IDCBOOTSTRAP_API_TOKEN)")), "{d:?}");
    }
}
