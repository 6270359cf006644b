//! Storage: tokens, each tenant's external IDs (sealed) and its saved settings.
//!
//! # One code path for SQLite and PostgreSQL
//!
//! The store runs on sqlx's `Any` driver: one pool type and one set of queries for
//! both engines, rather than an enum over two pools that would need every query
//! written (and tested) twice. The queries keep to what both engines share:
//! `$n` placeholders (sqlx's SQLite driver reads `$n` as a position), `TEXT`,
//! `BIGINT`/`INTEGER` and `BYTEA`/`BLOB` columns (decoded as `String`, `i64` and
//! `Vec<u8>`), `INSERT … ON CONFLICT … DO NOTHING / DO UPDATE`, and no `RETURNING`.
//! Only the migrations differ per engine (`migrations/sqlite`, `migrations/postgres`).
//!
//! # Durability
//!
//! SQLite runs in WAL mode with `synchronous = FULL`: a commit is fsynced to the WAL
//! before the request is answered, so an acknowledged write survives `kill -9` and
//! power loss. (`NORMAL` would be faster and could lose the last commits on power loss.)
//!
//! # Concurrency
//!
//! Nothing is locked in the process. The first external ID is created with
//! `INSERT … ON CONFLICT DO NOTHING` and read back, so concurrent first requests all
//! see the one row that won. Rotate, commit and cancel are compare-and-swap updates
//! (`WHERE tenant_id = $ AND version = $`): a lost race updates no row and answers
//! 409 `conflict`, so several server processes on one PostgreSQL stay correct.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use idcbootstrap::{ExternalId, ExternalIdSet};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection};
use uuid::Uuid;

use crate::auth::Tenant;
use crate::crypto::{self, CryptoError, Keyring};
use crate::error::ApiError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Column names, also the associated data of their ciphertexts.
const COL_CURRENT: &str = "external_id";
const COL_PENDING: &str = "external_id_pending";

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or refused.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A sealed value could not be opened or sealed.
    #[error("data key: {0}")]
    Crypto(#[from] CryptoError),
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL scheme (use sqlite:// or postgres://)")]
    Scheme,
    /// Anything else (a broken invariant).
    #[error("{0}")]
    Other(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}

/// The database engine behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite (the default).
    Sqlite,
    /// PostgreSQL (several server processes on one database).
    Postgres,
}

impl Engine {
    /// The engine of a database URL.
    ///
    /// # Errors
    ///
    /// [`StoreError::Scheme`] for any other scheme.
    pub fn of_url(url: &str) -> Result<Engine, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Engine::Postgres)
        } else {
            Err(StoreError::Scheme)
        }
    }

    fn migrator(self) -> &'static sqlx::migrate::Migrator {
        match self {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// The database: a pool on either engine, the migrations and the tokens.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
}

/// A token as `token list` shows it: never the token, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// The token's ID (for `token revoke`).
    pub id: String,
    /// The tenant it authenticates.
    pub tenant_id: String,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Revocation time, Unix seconds, if revoked.
    pub revoked_at: Option<i64>,
}

impl Db {
    /// Connects a pool. SQLite databases are created if missing and switched to WAL;
    /// every SQLite connection runs with `synchronous = FULL` and a busy timeout.
    ///
    /// # Errors
    ///
    /// The URL's scheme is not supported, or the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let engine = Engine::of_url(url)?;
        let opts: AnyConnectOptions = url.parse::<AnyConnectOptions>()?.disable_statement_logging();
        let max = match engine {
            // SQLite has one writer; a few connections serve the readers of WAL.
            Engine::Sqlite => 4,
            // Per process; several processes share the database's connection limit.
            Engine::Postgres => 10,
        };
        if engine == Engine::Sqlite {
            // journal_mode needs an exclusive lock that the busy timeout does not wait
            // for, so it is set once, on one connection, before the pool opens more.
            // WAL is persistent: every later connection opens in WAL.
            let mut c = opts.connect().await?;
            sqlx::query("PRAGMA journal_mode = WAL").execute(&mut c).await?;
            c.close().await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // See "Durability" above: FULL, never NORMAL.
                        sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        Ok(Db { pool, engine })
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Applies the engine's pending migrations (PostgreSQL serialises concurrent
    /// runners with an advisory lock).
    ///
    /// # Errors
    ///
    /// A migration failed or one applied earlier was changed.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.engine.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// Readiness: the database answers and every migration of this build is applied.
    ///
    /// # Errors
    ///
    /// The database is unreachable, or migrations are missing.
    pub async fn ready(&self) -> Result<(), StoreError> {
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.pool)
            .await?;
        let wanted = self.engine.migrator().iter().count();
        if usize::try_from(applied).unwrap_or(0) < wanted {
            return Err(StoreError::Other(format!("{applied} of {wanted} migrations applied")));
        }
        Ok(())
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Creates a token for `tenant`: returns `(id, token)`. Only the hash is stored.
    ///
    /// # Errors
    ///
    /// Database or random-source failure.
    pub async fn create_token(&self, tenant: Uuid) -> Result<(String, String), StoreError> {
        let id = Uuid::new_v4().to_string();
        let token = crypto::generate_token()?;
        let hash = crypto::token_hash(&token);
        sqlx::query("INSERT INTO tokens (id, tenant_id, token_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(tenant.to_string())
            .bind(hash.as_slice())
            .bind(now_unix())
            .execute(&self.pool)
            .await?;
        Ok((id, token))
    }

    /// The tokens of `tenant`, oldest first.
    ///
    /// # Errors
    ///
    /// Database failure.
    pub async fn list_tokens(&self, tenant: Uuid) -> Result<Vec<TokenInfo>, StoreError> {
        let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, tenant_id, created_at, revoked_at FROM tokens WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, tenant_id, created_at, revoked_at)| TokenInfo {
                id,
                tenant_id,
                created_at,
                revoked_at,
            })
            .collect())
    }

    /// Revokes token `id`. `Ok(false)` if there is no such token; revoking twice is fine.
    ///
    /// # Errors
    ///
    /// Database failure.
    pub async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_unix())
            .bind(id)
            .execute(&self.pool)
            .await?;
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM tokens WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(found.is_some())
    }

    /// The tenant of the unrevoked token whose hash is `hash`; the stored hash is
    /// compared again in constant time.
    ///
    /// # Errors
    ///
    /// Database failure.
    pub(crate) async fn tenant_of_token(&self, hash: &[u8; 32]) -> Result<Option<Uuid>, StoreError> {
        let row: Option<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT tenant_id, token_hash FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash.as_slice())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some((tenant, stored)) if crypto::same_hash(&stored, hash) => Uuid::parse_str(&tenant).ok(),
            _ => None,
        })
    }
}

/// A tenant's external IDs as stored: the core's rotation set and the row version.
///
/// Mapping to the core's [`ExternalIdSet`]: at steady state the set's `current` is the
/// ID in use; during a rotation the set's `previous` is the ID in use and its `current`
/// is the pending one. So [`ExternalIdSet::all`] lists the pending (new) ID first, as
/// the core renders it (`ExternalId` parameter = new, `PreviousExternalId` = in use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdState {
    /// Compare-and-swap counter, bumped by rotate, commit and cancel.
    pub version: i64,
    /// The trusted IDs.
    pub set: ExternalIdSet,
    /// The version at which a connectivity test with the pending ID passed.
    pub pending_tested_version: Option<i64>,
}

impl IdState {
    /// The ID the vendor uses now.
    pub fn in_use(&self) -> &ExternalId {
        self.set.previous.as_ref().unwrap_or(&self.set.current)
    }

    /// The ID being rotated in, if a rotation is under way.
    pub fn pending(&self) -> Option<&ExternalId> {
        self.set.previous.as_ref().map(|_| &self.set.current)
    }

    /// Whether a test with the pending ID passed since this rotation began.
    pub fn pending_tested(&self) -> bool {
        self.pending().is_some() && self.pending_tested_version == Some(self.version)
    }

    fn from_parts(
        version: i64,
        in_use: ExternalId,
        pending: Option<ExternalId>,
        tested: Option<i64>,
    ) -> Self {
        let mut set = ExternalIdSet::new(in_use);
        if let Some(p) = pending {
            // rotate_to refuses only a second rotation or an identical ID; a stored
            // pending ID equal to the one in use cannot be written by this server.
            let _ = set.rotate_to(p);
        }
        IdState { version, set, pending_tested_version: tested }
    }
}

/// A tenant's saved settings; every field may be unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantConfig {
    /// ARN of the IAM Identity Center instance.
    pub sso_instance_arn: Option<String>,
    /// ARN of the trust role the customer created.
    pub role_arn: Option<String>,
    /// Region of the instance.
    pub region: Option<String>,
}

/// What a commit did.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The state after the commit.
    pub state: IdState,
    /// Whether `force` was needed (no passing test with the pending ID).
    pub forced: bool,
}

/// A short-lived in-process cache of each tenant's external IDs, for the read paths
/// (GET external-id, bootstrap-template). Writes of this process update it at once;
/// writes of another process on the same database show after at most the TTL.
/// Transitions (rotate, commit, cancel) and the connectivity test always read the
/// database, never this cache.
#[derive(Debug)]
struct IdCache {
    ttl: Duration,
    map: RwLock<HashMap<Uuid, (Instant, Arc<IdState>)>>,
}

/// Entries kept at most; past it the cache starts over (tenants are few per process).
const CACHE_MAX: usize = 100_000;

impl IdCache {
    fn get(&self, t: Uuid) -> Option<Arc<IdState>> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = self.map.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&t).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, s)| Arc::clone(s))
    }

    fn put(&self, t: Uuid, state: &IdState) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= CACHE_MAX {
            map.clear();
        }
        let newer = map.get(&t).is_none_or(|(at, s)| s.version <= state.version || at.elapsed() >= self.ttl);
        if newer {
            map.insert(t, (Instant::now(), Arc::new(state.clone())));
        }
    }

    fn forget(&self, t: Uuid) {
        let mut map = self.map.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&t);
    }
}

/// Tenant data: external IDs (sealed under the keyring) and settings. Every method
/// takes the verified [`Tenant`], so no query runs without one.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    keys: Arc<Keyring>,
    cache: Arc<IdCache>,
}

type IdRow = (i64, Vec<u8>, Option<Vec<u8>>, Option<i64>);

/// A new external ID: a UUID v4 from the operating system's CSPRNG.
fn new_external_id() -> ExternalId {
    ExternalId::new(Uuid::new_v4().to_string())
}

impl Store {
    /// A store over `db`; `cache_ttl` zero disables the read cache.
    pub fn new(db: Db, keys: Keyring, cache_ttl: Duration) -> Store {
        Store {
            db,
            keys: Arc::new(keys),
            cache: Arc::new(IdCache { ttl: cache_ttl, map: RwLock::new(HashMap::new()) }),
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    fn open_id(&self, tenant: &str, column: &str, sealed: &[u8]) -> Result<ExternalId, StoreError> {
        let plain = self.keys.open(tenant, column, sealed)?;
        String::from_utf8(plain)
            .map(ExternalId::new)
            .map_err(|_| StoreError::Other("a stored external ID is not UTF-8".into()))
    }

    async fn load(&self, t: &Tenant) -> Result<Option<IdState>, StoreError> {
        let row: Option<IdRow> = sqlx::query_as(
            "SELECT version, external_id, external_id_pending, pending_tested_version \
             FROM external_ids WHERE tenant_id = $1",
        )
        .bind(t.key())
        .fetch_optional(&self.db.pool)
        .await?;
        let Some((version, current, pending, tested)) = row else { return Ok(None) };
        let in_use = self.open_id(t.key(), COL_CURRENT, &current)?;
        let pending = pending.map(|p| self.open_id(t.key(), COL_PENDING, &p)).transpose()?;
        let state = IdState::from_parts(version, in_use, pending, tested);
        self.cache.put(t.id(), &state);
        Ok(Some(state))
    }

    /// The tenant's external IDs from the database, created on first use (an
    /// `INSERT … ON CONFLICT DO NOTHING`, then a read: concurrent first requests all
    /// get the one ID that won).
    ///
    /// # Errors
    ///
    /// Database or key failure.
    pub async fn external_ids_fresh(&self, t: &Tenant) -> Result<IdState, StoreError> {
        if let Some(s) = self.load(t).await? {
            return Ok(s);
        }
        let sealed = self.keys.seal(t.key(), COL_CURRENT, new_external_id().expose().as_bytes())?;
        let now = now_unix();
        sqlx::query(
            "INSERT INTO external_ids (tenant_id, version, external_id, created_at, updated_at) \
             VALUES ($1, 1, $2, $3, $3) ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(t.key())
        .bind(sealed)
        .bind(now)
        .execute(&self.db.pool)
        .await?;
        self.load(t).await?.ok_or_else(|| StoreError::Other("the external ID row vanished".into()))
    }

    /// The tenant's external IDs for the read paths: from the cache when fresh.
    ///
    /// # Errors
    ///
    /// As [`Store::external_ids_fresh`].
    pub async fn external_ids(&self, t: &Tenant) -> Result<Arc<IdState>, StoreError> {
        if let Some(s) = self.cache.get(t.id()) {
            return Ok(s);
        }
        Ok(Arc::new(self.external_ids_fresh(t).await?))
    }

    /// The outcome of a compare-and-swap `UPDATE … WHERE version = from.version`:
    /// the new state (cached) when it changed the row, `conflict` when another
    /// request changed it first.
    fn swapped(
        &self,
        t: &Tenant,
        rows: u64,
        from: &IdState,
        set: ExternalIdSet,
    ) -> Result<IdState, ApiError> {
        if rows != 1 {
            return Err(Self::lost_race());
        }
        let state = IdState { version: from.version + 1, set, pending_tested_version: None };
        self.cache.put(t.id(), &state);
        Ok(state)
    }

    fn lost_race() -> ApiError {
        ApiError::Conflict(
            "the external IDs were changed by another request; read them again and retry".into(),
        )
    }

    /// Starts a rotation: a new pending ID, trusted beside the one in use.
    ///
    /// # Errors
    ///
    /// `conflict` when a rotation is already under way or another request won the race.
    pub async fn rotate(&self, t: &Tenant) -> Result<IdState, ApiError> {
        let s = self.external_ids_fresh(t).await?;
        let mut set = s.set.clone();
        set.rotate_to(new_external_id()).map_err(|_| {
            ApiError::Conflict(
                "a rotation is already in progress: commit or cancel it before rotating again".into(),
            )
        })?;
        let sealed = self
            .keys
            .seal(t.key(), COL_PENDING, set.current.expose().as_bytes())
            .map_err(StoreError::from)?;
        let res = sqlx::query(
            "UPDATE external_ids SET external_id_pending = $1, pending_tested_version = NULL, \
             version = version + 1, updated_at = $2 \
             WHERE tenant_id = $3 AND version = $4 AND external_id_pending IS NULL",
        )
        .bind(sealed)
        .bind(now_unix())
        .bind(t.key())
        .bind(s.version)
        .execute(&self.db.pool)
        .await
        .map_err(StoreError::from)?;
        self.swapped(t, res.rows_affected(), &s, set)
    }

    /// Ends a rotation: the pending ID becomes the one in use, the old one is dropped.
    /// Needs a passing test with the pending ID since the rotation began, unless `force`.
    ///
    /// # Errors
    ///
    /// `conflict` when no rotation is under way, when no test passed (without
    /// `force`), or when another request won the race.
    pub async fn commit(&self, t: &Tenant, force: bool) -> Result<Committed, ApiError> {
        let s = self.external_ids_fresh(t).await?;
        if s.pending().is_none() {
            return Err(ApiError::Conflict(
                "no rotation is in progress: POST external-id/rotate first".into(),
            ));
        }
        let tested = s.pending_tested();
        if !tested && !force {
            return Err(ApiError::Conflict(
                "the pending external ID has not passed a connectivity test since the rotation began: \
                 update the role's trust policy, POST /test, then commit (or commit with {\"force\": true})"
                    .into(),
            ));
        }
        let mut set = s.set.clone();
        set.retire_previous();
        let sealed = self
            .keys
            .seal(t.key(), COL_CURRENT, set.current.expose().as_bytes())
            .map_err(StoreError::from)?;
        let res = sqlx::query(
            "UPDATE external_ids SET external_id = $1, external_id_pending = NULL, \
             pending_tested_version = NULL, version = version + 1, updated_at = $2 \
             WHERE tenant_id = $3 AND version = $4 AND external_id_pending IS NOT NULL",
        )
        .bind(sealed)
        .bind(now_unix())
        .bind(t.key())
        .bind(s.version)
        .execute(&self.db.pool)
        .await
        .map_err(StoreError::from)?;
        let state = self.swapped(t, res.rows_affected(), &s, set)?;
        Ok(Committed { state, forced: !tested })
    }

    /// Discards the pending ID; the one in use stays. Without a rotation it changes
    /// nothing and answers the current state.
    ///
    /// # Errors
    ///
    /// `conflict` when another request won the race.
    pub async fn cancel(&self, t: &Tenant) -> Result<IdState, ApiError> {
        let s = self.external_ids_fresh(t).await?;
        if s.pending().is_none() {
            return Ok(s);
        }
        let res = sqlx::query(
            "UPDATE external_ids SET external_id_pending = NULL, pending_tested_version = NULL, \
             version = version + 1, updated_at = $1 \
             WHERE tenant_id = $2 AND version = $3 AND external_id_pending IS NOT NULL",
        )
        .bind(now_unix())
        .bind(t.key())
        .bind(s.version)
        .execute(&self.db.pool)
        .await
        .map_err(StoreError::from)?;
        let mut set = s.set.clone();
        set.cancel_rotation();
        self.swapped(t, res.rows_affected(), &s, set)
    }

    /// Records that a connectivity test with the pending ID of `version` passed.
    /// Returns whether the row was still at that version (a rotation since then
    /// makes the record moot).
    ///
    /// # Errors
    ///
    /// Database failure.
    pub async fn record_pending_tested(&self, t: &Tenant, version: i64) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE external_ids SET pending_tested_version = $1, updated_at = $2 \
             WHERE tenant_id = $3 AND version = $1 AND external_id_pending IS NOT NULL",
        )
        .bind(version)
        .bind(now_unix())
        .bind(t.key())
        .execute(&self.db.pool)
        .await?;
        self.cache.forget(t.id());
        Ok(res.rows_affected() == 1)
    }

    /// The tenant's saved settings, if any.
    ///
    /// # Errors
    ///
    /// Database failure.
    pub async fn config(&self, t: &Tenant) -> Result<Option<TenantConfig>, StoreError> {
        let row: Option<(Option<String>, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT sso_instance_arn, role_arn, region FROM configs WHERE tenant_id = $1")
                .bind(t.key())
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(row.map(|(sso_instance_arn, role_arn, region)| TenantConfig {
            sso_instance_arn,
            role_arn,
            region,
        }))
    }

    /// Saves the tenant's settings (insert or replace).
    ///
    /// # Errors
    ///
    /// Database failure.
    pub async fn put_config(&self, t: &Tenant, c: &TenantConfig) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO configs (tenant_id, sso_instance_arn, role_arn, region, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET \
             sso_instance_arn = excluded.sso_instance_arn, role_arn = excluded.role_arn, \
             region = excluded.region, updated_at = excluded.updated_at",
        )
        .bind(t.key())
        .bind(c.sso_instance_arn.clone())
        .bind(c.role_arn.clone())
        .bind(c.region.clone())
        .bind(now_unix())
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Clears the tenant's settings (the external IDs stay).
    ///
    /// # Errors
    ///
    /// Database failure.
    pub async fn delete_config(&self, t: &Tenant) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM configs WHERE tenant_id = $1").bind(t.key()).execute(&self.db.pool).await?;
        Ok(())
    }

    /// Re-encrypts every sealed value that is not under the first key. Returns
    /// `(rows rewritten, rows seen)`. Each row is rewritten with a compare-and-swap on
    /// its version and retried if a request changed it meanwhile.
    ///
    /// # Errors
    ///
    /// Database failure, or a value no configured key opens.
    pub async fn rekey(&self) -> Result<(usize, usize), StoreError> {
        let tenants: Vec<(String,)> = sqlx::query_as("SELECT tenant_id FROM external_ids ORDER BY tenant_id")
            .fetch_all(&self.db.pool)
            .await?;
        let mut rewritten = 0;
        for (tenant,) in &tenants {
            for attempt in 0.. {
                let row: Option<(i64, Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as(
                    "SELECT version, external_id, external_id_pending FROM external_ids WHERE tenant_id = $1",
                )
                .bind(tenant)
                .fetch_optional(&self.db.pool)
                .await?;
                let Some((version, current, pending)) = row else { break };
                let stale = self.keys.needs_rekey(&current)
                    || pending.as_deref().is_some_and(|p| self.keys.needs_rekey(p));
                if !stale {
                    break;
                }
                let reseal = |col: &str, sealed: &[u8]| -> Result<Vec<u8>, StoreError> {
                    let plain = self.keys.open(tenant, col, sealed)?;
                    Ok(self.keys.seal(tenant, col, &plain)?)
                };
                let new_current = reseal(COL_CURRENT, &current)?;
                let new_pending = pending.as_deref().map(|p| reseal(COL_PENDING, p)).transpose()?;
                let res = sqlx::query(
                    "UPDATE external_ids SET external_id = $1, external_id_pending = $2 \
                     WHERE tenant_id = $3 AND version = $4",
                )
                .bind(new_current)
                .bind(new_pending)
                .bind(tenant)
                .bind(version)
                .execute(&self.db.pool)
                .await?;
                if res.rows_affected() == 1 {
                    rewritten += 1;
                    break;
                }
                if attempt >= 10 {
                    return Err(StoreError::Other(format!("tenant {tenant} kept changing during rekey")));
                }
            }
        }
        Ok((rewritten, tenants.len()))
    }

    /// The raw sealed columns of a tenant's row (tests check nothing is plain).
    #[cfg(test)]
    pub(crate) async fn raw_rows_for_tests(&self, t: &Tenant) -> Vec<Vec<u8>> {
        let row: (Vec<u8>, Option<Vec<u8>>) =
            sqlx::query_as("SELECT external_id, external_id_pending FROM external_ids WHERE tenant_id = $1")
                .bind(t.key())
                .fetch_one(&self.db.pool)
                .await
                .unwrap();
        let mut v = vec![row.0];
        v.extend(row.1);
        v
    }
}

impl Db {
    /// The stored token hashes of a tenant (tests check no token is stored).
    #[cfg(test)]
    pub(crate) async fn raw_token_hashes_for_tests(&self, tenant: Uuid) -> Vec<Vec<u8>> {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT token_hash FROM tokens WHERE tenant_id = $1")
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await
            .unwrap();
        rows.into_iter().map(|r| r.0).collect()
    }
}
