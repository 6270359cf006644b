//! Typed attribute paths, built immutably and carried through decoding so an error
//! at `tags["env"]` names that attribute. Front-ends translate them at the edge
//! (tfplugin5 `AttributePath`, CloudFormation property names).

use std::borrow::Cow;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One step of an [`AttrPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An attribute (object field) name.
    Attr(Cow<'static, str>),
    /// A list element index.
    Index(usize),
    /// A map key.
    Key(String),
}

/// A path to an input attribute, e.g. `external_ids[1]` or `tags["env"]`.
///
/// Serialized as its display string. An empty path means the whole input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AttrPath {
    steps: Vec<PathStep>,
}

impl AttrPath {
    /// The empty path (the whole input).
    pub const fn root() -> Self {
        AttrPath { steps: Vec::new() }
    }

    /// A path of one attribute name.
    pub fn field(name: &'static str) -> Self {
        AttrPath::root().attr(name)
    }

    /// This path followed by attribute `name`.
    #[must_use]
    pub fn attr(&self, name: impl Into<Cow<'static, str>>) -> Self {
        self.with(PathStep::Attr(name.into()))
    }

    /// This path followed by list index `i`.
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        self.with(PathStep::Index(i))
    }

    /// This path followed by map key `k`.
    #[must_use]
    pub fn key(&self, k: impl Into<String>) -> Self {
        self.with(PathStep::Key(k.into()))
    }

    fn with(&self, step: PathStep) -> Self {
        let mut steps = Vec::with_capacity(self.steps.len() + 1);
        steps.extend_from_slice(&self.steps);
        steps.push(step);
        AttrPath { steps }
    }

    /// The steps, outermost first.
    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }

    /// The first attribute name, if the path starts with one.
    pub fn top_level(&self) -> Option<&str> {
        match self.steps.first() {
            Some(PathStep::Attr(a)) => Some(a),
            _ => None,
        }
    }

    /// Whether this is the whole input.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// Parses the display form back (`a.b[0]["k"]`). Returns `None` if malformed.
    pub fn parse(s: &str) -> Option<Self> {
        let mut steps = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("[\"") {
                // Map key: JSON string escapes, ends at the first unescaped `"]`.
                let mut end = None;
                let bytes = r.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            end = Some(i);
                            break;
                        }
                        _ => i += 1,
                    }
                }
                let end = end?;
                let key: String = serde_json::from_str(&format!("\"{}\"", &r[..end])).ok()?;
                steps.push(PathStep::Key(key));
                rest = r[end + 1..].strip_prefix(']')?;
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']')?;
                steps.push(PathStep::Index(r[..end].parse().ok()?));
                rest = &r[end + 1..];
            } else {
                let r = if steps.is_empty() { rest } else { rest.strip_prefix('.')? };
                let end = r.find(['.', '[']).unwrap_or(r.len());
                // Paths also arrive from the vendor API's error details, and a name is
                // printed raw (map keys are printed escaped): no control characters,
                // so no such text can rewrite a terminal line or a log entry.
                if end == 0 || r[..end].chars().any(char::is_control) {
                    return None;
                }
                steps.push(PathStep::Attr(Cow::Owned(r[..end].to_owned())));
                rest = &r[end..];
            }
        }
        Some(AttrPath { steps })
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attr(a) if i == 0 => f.write_str(a)?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
                // JSON escaping keeps quotes and control characters in keys unambiguous.
                PathStep::Key(k) => write!(f, "[{}]", serde_json::Value::from(k.as_str()))?,
            }
        }
        Ok(())
    }
}

impl Serialize for AttrPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AttrPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AttrPath::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("malformed attribute path {s:?}")))
    }
}

impl JsonSchema for AttrPath {
    fn schema_name() -> Cow<'static, str> {
        "AttrPath".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Path to an input attribute, e.g. `external_ids[1]` or `tags[\"env\"]`."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let cases = [
            AttrPath::field("region"),
            AttrPath::field("external_ids").index(1),
            AttrPath::field("tags").key("env"),
            AttrPath::field("tags").key("we\"ird]\n"),
            AttrPath::field("a").attr("b").index(0).key(""),
            AttrPath::root(),
        ];
        for p in cases {
            let s = p.to_string();
            assert_eq!(AttrPath::parse(&s), Some(p.clone()), "{s}");
        }
        assert_eq!(AttrPath::field("tags").key("env").to_string(), "tags[\"env\"]");
    }

    #[test]
    fn malformed_paths_are_rejected() {
        for s in ["[", "a[x]", "a..b", "a[\"x", ".a", "a\u{1b}[2K", "a.b\r", "tags[\"k\"].x\n"] {
            assert_eq!(AttrPath::parse(s), None, "{s}");
        }
    }
}
