//! Terraform's dynamic values: the cty type system as far as this provider needs it,
//! a [`Value`] that keeps known, null and unknown apart, and the msgpack and JSON
//! codecs of `tfplugin5.DynamicValue`.
//!
//! Decoding is typed by the schema, as Terraform's own decoder is: the same msgpack
//! bytes mean different things for a list and a set. Every msgpack extension decodes
//! as unknown (type 0, and 0x0C for refined unknowns in newer Terraform), because an
//! extension is only ever sent for a value Terraform does not know yet.

use std::collections::BTreeMap;
use std::fmt;

use super::path::AttrPath;

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Type {
    String,
    Number,
    Bool,
    List(Box<Type>),
    #[allow(dead_code)] // no schema uses a set yet; the codec supports it
    Set(Box<Type>),
    Map(Box<Type>),
    /// Attributes in schema order: that order is kept when encoding.
    Object(Vec<(String, Type)>),
}

impl Type {
    /// The JSON type constraint Terraform reads from a schema (`"string"`, `["list","string"]`).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::List(t) => json!(["list", t.to_json()]),
            Type::Set(t) => json!(["set", t.to_json()]),
            Type::Map(t) => json!(["map", t.to_json()]),
            Type::Object(attrs) => {
                // Sorted by name whether or not another crate in the build turns on
                // serde_json's `preserve_order`, so the served bytes never depend on
                // which packages were built together.
                let sorted: std::collections::BTreeMap<&String, &Type> =
                    attrs.iter().map(|(k, t)| (k, t)).collect();
                let m: serde_json::Map<String, serde_json::Value> =
                    sorted.into_iter().map(|(k, t)| (k.clone(), t.to_json())).collect();
                json!(["object", m])
            }
        }
    }
}

/// A value as Terraform sends it: known, null, or not known yet.
///
/// Sets are kept as lists in the order received (Terraform does not rely on it);
/// maps and objects are keyed by name.
#[derive(Clone, PartialEq)]
pub(crate) enum Value {
    Unknown,
    Null,
    String(String),
    Number(f64),
    Bool(bool),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
}

// Values carry secrets (external IDs): Debug shows the shape, never the strings.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unknown => f.write_str("Unknown"),
            Value::Null => f.write_str("Null"),
            Value::String(s) => write!(f, "String(<{} chars>)", s.chars().count()),
            Value::Number(n) => write!(f, "Number({n})"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::List(v) => f.debug_tuple("List").field(v).finish(),
            Value::Map(m) => f.debug_tuple("Map").field(m).finish(),
            Value::Object(m) => f.debug_tuple("Object").field(m).finish(),
        }
    }
}

impl Value {
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub(crate) fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Attribute `name` of an object (`Null` for a missing attribute or a non-object).
    pub(crate) fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub(crate) fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// `Some(s)` → string, `None` → null.
    pub(crate) fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, |s| Value::String(s.into()))
    }

    /// The paths (display form) of every unknown value inside, for partial validation.
    pub(crate) fn unknown_paths(&self, at: &AttrPath, out: &mut Vec<String>) {
        match self {
            Value::Unknown => out.push(at.to_string()),
            Value::List(v) => v.iter().enumerate().for_each(|(i, x)| x.unknown_paths(&at.index(i), out)),
            Value::Map(m) => m.iter().for_each(|(k, x)| x.unknown_paths(&at.key(k.clone()), out)),
            Value::Object(m) => m.iter().for_each(|(k, x)| x.unknown_paths(&at.attr(k.clone()), out)),
            _ => {}
        }
    }
}

/// Why a dynamic value could not be decoded, and where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DecodeError {
    pub(crate) path: AttrPath,
    pub(crate) message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_root() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

fn err(path: &AttrPath, message: impl Into<String>) -> DecodeError {
    DecodeError { path: path.clone(), message: message.into() }
}

// ---------------------------------------------------------------------------
// msgpack

/// Decodes msgpack bytes as a value of type `ty`. Empty input is null (Terraform
/// sends an empty `DynamicValue` for an absent prior state).
pub(crate) fn from_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut rd = bytes;
    let raw = rmpv::decode::read_value(&mut rd)
        .map_err(|e| err(&AttrPath::root(), format!("invalid msgpack: {e}")))?;
    if !rd.is_empty() {
        return Err(err(&AttrPath::root(), "trailing bytes after msgpack value"));
    }
    from_rmpv(raw, ty, &AttrPath::root())
}

fn rmpv_key(k: rmpv::Value, path: &AttrPath) -> Result<String, DecodeError> {
    match k {
        rmpv::Value::String(s) => s.into_str().ok_or_else(|| err(path, "map key is not UTF-8")),
        _ => Err(err(path, "map key is not a string")),
    }
}

fn from_rmpv(raw: rmpv::Value, ty: &Type, path: &AttrPath) -> Result<Value, DecodeError> {
    use rmpv::Value as R;
    match raw {
        R::Nil => return Ok(Value::Null),
        R::Ext(_, _) => return Ok(Value::Unknown),
        _ => {}
    }
    match ty {
        Type::String => match raw {
            R::String(s) => s.into_str().map(Value::String).ok_or_else(|| err(path, "string is not UTF-8")),
            R::Integer(i) => Ok(Value::String(i.to_string())),
            R::Boolean(b) => Ok(Value::String(b.to_string())),
            other => Err(err(path, format!("expected a string, got {}", kind(&other)))),
        },
        Type::Number => match raw {
            R::Integer(i) => i
                .as_i64()
                .map(|n| n as f64)
                .or_else(|| i.as_u64().map(|n| n as f64))
                .map(Value::Number)
                .ok_or_else(|| err(path, "number out of range")),
            R::F32(f) => Ok(Value::Number(f64::from(f))),
            R::F64(f) => Ok(Value::Number(f)),
            // Terraform sends numbers that do not fit a float64 as decimal strings.
            R::String(s) => s
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .map(Value::Number)
                .ok_or_else(|| err(path, "expected a number")),
            other => Err(err(path, format!("expected a number, got {}", kind(&other)))),
        },
        Type::Bool => match raw {
            R::Boolean(b) => Ok(Value::Bool(b)),
            other => Err(err(path, format!("expected a bool, got {}", kind(&other)))),
        },
        Type::List(et) | Type::Set(et) => match raw {
            R::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, x)| from_rmpv(x, et, &path.index(i)))
                .collect::<Result<_, _>>()
                .map(Value::List),
            other => Err(err(path, format!("expected a list, got {}", kind(&other)))),
        },
        Type::Map(et) => match raw {
            R::Map(entries) => {
                let mut m = BTreeMap::new();
                for (k, v) in entries {
                    let k = rmpv_key(k, path)?;
                    let v = from_rmpv(v, et, &path.key(k.clone()))?;
                    m.insert(k, v);
                }
                Ok(Value::Map(m))
            }
            other => Err(err(path, format!("expected a map, got {}", kind(&other)))),
        },
        Type::Object(attrs) => match raw {
            R::Map(entries) => {
                let mut m = BTreeMap::new();
                for (k, v) in entries {
                    let k = rmpv_key(k, path)?;
                    let Some((_, at)) = attrs.iter().find(|(n, _)| *n == k) else {
                        return Err(err(path, format!("unsupported attribute {}", attribute_name(&k))));
                    };
                    let v = from_rmpv(v, at, &path.attr(k.clone()))?;
                    m.insert(k, v);
                }
                for (n, _) in attrs {
                    m.entry(n.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(m))
            }
            other => Err(err(path, format!("expected an object, got {}", kind(&other)))),
        },
    }
}

fn kind(v: &rmpv::Value) -> &'static str {
    use rmpv::Value as R;
    match v {
        R::Nil => "null",
        R::Boolean(_) => "a bool",
        R::Integer(_) | R::F32(_) | R::F64(_) => "a number",
        R::String(_) => "a string",
        R::Binary(_) => "binary data",
        R::Array(_) => "a list",
        R::Map(_) => "a map",
        R::Ext(_, _) => "an extension",
    }
}

/// Encodes `v` as msgpack typed by `ty`; object attributes in schema order.
pub(crate) fn to_msgpack(v: &Value, ty: &Type) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(256);
    write_msgpack(&mut out, v, ty, &AttrPath::root())?;
    Ok(out)
}

fn write_msgpack(out: &mut Vec<u8>, v: &Value, ty: &Type, path: &AttrPath) -> Result<(), DecodeError> {
    use rmp::encode as e;
    // Writes into a Vec cannot fail; the `?`-free `let _` keeps that visible.
    match (v, ty) {
        (Value::Null, _) => {
            let _ = e::write_nil(out);
        }
        // Unknown: extension 0 with one zero byte, as Terraform itself writes it.
        (Value::Unknown, _) => {
            let _ = e::write_ext_meta(out, 1, 0);
            out.push(0);
        }
        (Value::String(s), Type::String) => {
            let _ = e::write_str(out, s);
        }
        (Value::Number(n), Type::Number) => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                let _ = e::write_sint(out, *n as i64);
            } else {
                let _ = e::write_f64(out, *n);
            }
        }
        (Value::Bool(b), Type::Bool) => {
            let _ = e::write_bool(out, *b);
        }
        (Value::List(items), Type::List(et) | Type::Set(et)) => {
            let _ = e::write_array_len(out, len32(items.len(), path)?);
            for (i, x) in items.iter().enumerate() {
                write_msgpack(out, x, et, &path.index(i))?;
            }
        }
        (Value::Map(m), Type::Map(et)) => {
            let _ = e::write_map_len(out, len32(m.len(), path)?);
            for (k, x) in m {
                let _ = e::write_str(out, k);
                write_msgpack(out, x, et, &path.key(k.clone()))?;
            }
        }
        (Value::Object(m), Type::Object(attrs)) => {
            let _ = e::write_map_len(out, len32(attrs.len(), path)?);
            for (name, at) in attrs {
                let _ = e::write_str(out, name);
                write_msgpack(out, m.get(name).unwrap_or(&Value::Null), at, &path.attr(name.clone()))?;
            }
        }
        (v, ty) => return Err(err(path, format!("cannot encode {v:?} as {}", ty.to_json()))),
    }
    Ok(())
}

fn len32(n: usize, path: &AttrPath) -> Result<u32, DecodeError> {
    u32::try_from(n).map_err(|_| err(path, "collection too large"))
}

// ---------------------------------------------------------------------------
// JSON (DynamicValue.json, and stored state in UpgradeResourceState)

/// Decodes JSON bytes as a value of type `ty`. JSON cannot carry unknowns.
pub(crate) fn from_json(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let raw: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| err(&AttrPath::root(), format!("invalid JSON: {e}")))?;
    from_json_value(raw, ty, &AttrPath::root(), false)
}

/// Like [`from_json`], but attributes the schema does not know are dropped instead of
/// rejected: stored state from an older schema version may carry removed attributes.
pub(crate) fn from_json_lenient(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let raw: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| err(&AttrPath::root(), format!("invalid JSON: {e}")))?;
    from_json_value(raw, ty, &AttrPath::root(), true)
}

fn from_json_value(
    raw: serde_json::Value,
    ty: &Type,
    path: &AttrPath,
    lenient: bool,
) -> Result<Value, DecodeError> {
    use serde_json::Value as J;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    match (ty, raw) {
        (Type::String, J::String(s)) => Ok(Value::String(s)),
        (Type::String, J::Number(n)) => Ok(Value::String(n.to_string())),
        (Type::String, J::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::Number, J::Number(n)) => {
            n.as_f64().map(Value::Number).ok_or_else(|| err(path, "number out of range"))
        }
        (Type::Number, J::String(s)) => {
            s.parse().map(Value::Number).map_err(|_| err(path, "expected a number"))
        }
        (Type::Bool, J::Bool(b)) => Ok(Value::Bool(b)),
        (Type::Bool, J::String(s)) => match s.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(err(path, "expected a bool")),
        },
        (Type::List(et) | Type::Set(et), J::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, x)| from_json_value(x, et, &path.index(i), lenient))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Type::Map(et), J::Object(m)) => m
            .into_iter()
            .map(|(k, x)| {
                let v = from_json_value(x, et, &path.key(k.clone()), lenient)?;
                Ok((k, v))
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (Type::Object(attrs), J::Object(m)) => {
            let mut out = BTreeMap::new();
            for (k, x) in m {
                match attrs.iter().find(|(n, _)| *n == k) {
                    Some((_, at)) => {
                        let v = from_json_value(x, at, &path.attr(k.clone()), lenient)?;
                        out.insert(k, v);
                    }
                    None if lenient => {}
                    None => return Err(err(path, format!("unsupported attribute {}", attribute_name(&k)))),
                }
            }
            for (n, _) in attrs {
                out.entry(n.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        // The kind only: the value may be a secret (an external ID in a corrupted state).
        (ty, other) => Err(err(path, format!("expected {}, got {}", ty.to_json(), json_kind(&other)))),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value as J;
    match v {
        J::Null => "null",
        J::Bool(_) => "a bool",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "a list",
        J::Object(_) => "an object",
    }
}

/// An attribute name the schema does not have, for a decode error: shown when it
/// looks like an attribute name (lower-case letters, digits, `_`, at most 64), else
/// described, since a corrupted state may hold anything, a secret included, as a key.
fn attribute_name(k: &str) -> String {
    let plausible = !k.is_empty()
        && k.len() <= 64
        && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plausible { format!("{k:?}") } else { "with a name that is not an attribute name".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj_type() -> Type {
        Type::Object(vec![
            ("name".into(), Type::String),
            ("count".into(), Type::Number),
            ("on".into(), Type::Bool),
            ("ids".into(), Type::List(Box::new(Type::String))),
            ("set".into(), Type::Set(Box::new(Type::String))),
            ("tags".into(), Type::Map(Box::new(Type::String))),
        ])
    }

    fn sample() -> Value {
        let mut tags = BTreeMap::new();
        tags.insert("env".to_owned(), Value::string("prod"));
        let mut m = BTreeMap::new();
        m.insert("name".to_owned(), Value::string("x"));
        m.insert("count".to_owned(), Value::Number(3600.0));
        m.insert("on".to_owned(), Value::Bool(true));
        m.insert("ids".to_owned(), Value::List(vec![Value::string("a"), Value::Unknown]));
        m.insert("set".to_owned(), Value::List(vec![]));
        m.insert("tags".to_owned(), Value::Map(tags));
        Value::Object(m)
    }

    #[test]
    fn msgpack_round_trips_known_null_and_unknown() {
        let ty = obj_type();
        let v = sample();
        let bytes = to_msgpack(&v, &ty).unwrap();
        assert_eq!(from_msgpack(&bytes, &ty).unwrap(), v);

        let mut nulls = BTreeMap::new();
        nulls.insert("name".to_owned(), Value::Null);
        nulls.insert("ids".to_owned(), Value::Unknown);
        let v = Value::Object(nulls);
        let back = from_msgpack(&to_msgpack(&v, &ty).unwrap(), &ty).unwrap();
        assert_eq!(back.get("name"), &Value::Null);
        assert_eq!(back.get("ids"), &Value::Unknown);
        assert_eq!(back.get("tags"), &Value::Null, "missing attributes decode as null");
    }

    #[test]
    fn null_and_empty_collections_stay_distinct() {
        let ty = Type::List(Box::new(Type::String));
        assert_eq!(from_msgpack(&to_msgpack(&Value::Null, &ty).unwrap(), &ty).unwrap(), Value::Null);
        assert_eq!(
            from_msgpack(&to_msgpack(&Value::List(vec![]), &ty).unwrap(), &ty).unwrap(),
            Value::List(vec![])
        );
    }

    #[test]
    fn every_extension_is_unknown_including_refined_0x0c() {
        for (tag, data) in [(0i8, vec![0u8]), (0x0c, vec![0x81, 0x01, 0xc3]), (5, vec![])] {
            let mut bytes = Vec::new();
            rmpv::encode::write_value(&mut bytes, &rmpv::Value::Ext(tag, data)).unwrap();
            assert_eq!(from_msgpack(&bytes, &Type::String).unwrap(), Value::Unknown, "ext {tag}");
        }
    }

    #[test]
    fn objects_encode_attributes_in_schema_order() {
        let ty = obj_type();
        let bytes = to_msgpack(&sample(), &ty).unwrap();
        let raw = rmpv::decode::read_value(&mut bytes.as_slice()).unwrap();
        let keys: Vec<_> =
            raw.as_map().unwrap().iter().map(|(k, _)| k.as_str().unwrap().to_owned()).collect();
        assert_eq!(keys, ["name", "count", "on", "ids", "set", "tags"]);
    }

    #[test]
    fn type_errors_name_the_path() {
        let ty = obj_type();
        let mut bytes = Vec::new();
        let bad = rmpv::Value::Map(vec![(
            rmpv::Value::from("ids"),
            rmpv::Value::Array(vec![rmpv::Value::from("a"), rmpv::Value::Map(vec![])]),
        )]);
        rmpv::encode::write_value(&mut bytes, &bad).unwrap();
        let e = from_msgpack(&bytes, &ty).unwrap_err();
        assert_eq!(e.path.to_string(), "ids[1]");
        let mut bytes = Vec::new();
        rmpv::encode::write_value(
            &mut bytes,
            &rmpv::Value::Map(vec![(rmpv::Value::from("nope"), rmpv::Value::Nil)]),
        )
        .unwrap();
        assert!(from_msgpack(&bytes, &ty).unwrap_err().message.contains("nope"));
    }

    #[test]
    fn big_numbers_sent_as_strings_decode() {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &rmpv::Value::from("43200")).unwrap();
        assert_eq!(from_msgpack(&bytes, &Type::Number).unwrap(), Value::Number(43200.0));
    }

    #[test]
    fn json_decodes_and_lenient_drops_unknown_attributes() {
        let ty = obj_type();
        let v = from_json(
            br#"{"name":"x","count":3600,"on":true,"ids":["a"],"set":[],"tags":{"env":"prod"}}"#,
            &ty,
        )
        .unwrap();
        assert_eq!(v.get("count"), &Value::Number(3600.0));
        assert_eq!(v.get("tags").clone(), {
            let mut t = BTreeMap::new();
            t.insert("env".to_owned(), Value::string("prod"));
            Value::Map(t)
        });
        assert!(from_json(br#"{"gone":1}"#, &ty).is_err());
        assert_eq!(from_json_lenient(br#"{"gone":1}"#, &ty).unwrap().get("name"), &Value::Null);
    }

    #[test]
    fn decode_errors_never_echo_a_value() {
        let ty = obj_type();
        let secret = "Zq3vXw9LkT2mNb7RcY5pHs1dFg8jKa4e";
        for json in [
            format!(r#"{{"name":["{secret}"]}}"#),
            format!(r#"{{"count":{{"k":"{secret}"}}}}"#),
            format!(r#"{{"on":"{secret}"}}"#),
            format!(r#"{{"ids":"{secret}"}}"#),
            format!(r#"{{"tags":["{secret}"]}}"#),
            format!(r#"{{"{secret}":1}}"#),
            format!(r#"{{"name":"x"}} {secret}"#),
        ] {
            let e = from_json(json.as_bytes(), &ty).unwrap_err();
            let text = format!("{e} {e:?}");
            assert!(!text.contains(secret) && !text.contains("Zq3vXw"), "{json}: {text}");
        }
        let mut bytes = Vec::new();
        let bad = rmpv::Value::Map(vec![(rmpv::Value::from(secret), rmpv::Value::Nil)]);
        rmpv::encode::write_value(&mut bytes, &bad).unwrap();
        let e = from_msgpack(&bytes, &ty).unwrap_err();
        assert!(!format!("{e} {e:?}").contains(secret), "{e}");
    }

    #[test]
    fn debug_never_shows_strings() {
        let v = Value::List(vec![Value::string("s3cr3t")]);
        assert!(!format!("{v:?}").contains("s3cr3t"));
    }

    #[test]
    fn schema_types_serialize_like_terraform() {
        assert_eq!(Type::List(Box::new(Type::String)).to_json().to_string(), r#"["list","string"]"#);
        assert_eq!(Type::Map(Box::new(Type::String)).to_json().to_string(), r#"["map","string"]"#);
    }
}
