//! `resource "idcbootstrap_external_id"`: generates the trust role's external ID
//! from the core's CSPRNG and drives its rotation, steady → rotating → steady.
//!
//! Which step a change asks for (keep, rotate, retire) is the core's one rotation
//! rule, [`idcbootstrap::external_id::plan_rotation`], shared with CloudFormation:
//! `rotation` going from one value to another rotates (empty is the same as unset),
//! `retire_previous = true` retires, and both in one change, or a rotation while one
//! is in progress, are refused with the core's message on the attributes it names.
//! Plan and apply ask the same question, so apply never does what plan did not show.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use idcbootstrap::external_id::{self, RotationStep, plan_rotation, rotation_keeper};
use idcbootstrap::spec;
use idcbootstrap::{AttrPath, Error, ExternalId, ExternalIdSet, RotationState};

use crate::config::{Ctx, Settings};
use crate::diag_core::CoreDiagnostics;
use crate::framework::{BoxFuture, Diagnostics, Planned, Resource, Schema, Value};

pub(crate) const TYPE_NAME: &str = "idcbootstrap_external_id";

/// Version 0 had no `all`, `rotation_state` or `retire_previous`; they are derived
/// when upgrading.
const SCHEMA_VERSION: i64 = 1;

static SCHEMA: LazyLock<Schema> =
    LazyLock::new(|| crate::spec_schema::schema(&spec::EXTERNAL_ID).with_version(SCHEMA_VERSION));

pub(crate) struct ExternalIdResource;

fn rotation_state_str(s: RotationState) -> &'static str {
    match s {
        RotationState::Steady => "steady",
        RotationState::Rotating => "rotating",
    }
}

/// The state for `set`, with the config-owned attributes taken from `config`.
fn state(id: &str, set: &ExternalIdSet, config: &Value) -> Value {
    let mut m = BTreeMap::new();
    m.insert("id".into(), Value::string(id));
    m.insert("rotation".into(), config.get("rotation").clone());
    m.insert("retire_previous".into(), config.get("retire_previous").clone());
    m.insert("current".into(), Value::string(set.current.expose()));
    m.insert("previous".into(), Value::opt_string(set.previous.as_ref().map(|p| p.expose().to_owned())));
    m.insert("all".into(), Value::List(set.all().iter().map(|i| Value::string(i.expose())).collect()));
    m.insert("rotation_state".into(), Value::string(rotation_state_str(set.state())));
    Value::Object(m)
}

/// The ID set stored in a state.
fn set_from_state(s: &Value, diags: &mut Diagnostics) -> Option<ExternalIdSet> {
    let Some(current) = s.get("current").as_str() else {
        diags.error("Invalid state", "The stored state has no current external ID.");
        return None;
    };
    let mut ids = vec![ExternalId::new(current)];
    if let Some(p) = s.get("previous").as_str() {
        ids.push(ExternalId::new(p));
    }
    match ExternalIdSet::from_list(&AttrPath::field("current"), &ids) {
        Ok(set) => Some(set),
        Err(e) => {
            diags.core_error(&e);
            None
        }
    }
}

/// A fresh non-secret identifier: random, and unrelated to any external ID.
fn new_resource_id(diags: &mut Diagnostics) -> Option<String> {
    match ExternalId::generate() {
        Ok(r) => Some(format!("eid-{}", &r.expose()[..16])),
        Err(e) => {
            diags.core_error(&e);
            None
        }
    }
}

/// The `rotation` keeper of a stored state. A state written before the length rule
/// keeps its value: it was accepted then, and comparing it is all that is needed.
fn prior_keeper(prior: &Value) -> Option<&str> {
    let raw = prior.get("rotation").as_str();
    rotation_keeper(AttrPath::field("rotation"), raw).unwrap_or(raw)
}

/// The step the configuration asks for, or `None` (with the core's diagnostics) when
/// the rotation rule refuses it. An unknown `retire_previous` counts as `true`, the
/// answer that refuses more: it may be true once known.
fn rotation_step(
    set: &ExternalIdSet,
    prior: &Value,
    config: &Value,
    diags: &mut Diagnostics,
) -> Option<RotationStep> {
    let wanted = match rotation_keeper(AttrPath::field("rotation"), config.get("rotation").as_str()) {
        Ok(w) => w,
        Err(d) => {
            diags.core_error(&Error::invalid_input(vec![d]));
            return None;
        }
    };
    let retire = config.get("retire_previous");
    let retire = retire.as_bool() == Some(true) || retire.is_unknown();
    match plan_rotation(set, prior_keeper(prior), wanted, retire) {
        Ok(step) => Some(step),
        Err(e) => {
            diags.core_error(&e);
            None
        }
    }
}

impl Resource<Settings> for ExternalIdResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &SCHEMA
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Err(d) = rotation_keeper(AttrPath::field("rotation"), config.get("rotation").as_str()) {
            diags.core_error(&Error::invalid_input(vec![d]));
        }
    }

    fn upgrade(&self, version: i64, json: &[u8], diags: &mut Diagnostics) -> Option<Value> {
        if !(0..=SCHEMA_VERSION).contains(&version) {
            diags.error(
                "Unsupported state version",
                format!(
                    "This idcbootstrap_external_id state has schema version {version}, written by a newer provider; \
                     this one reads up to {SCHEMA_VERSION}."
                ),
            );
            return None;
        }
        let v = match crate::protocol::value::from_json_lenient(json, &SCHEMA.object_type()) {
            Ok(v) => v,
            Err(e) => {
                diags.decode_error("stored state", &e);
                return None;
            }
        };
        // Derived attributes are recomputed, which also fills those version 0 lacked.
        let set = set_from_state(&v, diags)?;
        let id = v.get("id").as_str().map(str::to_owned).or_else(|| new_resource_id(diags))?;
        Some(state(&id, &set, &v))
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        prior: &Value,
        _proposed: &Value,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Planned> {
        let mut m = BTreeMap::new();
        m.insert("rotation".to_owned(), config.get("rotation").clone());
        m.insert("retire_previous".to_owned(), config.get("retire_previous").clone());
        if prior.is_null() {
            for k in ["id", "current", "all"] {
                m.insert(k.to_owned(), Value::Unknown);
            }
            m.insert("previous".into(), Value::Null);
            m.insert("rotation_state".into(), Value::string("steady"));
            return Some(Planned { state: Value::Object(m), requires_replace: Vec::new() });
        }
        let mut set = set_from_state(prior, diags)?;
        m.insert("id".into(), prior.get("id").clone());
        if config.get("rotation").is_unknown() {
            // Whether it rotates is not known yet.
            for k in ["current", "previous", "all", "rotation_state"] {
                m.insert(k.to_owned(), Value::Unknown);
            }
            return Some(Planned { state: Value::Object(m), requires_replace: Vec::new() });
        }
        match rotation_step(&set, prior, config, diags)? {
            RotationStep::Rotate => {
                // Apply generates the new ID; the one being rotated out stays trusted.
                m.insert("current".into(), Value::Unknown);
                m.insert("previous".into(), Value::string(set.current.expose()));
                m.insert("all".into(), Value::Unknown);
                m.insert("rotation_state".into(), Value::string("rotating"));
                return Some(Planned { state: Value::Object(m), requires_replace: Vec::new() });
            }
            RotationStep::Retire if config.get("retire_previous").is_unknown() => {
                // Retires only if it turns out true.
                m.insert("current".into(), Value::string(set.current.expose()));
                for k in ["previous", "all", "rotation_state"] {
                    m.insert(k.to_owned(), Value::Unknown);
                }
                return Some(Planned { state: Value::Object(m), requires_replace: Vec::new() });
            }
            RotationStep::Retire => {
                set.retire_previous();
            }
            RotationStep::Keep => {}
        }
        let Value::Object(s) = state("", &set, config) else { return None };
        for k in ["current", "previous", "all", "rotation_state"] {
            m.insert(k.to_owned(), s[k].clone());
        }
        Some(Planned { state: Value::Object(m), requires_replace: Vec::new() })
    }

    fn apply<'a>(
        &'a self,
        _ctx: &'a Ctx,
        prior: &'a Value,
        _planned: &'a Value,
        config: &'a Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, Option<Value>> {
        Box::pin(async move {
            if prior.is_null() {
                let set = match ExternalIdSet::generate() {
                    Ok(s) => s,
                    Err(e) => {
                        diags.core_error(&e);
                        return None;
                    }
                };
                let id = new_resource_id(diags)?;
                tracing::info!(resource_id = %id, "generated a new external ID");
                return Some(state(&id, &set, config));
            }
            let mut set = set_from_state(prior, diags)?;
            let id = prior.get("id").as_str().unwrap_or_default().to_owned();
            match rotation_step(&set, prior, config, diags)? {
                RotationStep::Rotate => {
                    if let Err(e) = set.rotate() {
                        diags.core_error(&e);
                        return None;
                    }
                    tracing::info!(resource_id = %id, "rotated: new current external ID, previous still trusted");
                }
                RotationStep::Retire => {
                    set.retire_previous();
                    tracing::info!(resource_id = %id, "retired the previous external ID");
                }
                RotationStep::Keep => {}
            }
            Some(state(&id, &set, config))
        })
    }

    fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        import_with_env(id, &|k| std::env::var(k).ok(), diags)
    }
}

/// Import by the ID itself, or by `env:NAME` from the provider's environment (`env`),
/// where NAME must carry the core's [`external_id::IMPORT_ENV_PREFIX`].
fn import_with_env(id: &str, env: &dyn Fn(&str) -> Option<String>, diags: &mut Diagnostics) -> Option<Value> {
    let value = match external_id::import_env_var(id) {
        Some(Ok(var)) => {
            match env(var) {
                Some(v) => v,
                None => {
                    diags.error(
                    "Import ID not found",
                    format!("The environment variable {var} named by the import ID is not set for the provider."),
                );
                    return None;
                }
            }
        }
        Some(Err(d)) => {
            diags.core_error(&Error::invalid_input(vec![d]));
            return None;
        }
        None => id.to_owned(),
    };
    let ext = match ExternalId::parse(AttrPath::field("current"), &value) {
        Ok(e) => e,
        Err(d) => {
            diags.core_error(&Error::invalid_input(vec![d]));
            return None;
        }
    };
    let rid = new_resource_id(diags)?;
    Some(state(&rid, &ExternalIdSet::new(ext), &Value::Null))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn ctx() -> Ctx {
        let (_tx, stop) = tokio::sync::watch::channel(false);
        Ctx { settings: Arc::new(Settings::default()), stop, deferral_allowed: false }
    }

    fn config(rotation: Option<&str>, retire: Option<bool>) -> Value {
        let mut m: BTreeMap<String, Value> =
            SCHEMA.attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        m.insert("rotation".into(), Value::opt_string(rotation));
        m.insert("retire_previous".into(), retire.map_or(Value::Null, Value::Bool));
        Value::Object(m)
    }

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    /// Plans and applies `cfg` on `prior`, checking that apply keeps every known planned value.
    fn step(prior: &Value, cfg: &Value) -> Result<Value, Vec<String>> {
        let r = ExternalIdResource;
        let mut d = Diagnostics::default();
        let planned = r.plan(&ctx(), prior, cfg, cfg, &mut d);
        let Some(planned) = planned.filter(|_| !d.has_errors()) else {
            return Err(d
                .iter()
                .map(|x| format!("{:?} {}", x.path.as_ref().map(ToString::to_string), x.detail))
                .collect());
        };
        let new = block_on(r.apply(&ctx(), prior, &planned.state, cfg, &mut d)).expect("apply");
        let Value::Object(p) = &planned.state else { panic!() };
        for (k, v) in p {
            if !v.is_unknown() {
                assert_eq!(new.get(k), v, "apply changed planned attribute {k}");
            }
        }
        Ok(new)
    }

    #[test]
    fn create_generates_a_steady_id() {
        let s = step(&Value::Null, &config(Some("1"), None)).unwrap();
        assert_eq!(s.get("current").as_str().unwrap().len(), idcbootstrap::external_id::GENERATED_LEN);
        assert_eq!(s.get("previous"), &Value::Null);
        assert_eq!(s.get("rotation_state").as_str(), Some("steady"));
        assert!(!s.get("id").as_str().unwrap().contains(s.get("current").as_str().unwrap()));
    }

    #[test]
    fn rotation_keeps_previous_id_trusted() {
        let s1 = step(&Value::Null, &config(Some("1"), None)).unwrap();
        let same = step(&s1, &config(Some("1"), None)).unwrap();
        assert_eq!(same, s1, "no change without a new keeper");
        let s2 = step(&s1, &config(Some("2"), None)).unwrap();
        assert_eq!(s2.get("previous"), s1.get("current"));
        assert_ne!(s2.get("current"), s1.get("current"));
        assert_eq!(s2.get("all"), &Value::List(vec![s2.get("current").clone(), s1.get("current").clone()]));
        assert_eq!(s2.get("id"), s1.get("id"));
    }

    #[test]
    fn retire_previous_returns_to_steady() {
        let s1 = step(&Value::Null, &config(Some("1"), None)).unwrap();
        let s2 = step(&s1, &config(Some("2"), None)).unwrap();
        let s3 = step(&s2, &config(Some("2"), Some(true))).unwrap();
        assert_eq!(s3.get("previous"), &Value::Null);
        assert_eq!(s3.get("current"), s2.get("current"));
        assert_eq!(s3.get("rotation_state").as_str(), Some("steady"));
    }

    #[test]
    fn rotating_while_rotating_is_a_plan_error_on_rotation() {
        let s1 = step(&Value::Null, &config(Some("1"), None)).unwrap();
        let s2 = step(&s1, &config(Some("2"), None)).unwrap();
        let errs = step(&s2, &config(Some("3"), None)).unwrap_err();
        assert!(errs[0].starts_with("Some(\"rotation\")") && errs[0].contains("retire"), "{errs:?}");
        let errs = step(&s2, &config(Some("3"), Some(true))).unwrap_err();
        assert!(errs[0].contains("retire_previous"), "{errs:?}");
    }

    /// The paths of the error diagnostics of planning `cfg` on `prior`.
    fn refused_paths(prior: &Value, cfg: &Value) -> Vec<String> {
        let mut d = Diagnostics::default();
        assert!(ExternalIdResource.plan(&ctx(), prior, cfg, cfg, &mut d).is_none());
        d.iter().filter_map(|x| x.path.as_ref().map(ToString::to_string)).collect()
    }

    #[test]
    fn rotating_and_retiring_in_one_change_is_refused_on_both_attributes() {
        let a = step(&Value::Null, &config(Some("A"), None)).unwrap();
        let b = step(&a, &config(Some("B"), None)).unwrap();
        let steady = step(&b, &config(Some("B"), Some(true))).unwrap();
        assert_eq!(steady.get("rotation_state").as_str(), Some("steady"));
        let errs = step(&steady, &config(Some("C"), Some(true))).unwrap_err();
        assert!(
            errs.iter().any(|e| e.contains("rotation and retire_previous cannot change together")),
            "{errs:?}"
        );
        assert_eq!(refused_paths(&steady, &config(Some("C"), Some(true))), ["rotation", "retire_previous"]);
        // An unknown retire_previous may turn out true: refused the same way.
        let mut unknown = config(Some("C"), None);
        if let Value::Object(m) = &mut unknown {
            m.insert("retire_previous".into(), Value::Unknown);
        }
        assert_eq!(refused_paths(&steady, &unknown), ["rotation", "retire_previous"]);
        let c = step(&steady, &config(Some("C"), Some(false))).unwrap();
        assert_eq!(c.get("previous"), steady.get("current"), "the ID in use stays trusted");
    }

    #[test]
    fn empty_rotation_is_the_same_as_unset() {
        let mut d = Diagnostics::default();
        ExternalIdResource.validate(&config(Some(""), None), &mut d);
        assert!(!d.has_errors(), "{d:?}");
        let a = step(&Value::Null, &config(Some("A"), None)).unwrap();
        let emptied = step(&a, &config(Some(""), None)).unwrap();
        assert_eq!(emptied.get("current"), a.get("current"), "emptying it does not rotate");
        let set_again = step(&emptied, &config(Some("B"), None)).unwrap();
        assert_eq!(set_again.get("current"), a.get("current"), "setting it from empty only records it");
        assert_eq!(set_again.get("rotation").as_str(), Some("B"));
    }

    #[test]
    fn rotation_length_rule() {
        let long = "x".repeat(idcbootstrap::external_id::MAX_ROTATION_LEN + 1);
        let mut d = Diagnostics::default();
        ExternalIdResource.validate(&config(Some(&long), None), &mut d);
        let paths: Vec<String> = d.iter().filter_map(|x| x.path.as_ref().map(ToString::to_string)).collect();
        assert_eq!(paths, ["rotation"]);
        assert!(d.iter().any(|x| x.detail.contains("rule `length`")), "{d:?}");
        let mut d = Diagnostics::default();
        let ok = "x".repeat(idcbootstrap::external_id::MAX_ROTATION_LEN);
        ExternalIdResource.validate(&config(Some(&ok), None), &mut d);
        assert!(!d.has_errors());
    }

    #[test]
    fn setting_rotation_for_the_first_time_does_not_rotate() {
        let s1 = step(&Value::Null, &config(None, None)).unwrap();
        let s2 = step(&s1, &config(Some("1"), None)).unwrap();
        assert_eq!(s2.get("current"), s1.get("current"));
        assert_eq!(s2.get("rotation").as_str(), Some("1"));
    }

    #[test]
    fn unknown_rotation_plans_unknown_ids() {
        let s1 = step(&Value::Null, &config(Some("1"), None)).unwrap();
        let mut cfg = config(None, None);
        if let Value::Object(m) = &mut cfg {
            m.insert("rotation".into(), Value::Unknown);
        }
        let mut d = Diagnostics::default();
        let p = ExternalIdResource.plan(&ctx(), &s1, &cfg, &cfg, &mut d).unwrap();
        assert!(p.state.get("current").is_unknown());
    }

    #[test]
    fn import_validates_and_keeps_the_id() {
        let mut d = Diagnostics::default();
        let s = ExternalIdResource.import(&ctx(), "imported-id-0001", &mut d).unwrap();
        assert_eq!(s.get("current").as_str(), Some("imported-id-0001"));
        assert!(ExternalIdResource.import(&ctx(), "x", &mut d).is_none());
        assert!(d.iter().all(|x| !x.detail.contains("\"x\"")));
    }

    #[test]
    fn upgrade_from_version_0_derives_new_attributes() {
        let mut d = Diagnostics::default();
        let v0 = br#"{"id":"eid-abc","rotation":"1","current":"cur-0001","previous":"prev-0001"}"#;
        let s = ExternalIdResource.upgrade(0, v0, &mut d).unwrap();
        assert_eq!(s.get("rotation_state").as_str(), Some("rotating"));
        assert_eq!(s.get("all"), &Value::List(vec![Value::string("cur-0001"), Value::string("prev-0001")]));
        let v1 = crate::protocol::value::to_msgpack(&s, &SCHEMA.object_type()).unwrap();
        assert!(!v1.is_empty());
        assert!(ExternalIdResource.upgrade(2, v0, &mut d).is_none());
    }

    #[test]
    fn upgrade_passes_current_version_json_through() {
        let mut d = Diagnostics::default();
        let s1 = step(&Value::Null, &config(Some("1"), Some(false))).unwrap();
        let json = serde_json::json!({
            "id": s1.get("id").as_str(), "rotation": "1", "retire_previous": false,
            "current": s1.get("current").as_str(), "previous": null,
            "all": [s1.get("current").as_str()], "rotation_state": "steady"
        });
        let up = ExternalIdResource.upgrade(1, json.to_string().as_bytes(), &mut d).unwrap();
        assert_eq!(up, s1);
    }

    #[test]
    fn import_from_the_environment_reads_only_the_documented_prefix() {
        let env = |k: &str| match k {
            "AWS_SECRET_ACCESS_KEY" => Some("wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY".to_owned()),
            "IDCBOOTSTRAP_EXTERNAL_ID_VENDOR" => Some("imported-from-env-0001".to_owned()),
            _ => None,
        };
        let mut d = Diagnostics::default();
        let s = import_with_env("env:IDCBOOTSTRAP_EXTERNAL_ID_VENDOR", &env, &mut d).unwrap();
        assert_eq!(s.get("current").as_str(), Some("imported-from-env-0001"));

        let mut d = Diagnostics::default();
        assert!(import_with_env("env:AWS_SECRET_ACCESS_KEY", &env, &mut d).is_none());
        let text: String = d.iter().map(|x| format!("{} {}", x.summary, x.detail)).collect();
        assert!(text.contains("rule `env_prefix`") && text.contains("invalid_input"), "{text}");
        assert!(!text.contains("wJalrXUtnFEMI"), "{text}");

        let mut d = Diagnostics::default();
        assert!(import_with_env("env:IDCBOOTSTRAP_EXTERNAL_ID_UNSET", &env, &mut d).is_none());
        assert!(d.iter().any(|x| x.summary == "Import ID not found"));
    }
}
