//! The one HTTP client of the idcbootstrap vendor API (`idcbootstrap-server`), used by
//! the Terraform provider and by the CloudFormation Lambda, so both fetch the same
//! external IDs, register the role the same way and report the same error codes.
//!
//! * [`VendorClient::external_ids`]: `GET external-id`.
//! * [`VendorClient::put_config`], [`VendorClient::get_config`],
//!   [`VendorClient::delete_config`]: the registered role.
//! * [`VendorClient::test`]: `POST test`, asked again while the role's failures are
//!   those of IAM propagation ([`PROPAGATION_CODES`]), until a timeout.
//! * [`VendorClient::rotate`], [`VendorClient::commit`], [`VendorClient::cancel`]: the
//!   vendor's side of a rotation (tools and tests).
//!
//! Every request carries `Authorization: Bearer` and `X-Tenant-ID`. Network faults,
//! 5xx and 429 are retried with doubling backoff (and `Retry-After`) within a bound
//! ([`Retry`]); an idempotent request is retried after any fault, a
//! state-changing one (rotate, commit) only when it surely did not reach the API.
//! Failures are [`Error`]s with the API's `code`, message, HTTP status and `details`.
//!
//! The token is a secret: it is sent as a sensitive header, and neither it nor an
//! external ID appears in any `Debug`, `Display`, error or log line of this crate.
//! The crate knows HTTP and the API's JSON; it knows nothing of Terraform or
//! CloudFormation.

mod error;
mod types;

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

pub use error::{Error, ErrorKind, FieldError, PROPAGATION_CODES};
pub use types::{Config, ExternalIds, Registration, Step, TestReport};

/// Path prefix of every endpoint, appended to the API URL.
pub const API_PREFIX: &str = "/v1/integrations/aws-identity-center";

/// How failed requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Most requests made for one call (1 = no retry).
    pub attempts: u32,
    /// First wait; doubled after each failure, up to `max_backoff`.
    pub first_backoff: Duration,
    /// Longest single wait (a longer `Retry-After` is cut to this).
    pub max_backoff: Duration,
    /// No new attempt starts when this much time has passed since the first.
    pub budget: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            budget: Duration::from_secs(30),
        }
    }
}

/// Which certificates a TLS connection to the API must chain to.
#[derive(Debug, Clone, Default)]
pub enum Roots {
    /// The operating system's verifier and trust store.
    #[default]
    Platform,
    /// Exactly these DER certificates (e.g. a compiled-in Mozilla list, so a Lambda
    /// reads no trust store at start-up, or a private CA).
    Der(Vec<Vec<u8>>),
}

/// Client settings beyond URL, tenant and token.
#[derive(Debug, Clone)]
pub struct Options {
    /// Longest a request other than `POST test` may take.
    pub request_timeout: Duration,
    /// Longest one `POST test` may take: the vendor waits out propagation itself, up
    /// to its own timeout, before it answers.
    pub test_timeout: Duration,
    /// Longest a connection may take to open.
    pub connect_timeout: Duration,
    /// Retries of failed requests.
    pub retry: Retry,
    /// How the API's certificate is verified.
    pub roots: Roots,
    /// The `User-Agent`, e.g. `terraform-provider-idcbootstrap/0.1.0`.
    pub user_agent: String,
    /// First wait between two tests while the role propagates; doubled up to 15 s.
    pub propagation_backoff: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            request_timeout: Duration::from_secs(30),
            test_timeout: Duration::from_secs(240),
            connect_timeout: Duration::from_secs(5),
            retry: Retry::default(),
            roots: Roots::Platform,
            user_agent: concat!("idcbootstrap-vendor-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            propagation_backoff: Duration::from_secs(2),
        }
    }
}

/// Longest wait between two tests while the role propagates.
const MAX_PROPAGATION_BACKOFF: Duration = Duration::from_secs(15);

/// A client of one tenant of one vendor API. Cheap to clone (the connection pool is
/// shared).
#[derive(Clone)]
pub struct VendorClient {
    http: reqwest::Client,
    /// The API URL with [`API_PREFIX`], no trailing slash.
    base: String,
    tenant_id: String,
    /// `Bearer <token>`, marked sensitive.
    authorization: HeaderValue,
    options: Options,
}

impl std::fmt::Debug for VendorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorClient")
            .field("base", &self.base)
            .field("tenant_id", &self.tenant_id)
            .field("api_token", &"***")
            .finish()
    }
}

/// Checks `api_url` and returns it without a trailing slash: https, or http to a
/// loopback address only (the token must not cross a network in clear).
///
/// # Errors
///
/// `invalid_input` naming `api_url`.
pub fn check_api_url(api_url: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::invalid("api_url", format!("api_url {why}"));
    let url = reqwest::Url::parse(api_url.trim()).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must start with https:// (or http:// for a local server)"));
    }
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    let ip = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>();
    let loopback = host.eq_ignore_ascii_case("localhost") || ip.is_ok_and(|ip| ip.is_loopback());
    if url.scheme() == "http" && !loopback {
        return Err(bad(
            "must be https:// (http:// only to a loopback address): the token travels with every request",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry user info; the token goes in api_token"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Checks that `tenant_id` is a UUID.
///
/// # Errors
///
/// `invalid_input` naming `tenant_id`.
pub fn check_tenant_id(tenant_id: &str) -> Result<(), Error> {
    let groups: Vec<&str> = tenant_id.split('-').collect();
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "tenant_id",
            "tenant_id must be a UUID, e.g. 2489e9ad-2ee2-4e00-8ec9-32d5f69181c0",
        ))
    }
}

/// Checks that `token` can be sent as a bearer token. The message never quotes it.
///
/// # Errors
///
/// `invalid_input` naming `api_token`.
pub fn check_token(token: &str) -> Result<(), Error> {
    if token.is_empty() || token.len() > 4096 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            "api_token",
            "api_token must be 1 to 4096 printable ASCII characters without spaces",
        ));
    }
    Ok(())
}

impl VendorClient {
    /// A client with the default [`Options`].
    ///
    /// # Errors
    ///
    /// `invalid_input` naming the setting that is malformed (`api_url`,
    /// `tenant_id`, `api_token`), or `internal` if the HTTP client cannot be built.
    pub fn new(api_url: &str, tenant_id: &str, api_token: &str) -> Result<VendorClient, Error> {
        VendorClient::with_options(api_url, tenant_id, api_token, Options::default())
    }

    /// A client with `options`.
    ///
    /// # Errors
    ///
    /// As [`VendorClient::new`].
    pub fn with_options(
        api_url: &str,
        tenant_id: &str,
        api_token: &str,
        options: Options,
    ) -> Result<VendorClient, Error> {
        let url = check_api_url(api_url)?;
        let tenant_id = tenant_id.trim();
        check_tenant_id(tenant_id)?;
        check_token(api_token)?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {api_token}"))
            .map_err(|_| Error::invalid("api_token", "api_token is not a valid header value"))?;
        authorization.set_sensitive(true);
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            // A redirect would be a misconfigured URL; following one could carry the
            // token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(options.user_agent.clone());
        if let Roots::Der(ders) = &options.roots {
            let certs = ders.iter().filter_map(|d| reqwest::Certificate::from_der(d).ok());
            builder = builder.tls_certs_only(certs);
        }
        let http = builder.build().map_err(|e| {
            let mut e = Error::transport(ErrorKind::Network, format!("cannot build the HTTP client: {e}"), 0);
            e.0.code = "internal".into();
            e
        })?;
        Ok(VendorClient {
            http,
            base: format!("{url}{API_PREFIX}"),
            tenant_id: tenant_id.to_ascii_lowercase(),
            authorization,
            options,
        })
    }

    /// The tenant this client speaks for (lower case).
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// `GET external-id`: the tenant's external IDs (created by the vendor on first use).
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub async fn external_ids(&self) -> Result<ExternalIds, Error> {
        self.call(Method::GET, "/external-id", None, true, "GET external-id").await
    }

    /// `PUT config`: registers (or replaces) the tenant's role, instance and region.
    ///
    /// # Errors
    ///
    /// See [`Error`]; `invalid_input` names the field in [`Error::field`].
    pub async fn put_config(&self, registration: &Registration) -> Result<Config, Error> {
        let body = serde_json::to_vec(registration).unwrap_or_default();
        self.call(Method::PUT, "/config", Some(body), true, "PUT config").await
    }

    /// `GET config`: what the vendor holds (`configured: false` when nothing).
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub async fn get_config(&self) -> Result<Config, Error> {
        self.call(Method::GET, "/config", None, true, "GET config").await
    }

    /// `DELETE config`: clears the registration (the external IDs stay). Clearing
    /// nothing succeeds.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub async fn delete_config(&self) -> Result<(), Error> {
        self.send(Method::DELETE, "/config", None, true).await.map(|_| ())
    }

    /// `POST test` once: the vendor tests the registered role (waiting out
    /// propagation up to its own timeout).
    ///
    /// # Errors
    ///
    /// The check's code (`sts_assume_role_failed`, `access_denied`, ...) with the
    /// steps in [`Error::details`]; `not_configured` when no role is registered.
    pub async fn test_once(&self) -> Result<TestReport, Error> {
        let mut r: TestReport =
            self.call(Method::POST, "/test", Some(b"{}".to_vec()), true, "POST test").await?;
        r.attempts = 1;
        Ok(r)
    }

    /// `POST test`, asked again while it fails with a propagation code
    /// ([`PROPAGATION_CODES`]) and `propagation_timeout` has not passed since the
    /// first ask. The last failure is returned with a notice of how long it waited.
    ///
    /// # Errors
    ///
    /// As [`VendorClient::test_once`].
    pub async fn test(&self, propagation_timeout: Duration) -> Result<TestReport, Error> {
        let start = Instant::now();
        let deadline = start + propagation_timeout;
        let mut backoff = self.options.propagation_backoff;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            match self.test_once().await {
                Ok(mut r) => {
                    r.attempts = attempts;
                    return Ok(r);
                }
                Err(e) if e.is_propagation() && Instant::now() + backoff < deadline => {
                    tracing::info!(
                        code = e.code(),
                        attempt = attempts,
                        wait_ms = backoff.as_millis() as u64,
                        "the vendor's test failed as a propagating role does; testing again"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_PROPAGATION_BACKOFF);
                }
                Err(e) if e.is_propagation() && attempts > 1 => {
                    let waited = start.elapsed().as_secs();
                    return Err(e.with_notice(format!(
                        "the vendor tested the role {attempts} times over {waited} s while waiting for IAM \
                         propagation (propagation_timeout {} s)",
                        propagation_timeout.as_secs()
                    )));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `POST external-id/rotate`: the vendor issues a pending ID.
    ///
    /// # Errors
    ///
    /// `conflict` when a rotation is already in progress.
    pub async fn rotate(&self) -> Result<ExternalIds, Error> {
        self.call(Method::POST, "/external-id/rotate", Some(b"{}".to_vec()), false, "POST external-id/rotate")
            .await
    }

    /// `POST external-id/commit`: the pending ID becomes the one in use. Needs a
    /// passing test since the rotation began unless `force`.
    ///
    /// # Errors
    ///
    /// `conflict` without a rotation or a passing test.
    pub async fn commit(&self, force: bool) -> Result<ExternalIds, Error> {
        let body = serde_json::to_vec(&serde_json::json!({ "force": force })).unwrap_or_default();
        self.call(Method::POST, "/external-id/commit", Some(body), false, "POST external-id/commit").await
    }

    /// `POST external-id/cancel`: the pending ID is dropped.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub async fn cancel(&self) -> Result<ExternalIds, Error> {
        self.call(Method::POST, "/external-id/cancel", Some(b"{}".to_vec()), false, "POST external-id/cancel")
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotent: bool,
        what: &str,
    ) -> Result<T, Error> {
        let (status, attempts, bytes) = self.send(method, path, body, idempotent).await?;
        let decode = |e: serde_json::Error| Error::decode(status, what, &e, attempts);
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).map_err(decode)?;
        error::sanitize(&mut v);
        serde_json::from_value(v).map_err(decode)
    }

    /// Sends one call, retrying as [`Retry`] allows. Returns the 2xx status, the
    /// number of attempts and the body.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotent: bool,
    ) -> Result<(u16, u32, Vec<u8>), Error> {
        let url = format!("{}{path}", self.base);
        let retry = self.options.retry;
        let timeout = if path == "/test" { self.options.test_timeout } else { self.options.request_timeout };
        let start = Instant::now();
        let mut backoff = retry.first_backoff;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .header(AUTHORIZATION, self.authorization.clone())
                .header("x-tenant-id", &self.tenant_id)
                .header(ACCEPT, "application/json")
                .timeout(timeout);
            if let Some(b) = &body {
                request = request.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            let sent = Instant::now();
            // What failed, whether it may be retried, and a server's Retry-After.
            let (failure, retryable, retry_after) = match request.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    match resp.bytes().await {
                        Ok(bytes) => {
                            tracing::debug!(
                                method = %method,
                                path,
                                status = status.as_u16(),
                                attempt,
                                latency_ms = sent.elapsed().as_millis() as u64,
                                "vendor API answered"
                            );
                            if status.is_success() {
                                return Ok((status.as_u16(), attempt, bytes.to_vec()));
                            }
                            let e = Error::from_response(status.as_u16(), &bytes, attempt);
                            let retryable = retryable_status(status, idempotent);
                            (e, retryable, retry_after)
                        }
                        Err(e) => (transport_error(&e, attempt), idempotent, None),
                    }
                }
                Err(e) => {
                    // A connection that never opened carried nothing: safe to retry anything.
                    let retryable = idempotent || e.is_connect();
                    (transport_error(&e, attempt), retryable, None)
                }
            };
            let wait = retry_after.map_or(backoff, |r| r.min(retry.max_backoff));
            if !retryable || attempt >= retry.attempts || start.elapsed() + wait >= retry.budget {
                return Err(failure);
            }
            tracing::warn!(
                method = %method,
                path,
                attempt,
                code = failure.code(),
                status = failure.status(),
                wait_ms = wait.as_millis() as u64,
                "vendor API call failed; retrying"
            );
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(retry.max_backoff);
        }
    }
}

/// Whether an error status may be asked again: 429 always (the API did nothing), 5xx
/// for idempotent calls.
fn retryable_status(status: StatusCode, idempotent: bool) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (idempotent && matches!(status.as_u16(), 500 | 502 | 503 | 504))
}

/// A transport failure, described by its kind and innermost cause (reqwest's own
/// text starts with the URL, which is not needed twice).
fn transport_error(e: &reqwest::Error, attempts: u32) -> Error {
    let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Network };
    let what = if e.is_timeout() {
        "did not answer in time"
    } else if e.is_connect() {
        "could not be reached"
    } else {
        "broke the connection"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let tries = if attempts == 1 { "1 attempt".to_owned() } else { format!("{attempts} attempts") };
    let message = if cause.is_empty() {
        format!("the vendor API {what} (after {tries})")
    } else {
        format!("the vendor API {what}: {cause} (after {tries})")
    };
    Error::transport(kind, message, attempts)
}

#[cfg(test)]
mod tests;
