//! The one place where AWS SDK failures become idcbootstrap error codes.
//!
//! Every SDK call of the check goes through [`classify`]; the step that made the call
//! then decides what a denial means for it (a role not yet assumable, a missing
//! permission, an open trust policy).

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::error::ErrorCode;

/// What went wrong with one SDK call, as far as the check cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The service said no: `AccessDenied`, `AccessDeniedException`, and kin.
    Denied {
        /// The service's error code.
        aws_code: String,
    },
    /// The service throttled the call.
    Throttled {
        /// The service's error code.
        aws_code: String,
    },
    /// The call (or one attempt of it) ran out of time.
    Timeout,
    /// The endpoint could not be reached: DNS, connect, TLS, reset.
    Network {
        /// The connector's explanation (no request data, no credentials).
        reason: String,
    },
    /// Anything else: another service error, a malformed answer, a bug.
    Other {
        /// The service's error code, when the service sent one.
        aws_code: Option<String>,
        /// A description without secrets.
        reason: String,
    },
}

/// Error codes that mean "not allowed" across STS, sso-admin and identitystore.
const DENIED_CODES: &[&str] = &["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"];

impl Failure {
    /// The error code this failure carries when no step gives it a finer meaning.
    pub(crate) fn code(&self) -> ErrorCode {
        match self {
            Failure::Denied { .. } => ErrorCode::AccessDenied,
            Failure::Throttled { .. } => ErrorCode::Throttled,
            Failure::Timeout => ErrorCode::Timeout,
            Failure::Network { .. } => ErrorCode::NetworkError,
            Failure::Other { .. } => ErrorCode::Internal,
        }
    }

    /// Whether the AWS answer was a denial.
    pub(crate) fn is_denied(&self) -> bool {
        matches!(self, Failure::Denied { .. })
    }

    /// Whether the AWS answer was throttling.
    pub(crate) fn is_throttled(&self) -> bool {
        matches!(self, Failure::Throttled { .. })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Denied { aws_code } => write!(f, "AWS answered {aws_code}"),
            Failure::Throttled { aws_code } => write!(f, "AWS throttled the call ({aws_code})"),
            Failure::Timeout => f.write_str("the call timed out"),
            Failure::Network { reason } => write!(f, "the endpoint could not be reached: {reason}"),
            Failure::Other { aws_code: Some(code), reason } => write!(f, "AWS answered {code}: {reason}"),
            Failure::Other { aws_code: None, reason } => f.write_str(reason),
        }
    }
}

/// Largest response body the check accepts from an endpoint. Real STS, sso-admin and
/// identitystore answers to its calls are a few KiB; a larger one is a broken or
/// hostile endpoint override, refused before it is read into memory.
pub(crate) const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// Longest AWS error text quoted in a message: enough for any real one.
const MAX_REASON_CHARS: usize = 300;

/// The failure an endpoint's oversized answer becomes (see [`BodyLimit`]).
#[derive(Debug)]
pub(crate) struct BodyTooLarge(u64);

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the endpoint announced a {} byte answer, more than the {MAX_RESPONSE_BYTES} bytes accepted",
            self.0
        )
    }
}

impl StdError for BodyTooLarge {}

/// An SDK interceptor that bounds what the check reads of an answer: one whose
/// declared length exceeds [`MAX_RESPONSE_BYTES`] is refused before its body is read,
/// and any other body stops reading at that many bytes (a chunked answer declares no
/// length), so an endpoint cannot make the check hold more than that in memory.
#[derive(Debug)]
pub(crate) struct BodyLimit;

impl aws_smithy_runtime_api::client::interceptors::Intercept for BodyLimit {
    fn name(&self) -> &'static str {
        "idcbootstrap::BodyLimit"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut<'_>,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        use aws_smithy_types::body::SdkBody;
        let body = std::mem::replace(context.response_mut().body_mut(), SdkBody::taken());
        let limit = usize::try_from(MAX_RESPONSE_BYTES).unwrap_or(usize::MAX);
        *context.response_mut().body_mut() =
            SdkBody::from_body_1_x(http_body_util::Limited::new(body, limit));
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef<'_>,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let resp = context.response();
        let declared = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .or_else(|| resp.body().content_length());
        match declared {
            Some(n) if n > MAX_RESPONSE_BYTES => Err(Box::new(BodyTooLarge(n))),
            _ => Ok(()),
        }
    }
}

/// `s` cut at [`MAX_REASON_CHARS`] characters, so an endpoint cannot make a step's
/// message (and the diagnostic built from it) arbitrarily large.
fn bounded(s: &str) -> String {
    match s.char_indices().nth(MAX_REASON_CHARS) {
        Some((i, _)) => format!("{}… (cut)", &s[..i]),
        None => s.to_owned(),
    }
}

/// Classifies an SDK error: `TimeoutError` → timeout, `DispatchFailure` → network
/// (or timeout when the connector timed out), service codes → denied/throttled, the rest
/// → other.
pub(crate) fn classify<E, R>(err: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: fmt::Debug + 'static,
{
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(big) = e.downcast_ref::<BodyTooLarge>() {
            return Failure::Network { reason: big.to_string() };
        }
        if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            return Failure::Network {
                reason: format!("the endpoint's answer ran past the {MAX_RESPONSE_BYTES} bytes accepted"),
            };
        }
        source = e.source();
    }
    match err {
        SdkError::TimeoutError(_) => Failure::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => Failure::Timeout,
        // A user error is a request the connector refused to send (a malformed URI).
        SdkError::DispatchFailure(d) if d.is_user() => {
            Failure::Other { aws_code: None, reason: source_chain(err) }
        }
        SdkError::DispatchFailure(_) => Failure::Network { reason: source_chain(err) },
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let aws_code = bounded(inner.code().unwrap_or("Unknown"));
            if DENIED_CODES.contains(&aws_code.as_str()) {
                Failure::Denied { aws_code }
            } else if aws_runtime::retries::classifiers::THROTTLING_ERRORS.contains(&aws_code.as_str()) {
                Failure::Throttled { aws_code }
            } else {
                let reason = bounded(inner.message().unwrap_or("no message"));
                Failure::Other { aws_code: Some(aws_code), reason }
            }
        }
        SdkError::ConstructionFailure(_) | SdkError::ResponseError(_) => {
            Failure::Other { aws_code: None, reason: source_chain(err) }
        }
        // `SdkError` is non-exhaustive.
        _ => Failure::Other { aws_code: None, reason: source_chain(err) },
    }
}

/// The error and its sources on one line. SDK errors describe the failure, never
/// the request's parameters or credentials.
fn source_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        next = e.source();
    }
    bounded(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_sdk_sts::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    type E = SdkError<AssumeRoleError, HttpResponse>;

    fn service(code: &str, status: u16) -> E {
        let meta = ErrorMetadata::builder().code(code).message("m").build();
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(AssumeRoleError::generic(meta), raw)
    }

    #[test]
    fn timeout_error_maps_to_timeout() {
        let err: E = SdkError::timeout_error("attempt timeout");
        assert_eq!(classify(&err), Failure::Timeout);
        assert_eq!(classify(&err).code(), ErrorCode::Timeout);
    }

    #[test]
    fn dispatch_failure_maps_to_network_error() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let err: E = SdkError::dispatch_failure(ConnectorError::io(io.into()));
        let f = classify(&err);
        assert_eq!(f.code(), ErrorCode::NetworkError, "{f:?}");
        assert!(f.to_string().contains("connection refused"), "{f}");
    }

    #[test]
    fn connector_timeout_maps_to_timeout() {
        let err: E = SdkError::dispatch_failure(ConnectorError::timeout("connect timeout".into()));
        assert_eq!(classify(&err), Failure::Timeout);
    }

    #[test]
    fn access_denied_codes_map_to_denied() {
        for code in ["AccessDenied", "AccessDeniedException"] {
            let f = classify(&service(code, 403));
            assert!(f.is_denied(), "{code}: {f:?}");
            assert_eq!(f.code(), ErrorCode::AccessDenied);
        }
    }

    #[test]
    fn throttling_codes_map_to_throttled() {
        for code in ["Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"]
        {
            let f = classify(&service(code, 400));
            assert!(f.is_throttled(), "{code}: {f:?}");
            assert_eq!(f.code(), ErrorCode::Throttled);
        }
    }

    #[test]
    fn other_service_errors_map_to_internal() {
        let f = classify(&service("ValidationException", 400));
        assert_eq!(f.code(), ErrorCode::Internal);
        assert!(f.to_string().contains("ValidationException"), "{f}");
    }

    #[test]
    fn long_service_messages_are_cut() {
        let meta = ErrorMetadata::builder().code("ValidationException").message("x".repeat(100_000)).build();
        let raw = HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        let err: E = SdkError::service_error(AssumeRoleError::generic(meta), raw);
        let text = classify(&err).to_string();
        assert!(text.len() < 400 && text.ends_with("(cut)"), "{}", text.len());
    }

    #[test]
    fn oversized_answers_are_network_errors() {
        let err: E = SdkError::response_error(
            BodyTooLarge(100 << 20),
            HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::empty()),
        );
        let f = classify(&err);
        assert_eq!(f.code(), ErrorCode::NetworkError, "{f:?}");
        assert!(f.to_string().contains("104857600 byte"), "{f}");
    }

    #[test]
    fn construction_failure_maps_to_internal() {
        let err: E = SdkError::construction_failure("no credentials");
        assert_eq!(classify(&err).code(), ErrorCode::Internal);
    }
}
