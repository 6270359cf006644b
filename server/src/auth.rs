//! Tenancy by construction: a [`Tenant`] exists only when a bearer token was
//! verified and `X-Tenant-ID` named that token's tenant, and every store method
//! takes one. No path or body carries a tenant.
//!
//! Verified tokens are cached in the process for a short TTL (`--cache-ttl`, default
//! 2 s) keyed by the token's hash, so most requests skip the database; a revoked
//! token stops working within that TTL.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, header};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::app::AppState;
use crate::crypto;
use crate::error::ApiError;

/// The header that names the tenant; it must equal the token's tenant.
pub static X_TENANT_ID: HeaderName = HeaderName::from_static("x-tenant-id");

/// A verified tenant: the bearer token is valid and `X-Tenant-ID` is its tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    id: Uuid,
    key: String,
}

impl Tenant {
    /// Only the extractor (and this crate's tests) make one.
    pub(crate) fn verified(id: Uuid) -> Tenant {
        Tenant { id, key: id.hyphenated().to_string() }
    }

    /// The tenant's ID.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The tenant's ID as stored (lower-case hyphenated).
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// Entries kept at most; past it the cache starts over.
const CACHE_MAX: usize = 100_000;

/// Verified token hash → tenant, for a short TTL.
#[derive(Debug)]
pub(crate) struct TokenCache {
    ttl: Duration,
    map: RwLock<HashMap<[u8; 32], (Instant, Uuid)>>,
}

impl TokenCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        TokenCache { ttl, map: RwLock::new(HashMap::new()) }
    }

    fn get(&self, hash: &[u8; 32]) -> Option<Uuid> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = self.map.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(hash).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, t)| *t)
    }

    fn put(&self, hash: [u8; 32], tenant: Uuid) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= CACHE_MAX {
            map.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if map.len() >= CACHE_MAX {
                map.clear();
            }
        }
        map.insert(hash, (Instant::now(), tenant));
    }
}

/// Per-tenant rate limit (GCRA): `per_second` sustained, `burst` at once.
pub(crate) struct TenantLimiter {
    limiter: DefaultKeyedRateLimiter<Uuid>,
}

impl std::fmt::Debug for TenantLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantLimiter")
    }
}

impl TenantLimiter {
    pub(crate) fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        TenantLimiter { limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)) }
    }

    fn check(&self, tenant: Uuid) -> Result<(), ApiError> {
        self.limiter.check_key(&tenant).map_err(|not_until| ApiError::RateLimited {
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }

    /// Drops the state of tenants that have been idle long enough to be full again.
    pub(crate) fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthenticated("an Authorization: Bearer token is required"))?;
    let value = value.to_str().map_err(|_| ApiError::Unauthenticated("the bearer token is not valid"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(ApiError::Unauthenticated("the Authorization header must be: Bearer <token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthenticated("the Authorization header must be: Bearer <token>"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::Unauthenticated("the Authorization header must be: Bearer <token>"));
    }
    Ok(token)
}

fn tenant_header(parts: &Parts) -> Result<Uuid, ApiError> {
    let path = || idcbootstrap::AttrPath::field("X-Tenant-ID");
    let value = parts.headers.get(&X_TENANT_ID).ok_or_else(|| {
        ApiError::invalid(vec![idcbootstrap::Detail::new(
            path(),
            "required",
            "the X-Tenant-ID header (the tenant's UUID) is required",
        )])
    })?;
    value.to_str().ok().and_then(|s| Uuid::parse_str(s.trim()).ok()).ok_or_else(|| {
        ApiError::invalid(vec![idcbootstrap::Detail::new(path(), "uuid", "X-Tenant-ID must be a UUID")])
    })
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The token first: a caller without a valid token learns nothing else.
        let token = bearer(parts)?;
        let hash = crypto::token_hash(token);
        let tenant = match state.tokens.get(&hash) {
            Some(t) => t,
            None => {
                let t = state
                    .store
                    .db()
                    .tenant_of_token(&hash)
                    .await?
                    .ok_or(ApiError::Unauthenticated("the bearer token is not valid"))?;
                state.tokens.put(hash, t);
                t
            }
        };
        // The header is compared with the token's tenant only: the answer is the same
        // whether or not the named tenant exists.
        if tenant_header(parts)? != tenant {
            return Err(ApiError::TenantMismatch);
        }
        if let Some(l) = &state.limiter {
            l.check(tenant)?;
        }
        Ok(Tenant::verified(tenant))
    }
}
