//! The provider's dynamic-value codec (msgpack and JSON) with every schema it serves,
//! and its state upgrader.

use std::sync::LazyLock;

use idcbootstrap_provider::fuzz::{self as hook, Codec, Decoded, Rejected};

use crate::assert_no_echo;

static CODECS: LazyLock<Vec<Codec>> = LazyLock::new(hook::codecs);

/// The templates of every message the codec and its diagnostics can print.
const VOCABULARY: &str = concat!(
    include_str!("../../provider/src/protocol/value.rs"),
    include_str!("../../provider/src/protocol/diag.rs"),
    include_str!("../../provider/src/framework.rs"),
    include_str!("../../provider/src/resources/external_id.rs"),
    include_str!("../../shared/src/external_id.rs"),
    include_str!("../../shared/src/error.rs"),
);

/// String values (not map keys) and map keys of a msgpack document, or nothing if it
/// is not one.
fn msgpack_strings(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    fn walk(v: &rmpv::Value, values: &mut Vec<String>, keys: &mut Vec<String>) {
        match v {
            rmpv::Value::String(s) => values.extend(s.as_str().map(str::to_owned)),
            rmpv::Value::Binary(b) => values.push(String::from_utf8_lossy(b).into_owned()),
            rmpv::Value::Array(items) => items.iter().for_each(|x| walk(x, values, keys)),
            rmpv::Value::Map(m) => {
                for (k, x) in m {
                    let mut ks = Vec::new();
                    walk(k, &mut ks, keys);
                    keys.extend(ks);
                    walk(x, values, keys);
                }
            }
            _ => {}
        }
    }
    let (mut values, mut keys) = (Vec::new(), Vec::new());
    let mut rd = bytes;
    if let Ok(v) = rmpv::decode::read_value(&mut rd) {
        walk(&v, &mut values, &mut keys);
    }
    (values, keys)
}

/// String values and object keys of a JSON document.
fn json_strings(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    fn walk(v: &serde_json::Value, values: &mut Vec<String>, keys: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => values.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|x| walk(x, values, keys)),
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    keys.push(k.clone());
                    walk(x, values, keys);
                }
            }
            _ => {}
        }
    }
    let (mut values, mut keys) = (Vec::new(), Vec::new());
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        walk(&v, &mut values, &mut keys);
    }
    (values, keys)
}

/// A type error names the schema's type, attribute names included.
fn check_rejected(codec: &Codec, r: &Rejected, secrets: &[String], keys: &[String]) {
    let mut public = keys.to_vec();
    public.push(codec.type_json());
    assert_no_echo("decode error", &r.error, secrets, VOCABULARY, &public);
    assert_no_echo("decode diagnostic", &r.diagnostic, secrets, VOCABULARY, &public);
}

/// Re-encodes `v`, decodes that and re-encodes again: the two encodings must be the
/// same bytes (a fixpoint, which also holds for NaN), and hold the same strings.
fn check_round_trip(codec: &Codec, v: &Decoded, secrets: &[String], keys: &[String]) {
    assert_no_echo("Debug of a decoded value", &format!("{v:?}"), secrets, VOCABULARY, keys);
    let enc = codec
        .encode_msgpack(v)
        .unwrap_or_else(|e| panic!("{}: a decoded value does not encode: {e}", codec.name()));
    let again = codec.decode_msgpack(&enc).unwrap_or_else(|e| {
        panic!("{}: the provider's own msgpack does not decode: {}", codec.name(), e.error)
    });
    assert_eq!(again.strings(), v.strings(), "{}: strings changed in a round trip", codec.name());
    let enc2 = codec.encode_msgpack(&again).expect("encodes");
    assert_eq!(enc, enc2, "{}: encode(decode(encode(v))) differs from encode(v)", codec.name());
}

/// Byte 0 picks the schema; the rest is msgpack as Terraform sends it.
pub fn value_msgpack(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else { return };
    let codec = &CODECS[usize::from(sel) % CODECS.len()];
    let (secrets, keys) = msgpack_strings(bytes);
    match codec.decode_msgpack(bytes) {
        Ok(v) => check_round_trip(codec, &v, &secrets, &keys),
        Err(r) => check_rejected(codec, &r, &secrets, &keys),
    }
}

/// Byte 0 picks the schema and strict or lenient decoding; the rest is JSON
/// (`DynamicValue.json`, or stored state).
pub fn value_json(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else { return };
    let codec = &CODECS[usize::from(sel >> 1) % CODECS.len()];
    let lenient = sel & 1 == 1;
    let (secrets, keys) = json_strings(bytes);
    match codec.decode_json(bytes, lenient) {
        Ok(v) => {
            check_round_trip(codec, &v, &secrets, &keys);
            // JSON and msgpack agree: the state written as JSON decodes to the same.
            if let Ok(w) = codec.decode_json(&hook::state_json(&v), lenient) {
                assert_eq!(w.strings(), v.strings(), "{}: JSON round trip changed strings", codec.name());
            }
        }
        Err(r) => check_rejected(codec, &r, &secrets, &keys),
    }
}

/// Byte 0 picks the resource type and the stored schema version (-1 to 2); the
/// rest is the stored JSON state.
pub fn upgrade_state(data: &[u8]) {
    let Some((&sel, json)) = data.split_first() else { return };
    let types = hook::resource_types();
    let (type_name, current) = types[usize::from(sel & 0x0f) % types.len()];
    let version = i64::from(sel >> 4) % 4 - 1;
    let (secrets, keys) = json_strings(json);
    let up = hook::upgrade(type_name, version, json);
    assert_no_echo("upgrade diagnostics", &up.diagnostics, &secrets, VOCABULARY, &keys);
    let Some(state) = up.state else {
        assert!(up.failed, "{type_name}: no state and no error diagnostic");
        return;
    };
    assert!(!up.failed, "{type_name}: a state and an error diagnostic");
    assert_no_echo("Debug of an upgraded state", &format!("{state:?}"), &secrets, VOCABULARY, &keys);
    // Upgrading what the upgrade wrote, at the current version, changes nothing.
    let again = hook::upgrade(type_name, current, &hook::state_json(&state));
    assert!(!again.failed, "{type_name}: the upgraded state does not upgrade again:\n{}", again.diagnostics);
    assert_eq!(again.state.as_ref(), Some(&state), "{type_name}: upgrading is not idempotent");
    if type_name == "idcbootstrap_external_id" {
        crate::sequence::check_external_id_state(&state);
    }
}
