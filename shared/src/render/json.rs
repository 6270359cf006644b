//! JSON text of the policy documents, with the keys in the order IAM's own
//! documentation writes them (`Version` before `Statement`, `Effect` before `Action`).
//!
//! Written by hand rather than with `serde_json::to_string_pretty` because
//! serde_json's map (without the `preserve_order` feature, which would change the
//! map type for every crate of the workspace) sorts keys alphabetically.

use serde_json::{Map, Value};

/// Rank of well-known IAM policy keys; unknown keys sort after them, by name.
fn rank(key: &str) -> u8 {
    match key {
        "Version" => 0,
        "Id" => 1,
        "Statement" => 2,
        "Sid" => 3,
        "Effect" => 4,
        "Principal" => 5,
        "NotPrincipal" => 6,
        "Action" => 7,
        "NotAction" => 8,
        "Resource" => 9,
        "NotResource" => 10,
        "Condition" => 11,
        _ => u8::MAX,
    }
}

/// The entries of `map` in IAM order. Shared by the JSON, YAML and HCL writers so
/// the three renderings list keys alike.
pub(crate) fn ordered(map: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let mut v: Vec<(u8, &str, &Value)> = map.iter().map(|(k, v)| (rank(k), k.as_str(), v)).collect();
    v.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    v.into_iter().map(|(_, k, v)| (k, v)).collect()
}

/// Pretty JSON (two-space indent, `"key": value`), ending without a newline.
pub(crate) fn to_pretty(v: &Value) -> String {
    let mut out = String::with_capacity(6144);
    write_value(&mut out, v, 0);
    out
}

fn indent(out: &mut String, n: usize) {
    super::spaces(out, 2 * n);
}

fn write_value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(out, depth + 1);
                write_value(out, item, depth + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            indent(out, depth);
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push_str("{\n");
            let entries = ordered(map);
            let last = entries.len() - 1;
            for (i, (k, val)) in entries.into_iter().enumerate() {
                indent(out, depth + 1);
                write_string(out, k);
                out.push_str(": ");
                write_value(out, val, depth + 1);
                out.push_str(if i < last { ",\n" } else { "\n" });
            }
            indent(out, depth);
            out.push('}');
        }
    }
}

/// A JSON string literal (RFC 8259 escapes; everything else literal UTF-8).
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_json_parses_back_to_the_same_value() {
        let v = json!({"Statement": [{"Action": ["a", "b\"\n\u{1}é"], "Effect": "Allow", "Sid": "x"}], "Version": "v", "e": [], "o": {}, "n": 1, "t": true, "z": null});
        let text = to_pretty(&v);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
        assert!(text.find("\"Version\"").unwrap() < text.find("\"Statement\"").unwrap(), "{text}");
        assert!(text.find("\"Sid\"").unwrap() < text.find("\"Effect\"").unwrap(), "{text}");
        assert!(text.find("\"Effect\"").unwrap() < text.find("\"Action\"").unwrap(), "{text}");
    }
}
