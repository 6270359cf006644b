//! The one error type of the API, which is also its response: the seed's
//! `{code, message, details, notices}` body, `details` always an object.
//!
//! Every failure, from a handler, an extractor, axum itself (unknown route, wrong
//! method) or a tower layer (body limit, timeout, panic), answers in this shape: the
//! handlers return [`ApiError`], and [`shape_response`] rewrites whatever else answers
//! with an error status. Messages never carry a token or an external ID.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use idcbootstrap::connectivity::StepReport;
use idcbootstrap::{Detail, ErrorCode};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The server's error codes beyond the core's [`ErrorCode`]s, wire spelling.
pub mod code {
    /// No or a bad bearer token (401, with `WWW-Authenticate: Bearer`).
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    /// `X-Tenant-ID` is not the token's tenant (403); the same answer whether or not
    /// that tenant exists.
    pub const TENANT_MISMATCH: &str = "tenant_mismatch";
    /// No such route (404).
    pub const NOT_FOUND: &str = "not_found";
    /// The state changed under the request, or the transition is not allowed now (409).
    pub const CONFLICT: &str = "conflict";
    /// The tenant's request rate is over its limit (429, with `Retry-After`).
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The body is over the size limit (413).
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// The body is not `application/json` (415).
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// The route exists but not with this method (405, with `Allow`).
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";

    /// Every server-side code.
    pub const ALL: [&str; 8] = [
        UNAUTHENTICATED,
        TENANT_MISMATCH,
        NOT_FOUND,
        CONFLICT,
        RATE_LIMITED,
        PAYLOAD_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        METHOD_NOT_ALLOWED,
    ];
}

/// How long a client is asked to wait after AWS throttled the connectivity check.
pub const THROTTLED_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The seed's error body (for the OpenAPI document and for decoding in tests).
#[derive(Debug, Clone, Serialize, serde::Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// Machine-readable, stable error code, e.g. `invalid_input`, `tenant_mismatch`.
    pub code: String,
    /// Human-readable description of the error; never contains a secret.
    pub message: String,
    /// Additional context, always an object: `fields` (each offending field, the rule
    /// it broke and a message) for `invalid_input`, `steps` for a failed connectivity
    /// check, `{}` otherwise.
    pub details: Map<String, Value>,
    /// Advisory notes that do not change the outcome.
    pub notices: Vec<String>,
}

/// Marks a response whose body is already in the seed shape (see [`shape_response`]).
#[derive(Debug, Clone, Copy)]
struct Shaped;

/// Every way a request can fail.
#[derive(Debug)]
pub enum ApiError {
    /// A core error: bad input, nothing configured, a failed check.
    Core(idcbootstrap::Error),
    /// A failed connectivity check: its error and every step that ran.
    Check {
        /// The first failure.
        error: idcbootstrap::Error,
        /// The steps of the check.
        steps: Vec<StepReport>,
    },
    /// No bearer token, or one that is unknown or revoked.
    Unauthenticated(&'static str),
    /// `X-Tenant-ID` differs from the token's tenant.
    TenantMismatch,
    /// No such route.
    NotFound,
    /// A state transition lost a race or is not allowed in the current state.
    Conflict(String),
    /// Over the tenant's rate limit.
    RateLimited {
        /// When to come back.
        retry_after: Duration,
    },
    /// The body is over the limit.
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A body that is not JSON.
    UnsupportedMediaType,
    /// The route exists with other methods.
    MethodNotAllowed,
    /// The request took longer than allowed.
    Timeout(Duration),
    /// A server-side failure (database, key). The cause is logged, not answered.
    Internal(String),
    /// `/readyz`: the database is unreachable or migrations are missing (503).
    NotReady,
}

impl ApiError {
    /// An `invalid_input` error from details.
    pub fn invalid(details: Vec<Detail>) -> Self {
        ApiError::Core(idcbootstrap::Error::invalid_input(details))
    }

    /// A server-side failure; `cause` goes to the log only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Core(e) | ApiError::Check { error: e, .. } => status_of(e.code),
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::TenantMismatch => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The wire code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Core(e) | ApiError::Check { error: e, .. } => e.code.as_str(),
            ApiError::Unauthenticated(_) => code::UNAUTHENTICATED,
            ApiError::TenantMismatch => code::TENANT_MISMATCH,
            ApiError::NotFound => code::NOT_FOUND,
            ApiError::Conflict(_) => code::CONFLICT,
            ApiError::RateLimited { .. } => code::RATE_LIMITED,
            ApiError::PayloadTooLarge { .. } => code::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => code::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => code::METHOD_NOT_ALLOWED,
            ApiError::Timeout(_) => ErrorCode::Timeout.as_str(),
            ApiError::Internal(_) | ApiError::NotReady => ErrorCode::Internal.as_str(),
        }
    }

    fn body(&self) -> ErrorBody {
        let (message, details, notices) = match self {
            ApiError::Core(e) => (e.message.clone(), core_details(e), e.notices.clone()),
            ApiError::Check { error, steps } => {
                let mut d = core_details(error);
                let steps: Vec<crate::api::Step> =
                    steps.iter().cloned().map(crate::api::Step::from).collect();
                d.insert("steps".into(), serde_json::to_value(steps).unwrap_or(Value::Null));
                (error.message.clone(), d, error.notices.clone())
            }
            ApiError::Unauthenticated(why) => ((*why).to_owned(), Map::new(), Vec::new()),
            ApiError::TenantMismatch => {
                ("X-Tenant-ID does not match the tenant of the credential".to_owned(), Map::new(), Vec::new())
            }
            ApiError::NotFound => ("no such resource".to_owned(), Map::new(), Vec::new()),
            ApiError::Conflict(m) => (m.clone(), Map::new(), Vec::new()),
            ApiError::RateLimited { retry_after } => (
                format!("too many requests for this tenant; retry after {} s", retry_secs(*retry_after)),
                Map::new(),
                Vec::new(),
            ),
            ApiError::PayloadTooLarge { limit: 0 } => {
                ("the request body is over the size limit".to_owned(), Map::new(), Vec::new())
            }
            ApiError::PayloadTooLarge { limit } => {
                (format!("the request body is over the limit of {limit} bytes"), Map::new(), Vec::new())
            }
            ApiError::UnsupportedMediaType => {
                ("the request body must be application/json".to_owned(), Map::new(), Vec::new())
            }
            ApiError::MethodNotAllowed => {
                ("this resource does not accept this method".to_owned(), Map::new(), Vec::new())
            }
            ApiError::Timeout(d) if d.is_zero() => {
                ("the request did not finish in the time allowed".to_owned(), Map::new(), Vec::new())
            }
            ApiError::Timeout(d) => {
                (format!("the request did not finish within {} s", d.as_secs()), Map::new(), Vec::new())
            }
            ApiError::Internal(_) => {
                ("internal error; the server log has the cause".to_owned(), Map::new(), Vec::new())
            }
            ApiError::NotReady => (
                "not ready: the database is unreachable or its migrations are not applied".to_owned(),
                Map::new(),
                Vec::new(),
            ),
        };
        ErrorBody { code: self.code().to_owned(), message, details, notices }
    }
}

impl From<idcbootstrap::Error> for ApiError {
    fn from(e: idcbootstrap::Error) -> Self {
        ApiError::Core(e)
    }
}

fn retry_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// `details.fields` from the core's [`Detail`]s; an empty object when there are none.
fn core_details(e: &idcbootstrap::Error) -> Map<String, Value> {
    let mut m = Map::new();
    if !e.details.is_empty() {
        let fields: Vec<Value> = e
            .details
            .iter()
            .map(|d| json!({ "field": d.field.to_string(), "rule": d.rule, "message": d.message }))
            .collect();
        m.insert("fields".into(), Value::Array(fields));
    }
    m
}

/// The status of a core error code. The role's faults are 422 (the request was fine,
/// the customer's role is not); AWS's own trouble is 502/503/504.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::NotConfigured => StatusCode::NOT_FOUND,
        ErrorCode::StsAssumeRoleFailed
        | ErrorCode::AccessDenied
        | ErrorCode::InstanceNotFound
        | ErrorCode::InstanceNotActive
        | ErrorCode::AccountMismatch
        | ErrorCode::ExternalIdNotEnforced => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Throttled => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::NetworkError => StatusCode::BAD_GATEWAY,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A JSON response with `status`.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut res = (status, bytes).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        Err(e) => ApiError::internal(format!("serializing a response: {e}")).into_response(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(cause = %cause, "internal error");
        }
        let status = self.status();
        let mut res = json_response(status, &self.body());
        let h = res.headers_mut();
        match &self {
            ApiError::Unauthenticated(_) => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::RateLimited { retry_after } => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(retry_secs(*retry_after)));
            }
            ApiError::Core(e) | ApiError::Check { error: e, .. } if e.code == ErrorCode::Throttled => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(THROTTLED_RETRY_AFTER.as_secs()));
            }
            _ => {}
        }
        res.extensions_mut().insert(Shaped);
        res
    }
}

/// Rewrites an error response that is not in the seed shape (axum's 405, tower-http's
/// 413 and timeout, anything a layer answered) into it, keeping its status and its
/// headers (`Allow`, `Retry-After`). Installed once around the router.
pub async fn shape_response(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || res.extensions().get::<Shaped>().is_some() {
        return res;
    }
    let err = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit: 0 },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ApiError::Unauthenticated("authentication required"),
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ApiError::Timeout(Duration::ZERO),
        StatusCode::BAD_REQUEST => ApiError::invalid(Vec::new()),
        StatusCode::TOO_MANY_REQUESTS => ApiError::RateLimited { retry_after: Duration::from_secs(1) },
        _ => ApiError::Internal(format!("a layer answered {status}")),
    };
    let (mut parts, _) = res.into_parts();
    let mut shaped = err.into_response();
    // A layer's own status wins (e.g. 408 from a timeout), and its headers are kept.
    *shaped.status_mut() = status;
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in shaped.headers() {
        parts.headers.insert(name.clone(), value.clone());
    }
    let (_, body) = shaped.into_parts();
    let mut out = Response::from_parts(parts, body);
    out.extensions_mut().insert(Shaped);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_has_a_status() {
        for c in ErrorCode::ALL {
            let s = status_of(c);
            assert!(s.is_client_error() || s.is_server_error(), "{c}");
        }
        use ErrorCode as C;
        for (code, status) in [
            (C::InvalidInput, 400),
            (C::NotConfigured, 404),
            (C::StsAssumeRoleFailed, 422),
            (C::AccessDenied, 422),
            (C::InstanceNotFound, 422),
            (C::InstanceNotActive, 422),
            (C::AccountMismatch, 422),
            (C::ExternalIdNotEnforced, 422),
            (C::Throttled, 503),
            (C::Timeout, 504),
            (C::NetworkError, 502),
            (C::Internal, 500),
        ] {
            assert_eq!(status_of(code).as_u16(), status, "{code}");
        }
        let throttled = ApiError::Core(idcbootstrap::Error::new(C::Throttled, "slow down")).into_response();
        assert_eq!(throttled.headers().get(header::RETRY_AFTER).unwrap(), "5");
    }

    #[test]
    fn details_is_always_an_object() {
        for e in [
            ApiError::NotFound,
            ApiError::TenantMismatch,
            ApiError::invalid(vec![Detail::new(idcbootstrap::AttrPath::field("region"), "region", "bad")]),
            ApiError::Internal("db down: password=hunter2".into()),
        ] {
            let body = serde_json::to_value(e.body()).unwrap();
            assert!(body["details"].is_object(), "{body}");
            assert!(body["notices"].is_array(), "{body}");
            assert!(!body.to_string().contains("hunter2"));
        }
        let e =
            ApiError::invalid(vec![Detail::new(idcbootstrap::AttrPath::field("region"), "region", "bad")]);
        let body = serde_json::to_value(e.body()).unwrap();
        assert_eq!(body["details"]["fields"][0]["field"], "region");
        assert_eq!(body["details"]["fields"][0]["rule"], "region");
    }
}
