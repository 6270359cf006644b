//! A small HCL writer that produces what `terraform fmt` produces.
//!
//! The `hcl` crate writes HCL but does not align `=` the way `terraform fmt` does,
//! and a config that `terraform fmt -check` rejects fails users' CI; so the few
//! constructs the rendered config needs are written here, following hclwrite's
//! rules: two-space indents; within a body or object, each run of consecutive
//! single-line attributes has its `=` aligned one column after the widest key
//! (measured in grapheme clusters, as hclwrite does); an attribute whose value spans
//! lines ends the run and is not padded; tuple items end with `,`.

use std::borrow::Cow;

use serde_json::Value;
use unicode_segmentation::UnicodeSegmentation;

use super::json::ordered;

/// An HCL expression.
pub(crate) enum Expr<'a> {
    /// A quoted string template holding this literal text.
    Str(Cow<'a, str>),
    /// A whole number.
    Int(i64),
    /// An expression written verbatim (a reference like `aws_iam_role.x.arn`).
    Raw(&'a str),
    /// An object constructor with keys in the given order.
    Object(Vec<(Cow<'a, str>, Expr<'a>)>),
    /// A function call with one argument, e.g. `jsonencode(...)`.
    Call(&'static str, Box<Expr<'a>>),
    /// A JSON value written as an HCL literal (a policy document).
    Json(&'a Value),
}

/// A body item: an attribute, a nested block, or a blank line.
pub(crate) enum Item<'a> {
    Attr(&'static str, Expr<'a>),
    Block(&'static str, Vec<&'a str>, Vec<Item<'a>>),
    Blank,
}

/// Writes `s` as the inside of a quoted HCL template: escapes quotes, backslashes
/// and control characters, and doubles the template introducers `${` and `%{` so
/// the text stays literal.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b'\\' | b'$' | b'%')) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Object keys are bare when they are plain identifiers (and not words HCL reads as
/// keywords in that place), quoted otherwise.
fn is_bare(k: &str) -> bool {
    k.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !matches!(k, "true" | "false" | "null" | "for" | "in" | "if")
}

fn write_key(out: &mut String, k: &str) {
    if is_bare(k) {
        out.push_str(k);
    } else {
        write_string(out, k);
    }
}

fn key_width(k: &str) -> usize {
    if is_bare(k) {
        return k.len(); // ASCII only
    }
    let mut s = String::with_capacity(k.len() + 8);
    write_string(&mut s, k);
    if s.is_ascii() { s.len() } else { s.graphemes(true).count() }
}

fn indent(out: &mut String, n: usize) {
    super::spaces(out, 2 * n);
}

fn json_is_multiline(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

fn is_multiline(e: &Expr<'_>) -> bool {
    match e {
        Expr::Str(_) | Expr::Int(_) | Expr::Raw(_) => false,
        Expr::Object(entries) => !entries.is_empty(),
        Expr::Call(_, arg) => is_multiline(arg),
        Expr::Json(v) => json_is_multiline(v),
    }
}

fn write_expr(out: &mut String, e: &Expr<'_>, depth: usize) {
    match e {
        Expr::Str(s) => write_string(out, s),
        Expr::Int(n) => out.push_str(&n.to_string()),
        Expr::Raw(r) => out.push_str(r),
        Expr::Object(entries) if entries.is_empty() => out.push_str("{}"),
        Expr::Object(entries) => {
            out.push_str("{\n");
            let attrs: Vec<(&str, Attr<'_, '_>)> =
                entries.iter().map(|(k, v)| (k.as_ref(), Attr::Expr(v))).collect();
            write_attrs(out, &attrs, depth + 1);
            indent(out, depth);
            out.push('}');
        }
        Expr::Call(name, arg) => {
            out.push_str(name);
            out.push('(');
            write_expr(out, arg, depth);
            out.push(')');
        }
        Expr::Json(v) => write_json(out, v, depth),
    }
}

fn write_json(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Array(a) => {
            out.push_str("[\n");
            for item in a {
                indent(out, depth + 1);
                write_json(out, item, depth + 1);
                out.push_str(",\n");
            }
            indent(out, depth);
            out.push(']');
        }
        Value::Object(m) => {
            out.push_str("{\n");
            let attrs: Vec<(&str, Attr<'_, '_>)> =
                ordered(m).into_iter().map(|(k, v)| (k, Attr::Json(v))).collect();
            write_attrs(out, &attrs, depth + 1);
            indent(out, depth);
            out.push('}');
        }
    }
}

#[derive(Clone, Copy)]
enum Attr<'e, 'a> {
    Expr(&'e Expr<'a>),
    Json(&'e Value),
}

impl Attr<'_, '_> {
    fn is_multiline(self) -> bool {
        match self {
            Attr::Expr(e) => is_multiline(e),
            Attr::Json(v) => json_is_multiline(v),
        }
    }

    fn write(self, out: &mut String, depth: usize) {
        match self {
            Attr::Expr(e) => write_expr(out, e, depth),
            Attr::Json(v) => write_json(out, v, depth),
        }
    }
}

/// Writes object attributes (`key = value` lines) at `depth`, aligning each run of
/// single-line values.
fn write_attrs(out: &mut String, attrs: &[(&str, Attr<'_, '_>)], depth: usize) {
    let mut i = 0;
    while i < attrs.len() {
        if attrs[i].1.is_multiline() {
            indent(out, depth);
            write_key(out, attrs[i].0);
            out.push_str(" = ");
            attrs[i].1.write(out, depth);
            out.push('\n');
            i += 1;
            continue;
        }
        let start = i;
        while i < attrs.len() && !attrs[i].1.is_multiline() {
            i += 1;
        }
        let widths: Vec<usize> = attrs[start..i].iter().map(|(k, _)| key_width(k)).collect();
        let width = widths.iter().copied().max().unwrap_or(0);
        for ((k, v), w) in attrs[start..i].iter().zip(widths) {
            indent(out, depth);
            write_key(out, k);
            for _ in w..=width {
                out.push(' ');
            }
            out.push_str("= ");
            v.write(out, depth);
            out.push('\n');
        }
    }
}

/// Writes a body: attributes (aligned per run), blocks and blank lines.
pub(crate) fn write_body(out: &mut String, items: &[Item<'_>], depth: usize) {
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Item::Blank => {
                out.push('\n');
                i += 1;
            }
            Item::Block(name, labels, body) => {
                indent(out, depth);
                out.push_str(name);
                for l in labels {
                    out.push(' ');
                    write_string(out, l);
                }
                out.push_str(" {\n");
                write_body(out, body, depth + 1);
                indent(out, depth);
                out.push_str("}\n");
                i += 1;
            }
            Item::Attr(..) => {
                let start = i;
                while i < items.len() && matches!(items[i], Item::Attr(..)) {
                    i += 1;
                }
                let attrs: Vec<(&str, Attr<'_, '_>)> = items[start..i]
                    .iter()
                    .filter_map(|it| match it {
                        Item::Attr(k, e) => Some((*k, Attr::Expr(e))),
                        _ => None,
                    })
                    .collect();
                write_attrs(out, &attrs, depth);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> String {
        let mut out = String::new();
        write_string(&mut out, s);
        out
    }

    #[test]
    fn template_introducers_and_quotes_are_escaped() {
        assert_eq!(string("${x}"), r#""$${x}""#);
        assert_eq!(string("%{if}"), r#""%%{if}""#);
        assert_eq!(string("$x %x $"), r#""$x %x $""#);
        assert_eq!(string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(string("\u{1}é"), "\"\\u0001é\"");
    }

    #[test]
    fn runs_of_single_line_attributes_are_aligned() {
        let v = serde_json::json!({"a": 1, "bbb": {"c": 2}, "dd": "x", "sts:X": "y"});
        let mut out = String::new();
        write_body(&mut out, &[Item::Attr("v", Expr::Json(&v))], 0);
        assert_eq!(
            out,
            "v = {\n  a = 1\n  bbb = {\n    c = 2\n  }\n  dd      = \"x\"\n  \"sts:X\" = \"y\"\n}\n"
        );
    }
}
