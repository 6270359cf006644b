//! Entry points for the fuzz targets in `fuzz/` (and their property tests); not an
//! API. Each one runs the provider's own code on bytes from outside: the codec with
//! every schema the provider serves, the state upgrader, and plan/apply/delete of
//! `idcbootstrap_external_id`. Values stay opaque: a target sees strings, bytes and
//! the text a user would read, never a protocol type.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::config::Settings;
use crate::framework::{Ctx, Diagnostics};
use crate::protocol::value::{self, Type, Value};
use crate::protocol::{diagnostic_to_proto, encode_dynamic};

/// A decoded value. `Debug` is the product's own (it must never show strings).
#[derive(Clone, PartialEq)]
pub struct Decoded(Value);

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Decoded {
    /// Every string inside (values only, not map keys or attribute names).
    pub fn strings(&self) -> Vec<String> {
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::List(items) => items.iter().for_each(|x| walk(x, out)),
                Value::Map(m) | Value::Object(m) => m.values().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out
    }

    /// The string attribute `name` of an object value.
    pub fn attr_str(&self, name: &str) -> Option<&str> {
        self.0.get(name).as_str()
    }

    /// The strings of the list attribute `name` of an object value (`None` if it is
    /// not a list of known strings).
    pub fn attr_strings(&self, name: &str) -> Option<Vec<&str>> {
        match self.0.get(name) {
            Value::List(items) => items.iter().map(Value::as_str).collect(),
            _ => None,
        }
    }

    /// Whether attribute `name` of an object value is null.
    pub fn attr_is_null(&self, name: &str) -> bool {
        self.0.get(name).is_null()
    }
}

/// A value the codec refused: the error as the provider prints it, and the
/// diagnostic (summary and detail) Terraform would show.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// `DecodeError`'s `Display`.
    pub error: String,
    /// Summary, detail and path of the diagnostic, as sent on the wire.
    pub diagnostic: String,
}

fn rejected(e: &value::DecodeError) -> Rejected {
    let mut diags = Diagnostics::default();
    diags.decode_error("configuration", &e.clone());
    Rejected { error: e.to_string(), diagnostic: diagnostics_text(&diags) }
}

fn diagnostics_text(diags: &Diagnostics) -> String {
    let mut out = String::new();
    for d in diags.iter() {
        let p = diagnostic_to_proto(d);
        out.push_str(&format!(
            "{}\n{}\n{:?}\n",
            p.summary,
            p.detail,
            d.path.as_ref().map(ToString::to_string)
        ));
    }
    out
}

/// The codec typed by one schema the provider serves.
pub struct Codec {
    name: String,
    ty: Type,
}

/// One codec per schema the provider serves: the provider block, every data source
/// and every resource, in that order.
pub fn codecs() -> Vec<Codec> {
    let reg = crate::registry();
    let mut out = vec![Codec { name: "provider".into(), ty: reg.provider.schema().object_type() }];
    for d in &reg.data_sources {
        out.push(Codec { name: d.type_name().into(), ty: d.schema().object_type() });
    }
    for r in &reg.resources {
        out.push(Codec { name: r.type_name().into(), ty: r.schema().object_type() });
    }
    out
}

impl Codec {
    /// The schema's name (`provider` or the type name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema's type constraint as JSON (attribute names and types): the text
    /// a type error may quote.
    pub fn type_json(&self) -> String {
        self.ty.to_json().to_string()
    }

    /// Decodes msgpack as Terraform sends it.
    ///
    /// # Errors
    ///
    /// What the provider would report for the value.
    pub fn decode_msgpack(&self, bytes: &[u8]) -> Result<Decoded, Rejected> {
        value::from_msgpack(bytes, &self.ty).map(Decoded).map_err(|e| rejected(&e))
    }

    /// Decodes JSON; `lenient` drops attributes the schema does not know (stored state).
    ///
    /// # Errors
    ///
    /// What the provider would report for the value.
    pub fn decode_json(&self, bytes: &[u8], lenient: bool) -> Result<Decoded, Rejected> {
        let r = if lenient {
            value::from_json_lenient(bytes, &self.ty)
        } else {
            value::from_json(bytes, &self.ty)
        };
        r.map(Decoded).map_err(|e| rejected(&e))
    }

    /// Encodes a value as the provider answers Terraform.
    ///
    /// # Errors
    ///
    /// The encoder's message when the value does not fit the schema.
    pub fn encode_msgpack(&self, v: &Decoded) -> Result<Vec<u8>, String> {
        value::to_msgpack(&v.0, &self.ty).map_err(|e| e.to_string())
    }
}

/// The outcome of UpgradeResourceState.
#[derive(Debug)]
pub struct Upgraded {
    /// The upgraded state, decoded again from the msgpack the provider answers with.
    pub state: Option<Decoded>,
    /// Every diagnostic's summary, detail and path.
    pub diagnostics: String,
    /// Whether an error diagnostic was reported.
    pub failed: bool,
}

/// Every resource type the provider serves, with its current schema version.
pub fn resource_types() -> Vec<(&'static str, i64)> {
    crate::registry().resources.iter().map(|r| (r.type_name(), r.schema().version)).collect()
}

/// UpgradeResourceState for `type_name` (a served resource type): stored JSON written
/// with schema `version`, upgraded as the RPC does, encoded and decoded again.
pub fn upgrade(type_name: &str, version: i64, json: &[u8]) -> Upgraded {
    let reg = crate::registry();
    let Some(res) = reg.resource(type_name) else {
        return Upgraded { state: None, diagnostics: String::new(), failed: true };
    };
    let ty = res.schema().object_type();
    let mut diags = Diagnostics::default();
    let state =
        res.upgrade(version, json, &mut diags).and_then(|v| encode_dynamic(&v, &ty, &mut diags)).map(|dv| {
            value::from_msgpack(&dv.msgpack, &ty).map(Decoded).expect("the provider's own msgpack decodes")
        });
    Upgraded { state, diagnostics: diagnostics_text(&diags), failed: diags.has_errors() }
}

/// Stored JSON of a state, as Terraform writes it into a state file (unknowns are
/// impossible there and are written as null).
pub fn state_json(v: &Decoded) -> Vec<u8> {
    fn to_json(v: &Value) -> serde_json::Value {
        match v {
            Value::Unknown | Value::Null => serde_json::Value::Null,
            Value::String(s) => s.as_str().into(),
            Value::Number(n) => serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, Into::into),
            Value::Bool(b) => (*b).into(),
            Value::List(items) => items.iter().map(to_json).collect(),
            Value::Map(m) | Value::Object(m) => {
                serde_json::Value::Object(m.iter().map(|(k, x)| (k.clone(), to_json(x))).collect())
            }
        }
    }
    serde_json::to_vec(&to_json(&v.0)).unwrap_or_default()
}

/// A value of the `rotation` or `retire_previous` configuration attributes.
#[derive(Debug, Clone)]
pub enum Setting<T> {
    /// Not set.
    Null,
    /// Set to this.
    Known(T),
    /// Not known at plan; this value at apply.
    UnknownThen(T),
}

impl<T: Clone> Setting<T> {
    fn value(&self, at_plan: bool, known: impl Fn(T) -> Value) -> Value {
        match self {
            Setting::Null => Value::Null,
            Setting::UnknownThen(_) if at_plan => Value::Unknown,
            Setting::Known(v) | Setting::UnknownThen(v) => known(v.clone()),
        }
    }
}

/// What one step of the external-ID resource did.
#[derive(Debug)]
pub enum Outcome {
    /// Plan refused the change; the diagnostics say why.
    Refused(String),
    /// Plan and apply succeeded; the new state.
    Applied {
        /// The planned state.
        planned: Decoded,
        /// The state apply returned.
        state: Decoded,
    },
}

fn block_on<F: Future>(f: F) -> F::Output {
    // The resource does no I/O: its futures are ready at the first poll.
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("idcbootstrap_external_id waited on I/O"),
    }
}

fn ctx() -> Ctx<Settings> {
    let (_tx, stop) = tokio::sync::watch::channel(false);
    Ctx { settings: Arc::new(Settings::default()), stop, deferral_allowed: false }
}

/// `idcbootstrap_external_id` driven as Terraform drives it: plan with a
/// configuration, then apply the plan (a null `prior` is a create).
pub fn external_id_step(
    prior: Option<&Decoded>,
    rotation: Setting<String>,
    retire_previous: Setting<bool>,
) -> Outcome {
    let reg = crate::registry();
    let res = reg.resource(crate::resources::external_id::TYPE_NAME).expect("served");
    let config = |at_plan: bool| {
        let mut m: BTreeMap<String, Value> =
            res.schema().attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        m.insert("rotation".into(), rotation.value(at_plan, Value::String));
        m.insert("retire_previous".into(), retire_previous.value(at_plan, Value::Bool));
        Value::Object(m)
    };
    let (plan_config, apply_config) = (config(true), config(false));
    let prior = prior.map_or(Value::Null, |p| p.0.clone());
    let ctx = ctx();
    let mut diags = Diagnostics::default();
    res.validate(&plan_config, &mut diags);
    if diags.has_errors() {
        return Outcome::Refused(diagnostics_text(&diags));
    }
    let planned = match res.plan(&ctx, &prior, &plan_config, &plan_config, &mut diags) {
        Some(p) if !diags.has_errors() => p.state,
        _ => return Outcome::Refused(diagnostics_text(&diags)),
    };
    // Terraform validates the configuration again once it is known, then applies.
    res.validate(&apply_config, &mut diags);
    if diags.has_errors() {
        return Outcome::Refused(diagnostics_text(&diags));
    }
    match block_on(res.apply(&ctx, &prior, &planned, &apply_config, &mut diags)) {
        Some(state) if !diags.has_errors() => {
            Outcome::Applied { planned: Decoded(planned), state: Decoded(state) }
        }
        _ => Outcome::Refused(diagnostics_text(&diags)),
    }
}

impl Decoded {
    /// Every known attribute of a planned object value that `applied` differs on.
    pub fn planned_mismatches(&self, applied: &Decoded) -> Vec<String> {
        let Value::Object(p) = &self.0 else { return vec!["<not an object>".into()] };
        p.iter().filter(|(k, v)| !v.is_unknown() && applied.0.get(k) != *v).map(|(k, _)| k.clone()).collect()
    }
}

/// Deletes an `idcbootstrap_external_id`; `true` when the provider reports success.
pub fn external_id_delete(prior: &Decoded) -> bool {
    let reg = crate::registry();
    let res = reg.resource(crate::resources::external_id::TYPE_NAME).expect("served");
    let mut diags = Diagnostics::default();
    block_on(res.delete(&ctx(), &prior.0, &mut diags)) && !diags.has_errors()
}
