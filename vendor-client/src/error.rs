//! What can go wrong when talking to the vendor API, with everything a front-end
//! needs to report it: the API's stable `code`, its message, the HTTP status, the
//! field `details` points at, and which client setting to check on 401/403.
//!
//! Nothing here carries a secret: the API promises its messages hold none, the
//! client's own messages never include the token or an external ID, and a body that
//! could not be decoded is described by where it broke, never by what it held.

use serde::Deserialize;
use serde_json::Value;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A client setting (`api_url`, `tenant_id`, `api_token`) is malformed; nothing was sent.
    Invalid,
    /// The API answered with an error body (or an error status without one).
    Api,
    /// The API could not be reached, or the connection broke, on every attempt.
    Network,
    /// The API did not answer within the time allowed, on every attempt.
    Timeout,
    /// The API answered success with a body this client cannot read.
    Decode,
}

/// One entry of `details.fields` of an `invalid_input` answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldError {
    /// The offending field, in the API's (snake_case) names, e.g. `role_arn`.
    pub field: String,
    /// The rule it broke, e.g. `pattern`.
    #[serde(default)]
    pub rule: String,
    /// What is wrong with it.
    #[serde(default)]
    pub message: String,
}

/// A failed call to the vendor API (boxed: it travels in every `Result`).
#[derive(Debug, Clone)]
pub struct Error(pub(crate) Box<Repr>);

#[derive(Debug, Clone)]
pub(crate) struct Repr {
    pub(crate) kind: ErrorKind,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) status: Option<u16>,
    pub(crate) details: Value,
    pub(crate) notices: Vec<String>,
    pub(crate) attempts: u32,
    /// For [`ErrorKind::Invalid`]: the client setting at fault.
    pub(crate) setting: Option<&'static str>,
}

/// The API's error body, `{code, message, details, notices}`.
#[derive(Deserialize)]
struct Body {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Value,
    #[serde(default)]
    notices: Vec<String>,
}

/// Replaces control characters in every string (and object key) of an API answer.
/// Its texts reach Terraform diagnostics, CloudFormation reasons and logs, which
/// terminals show: an escape sequence or a carriage return from the vendor (or from
/// anything between it and us) could rewrite what the user sees. Line breaks and tabs
/// become spaces; anything else becomes U+FFFD, so a tampered text still looks
/// tampered. No value the client uses may hold a control character anyway (external
/// IDs, ARNs and codes have no such characters), so nothing valid is changed.
pub(crate) fn sanitize(v: &mut Value) {
    fn clean(s: &str) -> Option<String> {
        s.chars().any(char::is_control).then(|| {
            s.chars()
                .map(|c| match c {
                    '\t' | '\n' | '\r' => ' ',
                    c if c.is_control() => '\u{FFFD}',
                    c => c,
                })
                .collect()
        })
    }
    match v {
        Value::String(s) => {
            if let Some(c) = clean(s) {
                *s = c;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(sanitize),
        Value::Object(o) => {
            if o.keys().any(|k| k.chars().any(char::is_control)) {
                let old = std::mem::take(o);
                o.extend(old.into_iter().map(|(k, v)| (clean(&k).unwrap_or(k), v)));
            }
            o.values_mut().for_each(sanitize);
        }
        _ => {}
    }
}

/// Codes the connectivity check returns for a role IAM has not finished
/// propagating: the trust policy (or the role itself) is not visible to STS yet, or
/// the role's permissions are not yet attached everywhere.
pub const PROPAGATION_CODES: &[&str] = &["sts_assume_role_failed", "access_denied"];

impl Error {
    pub(crate) fn invalid(setting: &'static str, message: impl Into<String>) -> Error {
        Error(Box::new(Repr {
            kind: ErrorKind::Invalid,
            code: "invalid_input".into(),
            message: message.into(),
            status: None,
            details: Value::Object(Default::default()),
            notices: Vec::new(),
            attempts: 0,
            setting: Some(setting),
        }))
    }

    pub(crate) fn transport(kind: ErrorKind, message: String, attempts: u32) -> Error {
        let code = if kind == ErrorKind::Timeout { "timeout" } else { "network_error" };
        Error(Box::new(Repr {
            kind,
            code: code.into(),
            message,
            status: None,
            details: Value::Object(Default::default()),
            notices: Vec::new(),
            attempts,
            setting: None,
        }))
    }

    pub(crate) fn decode(status: u16, what: &str, e: &serde_json::Error, attempts: u32) -> Error {
        // Only where it broke: serde's message can quote the value (an external ID).
        let message = format!(
            "the vendor API's answer to {what} could not be read ({:?} error at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        );
        Error(Box::new(Repr {
            kind: ErrorKind::Decode,
            code: "internal".into(),
            message,
            status: Some(status),
            details: Value::Object(Default::default()),
            notices: Vec::new(),
            attempts,
            setting: None,
        }))
    }

    /// The error an API answer with `status` and `body` stands for.
    pub(crate) fn from_response(status: u16, body: &[u8], attempts: u32) -> Error {
        let parsed = serde_json::from_slice::<Value>(body).and_then(|mut v| {
            sanitize(&mut v);
            serde_json::from_value::<Body>(v)
        });
        let (code, message, details, notices) = match parsed {
            Ok(b) if !b.code.is_empty() => {
                let message = if b.message.is_empty() { b.code.clone() } else { b.message };
                (b.code, message, b.details, b.notices)
            }
            // Not the API's shape (a proxy's page, an empty body): a code from the status.
            _ => (
                status_code(status).to_owned(),
                format!("the vendor API answered HTTP {status} without an error body"),
                Value::Object(Default::default()),
                Vec::new(),
            ),
        };
        let details = if details.is_object() { details } else { Value::Object(Default::default()) };
        Error(Box::new(Repr {
            kind: ErrorKind::Api,
            code,
            message,
            status: Some(status),
            details,
            notices,
            attempts,
            setting: None,
        }))
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The stable code: the API's own (`invalid_input`, `unauthenticated`,
    /// `tenant_mismatch`, `not_configured`, `sts_assume_role_failed`, ...), or
    /// `network_error` / `timeout` when it could not be reached, `internal` when its
    /// answer could not be read, `invalid_input` for a malformed client setting.
    pub fn code(&self) -> &str {
        &self.0.code
    }

    /// What went wrong, in words; never a secret.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The API's `details` object (`fields`, `steps`), `{}` when it had none.
    pub fn details(&self) -> &Value {
        &self.0.details
    }

    /// The API's advisory notes, and the client's own (e.g. how long it waited).
    pub fn notices(&self) -> &[String] {
        &self.0.notices
    }

    /// How many requests were made before giving up (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// Every `details.fields` entry of an `invalid_input` answer.
    pub fn fields(&self) -> Vec<FieldError> {
        self.0
            .details
            .get("fields")
            .and_then(|f| serde_json::from_value::<Vec<FieldError>>(f.clone()).ok())
            .unwrap_or_default()
    }

    /// The field the error points at: the first of `details.fields` (the API's
    /// snake_case name, the same as the spec's), or the client setting at fault
    /// (`api_url`, `tenant_id`, `api_token`).
    pub fn field(&self) -> Option<String> {
        if let Some(s) = self.0.setting {
            return Some(s.to_owned());
        }
        self.fields().into_iter().next().map(|f| f.field)
    }

    /// The client settings to check when the API refused the credentials: 401
    /// (`unauthenticated`: the token is unknown or revoked) names `api_token`; 403
    /// (`tenant_mismatch`: the token belongs to another tenant) names `tenant_id`
    /// then `api_token`. Empty otherwise.
    pub fn credential_settings(&self) -> &'static [&'static str] {
        match (self.0.kind, self.0.status) {
            (ErrorKind::Api, Some(401)) => &["api_token"],
            (ErrorKind::Api, Some(403)) => &["tenant_id", "api_token"],
            _ => &[],
        }
    }

    /// Whether the vendor's test failed the way a role still propagating through IAM
    /// fails ([`PROPAGATION_CODES`]), so testing again later may pass.
    pub fn is_propagation(&self) -> bool {
        self.0.kind == ErrorKind::Api
            && self.0.status == Some(422)
            && PROPAGATION_CODES.contains(&self.0.code.as_str())
    }

    /// Whether the API said nothing is registered (`not_configured`).
    pub fn is_not_configured(&self) -> bool {
        self.0.kind == ErrorKind::Api && self.0.code == "not_configured"
    }

    pub(crate) fn with_notice(mut self, notice: String) -> Error {
        self.0.notices.push(notice);
        self
    }
}

/// A code for an error status that came without the API's body.
fn status_code(status: u16) -> &'static str {
    match status {
        400 => "invalid_input",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        408 | 504 => "timeout",
        409 => "conflict",
        413 => "payload_too_large",
        429 => "rate_limited",
        502 | 503 => "network_error",
        _ => "internal",
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)?;
        if let Some(s) = self.0.status {
            write!(f, " (HTTP {s})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_from_the_api_never_reach_a_message_or_field() {
        let body = br#"{"code":"invalid_input","message":"bad\u001b[2K\rall good","details":{"fields":[{"field":"role_arn\u001b]0;x\u0007","rule":"pat\ntern","message":"m\u0000"}],"k\u001b":"v"},"notices":["n\u009b"]}"#;
        let e = Error::from_response(400, body, 1);
        let texts = [
            e.message().to_owned(),
            e.field().unwrap(),
            format!("{:?}", e.fields()),
            e.to_string(),
            e.0.details.to_string(),
            e.0.notices.join(" "),
        ];
        for t in &texts {
            assert!(!t.chars().any(char::is_control), "{t:?}");
        }
        assert_eq!(e.message(), "bad\u{FFFD}[2K all good");
        assert_eq!(e.code(), "invalid_input");
    }

    #[test]
    fn api_body_gives_code_message_status_and_field() {
        let body = br#"{"code":"invalid_input","message":"role_arn is not a role ARN","details":{"fields":[{"field":"role_arn","rule":"pattern","message":"bad"}]},"notices":[]}"#;
        let e = Error::from_response(400, body, 1);
        assert_eq!((e.code(), e.status(), e.kind()), ("invalid_input", Some(400), ErrorKind::Api));
        assert_eq!(e.field().as_deref(), Some("role_arn"));
        assert_eq!(e.fields()[0].rule, "pattern");
        assert_eq!(e.to_string(), "invalid_input: role_arn is not a role ARN (HTTP 400)");
        assert!(e.credential_settings().is_empty() && !e.is_propagation());
    }

    #[test]
    fn a_foreign_body_gets_a_code_from_its_status() {
        let e = Error::from_response(502, b"<html>bad gateway</html>", 3);
        assert_eq!((e.code(), e.attempts()), ("network_error", 3));
        assert!(!e.message().contains("html"));
        assert_eq!(Error::from_response(401, b"", 1).credential_settings(), ["api_token"]);
        assert_eq!(Error::from_response(403, b"{}", 1).credential_settings(), ["tenant_id", "api_token"]);
    }

    #[test]
    fn propagation_is_the_role_side_422_only() {
        let body = |c: &str| format!(r#"{{"code":"{c}","message":"m","details":{{}},"notices":[]}}"#);
        assert!(Error::from_response(422, body("sts_assume_role_failed").as_bytes(), 1).is_propagation());
        assert!(Error::from_response(422, body("access_denied").as_bytes(), 1).is_propagation());
        assert!(!Error::from_response(422, body("external_id_not_enforced").as_bytes(), 1).is_propagation());
        assert!(!Error::from_response(404, body("not_configured").as_bytes(), 1).is_propagation());
        assert!(Error::from_response(404, body("not_configured").as_bytes(), 1).is_not_configured());
    }

    #[test]
    fn decode_errors_do_not_quote_the_body() {
        let secret = "6f1c2d4e-0000-4000-8000-1234567890ab";
        let err = serde_json::from_str::<u32>(&format!("\"{secret}\"")).expect_err("not a number");
        let e = Error::decode(200, "GET external-id", &err, 1);
        assert!(!e.to_string().contains(secret), "{e}");
        assert!(!format!("{e:?}").contains(secret));
    }
}
