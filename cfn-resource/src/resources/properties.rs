//! CloudFormation properties ↔ core fields, read from the core's spec
//! ([`idcbootstrap::spec`]): a property is a [`Field`] with a `cfn` name, and its
//! type, presence, default, description and rule are the field's. Nothing about a
//! field is written here; this module only knows how CloudFormation sends values
//! (strings, lists and maps of strings) and how its paths are spelled.
//!
//! One [`Table`] per type serves everything: decoding a request's properties into
//! the core's snake_case fields, the function's environment defaults
//! (`IDCBOOTSTRAP_<NAME>`, like the provider's), translating the core's paths and
//! messages back into property names (`tags["env"]` → `Tags.env`,
//! `sso_instance_arn` → `SsoInstanceArn`), and `bootstrap --describe`.

use std::collections::BTreeMap;

use idcbootstrap::path::PathStep;
use idcbootstrap::spec::{self, Field, Presence, ResourceSpec, Type};
use idcbootstrap::{AttrPath, Detail, Error, ErrorCode};
use serde_json::{Map, Value, json};

use crate::config::ConfigError;
use crate::event::RESERVED_PROPERTIES;
use crate::handler::{Failure, MAX_DETAILS, PropertyDetail};

/// The properties and attributes of one `Custom::` type: a resource of the spec,
/// plus fields only CloudFormation has.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    spec: &'static ResourceSpec,
    extra: &'static [Field],
    /// Inputs the function takes from its configuration only (core field names).
    settings: &'static [&'static str],
}

impl Table {
    pub(crate) const fn new(spec: &'static ResourceSpec, extra: &'static [Field]) -> Table {
        Table { spec, extra, settings: &[] }
    }

    /// The same table with `fields` (core names) taken from the function's
    /// configuration (`IDCBOOTSTRAP_<NAME>`) and never from a stack: a property
    /// naming one is refused. For what decides where the function sends secrets.
    pub(crate) const fn with_settings(mut self, fields: &'static [&'static str]) -> Table {
        self.settings = fields;
        self
    }

    /// The `ResourceType`.
    pub(crate) fn resource_type(&self) -> &'static str {
        self.spec.cloudformation.unwrap_or(self.spec.key)
    }

    fn fields(&self) -> impl Iterator<Item = &'static Field> + use<> {
        let (spec, extra) = (self.spec, self.extra);
        spec.fields.iter().chain(extra.iter()).filter(|f| f.cfn.is_some())
    }

    /// The properties, in the spec's order.
    pub(crate) fn properties(&self) -> impl Iterator<Item = &'static Field> + use<> {
        let settings = self.settings;
        self.fields().filter(move |f| f.is_input() && !settings.contains(&f.name))
    }

    /// The inputs only the function's configuration sets (see [`Table::with_settings`]).
    pub(crate) fn settings(&self) -> impl Iterator<Item = &'static Field> + use<> {
        let settings = self.settings;
        self.fields().filter(move |f| f.is_input() && settings.contains(&f.name))
    }

    /// The variable of a setting: the provider's setting of the same name.
    fn setting_var(field: &Field) -> String {
        field.env_var()
    }

    /// The `Fn::GetAtt` attributes, in the spec's order.
    pub(crate) fn attributes(&self) -> impl Iterator<Item = &'static Field> + use<> {
        self.fields().filter(|f| !f.is_input())
    }

    /// The property of the core field `name`. A duration field also answers to
    /// `<name>_seconds`, the name the core's requests give its whole seconds.
    fn property_for_field(&self, name: &str) -> Option<&'static str> {
        self.properties()
            .find(|f| {
                f.name == name || (f.ty == Type::Duration && name.strip_suffix("_seconds") == Some(f.name))
            })
            .and_then(|f| f.cfn)
    }

    /// The field behind a property.
    pub(crate) fn field_for_property(&self, property: &str) -> Option<&'static Field> {
        self.properties().find(|f| f.cfn == Some(property))
    }

    /// The environment variable that gives `field` a default when the property is
    /// absent: the provider's setting of the same name, `IDCBOOTSTRAP_<NAME>`.
    pub(crate) fn env_default(field: &Field) -> Option<String> {
        (field.fallback && spec::PROVIDER.field(field.name).is_some()).then(|| field.env_var())
    }

    /// Core path → property path (`tags["env"]` → `Tags.env`). A first step that
    /// is not a property is kept as is.
    pub(crate) fn property_path(&self, core: &AttrPath) -> String {
        let mut path = AttrPath::root();
        for (i, step) in core.steps().iter().enumerate() {
            path = match step {
                PathStep::Attr(a) if i == 0 => match self.property_for_field(a) {
                    Some(p) => path.attr(p),
                    None => match self.settings().find(|f| f.name == a.as_ref()) {
                        Some(f) => path.attr(Table::setting_var(f)),
                        None => path.attr(a.to_string()),
                    },
                },
                PathStep::Attr(a) => path.attr(a.to_string()),
                PathStep::Index(n) => path.index(*n),
                PathStep::Key(k) => path.key(k.clone()),
            };
        }
        display_property_path(&path)
    }

    /// Property path → core path (`Tags.env` → `tags["env"]`). `None` if the path
    /// is malformed or does not start with a property.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn core_path(&self, property_path: &str) -> Option<AttrPath> {
        let end = property_path.find(['.', '[']).unwrap_or(property_path.len());
        let mut path = AttrPath::field(self.field_for_property(&property_path[..end])?.name);
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

    /// Core field names in a core sentence become property names, so "region is
    /// not in the partition of sso_instance_arn" reads in the template's words;
    /// longer identifiers that merely contain one are left alone.
    pub(crate) fn translate_message(&self, message: &str) -> String {
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let mut out = message.to_owned();
        let settings = self.settings().map(|f| (f, Table::setting_var(f)));
        let properties = self.properties().map(|f| (f, f.cfn.unwrap_or(f.name).to_owned()));
        for (f, property) in properties.chain(settings) {
            let property = property.as_str();
            let seconds = format!("{}_seconds", f.name);
            let names: &[&str] = if f.ty == Type::Duration { &[&seconds, f.name] } else { &[f.name] };
            for name in names {
                let mut result = String::with_capacity(out.len());
                let mut rest = out.as_str();
                while let Some(pos) = rest.find(name) {
                    let before = rest[..pos].chars().next_back();
                    let after = rest[pos + name.len()..].chars().next();
                    result.push_str(&rest[..pos]);
                    result.push_str(if ident(before) || ident(after) { name } else { property });
                    rest = &rest[pos + name.len()..];
                }
                result.push_str(rest);
                out = result;
            }
        }
        out
    }

    /// A core detail, in property names.
    pub(crate) fn translate_detail(&self, d: &Detail) -> PropertyDetail {
        PropertyDetail {
            property: self.property_path(&d.field),
            rule: d.rule.clone(),
            message: self.translate_message(&d.message),
        }
    }

    /// A core error, in property names: its notices joined to the message.
    /// At most [`MAX_DETAILS`] details are kept; the message counts them all.
    pub(crate) fn translate_error(&self, e: &Error) -> Failure {
        let details: Vec<PropertyDetail> =
            e.details.iter().take(MAX_DETAILS).map(|d| self.translate_detail(d)).collect();
        let mut message = if e.code == ErrorCode::InvalidInput && !details.is_empty() {
            invalid_message(e.details.len())
        } else {
            self.translate_message(&e.message)
        };
        for notice in &e.notices {
            message.push_str("; ");
            message.push_str(&self.translate_message(notice));
        }
        Failure { code: e.code, message, details }
    }

    /// Reads the environment defaults of this type's properties through `get`.
    /// Values follow the provider's spelling: lists and maps as JSON, durations as
    /// `2m`, `90s` or seconds; empty is unset.
    ///
    /// # Errors
    ///
    /// The first variable that is set but cannot be read as its field's type.
    pub(crate) fn env_defaults(&self, get: &dyn Fn(&str) -> Option<String>) -> Result<Defaults, ConfigError> {
        let mut values = BTreeMap::new();
        for f in self.properties().chain(self.settings()) {
            let Some(var) = Table::env_default(f) else { continue };
            let Some(text) = get(&var).filter(|v| !v.trim().is_empty()) else { continue };
            let value =
                env_value(f.ty, &text).map_err(|problem| ConfigError { variable: var.clone(), problem })?;
            values.insert(f.name, (value, var));
        }
        Ok(Defaults { values })
    }

    /// Decodes `properties` into the core's fields (snake_case names, JSON values
    /// typed as the spec says), filling absent ones from `defaults`. Every problem
    /// is collected, each named by its property.
    /// Unknown properties past the first [`MAX_DETAILS`] are counted, not kept.
    pub(crate) fn decode(&self, properties: &Map<String, Value>, defaults: &Defaults) -> Decoded {
        let mut d = Decoded { values: Map::new(), details: Vec::new(), from_env: Vec::new(), omitted: 0 };
        let known: Vec<&str> = self.properties().filter_map(|f| f.cfn).collect();
        for k in properties.keys() {
            if let Some(f) = self.settings().find(|f| f.cfn == Some(k.as_str())) {
                d.details.push(PropertyDetail {
                    property: k.clone(),
                    rule: "configuration".into(),
                    message: format!(
                        "cannot be set by a stack: the function takes it from its configuration ({}), so that \
                         no stack chooses where the function sends credentials and external IDs",
                        Table::setting_var(f)
                    ),
                });
                continue;
            }
            if !known.contains(&k.as_str()) && !RESERVED_PROPERTIES.contains(&k.as_str()) {
                if d.details.len() >= MAX_DETAILS / 2 {
                    d.omitted += 1;
                    continue;
                }
                d.details.push(PropertyDetail {
                    property: k.clone(),
                    rule: "unknown".into(),
                    message: format!(
                        "is not a property of {}; known properties: {}",
                        self.resource_type(),
                        known.join(", ")
                    ),
                });
            }
        }
        for f in self.properties() {
            let property = f.cfn.unwrap_or(f.name);
            match properties.get(property).and_then(|v| self.read(f, property, v, &mut d.details)) {
                Some(v) => {
                    d.values.insert(f.name.to_owned(), v);
                }
                None if properties.get(property).is_none_or(is_absent) => {
                    if let Some((v, var)) = defaults.values.get(f.name) {
                        d.values.insert(f.name.to_owned(), v.clone());
                        d.from_env.push((property, var.clone()));
                    }
                }
                None => {}
            }
        }
        for f in self.settings() {
            if let Some((v, _)) = defaults.values.get(f.name) {
                d.values.insert(f.name.to_owned(), v.clone());
            }
        }
        if d.details.len() > MAX_DETAILS {
            d.omitted += d.details.len() - MAX_DETAILS;
            d.details.truncate(MAX_DETAILS);
        }
        d
    }

    /// One property's value as the core's JSON, or `None` (absent, or a problem,
    /// which is recorded).
    fn read(&self, f: &Field, property: &str, v: &Value, details: &mut Vec<PropertyDetail>) -> Option<Value> {
        let mut problem = |path: String, rule: &str, message: &str| {
            details.push(PropertyDetail { property: path, rule: rule.into(), message: message.into() });
        };
        match f.ty {
            Type::StringList => match v {
                Value::Null => None,
                // CloudFormation's `CommaDelimitedList` spelling.
                Value::String(s) if s.is_empty() => None,
                Value::String(s) => Some(json!(idcbootstrap::parse::comma_list(s))),
                Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        match item {
                            Value::String(s) => out.push(Value::from(s.as_str())),
                            _ => problem(format!("{property}[{i}]"), "type", "must be a string"),
                        }
                    }
                    Some(Value::Array(out))
                }
                _ => {
                    problem(property.to_owned(), "type", "must be a list of strings");
                    None
                }
            },
            Type::StringMap => match v {
                Value::Null => None,
                Value::Object(m) => {
                    let mut out = Map::new();
                    for (k, item) in m {
                        match item {
                            Value::String(s) => {
                                out.insert(k.clone(), Value::from(s.as_str()));
                            }
                            _ => {
                                let path = AttrPath::root().attr(property.to_owned()).key(k.clone());
                                problem(display_property_path(&path), "type", "must be a string");
                            }
                        }
                    }
                    Some(Value::Object(out))
                }
                _ => {
                    problem(property.to_owned(), "type", "must be a map of strings");
                    None
                }
            },
            _ => {
                let s = match v {
                    Value::String(s) if s.is_empty() => return None,
                    Value::String(s) => s.clone(),
                    // Only a direct invocation sends these; read their JSON spelling.
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => return None,
                    _ => {
                        problem(property.to_owned(), "type", "must be a string");
                        return None;
                    }
                };
                let path = AttrPath::field(f.name);
                let parsed = match f.ty {
                    Type::Integer => idcbootstrap::parse::integer(path, &s).map(Value::from),
                    Type::Bool => idcbootstrap::parse::boolean(path, &s).map(Value::from),
                    Type::Duration => match idcbootstrap::parse::integer(path.clone(), &s) {
                        Ok(n) if n >= 0 => Ok(Value::from(n)),
                        Ok(_) => {
                            Err(Detail::new(path, "range", "must be a whole number of seconds, 0 or more"))
                        }
                        Err(e) => Err(e),
                    },
                    _ => Ok(Value::from(s)),
                };
                match parsed {
                    Ok(v) => Some(v),
                    Err(d) => {
                        details.push(self.translate_detail(&d));
                        None
                    }
                }
            }
        }
    }

    /// This type for `bootstrap --describe`: every property with its field's
    /// documentation, and the attributes.
    pub(crate) fn describe(&self) -> Value {
        let properties: Vec<Value> = self
            .properties()
            .map(|f| {
                let env = Table::env_default(f);
                let mut rule = f.rule.unwrap_or_default().to_owned();
                if let Some(var) = &env {
                    if !rule.is_empty() {
                        rule.push(' ');
                    }
                    rule.push_str(&format!("Without the property: the function's `{var}`, if set."));
                }
                json!({
                    "name": f.cfn,
                    "core_field": f.name,
                    "required": f.presence == Presence::Required && env.is_none(),
                    "default": default_of(f),
                    "description": f.description,
                    "rule": rule,
                    "secret": f.sensitive,
                    "env_var": env,
                })
            })
            .collect();
        let settings: Vec<Value> = self
            .settings()
            .map(|f| {
                json!({
                    "env_var": Table::setting_var(f),
                    "core_field": f.name,
                    "description": f.description,
                    "rule": f.rule.unwrap_or_default(),
                })
            })
            .collect();
        let attributes: Vec<&str> = self.attributes().filter_map(|f| f.cfn).collect();
        let attribute_docs: Vec<Value> = self
            .attributes()
            .map(|f| json!({"name": f.cfn, "description": f.description, "secret": f.sensitive}))
            .collect();
        json!({
            "type": self.resource_type(),
            "description": self.spec.description,
            "properties": properties,
            "settings": settings,
            "attributes": attributes,
            "attribute_docs": attribute_docs,
        })
    }
}

/// The default as a CloudFormation property spells it (durations in seconds).
fn default_of(f: &Field) -> Option<String> {
    let d = f.default?;
    match f.ty {
        Type::Duration => idcbootstrap::parse::duration(d).map(|d| d.as_secs().to_string()),
        _ => Some(d.to_owned()),
    }
}

fn is_absent(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// An environment default as the core's JSON.
fn env_value(ty: Type, text: &str) -> Result<Value, String> {
    let path = AttrPath::root();
    match ty {
        Type::Integer => idcbootstrap::parse::integer(path, text)
            .map(Value::from)
            .map_err(|_| "must be a whole number".to_owned()),
        Type::Bool => idcbootstrap::parse::boolean(path, text)
            .map(Value::from)
            .map_err(|_| "must be true or false".to_owned()),
        Type::Duration => {
            idcbootstrap::parse::duration(text).map(|d| Value::from(d.as_secs())).ok_or_else(|| {
                "must be a duration such as `2m`, `90s` or `1h30m`, or a number of seconds".to_owned()
            })
        }
        Type::StringList => serde_json::from_str::<Vec<String>>(text)
            .map(|v| json!(v))
            .map_err(|_| "must be a JSON list of strings, e.g. [\"a\",\"b\"]".to_owned()),
        Type::StringMap => serde_json::from_str::<BTreeMap<String, String>>(text)
            .map(|m| json!(m))
            .map_err(|_| "must be a JSON object of strings, e.g. {\"team\":\"platform\"}".to_owned()),
        _ => Ok(Value::from(text)),
    }
}

/// Environment defaults of one type, read once at init: core field → (value, variable).
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    values: BTreeMap<&'static str, (Value, String)>,
}

/// Decoded properties.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// Core field → value, for the fields that are present (or defaulted).
    pub(crate) values: Map<String, Value>,
    /// Every problem found while decoding.
    pub(crate) details: Vec<PropertyDetail>,
    /// Properties taken from the environment: (property, variable).
    from_env: Vec<(&'static str, String)>,
    /// Problems counted but not kept in `details` (see [`MAX_DETAILS`]).
    omitted: usize,
}

impl Decoded {
    /// A string field.
    pub(crate) fn string(&self, field: &str) -> Option<String> {
        self.values.get(field).and_then(Value::as_str).map(str::to_owned)
    }

    /// Whether `property` (a CloudFormation name) was absent and took the
    /// function's environment default.
    pub(crate) fn took_env_default(&self, property: &str) -> bool {
        self.from_env.iter().any(|(p, _)| *p == property)
    }

    /// An integer (or duration, in seconds) field.
    pub(crate) fn integer(&self, field: &str) -> Option<i64> {
        self.values.get(field).and_then(Value::as_i64)
    }

    /// A boolean field.
    pub(crate) fn boolean(&self, field: &str) -> Option<bool> {
        self.values.get(field).and_then(Value::as_bool)
    }

    /// A list-of-strings field.
    pub(crate) fn string_list(&self, field: &str) -> Option<Vec<String>> {
        let items = self.values.get(field)?.as_array()?;
        Some(items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
    }

    /// The decoding problems and the validator's, as one failure. A property that
    /// failed decoding is absent for the validator, which then calls it `required`:
    /// only the decoding problem is kept. A problem with a value that came from the
    /// environment says so.
    ///
    /// At most [`MAX_DETAILS`] details are kept; the message counts every problem.
    pub(crate) fn merge(&self, validated: Option<Failure>) -> Result<(), Failure> {
        let mut details = self.details.clone();
        let mut omitted = self.omitted;
        match validated {
            Some(v) if v.code != ErrorCode::InvalidInput => return Err(v),
            Some(v) => {
                // The validator counted what it did not keep.
                let counted = parse_count(&v.message).unwrap_or(v.details.len());
                omitted += counted.saturating_sub(v.details.len());
                for d in v.details {
                    if details.iter().any(|x| x.property == d.property) {
                        continue;
                    }
                    if details.len() >= MAX_DETAILS {
                        omitted += 1;
                    } else {
                        details.push(d);
                    }
                }
            }
            None => {}
        }
        if details.is_empty() {
            return Ok(());
        }
        for d in &mut details {
            let head = d.property.split(['.', '[']).next().unwrap_or_default();
            if let Some((_, var)) = self.from_env.iter().find(|(p, _)| *p == head) {
                d.message.push_str(&format!(" (the value comes from the function's {var})"));
            }
        }
        let mut message = invalid_message(details.len() + omitted);
        if omitted > 0 {
            message.push_str(&format!(" (the first {} are named)", details.len()));
        }
        Err(Failure { code: ErrorCode::InvalidInput, message, details })
    }
}

/// The count at the start of [`invalid_message`]'s sentence.
fn parse_count(message: &str) -> Option<usize> {
    let (n, rest) = message.split_once(' ')?;
    (rest.starts_with("property is invalid") || rest.starts_with("properties are invalid"))
        .then(|| n.parse().ok())
        .flatten()
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

/// `1 property is invalid`, `N properties are invalid`.
pub(crate) fn invalid_message(n: usize) -> String {
    if n == 1 { "1 property is invalid".to_owned() } else { format!("{n} properties are invalid") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: Table = Table::new(&spec::TEMPLATE, spec::TEMPLATE_CLOUDFORMATION_ONLY);
    const CHECK: Table = Table::new(&spec::CONNECTIVITY_CHECK, &[]);

    #[test]
    fn every_template_input_is_a_property_and_each_name_is_the_pascal_case_of_its_field() {
        let mut fields: Vec<&str> = TEMPLATE.properties().map(|f| f.name).collect();
        let mut expected: Vec<&str> = spec::TEMPLATE.inputs().map(|f| f.name).collect();
        expected.push("permissions_policy_part");
        fields.sort_unstable();
        expected.sort_unstable();
        assert_eq!(fields, expected);
        for f in TEMPLATE.properties() {
            let pascal: String = f
                .name
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
                })
                .collect();
            assert_eq!(f.cfn, Some(pascal.as_str()));
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
            (AttrPath::field("permissions_policy_part"), "PermissionsPolicyPart"),
        ]
    }

    #[test]
    fn core_to_property() {
        for (core, property) in cases() {
            assert_eq!(TEMPLATE.property_path(&core), property, "{core}");
        }
        assert_eq!(TEMPLATE.property_path(&AttrPath::parse("tags[\"env\"]").unwrap()), "Tags.env");
        // The check's core request counts durations in seconds.
        assert_eq!(
            CHECK.property_path(&AttrPath::field("propagation_timeout_seconds")),
            "PropagationTimeout"
        );
        assert_eq!(CHECK.property_path(&AttrPath::field("role_arn")), "RoleArn");
        assert_eq!(CHECK.property_path(&AttrPath::field("nope")), "nope");
    }

    #[test]
    fn property_to_core() {
        for (core, property) in cases() {
            assert_eq!(TEMPLATE.core_path(property), Some(core.clone()), "{property}");
        }
        assert_eq!(TEMPLATE.core_path("Tags.env").unwrap().to_string(), "tags[\"env\"]");
        for bad in ["Nope", "Tags.", "Tags[x]", "Tags[\"x", "tags.env", "Tags.a b", ""] {
            assert_eq!(TEMPLATE.core_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn messages_use_property_names() {
        assert_eq!(
            TEMPLATE
                .translate_message("region is not in the partition of sso_instance_arn (my_region stays)"),
            "Region is not in the partition of SsoInstanceArn (my_region stays)"
        );
        assert_eq!(
            CHECK.translate_message("propagation_timeout_seconds: too long; role_arn"),
            "PropagationTimeout: too long; RoleArn"
        );
    }

    fn map(v: Value) -> Map<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn decoding_collects_every_problem() {
        let d = TEMPLATE.decode(
            &map(json!({
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "AwsAccountId": ["not", "a", "string"],
                "ExternalIds": ["ok", 3],
                "Tags": {"ok": "v", "bad key": {}},
                "RoleName": "",
                "MaxSessionDuration": 3600,
                "Bogus": "x",
            })),
            &Defaults::default(),
        );
        let props: Vec<&str> = d.details.iter().map(|d| d.property.as_str()).collect();
        assert_eq!(props, ["Bogus", "AwsAccountId", "ExternalIds[1]", "Tags[\"bad key\"]"]);
        assert_eq!(d.values["external_ids"], json!(["ok"]));
        assert_eq!(d.values["max_session_duration"], json!(3600));
        assert!(!d.values.contains_key("role_name"), "empty is absent");
        let f = d.merge(None).unwrap_err();
        assert_eq!(f.message, "4 properties are invalid");
    }

    #[test]
    fn lists_also_come_comma_separated_and_numbers_are_parsed() {
        let d = TEMPLATE.decode(
            &map(json!({"ExternalIds": "aa, bb", "MaxSessionDuration": " 7200 "})),
            &Defaults::default(),
        );
        assert!(d.details.is_empty(), "{:?}", d.details);
        assert_eq!(d.values["external_ids"], json!(["aa", "bb"]));
        assert_eq!(d.integer("max_session_duration"), Some(7200));
        let bad = TEMPLATE.decode(&map(json!({"MaxSessionDuration": "an hour"})), &Defaults::default());
        assert_eq!(bad.details[0].property, "MaxSessionDuration");
        assert_eq!(bad.details[0].rule, "integer");
    }

    /// An event of thousands of unknown properties: the problems are counted, and
    /// only the first few are kept and named.
    #[test]
    fn thousands_of_unknown_properties_are_counted_not_collected() {
        let mut props = Map::new();
        for i in 0..10_000 {
            props.insert(format!("UnknownProperty{i:05}"), json!("x"));
        }
        let d = TEMPLATE.decode(&props, &Defaults::default());
        assert!(d.details.len() <= 50, "{} details kept", d.details.len());
        let f = d.merge(None).unwrap_err();
        assert!(f.message.starts_with("10000 properties are invalid"), "{}", f.message);
        assert!(f.details.len() <= 50, "{} details kept", f.details.len());
        assert!(f.reason().len() <= 4096);
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn environment_defaults_fill_absent_properties_and_a_property_wins() {
        let defaults = TEMPLATE
            .env_defaults(&env(&[
                ("IDCBOOTSTRAP_TEMPLATE_URL", "https://example.com/t.yaml"),
                ("IDCBOOTSTRAP_ROLE_NAME", "FromEnv"),
                ("IDCBOOTSTRAP_TAGS", r#"{"team":"platform"}"#),
                ("IDCBOOTSTRAP_MAX_SESSION_DURATION", "7200"),
                ("IDCBOOTSTRAP_ACCESS_LEVEL", ""),
                // Not a template default: the check's.
                ("IDCBOOTSTRAP_REGION", "eu-west-1"),
            ]))
            .unwrap();
        let d = TEMPLATE.decode(&map(json!({"RoleName": "FromProperty"})), &defaults);
        assert_eq!(d.string("template_url").as_deref(), Some("https://example.com/t.yaml"));
        assert_eq!(d.string("role_name").as_deref(), Some("FromProperty"));
        assert_eq!(d.values["tags"], json!({"team": "platform"}));
        assert_eq!(d.integer("max_session_duration"), Some(7200));
        assert!(!d.values.contains_key("access_level"), "empty is unset");
        assert!(!d.values.contains_key("region"));

        let check = CHECK
            .env_defaults(&env(&[
                ("IDCBOOTSTRAP_REGION", "eu-west-1"),
                ("IDCBOOTSTRAP_PROPAGATION_TIMEOUT", "2m"),
            ]))
            .unwrap();
        let d = CHECK.decode(&Map::new(), &check);
        assert_eq!(d.string("region").as_deref(), Some("eu-west-1"));
        assert_eq!(d.integer("propagation_timeout"), Some(120));
    }

    #[test]
    fn a_bad_environment_default_names_its_variable_and_a_bad_value_says_where_it_came_from() {
        let e = TEMPLATE.env_defaults(&env(&[("IDCBOOTSTRAP_TAGS", "team=platform")])).unwrap_err();
        assert_eq!(e.variable, "IDCBOOTSTRAP_TAGS");
        let e = TEMPLATE.env_defaults(&env(&[("IDCBOOTSTRAP_MAX_SESSION_DURATION", "1h")])).unwrap_err();
        assert_eq!(e.variable, "IDCBOOTSTRAP_MAX_SESSION_DURATION");

        let defaults = TEMPLATE.env_defaults(&env(&[("IDCBOOTSTRAP_ROLE_NAME", "bad name!")])).unwrap();
        let d = TEMPLATE.decode(&Map::new(), &defaults);
        let validated = PropertyDetail {
            property: "RoleName".into(),
            rule: "pattern".into(),
            message: "RoleName: letters only".into(),
        };
        let f = d
            .merge(Some(Failure {
                code: ErrorCode::InvalidInput,
                message: String::new(),
                details: vec![validated],
            }))
            .unwrap_err();
        assert!(
            f.details[0].message.ends_with("(the value comes from the function's IDCBOOTSTRAP_ROLE_NAME)")
        );
    }

    /// For every type served: `--describe` lists exactly the spec's inputs that
    /// have a CloudFormation name (less the function's settings), each with its
    /// own field's description, and decoding accepts each one it lists; a setting
    /// is refused as a property. The expectation is read from the spec directly,
    /// not from the table under test.
    #[test]
    fn describe_covers_every_property() {
        for table in super::super::TABLES {
            let t = table.describe();
            let name = table.resource_type();
            let inputs: Vec<&Field> = table
                .spec
                .fields
                .iter()
                .chain(table.extra)
                .filter(|f| f.is_input() && f.cfn.is_some())
                .collect();
            let mut want: Vec<&str> =
                inputs.iter().filter(|f| !table.settings.contains(&f.name)).filter_map(|f| f.cfn).collect();
            let described = t["properties"].as_array().unwrap();
            let mut got: Vec<&str> = described.iter().map(|p| p["name"].as_str().unwrap()).collect();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "{name}");
            for p in described {
                let property = p["name"].as_str().unwrap();
                let field = inputs.iter().find(|f| f.cfn == Some(property)).unwrap();
                assert_eq!(p["core_field"], field.name, "{name}.{property}");
                assert_eq!(p["description"], field.description, "{name}.{property}: another field's text");
                let d = table.decode(&map(json!({ property: "x" })), &Defaults::default());
                assert!(
                    d.details.iter().all(|x| x.property != property || x.rule != "unknown"),
                    "{name}.{property} is described but refused as unknown"
                );
            }
            for s in t["settings"].as_array().unwrap() {
                let field = inputs.iter().find(|f| f.name == s["core_field"]).unwrap();
                assert_eq!(s["description"], field.description, "{name}.{}", field.name);
                let d = table
                    .decode(&map(json!({ field.cfn.unwrap(): "https://x.example" })), &Defaults::default());
                assert_eq!(d.details[0].rule, "configuration", "{name}.{}", field.name);
            }
        }
    }

    #[test]
    fn describe_reads_the_spec() {
        let t = TEMPLATE.describe();
        assert_eq!(t["type"], "Custom::IdcBootstrapTemplate");
        let role = t["properties"].as_array().unwrap().iter().find(|p| p["name"] == "RoleName").unwrap();
        assert_eq!(role["description"], spec::TEMPLATE.field("role_name").unwrap().description);
        assert_eq!(role["default"], spec::TEMPLATE.field("role_name").unwrap().default.unwrap());
        assert_eq!(role["env_var"], "IDCBOOTSTRAP_ROLE_NAME");
        let ids = t["properties"].as_array().unwrap().iter().find(|p| p["name"] == "ExternalIds").unwrap();
        assert_eq!((ids["required"].as_bool(), ids["secret"].as_bool()), (Some(true), Some(true)));
        assert!(t["attributes"].as_array().unwrap().contains(&json!("PermissionsPolicyParts")));
        let c = CHECK.describe();
        let timeout =
            c["properties"].as_array().unwrap().iter().find(|p| p["name"] == "PropagationTimeout").unwrap();
        assert_eq!(timeout["default"], "120", "CloudFormation counts seconds");
        let names: Vec<&str> =
            c["properties"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
        assert!(
            !names.contains(&"Profile") && !names.contains(&"Triggers"),
            "no CloudFormation name: {names:?}"
        );
    }
}
