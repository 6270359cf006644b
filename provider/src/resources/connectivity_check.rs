//! `resource "idcbootstrap_connectivity_check"`: runs the core's connectivity check
//! at apply, so a plan that creates the trust role can prove it works.
//!
//! * Create and every change of an input re-run the check, as an in-place update:
//!   there is no remote object to replace, and a failed re-check keeps the last
//!   passing record (with its old inputs), so the next plan tries again.
//! * A failed check fails the apply with the error code and the step that failed;
//!   nothing is written to state for a create.
//! * Read never re-runs the check: a flaky network must not show up as drift on
//!   every plan. Change an input (or `triggers`) to check again; for a check on every
//!   plan use the `idcbootstrap_connectivity` data source in a `check {}` block.
//! * Delete only forgets.
//!
//! The decoding, validation and state building are shared with the data source.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use idcbootstrap::connectivity::{self, CheckReport, CheckRequest, RawCheckRequest, RawSettings, Settings};
use idcbootstrap::spec;
use idcbootstrap::{AttrPath, Error, ErrorCode, ExternalId};

use crate::config::{self, Ctx};
use crate::diag_core::CoreDiagnostics;
use crate::framework::{BoxFuture, Diagnostics, Path, Planned, Resource, Schema, Value};

pub(crate) const TYPE_NAME: &str = "idcbootstrap_connectivity_check";

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| crate::spec_schema::schema(&spec::CONNECTIVITY_CHECK));

pub(crate) struct ConnectivityCheck;

/// The check's inputs decoded from a config, with provider fallbacks, and the
/// attribute paths whose value is not known yet.
pub(crate) struct Decoded {
    pub(crate) raw: RawCheckRequest,
    pub(crate) settings: RawSettings,
    /// `propagation_timeout` as written, for the duration rule's diagnostic.
    bad_timeout: Option<String>,
    pub(crate) unknown: Vec<String>,
}

/// A placeholder for an unknown `role_arn`, so that the other fields are still
/// validated; diagnostics on it are dropped.
const UNKNOWN_ROLE: &str = "arn:aws:iam::000000000000:role/unknown";

/// Decodes `config`. `settings` is `None` at validate time, when the provider block is
/// not known: fields it could fill count as unknown then.
pub(crate) fn decode(config: &Value, settings: Option<&config::Settings>) -> Decoded {
    let mut unknown = Vec::new();
    config.unknown_paths(&Path::root(), &mut unknown);
    let s = |name: &str| config.get(name).as_str().map(str::to_owned);
    let fallback = |name: &'static str| -> Option<String> {
        let st = settings?;
        match name {
            "region" => st.region.clone(),
            "access_level" => st.template.access_level.clone(),
            "profile" => st.profile.clone(),
            "sts_endpoint" => st.sts_endpoint.clone(),
            "sso_admin_endpoint" => st.sso_admin_endpoint.clone(),
            "identitystore_endpoint" => st.identitystore_endpoint.clone(),
            _ => None,
        }
    };
    // The check's inputs are the same in the resource and the data source.
    for name in spec::CONNECTIVITY_CHECK.inputs().filter(|f| f.fallback).map(|f| f.name) {
        if config.get(name).is_null() {
            match settings {
                None => unknown.push(name.to_owned()),
                Some(st) if st.unknown.contains(&name) => unknown.push(name.to_owned()),
                Some(_) => {}
            }
        }
    }
    let pick = |name: &'static str| s(name).or_else(|| fallback(name));
    let role_arn = match config.get("role_arn") {
        Value::Unknown => Some(UNKNOWN_ROLE.to_owned()),
        v => v.as_str().map(str::to_owned),
    };
    let external_ids = match config.get("external_ids") {
        // Distinct valid placeholders for unknown elements; their paths are in `unknown`.
        Value::List(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    ExternalId::new(v.as_str().map_or_else(|| format!("unknown-{i}"), str::to_owned))
                })
                .collect(),
        ),
        Value::Unknown => Some(vec![ExternalId::new("unknown-0")]),
        _ => None,
    };
    let raw = RawCheckRequest {
        role_arn,
        external_ids,
        sso_instance_arn: s("sso_instance_arn"),
        aws_account_id: s("aws_account_id"),
        region: pick("region"),
        access_level: pick("access_level"),
    };
    let sts_endpoint = pick("sts_endpoint");
    let sso_admin_endpoint = pick("sso_admin_endpoint");
    // A local emulator serves sso-admin and identitystore on one port; a real
    // sso-admin override (a VPC endpoint) comes with its own identitystore one.
    let identitystore_endpoint = pick("identitystore_endpoint").or_else(|| sso_admin_endpoint.clone());
    let mut bad_timeout = None;
    let propagation_timeout_seconds = match s("propagation_timeout") {
        Some(t) => match idcbootstrap::parse::duration(&t) {
            Some(d) => Some(d.as_secs()),
            None => {
                bad_timeout = Some(t);
                None
            }
        },
        None => settings.and_then(|st| st.propagation_timeout).map(|d| d.as_secs()),
    };
    let settings = RawSettings {
        sts_endpoint,
        sso_admin_endpoint,
        identitystore_endpoint,
        propagation_timeout_seconds,
        profile: pick("profile"),
        ..RawSettings::default()
    };
    Decoded { raw, settings, bad_timeout, unknown }
}

/// Whether a diagnostic on `field` concerns a value not known yet.
fn concerns_unknown(field: &str, unknown: &[String]) -> bool {
    unknown.iter().any(|u| {
        field == u || field.strip_prefix(u.as_str()).is_some_and(|rest| rest.starts_with(['[', '.']))
    })
}

/// The attribute names of this schema for the core's settings fields.
fn attribute_of(field: &AttrPath) -> AttrPath {
    match field.to_string().as_str() {
        "propagation_timeout_seconds" => AttrPath::field("propagation_timeout"),
        _ => field.clone(),
    }
}

/// Validates `d` with the core, skipping what is not known yet. Returns the validated
/// request and settings when nothing is unknown and every rule holds.
pub(crate) fn validate(d: &Decoded, diags: &mut Diagnostics) -> Option<(CheckRequest, Settings)> {
    if d.bad_timeout.is_some() {
        diags.attribute_error(
            Path::field("propagation_timeout"),
            ErrorCode::InvalidInput.summary(),
            "propagation_timeout: must be a duration such as `2m`, `90s`, `1h30m` or a number of seconds \
             (rule `duration`, error code `invalid_input`)",
        );
    }
    match connectivity::validate_all(&d.raw, &d.settings) {
        Ok(ok) if d.unknown.is_empty() && d.bad_timeout.is_none() => Some(ok),
        Ok(_) => None,
        Err(mut e) => {
            // A partition rule relates role, instance and region: with one unknown it
            // cannot be judged yet.
            let any_unknown =
                ["role_arn", "sso_instance_arn", "region"].iter().any(|f| d.unknown.iter().any(|u| u == f));
            e.details.retain(|x| {
                let not_yet_judged = concerns_unknown(&x.field.to_string(), &d.unknown)
                    || (any_unknown && x.rule == "partition");
                !not_yet_judged
            });
            for x in &mut e.details {
                x.field = attribute_of(&x.field);
            }
            if e.code != ErrorCode::InvalidInput || !e.details.is_empty() {
                diags.core_error(&e);
            }
            None
        }
    }
}

/// The state of a finished check: the config's inputs plus the outputs.
pub(crate) fn state(config: &Value, report: &CheckReport) -> BTreeMap<String, Value> {
    let mut m = match config {
        Value::Object(m) => m.clone(),
        _ => BTreeMap::new(),
    };
    m.insert("id".into(), config.get("role_arn").clone());
    m.insert("success".into(), Value::Bool(report.success));
    m.insert("message".into(), Value::string(report.message.clone()));
    let steps = report
        .steps
        .iter()
        .map(|s| {
            Value::Object(BTreeMap::from([
                ("step".to_owned(), Value::string(s.step.clone())),
                ("ok".to_owned(), Value::Bool(s.ok)),
                ("code".to_owned(), Value::opt_string(s.code.map(|c| c.as_str()))),
                ("message".to_owned(), Value::string(s.message.clone())),
                ("duration_ms".to_owned(), Value::Number(s.duration_ms as f64)),
            ]))
        })
        .collect();
    m.insert("steps".into(), Value::List(steps));
    m
}

/// Runs the check, giving up when Terraform asks the provider to stop (Ctrl-C).
pub(crate) async fn run(ctx: &Ctx, req: &CheckRequest, settings: &Settings) -> Option<CheckReport> {
    tracing::info!(
        role_arn = req.role_arn(),
        propagation_timeout_s = settings.propagation_timeout().as_secs(),
        "running the connectivity check"
    );
    tokio::select! {
        // Stop first: once Terraform has asked, no late result should count.
        biased;
        () = ctx.stopped() => {
            tracing::info!("connectivity check cancelled by Terraform");
            None
        }
        report = connectivity::check(req, settings) => {
            tracing::info!(success = report.success, steps = report.steps.len(), "connectivity check finished");
            Some(report)
        }
    }
}

/// The failure diagnostic: the code's summary with the wire code, then the message,
/// every step and the notices.
pub(crate) fn failure_text(e: &Error, report: &CheckReport) -> (String, String) {
    let code = e.code.as_str();
    let summary = format!("Connectivity check failed: {} ({code})", e.code.summary());
    let mut detail = format!("{} (error code `{code}`)\n\nSteps:", e.message);
    for s in &report.steps {
        let outcome = match s.code {
            None => "ok".to_owned(),
            Some(c) => c.as_str().to_owned(),
        };
        detail.push_str(&format!("\n  {} [{outcome}, {} ms] {}", s.step, s.duration_ms, s.message));
    }
    for n in &e.notices {
        detail.push_str(&format!("\n\n{n}"));
    }
    (summary, detail)
}

pub(crate) const CANCELLED: (&str, &str) = (
    "Connectivity check cancelled",
    "Terraform asked the provider to stop before the connectivity check finished (error code `timeout`).",
);

/// Whether any input differs between `prior` and `config` (or is not known yet).
fn inputs_changed(prior: &Value, config: &Value) -> bool {
    SCHEMA
        .attributes
        .iter()
        .filter(|a| !a.computed)
        .any(|a| config.get(a.name).is_unknown() || prior.get(a.name) != config.get(a.name))
}

impl Resource<config::Settings> for ConnectivityCheck {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &SCHEMA
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate(&decode(config, None), diags);
    }

    fn plan(
        &self,
        ctx: &Ctx,
        prior: &Value,
        _proposed: &Value,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Planned> {
        let d = decode(config, Some(&ctx.settings));
        validate(&d, diags);
        if diags.has_errors() {
            return None;
        }
        let mut m = match config {
            Value::Object(m) => m.clone(),
            _ => BTreeMap::new(),
        };
        if !prior.is_null() && !inputs_changed(prior, config) {
            for k in ["id", "success", "message", "steps"] {
                m.insert(k.to_owned(), prior.get(k).clone());
            }
        } else {
            let same_role = !prior.is_null() && prior.get("role_arn") == config.get("role_arn");
            m.insert(
                "id".into(),
                if same_role { prior.get("id").clone() } else { config.get("role_arn").clone() },
            );
            // Only a passing check is stored.
            m.insert("success".into(), Value::Bool(true));
            m.insert("message".into(), Value::Unknown);
            m.insert("steps".into(), Value::Unknown);
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
        Box::pin(async move {
            let (req, settings) = validate(&decode(config, Some(&ctx.settings)), diags)?;
            let Some(report) = run(ctx, &req, &settings).await else {
                diags.error(CANCELLED.0, CANCELLED.1);
                return None;
            };
            let state = state(config, &report);
            match report.clone().into_result() {
                Ok(_) => Some(Value::Object(state)),
                Err(e) => {
                    let (summary, detail) = failure_text(&e, &report);
                    diags.error(summary, detail);
                    None
                }
            }
        })
    }

    fn import(&self, _ctx: &Ctx, _id: &str, diags: &mut Diagnostics) -> Option<Value> {
        diags.error(
            "Import not supported",
            "idcbootstrap_connectivity_check records a check this provider runs; there is nothing to import. \
             Add the resource to the configuration and apply to run the check.",
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use idcbootstrap::connectivity::StepReport;

    use super::*;

    const ID: &str = "s3cr3t-Ext3rnal-Id-for-tests-0001";

    fn timeout_of(d: &Decoded) -> Option<Duration> {
        d.settings.propagation_timeout_seconds.map(Duration::from_secs)
    }

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut m: BTreeMap<String, Value> =
            SCHEMA.attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        m.insert("role_arn".into(), Value::string("arn:aws:iam::123456789012:role/VendorTrust"));
        m.insert("external_ids".into(), Value::List(vec![Value::string(ID)]));
        m.insert("sso_instance_arn".into(), Value::string("arn:aws:sso:::instance/ssoins-1234567890abcdef"));
        m.insert("aws_account_id".into(), Value::string("123456789012"));
        m.insert("region".into(), Value::string("eu-west-1"));
        for (k, v) in pairs {
            m.insert((*k).to_owned(), v.clone());
        }
        Value::Object(m)
    }

    fn ctx(settings: config::Settings) -> Ctx {
        let (_tx, stop) = tokio::sync::watch::channel(false);
        Ctx { settings: Arc::new(settings), stop, deferral_allowed: false }
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.iter().filter_map(|d| d.path.as_ref().map(ToString::to_string)).collect()
    }

    #[test]
    fn valid_config_validates() {
        let mut d = Diagnostics::default();
        ConnectivityCheck.validate(&config(&[]), &mut d);
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn bad_inputs_name_their_attribute_and_hide_external_ids() {
        let mut d = Diagnostics::default();
        ConnectivityCheck.validate(
            &config(&[
                ("role_arn", Value::string("arn:aws:iam::123:role/x")),
                ("external_ids", Value::List(vec![Value::string("bad id with spaces")])),
                ("propagation_timeout", Value::string("soon")),
                ("sts_endpoint", Value::string("localhost:1")),
            ]),
            &mut d,
        );
        assert_eq!(paths(&d), ["propagation_timeout", "role_arn", "external_ids[0]", "sts_endpoint"]);
        assert!(d.iter().all(|x| !x.detail.contains("bad id with spaces")), "{d:?}");
    }

    /// Issue 13, defect 7: a timeout whose seconds overflow is `invalid_input` on the
    /// attribute, never a wrapped value that slips under the one-hour cap, never a panic.
    #[test]
    fn propagation_timeout_overflow_is_invalid_input() {
        for t in
            ["5124095576030432h", "307445734561825861m", "18446744073709551615s1s", "18446744073709551615"]
        {
            let mut d = Diagnostics::default();
            ConnectivityCheck.validate(&config(&[("propagation_timeout", Value::string(t))]), &mut d);
            assert_eq!(paths(&d), ["propagation_timeout"], "{t}");
            assert!(d.iter().all(|x| x.detail.contains("invalid_input")), "{t}");
        }
    }

    #[test]
    fn propagation_timeout_range_is_reported_on_the_attribute() {
        let mut d = Diagnostics::default();
        ConnectivityCheck.validate(&config(&[("propagation_timeout", Value::string("2h"))]), &mut d);
        assert_eq!(paths(&d), ["propagation_timeout"]);
        assert!(d.iter().any(|x| x.detail.contains("rule `range`")), "{d:?}");
    }

    #[test]
    fn unknown_values_are_skipped() {
        let mut d = Diagnostics::default();
        ConnectivityCheck.validate(
            &config(&[
                ("role_arn", Value::Unknown),
                ("external_ids", Value::List(vec![Value::Unknown, Value::string("known-id-02")])),
                ("region", Value::Unknown),
            ]),
            &mut d,
        );
        assert!(!d.has_errors(), "{d:?}");
        // A known bad value next to unknown ones is still reported.
        ConnectivityCheck.validate(
            &config(&[("role_arn", Value::Unknown), ("aws_account_id", Value::string("1"))]),
            &mut d,
        );
        assert_eq!(paths(&d), ["aws_account_id"]);
    }

    #[test]
    fn region_and_settings_fall_back_to_the_provider() {
        let st = config::Settings {
            region: Some("eu-central-1".into()),
            sso_admin_endpoint: Some("http://127.0.0.1:1".into()),
            propagation_timeout: Some(Duration::from_secs(90)),
            ..Default::default()
        };
        let cfg = config(&[("region", Value::Null)]);
        let mut d = Diagnostics::default();
        ConnectivityCheck.validate(&cfg, &mut d);
        assert!(!d.has_errors(), "the provider may set region: {d:?}");
        let dec = decode(&cfg, Some(&st));
        assert_eq!(dec.raw.region.as_deref(), Some("eu-central-1"));
        assert_eq!(dec.settings.identitystore_endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(timeout_of(&dec), Some(Duration::from_secs(90)));
        assert!(validate(&dec, &mut d).is_some());
        // The provider's own identitystore_endpoint wins over the sso-admin one.
        let st2 =
            config::Settings { identitystore_endpoint: Some("http://127.0.0.1:2".into()), ..st.clone() };
        assert_eq!(
            decode(&cfg, Some(&st2)).settings.identitystore_endpoint.as_deref(),
            Some("http://127.0.0.1:2")
        );
        // Without a provider region it is required at plan.
        let mut d = Diagnostics::default();
        assert!(validate(&decode(&cfg, Some(&config::Settings::default())), &mut d).is_none());
        assert_eq!(paths(&d), ["region"]);
    }

    #[test]
    fn plan_keeps_prior_outputs_until_an_input_changes() {
        let c = ctx(config::Settings::default());
        let cfg = config(&[]);
        let mut d = Diagnostics::default();
        let created = ConnectivityCheck.plan(&c, &Value::Null, &cfg, &cfg, &mut d).unwrap();
        assert!(created.state.get("steps").is_unknown());
        assert_eq!(created.state.get("success"), &Value::Bool(true));
        let report = CheckReport {
            success: true,
            message: "fine".into(),
            steps: vec![StepReport {
                step: "assume_role_current".into(),
                ok: true,
                code: None,
                message: "assumed".into(),
                duration_ms: 12,
            }],
            error: None,
        };
        let prior = Value::Object(state(&cfg, &report));
        let same = ConnectivityCheck.plan(&c, &prior, &cfg, &cfg, &mut d).unwrap();
        assert_eq!(same.state, prior);
        let changed = config(&[("access_level", Value::string("admin"))]);
        let p = ConnectivityCheck.plan(&c, &prior, &changed, &changed, &mut d).unwrap();
        assert!(p.state.get("message").is_unknown());
        assert_eq!(p.state.get("id"), prior.get("id"));
        assert!(p.requires_replace.is_empty());
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn failure_text_names_code_message_and_steps() {
        let e = Error::new(ErrorCode::StsAssumeRoleFailed, "assume_role_current: denied");
        let report = CheckReport {
            success: false,
            message: e.message.clone(),
            steps: vec![StepReport {
                step: "assume_role_current".into(),
                ok: false,
                code: Some(ErrorCode::StsAssumeRoleFailed),
                message: "denied".into(),
                duration_ms: 2000,
            }],
            error: Some(e.clone()),
        };
        let (summary, detail) = failure_text(&e, &report);
        assert!(summary.contains("sts_assume_role_failed"), "{summary}");
        assert!(detail.contains("assume_role_current [sts_assume_role_failed, 2000 ms] denied"), "{detail}");
    }

    #[test]
    fn apply_is_cancelled_by_stop() {
        let (tx, stop) = tokio::sync::watch::channel(false);
        let st = config::Settings {
            // A port nothing answers on quickly would still wait; the stop must win.
            sts_endpoint: Some("https://10.255.255.1:9".into()),
            ..Default::default()
        };
        let c = Ctx { settings: Arc::new(st), stop, deferral_allowed: false };
        let cfg = config(&[]);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut d = Diagnostics::default();
        let out = rt.block_on(async {
            let _ = tx.send(true);
            ConnectivityCheck.apply(&c, &Value::Null, &cfg, &cfg, &mut d).await
        });
        assert!(out.is_none());
        assert!(d.iter().any(|x| x.summary == CANCELLED.0), "{d:?}");
    }
}
