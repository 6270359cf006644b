//! Request bodies: JSON objects decoded field by field, so that a wrong type, an
//! unknown field and a broken rule are all reported at once, each naming its field
//! (the core's decode-raw-then-validate-once, at the HTTP edge).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use idcbootstrap::{AttrPath, Detail};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Reads the body as a JSON object.
///
/// An empty body is `None` (for endpoints whose body is optional) whatever its
/// media type; a non-empty one must be `application/json` (or `…+json`).
///
/// # Errors
///
/// `payload_too_large` over `limit`; `unsupported_media_type`; `invalid_input` for
/// malformed JSON or a body that is not an object.
pub async fn read_object(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Option<Map<String, Value>>, ApiError> {
    let declared_json = headers.get(header::CONTENT_TYPE).map(|v| {
        v.to_str().ok().and_then(|s| s.split(';').next()).is_some_and(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
    });
    if let Some(len) =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > limit
    {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| ApiError::PayloadTooLarge { limit })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if declared_json != Some(true) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        // serde_json's syntax errors name a position, never a value.
        ApiError::invalid(vec![Detail::new(
            AttrPath::root(),
            "json",
            format!("the body is not valid JSON: {e}"),
        )])
    })?;
    match value {
        Value::Object(m) => Ok(Some(m)),
        _ => Err(ApiError::invalid(vec![Detail::new(
            AttrPath::root(),
            "type",
            "the body must be a JSON object",
        )])),
    }
}

/// A JSON object being decoded: each accessor takes a field out and records a
/// detail when its type is wrong; [`Fields::finish`] reports unknown fields.
#[derive(Debug)]
pub struct Fields {
    map: Map<String, Value>,
    /// Every problem found so far.
    pub details: Vec<Detail>,
}

fn type_detail(name: &str, want: &str) -> Detail {
    // The value is not echoed: it may be a secret pasted into the wrong field.
    Detail::new(AttrPath::root().attr(name.to_owned()), "type", format!("must be {want}"))
}

impl Fields {
    /// Starts decoding `map` (an absent body is the empty object).
    pub fn new(map: Option<Map<String, Value>>) -> Self {
        Fields { map: map.unwrap_or_default(), details: Vec::new() }
    }

    /// Takes a string field; absent is `None`. `null` is a type error, as the
    /// OpenAPI document declares it (no field of this API is nullable on input).
    pub fn string(&mut self, name: &str) -> Option<String> {
        match self.map.remove(name)? {
            Value::String(s) => Some(s),
            _ => {
                self.details.push(type_detail(name, "a string"));
                None
            }
        }
    }

    /// Takes an integer field.
    pub fn integer(&mut self, name: &str) -> Option<i64> {
        match self.map.remove(name)? {
            Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
            _ => {
                self.details.push(type_detail(name, "an integer"));
                None
            }
        }
    }

    /// Takes a boolean field.
    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.map.remove(name)? {
            Value::Bool(b) => Some(b),
            _ => {
                self.details.push(type_detail(name, "true or false"));
                None
            }
        }
    }

    /// Takes a map of strings to strings.
    pub fn string_map(&mut self, name: &str) -> Option<BTreeMap<String, String>> {
        match self.map.remove(name)? {
            Value::Object(m) => {
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    match v {
                        Value::String(s) => {
                            out.insert(k, s);
                        }
                        _ => self.details.push(Detail::new(
                            AttrPath::root().attr(name.to_owned()).key(k),
                            "type",
                            "must be a string",
                        )),
                    }
                }
                Some(out)
            }
            _ => {
                self.details.push(type_detail(name, "an object of strings"));
                None
            }
        }
    }

    /// Reports every field left over as unknown; `reserved` names fields the client
    /// may not set, with the reason.
    pub fn finish(mut self, reserved: &[(&str, &str)]) -> Vec<Detail> {
        let mut left: Vec<String> = self.map.keys().cloned().collect();
        left.sort();
        for name in left {
            let message = reserved
                .iter()
                .find(|(n, _)| *n == name)
                .map_or_else(|| "is not a field of this request".to_owned(), |(_, why)| (*why).to_owned());
            self.details.push(Detail::new(AttrPath::root().attr(name), "unknown_field", message));
        }
        self.details
    }
}

/// The boolean query parameter `name`: `name=true` or `name=false`, nothing else
/// (the OpenAPI document declares a boolean).
pub fn query_flag(query: Option<&str>, name: &str) -> Result<Option<bool>, ApiError> {
    let Some(q) = query else { return Ok(None) };
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == name {
            return match v {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(ApiError::invalid(vec![Detail::new(
                    AttrPath::root().attr(name.to_owned()),
                    "boolean",
                    "must be true or false",
                )])),
            };
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_report_types_and_unknowns_without_values() {
        let map: Map<String, Value> = serde_json::from_str(
            r#"{"a": 1, "b": "x", "external_ids": ["s3cret"], "zz": true, "tags": {"k": 5}}"#,
        )
        .unwrap();
        let mut f = Fields::new(Some(map));
        assert_eq!(f.string("a"), None);
        assert_eq!(f.string("b").as_deref(), Some("x"));
        assert!(f.string_map("tags").is_some());
        let details = f.finish(&[("external_ids", "issued by the server")]);
        let got: Vec<(String, String)> =
            details.iter().map(|d| (d.field.to_string(), d.rule.clone())).collect();
        assert_eq!(
            got,
            [
                ("a".into(), "type".into()),
                ("tags[\"k\"]".into(), "type".into()),
                ("external_ids".into(), "unknown_field".into()),
                ("zz".into(), "unknown_field".into()),
            ]
        );
        assert!(!format!("{details:?}").contains("s3cret"));
    }

    #[test]
    fn query_flags() {
        assert_eq!(query_flag(Some("force=true"), "force").unwrap(), Some(true));
        assert_eq!(query_flag(Some("x=1&force=true"), "force").unwrap(), Some(true));
        assert!(query_flag(Some("force"), "force").is_err());
        assert!(query_flag(Some("force="), "force").is_err());
        assert!(query_flag(Some("force=1"), "force").is_err());
        assert_eq!(query_flag(Some("force=false"), "force").unwrap(), Some(false));
        assert_eq!(query_flag(None, "force").unwrap(), None);
        assert!(query_flag(Some("force=maybe"), "force").is_err());
    }
}
