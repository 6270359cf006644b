//! Delivering the response: one HTTP PUT of the body to the pre-signed
//! `ResponseURL` (S3 in production, a local stand-in in tests), retried with
//! backoff on network errors and 5xx until a hard deadline. Plumbing: knows
//! nothing of IAM Identity Center.
//!
//! The URL carries a signature, so it is never logged: only its host is.

use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use tokio::time::Instant;

/// Why the body could not be delivered.
#[derive(Debug)]
pub(crate) enum DeliveryError {
    /// The URL is not a URL.
    BadUrl,
    /// The HTTP client could not be built.
    Client(String),
    /// The server refused the PUT for good (4xx other than 408/429).
    Rejected(u16),
    /// Every attempt failed and the time is up; the last failure.
    GaveUp { attempts: u32, last: String },
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryError::BadUrl => f.write_str("ResponseURL is not a valid http(s) URL"),
            DeliveryError::Client(e) => f.write_str(e),
            DeliveryError::Rejected(s) => write!(f, "ResponseURL answered HTTP {s}"),
            DeliveryError::GaveUp { attempts, last } => {
                write!(f, "gave up after {attempts} attempts, last: {last}")
            }
        }
    }
}

/// Sends response bodies. The HTTP client is built at the first PUT, not at
/// init, and trusts the compiled-in Mozilla roots (see `Cargo.toml`).
#[derive(Clone, Default)]
pub(crate) struct Responder {
    client: std::sync::Arc<std::sync::OnceLock<Result<reqwest::Client, String>>>,
}

/// First retry delay; doubled each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Longest a single attempt may take (S3 answers a 4 KiB PUT in well under that).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

impl Responder {
    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                    .iter()
                    .filter_map(|der| reqwest::Certificate::from_der(der.as_ref()).ok());
                reqwest::Client::builder()
                    .tls_certs_only(roots)
                    .connect_timeout(Duration::from_secs(3))
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("idcbootstrap-cfn-resource/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// PUTs `body` to `url` until it is accepted (2xx), refused for good, or
    /// `give_up_at` passes. Returns the number of attempts on success.
    pub(crate) async fn put(
        &self,
        url: &str,
        body: Vec<u8>,
        give_up_at: Instant,
    ) -> Result<u32, DeliveryError> {
        let client = self.client().map_err(DeliveryError::Client)?;
        let parsed = reqwest::Url::parse(url).map_err(|_| DeliveryError::BadUrl)?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(DeliveryError::BadUrl);
        }
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let mut backoff = FIRST_BACKOFF;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let left = give_up_at.saturating_duration_since(Instant::now());
            let request = client
                .put(parsed.clone())
                // The pre-signed URL is signed without a content type, and S3 checks
                // what is sent against what was signed: send an empty one, as
                // CloudFormation's own cfn-response helper does.
                .header(CONTENT_TYPE, HeaderValue::from_static(""))
                .header(CONTENT_LENGTH, body.len())
                .timeout(ATTEMPT_TIMEOUT.min(left).max(Duration::from_millis(50)))
                .body(body.clone());
            let last = match request.send().await {
                Ok(resp) if resp.status().is_success() => {
                    tracing::info!(host = %host, attempts, status = resp.status().as_u16(), "response delivered");
                    return Ok(attempts);
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if !(resp.status().is_server_error() || status == 408 || status == 429) {
                        tracing::error!(host = %host, status, "response refused");
                        return Err(DeliveryError::Rejected(status));
                    }
                    format!("HTTP {status}")
                }
                // Without the URL: reqwest's error text includes it.
                Err(e) => describe(&e),
            };
            tracing::warn!(host = %host, attempt = attempts, error = %last, "response not delivered, retrying");
            let now = Instant::now();
            if now + backoff >= give_up_at {
                return Err(DeliveryError::GaveUp { attempts, last });
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_request() || e.is_body() {
        "request failed"
    } else {
        "transport error"
    };
    // The source chain (without the URL reqwest's Display prepends).
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() { kind.to_owned() } else { format!("{kind}: {cause}") }
}
