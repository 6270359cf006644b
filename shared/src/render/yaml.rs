//! A small block-style YAML writer for the CloudFormation template.
//!
//! Written by hand instead of with serde-saphyr: the template's key order is part of
//! its readability (CloudFormation's `Type` before `Properties`, IAM's `Effect`
//! before `Action`), the golden files must not change when an emitter crate changes
//! its style, and the quoting rule has to hold for YAML 1.1 readers (PyYAML in
//! cfn-lint, older tooling) as well as YAML 1.2 ones. The rule is conservative: a
//! string is written plain only if it starts with a letter or `/`, consists of a
//! small safe character set, and is not a YAML 1.1 boolean or null word; everything
//! else is double-quoted with escapes, which every YAML reader reads as a string.

use std::borrow::Cow;

use serde_json::Value;

use super::json::ordered;

/// A YAML node with ordered mapping keys.
pub(crate) enum Node<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Map(Vec<(&'a str, Node<'a>)>),
    Seq(Vec<Node<'a>>),
    /// A JSON value (a policy document), written with IAM key order.
    Json(&'a Value),
}

impl<'a> Node<'a> {
    pub(crate) fn str(s: impl Into<Cow<'a, str>>) -> Self {
        Node::Str(s.into())
    }
}

/// YAML 1.1 reads these (in any case) as booleans or null when plain.
const YAML11_WORDS: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];

fn plain_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else { return false };
    if !(first.is_ascii_alphabetic() || first == b'/') {
        return false; // digits (numbers, dates, octal, sexagesimal), indicators, spaces
    }
    if YAML11_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return false;
    }
    let last = b[b.len() - 1];
    if last == b' ' || last == b':' {
        return false;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = c.is_ascii_alphanumeric()
            || matches!(c, b'_' | b'.' | b'/' | b'*' | b'+' | b'=' | b'@' | b',' | b'(' | b')' | b'-' | b';')
            || (c == b':' && b.get(i + 1) != Some(&b' '))
            || (c == b' ' && b.get(i + 1).is_some_and(|n| *n != b' ' && *n != b'#'));
        if !ok {
            return false;
        }
    }
    true
}

/// Writes `s` as a YAML scalar that every reader reads back as the string `s`.
pub(crate) fn write_scalar(out: &mut String, s: &str) {
    if plain_ok(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
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
            // C0/C1 controls, DEL, the YAML 1.1 line breaks NEL, LS, PS, the BOM and
            // the non-characters: not printable in YAML, so escaped.
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}') =>
            {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn indent(out: &mut String, n: usize) {
    super::spaces(out, n);
}

/// Writes the value of a mapping entry whose `key:` is already written.
fn write_entry_value(out: &mut String, node: &Node<'_>, depth: usize) {
    match node {
        Node::Str(s) => {
            out.push(' ');
            write_scalar(out, s);
            out.push('\n');
        }
        Node::Int(n) => {
            out.push(' ');
            out.push_str(&n.to_string());
            out.push('\n');
        }
        Node::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Node::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Node::Map(entries) => {
            out.push('\n');
            write_map(out, entries.iter().map(|(k, v)| (*k, Item::Node(v))), depth + 2, false);
        }
        Node::Seq(items) => {
            out.push('\n');
            write_seq(out, items.iter().map(Item::Node), depth + 2);
        }
        Node::Json(v) => write_json_entry_value(out, v, depth),
    }
}

enum Item<'n, 'a> {
    Node(&'n Node<'a>),
    Json(&'n Value),
}

fn write_item_value(out: &mut String, item: Item<'_, '_>, depth: usize) {
    match item {
        Item::Node(n) => write_entry_value(out, n, depth),
        Item::Json(v) => write_json_entry_value(out, v, depth),
    }
}

fn write_json_entry_value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::String(s) => {
            out.push(' ');
            write_scalar(out, s);
            out.push('\n');
        }
        Value::Number(n) => {
            out.push(' ');
            out.push_str(&n.to_string());
            out.push('\n');
        }
        Value::Bool(b) => out.push_str(if *b { " true\n" } else { " false\n" }),
        Value::Null => out.push_str(" null\n"),
        Value::Array(a) if a.is_empty() => out.push_str(" []\n"),
        Value::Object(m) if m.is_empty() => out.push_str(" {}\n"),
        Value::Array(a) => {
            out.push('\n');
            write_seq(out, a.iter().map(Item::Json), depth + 2);
        }
        Value::Object(m) => {
            out.push('\n');
            write_map(out, ordered(m).into_iter().map(|(k, v)| (k, Item::Json(v))), depth + 2, false);
        }
    }
}

/// Writes mapping entries at `depth`. With `first_inline`, the first key follows a
/// `- ` already written.
fn write_map<'n, 'a: 'n>(
    out: &mut String,
    entries: impl Iterator<Item = (&'n str, Item<'n, 'a>)>,
    depth: usize,
    first_inline: bool,
) {
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 || !first_inline {
            indent(out, depth);
        }
        write_scalar(out, k);
        out.push(':');
        write_item_value(out, v, depth);
    }
}

fn write_seq<'n, 'a: 'n>(out: &mut String, items: impl Iterator<Item = Item<'n, 'a>>, depth: usize) {
    for item in items {
        indent(out, depth);
        out.push('-');
        match item {
            Item::Node(Node::Map(entries)) if !entries.is_empty() => {
                out.push(' ');
                write_map(out, entries.iter().map(|(k, v)| (*k, Item::Node(v))), depth + 2, true);
            }
            Item::Json(Value::Object(m)) if !m.is_empty() => {
                out.push(' ');
                write_map(out, ordered(m).into_iter().map(|(k, v)| (k, Item::Json(v))), depth + 2, true);
            }
            // Sequences in sequences and scalars: the entry writers put a space first.
            other => write_item_value(out, other, depth),
        }
    }
}

/// Writes a top-level document: `entries` at column 0, a blank line before each
/// entry that holds a mapping (the template's sections).
pub(crate) fn write_document(out: &mut String, entries: &[(&str, Node<'_>)]) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 && matches!(v, Node::Map(_)) {
            out.push('\n');
        }
        write_scalar(out, k);
        out.push(':');
        write_entry_value(out, v, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(s: &str) -> String {
        let mut out = String::new();
        write_scalar(&mut out, s);
        out
    }

    #[test]
    fn yaml_1_1_traps_are_quoted() {
        for s in [
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "N",
            "true",
            "False",
            "null",
            "~",
            "0123",
            "123",
            "1e3",
            "0x1F",
            "2024-01-01",
            "12:30",
            ".inf",
            "-",
            "- a",
            "@x",
            "*a",
            "&a",
            "!a",
            "|",
            ">",
            "#c",
            "a #c",
            "a: b",
            "a:",
            " lead",
            "trail ",
            "",
            "%x",
            "=",
            "<<",
            "[a]",
            "{a}",
            "'a'",
            "\"a\"",
            "a\nb",
            "\u{2028}",
        ] {
            let out = scalar(s);
            assert!(out.starts_with('"'), "{s:?} written plain as {out}");
        }
    }

    #[test]
    fn ordinary_words_and_arns_stay_plain() {
        for s in
            ["String", "arn:aws:iam::123456789012:role/x", "sts:ExternalId", "/", "/a/b/", "Allow", "a b c"]
        {
            assert_eq!(scalar(s), s);
        }
    }

    #[test]
    fn nested_sequences_of_maps_are_indented_consistently() {
        let v = serde_json::json!({"Statement": [{"Effect": "Allow", "Action": ["a", "b"]}], "Version": "2012-10-17"});
        let mut out = String::new();
        write_document(&mut out, &[("Doc", Node::Json(&v))]);
        assert_eq!(
            out,
            "\nDoc:\n  Version: \"2012-10-17\"\n  Statement:\n    - Effect: Allow\n      Action:\n        - a\n        - b\n"
                .trim_start_matches('\n')
        );
    }
}
