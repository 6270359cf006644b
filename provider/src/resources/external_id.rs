//! `resource "idcbootstrap_external_id"`: generates the trust role's external ID
//! from the core's CSPRNG and drives its rotation, steady → rotating → steady.
//!
//! * `rotation` is a keeper chosen by the user. Changing it from one value to
//!   another starts a rotation: a new `current`, the old one kept as `previous`, both
//!   trusted. Setting it where it was unset (e.g. after import) only records it.
//! * `retire_previous = true` drops `previous` once the vendor uses `current`.
//! * Rotating while a previous ID is still trusted would drop an ID in use, so the
//!   plan fails and says to retire first (the core's rotation rule).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use idcbootstrap::spec;
use idcbootstrap::{AttrPath, Error, ExternalId, ExternalIdSet, RotationState};

use crate::framework::{BoxFuture, Ctx, Diagnostics, Planned, Resource, Schema, Value};

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

/// A rotation starts only when `rotation` goes from one known value to another.
enum RotationChange {
    None,
    Rotate,
    NotKnownYet,
}

fn rotation_change(prior: &Value, config: &Value) -> RotationChange {
    match (prior.get("rotation"), config.get("rotation")) {
        (_, Value::Unknown) => RotationChange::NotKnownYet,
        (Value::String(a), Value::String(b)) if a != b => RotationChange::Rotate,
        (Value::String(_), Value::Null) => RotationChange::None,
        _ => RotationChange::None,
    }
}

/// The core's rotation error, shown on the `rotation` attribute the user changed.
fn rotation_error(e: &Error, diags: &mut Diagnostics) {
    let mut e = e.clone();
    for d in &mut e.details {
        d.field = AttrPath::root();
    }
    diags.core_error_at(&e, &AttrPath::field("rotation"));
}

impl Resource for ExternalIdResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &SCHEMA
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Value::String(r) = config.get("rotation")
            && r.is_empty()
        {
            diags.attribute_error(
                AttrPath::field("rotation"),
                "Invalid input",
                "rotation: must not be empty; leave it out or choose a value such as \"1\" (rule `length`)",
            );
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
        let retire = config.get("retire_previous");
        match rotation_change(prior, config) {
            RotationChange::Rotate => {
                if retire.as_bool() == Some(true) || retire.is_unknown() {
                    diags.attribute_error(
                        AttrPath::field("retire_previous"),
                        "Invalid input",
                        "retire_previous: must be false or unset in the change that starts a rotation, because the \
                         external ID being rotated out stays trusted until the vendor has switched; set it to true \
                         in a later change (rule `rotation`, error code `invalid_input`)",
                    );
                    return None;
                }
                // The core refuses a rotation while one is in progress; the ID it
                // would generate here is discarded, apply generates the real one.
                if let Err(e) = set.clone().rotate() {
                    rotation_error(&e, diags);
                    return None;
                }
                m.insert("current".into(), Value::Unknown);
                m.insert("previous".into(), Value::string(set.current.expose()));
                m.insert("all".into(), Value::Unknown);
                m.insert("rotation_state".into(), Value::string("rotating"));
            }
            RotationChange::NotKnownYet => {
                for k in ["current", "previous", "all", "rotation_state"] {
                    m.insert(k.to_owned(), Value::Unknown);
                }
            }
            RotationChange::None => {
                if retire.as_bool() == Some(true) {
                    set.retire_previous();
                } else if retire.is_unknown() && set.previous.is_some() {
                    for k in ["previous", "all", "rotation_state"] {
                        m.insert(k.to_owned(), Value::Unknown);
                    }
                    m.insert("current".into(), Value::string(set.current.expose()));
                    return Some(Planned { state: Value::Object(m), requires_replace: Vec::new() });
                }
                let Value::Object(s) = state("", &set, config) else { return None };
                for k in ["current", "previous", "all", "rotation_state"] {
                    m.insert(k.to_owned(), s[k].clone());
                }
            }
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
            let retire = config.get("retire_previous").as_bool() == Some(true);
            match rotation_change(prior, config) {
                RotationChange::Rotate => {
                    if retire {
                        diags.attribute_error(
                            AttrPath::field("retire_previous"),
                            "Invalid input",
                            "retire_previous: must be false or unset in the change that starts a rotation (rule `rotation`)",
                        );
                        return None;
                    }
                    if let Err(e) = set.rotate() {
                        rotation_error(&e, diags);
                        return None;
                    }
                    tracing::info!(resource_id = %id, "rotated: new current external ID, previous still trusted");
                }
                RotationChange::None | RotationChange::NotKnownYet => {
                    if retire && set.retire_previous().is_some() {
                        tracing::info!(resource_id = %id, "retired the previous external ID");
                    }
                }
            }
            Some(state(&id, &set, config))
        })
    }

    fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let value = match id.strip_prefix("env:") {
            Some(var) => match std::env::var(var) {
                Ok(v) => v,
                Err(_) => {
                    diags.error(
                        "Import ID not found",
                        format!("The environment variable {var} named by the import ID is not set for the provider."),
                    );
                    return None;
                }
            },
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
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Settings;

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
}
