//! The application: its settings, its state, and the router with every layer,
//! declared once here (request ID, tracing, sensitive headers, error shaping,
//! panic catching, body limit, per-route timeouts).

use std::num::NonZeroU32;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{Request, Response, StatusCode, header};
use axum::routing::{get, post, put};
use idcbootstrap::connectivity::Settings;
use idcbootstrap::{RawTemplateRequest, TemplateRequest};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::api;
use crate::auth::{TenantLimiter, TokenCache};
use crate::error::{ApiError, shape_response};
use crate::store::Store;

/// Where the vendor API lives.
pub const BASE_PATH: &str = "/v1/integrations/aws-identity-center";

/// Time the connectivity check gets beyond the propagation timeout: the calls after
/// `AssumeRole` (each attempt bounded by the core's attempt timeout).
pub const CHECK_MARGIN: Duration = Duration::from_secs(25);

/// Time `POST test` gets beyond the check's own deadline, to answer.
pub const TEST_ANSWER_MARGIN: Duration = Duration::from_secs(5);

/// Default body limit: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Default per-request timeout (all routes but `POST test`).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Default TTL of the in-process token and external-ID caches.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(2);

/// A per-tenant rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// Requests allowed at once.
    pub burst: NonZeroU32,
}

/// The server's settings (from the CLI).
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The vendor's IAM principal, trusted by every rendered role.
    pub trusted_principal_arn: Option<String>,
    /// HTTPS URL of the hosted template, for `launch_stack_url`.
    pub template_url: Option<String>,
    /// How the connectivity check reaches AWS (credentials, endpoints, propagation timeout).
    pub check_settings: Settings,
    /// Timeout of every request but `POST test`.
    pub request_timeout: Duration,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Per-tenant rate limit; `None` disables it.
    pub rate_limit: Option<RateLimit>,
    /// TTL of the token and external-ID caches; zero disables them.
    pub cache_ttl: Duration,
}

impl AppConfig {
    /// Settings with the defaults and the given check settings.
    pub fn new(check_settings: Settings) -> Self {
        AppConfig {
            trusted_principal_arn: None,
            template_url: None,
            check_settings,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            body_limit: DEFAULT_BODY_LIMIT,
            rate_limit: None,
            cache_ttl: DEFAULT_CACHE_TTL,
        }
    }

    /// The connectivity check's overall deadline, from its start.
    pub fn check_deadline(&self) -> Duration {
        self.check_settings.propagation_timeout() + CHECK_MARGIN
    }

    /// The timeout of `POST test`: the check's deadline and time to answer.
    pub fn test_timeout(&self) -> Duration {
        self.check_deadline() + TEST_ANSWER_MARGIN
    }

    /// Validates the vendor's principal and template URL with the core's rules.
    ///
    /// # Errors
    ///
    /// `invalid_input` naming `trusted_principal_arn` or `template_url`.
    pub fn validate(&self) -> Result<(), idcbootstrap::Error> {
        let raw = RawTemplateRequest {
            trusted_principal_arn: self.trusted_principal_arn.clone(),
            template_url: self.template_url.clone(),
            ..RawTemplateRequest::default()
        };
        let mut unknown = vec!["aws_account_id", "sso_instance_arn", "region", "external_ids"];
        if self.trusted_principal_arn.is_none() {
            unknown.push("trusted_principal_arn");
        }
        TemplateRequest::validate_partial(&raw, &unknown)
    }
}

/// The state every handler shares.
#[derive(Debug)]
pub struct Inner {
    /// Tenant data.
    pub store: Store,
    /// Settings.
    pub config: AppConfig,
    pub(crate) tokens: TokenCache,
    pub(crate) limiter: Option<TenantLimiter>,
    pub(crate) openapi: Bytes,
}

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// The state over `store` with `config`.
    pub fn new(store: Store, config: AppConfig) -> Self {
        let openapi = Bytes::from(crate::openapi::document_string());
        AppState(Arc::new(Inner {
            tokens: TokenCache::new(config.cache_ttl),
            limiter: config.rate_limit.map(|r| TenantLimiter::new(r.per_second, r.burst)),
            store,
            config,
            openapi,
        }))
    }

    /// Drops idle tenants from the rate limiter (call now and then).
    pub fn housekeeping(&self) {
        if let Some(l) = &self.limiter {
            l.forget_idle();
        }
    }
}

/// Request IDs for requests that come without one: a random per-process prefix and
/// a counter. Unique without a system call per request (a UUID v4 per request reads
/// the random source every time).
#[derive(Debug, Clone)]
struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let prefix = uuid::Uuid::new_v4().simple().to_string();
        RequestIds { prefix: prefix[..16].into(), next: Arc::new(AtomicU64::new(1)) }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        axum::http::HeaderValue::from_str(&format!("{}-{n:x}", self.prefix)).ok().map(RequestId::new)
    }
}

fn request_span<B>(req: &Request<B>) -> Span {
    let id = req.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("");
    // The path only: no query, no header (the bearer token is in one).
    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
}

/// One line per response: failures at `info` (5xx at `error`), successes at `debug`
/// (`--log debug` gives a full access log). Formatting a line per successful request
/// at `info` cost about a quarter of a cheap request's throughput.
fn on_response<B>(res: &Response<B>, latency: Duration, _: &Span) {
    let status = res.status().as_u16();
    let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    if res.status().is_server_error() {
        tracing::error!(status, latency_us, "response");
    } else if res.status().is_client_error() {
        tracing::info!(status, latency_us, "response");
    } else {
        tracing::debug!(status, latency_us, "response");
    }
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response<axum::body::Body> {
    // The payload is not logged: it could quote a value.
    tracing::error!("a handler panicked");
    axum::response::IntoResponse::into_response(ApiError::internal("a handler panicked"))
}

/// The router with every route and layer.
pub fn router(state: AppState) -> Router {
    let cfg = &state.config;
    let short = TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, cfg.request_timeout);
    let long = TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, cfg.test_timeout());
    let body_limit = cfg.body_limit;
    let at = |path: &str| format!("{BASE_PATH}{path}");
    // Full paths rather than `nest`, which would rewrite every request's URI.
    // `route_layer` wraps the routes added before it: the short timeout must not wrap
    // `/test`, which waits for IAM propagation and has its own, longer timeout.
    Router::new()
        .route(&at("/bootstrap-template"), post(api::bootstrap_template))
        .route(&at("/config"), put(api::put_config).get(api::get_config).delete(api::delete_config))
        .route(&at("/external-id"), get(api::get_external_id))
        .route(&at("/external-id/rotate"), post(api::rotate))
        .route(&at("/external-id/commit"), post(api::commit))
        .route(&at("/external-id/cancel"), post(api::cancel))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/openapi.json", get(api::openapi))
        .route_layer(short)
        .route(&at("/test"), post(api::test).route_layer(long))
        .fallback(api::not_found)
        .with_state(state)
        // Inner layers change the body type; `Router::layer` turns them back into
        // axum responses, so the shaper sees every error (413, panic, 405, 404).
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(axum::middleware::map_response(shape_response))
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
                .layer(SetRequestIdLayer::x_request_id(RequestIds::new()))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_request(())
                        .on_response(on_response)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
}
