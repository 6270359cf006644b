//! The plugin protocol layer: generated tfplugin5 and go-plugin code (private),
//! the dynamic-value codec, schema and diagnostic types, their conversions to the
//! wire, and the go-plugin handshake. Nothing here knows about IAM Identity Center.

pub(crate) mod diag;
pub(crate) mod handshake;
pub(crate) mod path;
pub(crate) mod schema;
pub(crate) mod tls;
pub(crate) mod value;

/// Generated from `proto/tfplugin5.proto` (upstream protocol 5.x; field numbers are the contract).
#[allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub, dead_code)]
#[rustfmt::skip]
pub(crate) mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

/// Generated from go-plugin's `grpc_controller.proto` and `grpc_stdio.proto`.
#[allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub, dead_code)]
#[rustfmt::skip]
pub(crate) mod plugin {
    tonic::include_proto!("plugin");
}

use self::diag::{Diagnostic, Diagnostics, Severity};
use self::path::{AttrPath, Step as PathStep};
use self::schema::Schema;
use self::value::{DecodeError, Type, Value};

/// A path as tfplugin5 spells it.
pub(crate) fn path_to_proto(path: &AttrPath) -> tfplugin5::AttributePath {
    use tfplugin5::attribute_path::{Step, step::Selector};
    let steps = path
        .steps()
        .iter()
        .map(|s| Step {
            selector: Some(match s {
                PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                PathStep::Index(i) => Selector::ElementKeyInt(i64::try_from(*i).unwrap_or(i64::MAX)),
                PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
            }),
        })
        .collect();
    tfplugin5::AttributePath { steps }
}

/// Summary and detail must be valid UTF-8 on the wire: Rust strings already are, but
/// control characters from foreign input would garble the user's terminal.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { '\u{FFFD}' } else { c }).collect()
}

pub(crate) fn diagnostic_to_proto(d: &Diagnostic) -> tfplugin5::Diagnostic {
    tfplugin5::Diagnostic {
        severity: match d.severity {
            Severity::Error => tfplugin5::diagnostic::Severity::Error as i32,
            Severity::Warning => tfplugin5::diagnostic::Severity::Warning as i32,
        },
        summary: clean(&d.summary),
        detail: clean(&d.detail),
        attribute: d.path.as_ref().map(path_to_proto),
    }
}

pub(crate) fn diagnostics_to_proto(d: Diagnostics) -> Vec<tfplugin5::Diagnostic> {
    d.iter().map(diagnostic_to_proto).collect()
}

pub(crate) fn schema_to_proto(s: &Schema) -> tfplugin5::Schema {
    let attributes = s
        .attributes
        .iter()
        .map(|a| tfplugin5::schema::Attribute {
            name: a.name.to_owned(),
            r#type: a.ty.to_json().to_string().into_bytes(),
            description: a.description.to_string(),
            required: a.required,
            optional: a.optional,
            computed: a.computed,
            sensitive: a.sensitive,
            description_kind: tfplugin5::StringKind::Markdown as i32,
            ..Default::default()
        })
        .collect();
    tfplugin5::Schema {
        version: s.version,
        block: Some(tfplugin5::schema::Block {
            version: s.version,
            attributes,
            description: s.description.to_string(),
            description_kind: tfplugin5::StringKind::Markdown as i32,
            ..Default::default()
        }),
    }
}

/// Decodes a `DynamicValue` (msgpack preferred, JSON accepted). An absent value is null.
pub(crate) fn decode_dynamic(dv: Option<&tfplugin5::DynamicValue>, ty: &Type) -> Result<Value, DecodeError> {
    match dv {
        None => Ok(Value::Null),
        Some(dv) if !dv.msgpack.is_empty() => value::from_msgpack(&dv.msgpack, ty),
        Some(dv) if !dv.json.is_empty() => value::from_json(&dv.json, ty),
        Some(_) => Ok(Value::Null),
    }
}

/// Decodes a `DynamicValue`, reporting failure as a diagnostic named for `what`.
pub(crate) fn decode_or_diag(
    dv: Option<&tfplugin5::DynamicValue>,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    match decode_dynamic(dv, ty) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.decode_error(what, &e);
            None
        }
    }
}

/// Encodes a value for a response: msgpack, typed by the schema.
pub(crate) fn encode_dynamic(
    v: &Value,
    ty: &Type,
    diags: &mut Diagnostics,
) -> Option<tfplugin5::DynamicValue> {
    match value::to_msgpack(v, ty) {
        Ok(msgpack) => Some(tfplugin5::DynamicValue { msgpack, json: Vec::new() }),
        Err(e) => {
            diags.attribute_error(
                e.path.clone(),
                "Internal error",
                format!("The provider built a value that does not match its schema: {}", e.message),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_translate_step_by_step() {
        use tfplugin5::attribute_path::step::Selector;
        let p = path_to_proto(&AttrPath::field("tags").key("env"));
        let sel: Vec<_> = p.steps.into_iter().map(|s| s.selector.unwrap()).collect();
        assert_eq!(sel, [Selector::AttributeName("tags".into()), Selector::ElementKeyString("env".into())]);
        let p = path_to_proto(&AttrPath::field("external_ids").index(1));
        assert_eq!(p.steps[1].selector, Some(Selector::ElementKeyInt(1)));
    }

    #[test]
    fn diagnostics_are_cleaned_for_the_terminal() {
        let d = Diagnostic {
            severity: Severity::Error,
            summary: "a\u{1b}[31mb".into(),
            detail: "line\nnext".into(),
            path: None,
        };
        let p = diagnostic_to_proto(&d);
        assert!(!p.summary.contains('\u{1b}'));
        assert_eq!(p.detail, "line\nnext");
        assert_eq!(p.severity, tfplugin5::diagnostic::Severity::Error as i32);
        assert!(p.attribute.is_none());
    }
}
