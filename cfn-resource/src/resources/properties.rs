//! CloudFormation property names ↔ core field paths, and decoding of properties,
//! which CloudFormation always sends as strings (lists and maps of strings).
//!
//! One table, [`TEMPLATE_PROPERTIES`], maps PascalCase properties to the core's
//! snake_case fields; paths translate step by step, so the core's `tags["env"]`
//! is the template's `Tags.env` and `external_ids[1]` is `ExternalIds[1]`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use idcbootstrap::path::PathStep;
use idcbootstrap::{AttrPath, Detail, Error, ErrorCode};
use serde_json::{Map, Value};

use crate::event::RESERVED_PROPERTIES;
use crate::handler::{Failure, PropertyDetail};

/// `Custom::IdcBootstrapTemplate` property ↔ core input field.
pub(crate) const TEMPLATE_PROPERTIES: [(&str, &str); 12] = [
    ("AwsAccountId", "aws_account_id"),
    ("SsoInstanceArn", "sso_instance_arn"),
    ("Region", "region"),
    ("TrustedPrincipalArn", "trusted_principal_arn"),
    ("ExternalIds", "external_ids"),
    ("RoleName", "role_name"),
    ("RolePath", "role_path"),
    ("PermissionsBoundaryArn", "permissions_boundary_arn"),
    ("MaxSessionDuration", "max_session_duration"),
    ("Tags", "tags"),
    ("AccessLevel", "access_level"),
    ("TemplateUrl", "template_url"),
];

/// The property for a core field, if the field is in the table.
pub(crate) fn property_for_field(field: &str) -> Option<&'static str> {
    TEMPLATE_PROPERTIES.iter().find(|(_, f)| *f == field).map(|(p, _)| *p)
}

/// The core field for a property, if the property is in the table.
// The reverse direction lives with the table and is tested with it, which proves
// the mapping one-to-one; the handler itself only needs core → property.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn field_for_property(property: &str) -> Option<&'static str> {
    TEMPLATE_PROPERTIES.iter().find(|(p, _)| *p == property).map(|(_, f)| *f)
}

/// Map keys written bare after a dot (`Tags.cost-center`); anything else is
/// quoted (`Tags["a.b"]`) so the path reads back unambiguously.
fn is_bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | '=' | '+' | '@'))
}

/// Renders a path whose first step is a property name, template-style:
/// `Tags.env`, `Tags["a.b"]`, `ExternalIds[1]`.
pub(crate) fn display_property_path(path: &AttrPath) -> String {
    let mut out = String::new();
    for (i, step) in path.steps().iter().enumerate() {
        match step {
            PathStep::Attr(a) if i == 0 => out.push_str(a),
            PathStep::Attr(a) => {
                out.push('.');
                out.push_str(a);
            }
            PathStep::Index(n) => out.push_str(&format!("[{n}]")),
            PathStep::Key(k) if is_bare_key(k) => {
                out.push('.');
                out.push_str(k);
            }
            PathStep::Key(k) => out.push_str(&format!("[{}]", Value::from(k.as_str()))),
        }
    }
    out
}

/// Core path → template path (`tags["env"]` → `Tags.env`). A first step that is
/// not in the table is kept as is.
pub(crate) fn to_property_path(core: &AttrPath) -> String {
    let mut path = AttrPath::root();
    for (i, step) in core.steps().iter().enumerate() {
        path = match step {
            PathStep::Attr(a) if i == 0 => match property_for_field(a) {
                Some(p) => path.attr(p),
                None => path.attr(Cow::Owned(a.to_string())),
            },
            PathStep::Attr(a) => path.attr(Cow::Owned(a.to_string())),
            PathStep::Index(n) => path.index(*n),
            PathStep::Key(k) => path.key(k.clone()),
        };
    }
    display_property_path(&path)
}

/// Template path → core path (`Tags.env` → `tags["env"]`). `None` if the path is
/// malformed or does not start with a known property.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn to_core_path(property_path: &str) -> Option<AttrPath> {
    let end = property_path.find(['.', '[']).unwrap_or(property_path.len());
    let mut path = AttrPath::field(field_for_property(&property_path[..end])?);
    let mut rest = &property_path[end..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[\"") {
            // A quoted key: reuse the core's parser on `["..."]`.
            let close = find_closing_quote(r)?;
            let quoted = AttrPath::parse(&format!("x[\"{}\"]", &r[..close]))?;
            let Some(PathStep::Key(k)) = quoted.steps().get(1) else { return None };
            path = path.key(k.clone());
            rest = r[close + 1..].strip_prefix(']')?;
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            path = path.index(r[..close].parse().ok()?);
            rest = &r[close + 1..];
        } else {
            let r = rest.strip_prefix('.')?;
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if !is_bare_key(&r[..end]) {
                return None;
            }
            path = path.key(&r[..end]);
            rest = &r[end..];
        }
    }
    Some(path)
}

#[cfg_attr(not(test), allow(dead_code))]
fn find_closing_quote(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Replaces core field names in a core message with property names, so a
/// sentence like "region is not in the partition of sso_instance_arn" reads in
/// the template's vocabulary.
fn translate_message(message: &str) -> String {
    let mut out = message.to_owned();
    for (property, field) in TEMPLATE_PROPERTIES {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(pos) = rest.find(field) {
            let before = rest[..pos].chars().next_back();
            let after = rest[pos + field.len()..].chars().next();
            let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            result.push_str(&rest[..pos]);
            result.push_str(if ident(before) || ident(after) { field } else { property });
            rest = &rest[pos + field.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// A core detail, in the template's vocabulary.
pub(crate) fn translate_detail(d: &Detail) -> PropertyDetail {
    PropertyDetail {
        property: to_property_path(&d.field),
        rule: d.rule.clone(),
        message: translate_message(&d.message),
    }
}

/// A core error, in the template's vocabulary.
pub(crate) fn translate_error(e: &Error) -> Failure {
    let details: Vec<PropertyDetail> = e.details.iter().map(translate_detail).collect();
    let message = if e.code == ErrorCode::InvalidInput && !details.is_empty() {
        invalid_message(details.len())
    } else {
        translate_message(&e.message)
    };
    Failure { code: e.code, message, details }
}

pub(crate) fn invalid_message(n: usize) -> String {
    if n == 1 { "1 property is invalid".to_owned() } else { format!("{n} properties are invalid") }
}

/// Reads properties one by one, collecting every problem.
pub(crate) struct Props<'a> {
    map: &'a Map<String, Value>,
    pub(crate) details: Vec<PropertyDetail>,
}

impl<'a> Props<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Props { map, details: Vec::new() }
    }

    fn problem(&mut self, property: impl Into<String>, rule: &str, message: impl Into<String>) {
        self.details.push(PropertyDetail {
            property: property.into(),
            rule: rule.into(),
            message: message.into(),
        });
    }

    /// Reports every property that is neither in `known` nor added by CloudFormation.
    pub(crate) fn reject_unknown(&mut self, resource_type: &str, known: &[&str]) {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|k| !known.contains(&k.as_str()) && !RESERVED_PROPERTIES.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in unknown {
            let msg = format!("is not a property of {resource_type}; known properties: {}", known.join(", "));
            self.problem(k, "unknown", msg);
        }
    }

    /// A string property. The empty string counts as absent, since that is what a
    /// template passes on for an empty parameter. Numbers and booleans, which only
    /// a direct invocation could send, are accepted in their JSON spelling.
    pub(crate) fn string(&mut self, name: &str) -> Option<String> {
        match self.map.get(name)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
            _ => {
                self.problem(name, "type", "must be a string");
                None
            }
        }
    }

    /// A list of strings.
    pub(crate) fn string_list(&mut self, name: &str) -> Option<Vec<String>> {
        match self.map.get(name)? {
            Value::Null => None,
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        _ => self.problem(format!("{name}[{i}]"), "type", "must be a string"),
                    }
                }
                Some(out)
            }
            _ => {
                self.problem(name, "type", "must be a list of strings");
                None
            }
        }
    }

    /// A map of strings.
    pub(crate) fn string_map(&mut self, name: &str) -> Option<BTreeMap<String, String>> {
        match self.map.get(name)? {
            Value::Null => None,
            Value::Object(m) => {
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    match v {
                        Value::String(s) => {
                            out.insert(k.clone(), s.clone());
                        }
                        _ => {
                            let path =
                                display_property_path(&AttrPath::root().attr(name.to_owned()).key(k.clone()));
                            self.problem(path, "type", "must be a string");
                        }
                    }
                }
                Some(out)
            }
            _ => {
                self.problem(name, "type", "must be a map of strings");
                None
            }
        }
    }

    /// An integer property, parsed by the core's rule.
    pub(crate) fn integer(&mut self, name: &str, field: &'static str) -> Option<i64> {
        let s = self.string(name)?;
        match idcbootstrap::parse::integer(AttrPath::field(field), &s) {
            Ok(n) => Some(n),
            Err(d) => {
                self.details.push(translate_detail(&d));
                None
            }
        }
    }

    /// A boolean property (`"true"`/`"false"`), parsed by the core's rule.
    pub(crate) fn boolean(&mut self, name: &str) -> Option<bool> {
        let s = self.string(name)?;
        match idcbootstrap::parse::boolean(AttrPath::root().attr(name.to_owned()), &s) {
            Ok(b) => Some(b),
            Err(d) => {
                self.details.push(PropertyDetail {
                    property: name.to_owned(),
                    rule: d.rule,
                    message: d.message,
                });
                None
            }
        }
    }

    /// `Err` with every problem found so far, if any.
    pub(crate) fn finish(self) -> Result<(), Failure> {
        if self.details.is_empty() {
            Ok(())
        } else {
            Err(Failure {
                code: ErrorCode::InvalidInput,
                message: invalid_message(self.details.len()),
                details: self.details,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_covers_every_core_field_once() {
        let fields: Vec<&str> = idcbootstrap::spec::TEMPLATE.inputs().map(|f| f.name).collect();
        let mut mapped: Vec<&str> = TEMPLATE_PROPERTIES.iter().map(|(_, f)| *f).collect();
        let mut expected = fields.clone();
        mapped.sort_unstable();
        expected.sort_unstable();
        assert_eq!(mapped, expected);
        // PascalCase of the snake_case name, so the table holds no surprises.
        for (property, field) in TEMPLATE_PROPERTIES {
            let pascal: String = field
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
                })
                .collect();
            assert_eq!(property, pascal);
        }
    }

    /// (core path, template path): translated both ways.
    fn cases() -> Vec<(AttrPath, &'static str)> {
        vec![
            (AttrPath::field("aws_account_id"), "AwsAccountId"),
            (AttrPath::field("sso_instance_arn"), "SsoInstanceArn"),
            (AttrPath::field("external_ids").index(1), "ExternalIds[1]"),
            (AttrPath::field("tags").key("env"), "Tags.env"),
            (AttrPath::field("tags").key("cost-center:team"), "Tags.cost-center:team"),
            (AttrPath::field("tags").key("a.b"), "Tags[\"a.b\"]"),
            (AttrPath::field("tags").key("has space"), "Tags[\"has space\"]"),
            (AttrPath::field("tags").key("q\"uote]"), "Tags[\"q\\\"uote]\"]"),
            (AttrPath::field("tags").key(""), "Tags[\"\"]"),
            (AttrPath::field("max_session_duration"), "MaxSessionDuration"),
            (AttrPath::field("template_url"), "TemplateUrl"),
        ]
    }

    #[test]
    fn core_to_property() {
        for (core, property) in cases() {
            assert_eq!(to_property_path(&core), property, "{core}");
        }
        assert_eq!(to_property_path(&AttrPath::parse("tags[\"env\"]").unwrap()), "Tags.env");
    }

    #[test]
    fn property_to_core() {
        for (core, property) in cases() {
            assert_eq!(to_core_path(property), Some(core.clone()), "{property}");
        }
        assert_eq!(to_core_path("Tags.env").unwrap().to_string(), "tags[\"env\"]");
        for bad in ["Nope", "Tags.", "Tags[x]", "Tags[\"x", "tags.env", "Tags.a b", ""] {
            assert_eq!(to_core_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn messages_use_property_names() {
        assert_eq!(
            translate_message("region is not in the partition of sso_instance_arn (my_region stays)"),
            "Region is not in the partition of SsoInstanceArn (my_region stays)"
        );
    }

    #[test]
    fn decoding_collects_every_problem() {
        let map: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "Name": ["not", "a", "string"],
            "List": ["ok", 3],
            "Map": {"ok": "v", "bad key": {}},
            "Empty": "",
            "Num": 3600,
            "Bogus": "x",
        }))
        .unwrap();
        let mut p = Props::new(&map);
        assert_eq!(p.string("Name"), None);
        assert_eq!(p.string_list("List"), Some(vec!["ok".to_owned()]));
        assert_eq!(p.string_map("Map").map(|m| m.len()), Some(1));
        assert_eq!(p.string("Empty"), None);
        assert_eq!(p.string("Num").as_deref(), Some("3600"));
        assert_eq!(p.string("Missing"), None);
        p.reject_unknown("Custom::T", &["Name", "List", "Map", "Empty", "Num"]);
        let failure = p.finish().unwrap_err();
        let props: Vec<&str> = failure.details.iter().map(|d| d.property.as_str()).collect();
        assert_eq!(props, ["Name", "List[1]", "Map[\"bad key\"]", "Bogus"]);
        assert_eq!(failure.message, "4 properties are invalid");
    }
}
