//! The command line: `serve`, `migrate`, `openapi`, `token create|list|revoke`,
//! `rekey`. Every flag can also be set with its `IDCBOOTSTRAP_*` environment variable.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use idcbootstrap::connectivity::{DEFAULT_PROPAGATION_TIMEOUT, RawSettings, Settings};
use uuid::Uuid;

use crate::app::{self, AppConfig, AppState, RateLimit};
use crate::crypto::Keyring;
use crate::store::{Db, Engine, Store};

/// idcbootstrap-server: the vendor API for IAM Identity Center trust roles.
#[derive(Debug, Parser)]
#[command(name = "idcbootstrap-server", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Database URL: sqlite://PATH or postgres://… [default: SQLite file idcbootstrap.db in the data directory]
    #[arg(long, env = "IDCBOOTSTRAP_DATABASE_URL", global = true)]
    database: Option<String>,
    /// Data directory (default database and data key) [default: $XDG_DATA_HOME/idcbootstrap or ~/.local/share/idcbootstrap]
    #[arg(long, env = "IDCBOOTSTRAP_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// File of base64 data keys, one per line, the encrypting key first. IDCBOOTSTRAP_DATA_KEY (comma-separated
    /// base64 keys) is the alternative. [default with SQLite: data.key in the data directory, created on first start]
    #[arg(long, env = "IDCBOOTSTRAP_DATA_KEY_FILE", global = true)]
    data_key_file: Option<PathBuf>,
    /// Log filter (tracing EnvFilter syntax, e.g. info, warn, idcbootstrap_server=debug) [default: info for serve, warn otherwise]
    #[arg(long = "log", env = "IDCBOOTSTRAP_LOG", global = true)]
    log: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (applies migrations first).
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate,
    /// Print the OpenAPI 3.1 document.
    Openapi,
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Re-encrypt every stored external ID under the first data key.
    Rekey,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token for a tenant: prints only the token on stdout (once; only its hash is kept) and its ID on stderr.
    Create {
        /// The tenant's UUID.
        #[arg(long)]
        tenant: Uuid,
    },
    /// List a tenant's tokens (JSON lines: id, tenant_id, created_at, revoked_at).
    List {
        /// The tenant's UUID.
        #[arg(long)]
        tenant: Uuid,
    },
    /// Revoke a token by ID (effective within the cache TTL).
    Revoke {
        /// The token's ID (from `token create` or `token list`).
        id: String,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the `listening` log line has `addr`).
    #[arg(long, env = "IDCBOOTSTRAP_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The vendor's IAM principal that rendered roles trust (required by bootstrap-template).
    #[arg(long, env = "IDCBOOTSTRAP_TRUSTED_PRINCIPAL_ARN")]
    trusted_principal_arn: Option<String>,
    /// HTTPS URL of the hosted CloudFormation template, for launch_stack_url.
    #[arg(long, env = "IDCBOOTSTRAP_TEMPLATE_URL")]
    template_url: Option<String>,
    /// STS endpoint override for the connectivity test.
    #[arg(long, env = "IDCBOOTSTRAP_STS_ENDPOINT")]
    sts_endpoint: Option<String>,
    /// sso-admin endpoint override for the connectivity test.
    #[arg(long, env = "IDCBOOTSTRAP_SSO_ADMIN_ENDPOINT")]
    sso_admin_endpoint: Option<String>,
    /// identitystore endpoint override for the connectivity test.
    #[arg(long, env = "IDCBOOTSTRAP_IDENTITYSTORE_ENDPOINT")]
    identitystore_endpoint: Option<String>,
    /// How long the connectivity test waits for a new role to become assumable (e.g. 120, 90s, 2m).
    // The default is the product's (idcbootstrap::connectivity), not a second copy of it.
    #[arg(
        long,
        env = "IDCBOOTSTRAP_PROPAGATION_TIMEOUT",
        default_value_t = Timeout(DEFAULT_PROPAGATION_TIMEOUT),
        value_parser = parse_timeout
    )]
    propagation_timeout: Timeout,
    /// Requests per second per tenant (sustained); 0 disables the limit.
    #[arg(long, env = "IDCBOOTSTRAP_RATE_LIMIT", default_value_t = 50)]
    rate_limit: u32,
    /// Requests per tenant allowed at once (burst) [default: twice --rate-limit].
    #[arg(long, env = "IDCBOOTSTRAP_RATE_LIMIT_BURST")]
    rate_limit_burst: Option<u32>,
    /// Timeout of every request but POST test (whose timeout is the propagation timeout plus 30 s).
    #[arg(long, env = "IDCBOOTSTRAP_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// Largest request body, in bytes.
    #[arg(long, env = "IDCBOOTSTRAP_BODY_LIMIT", default_value_t = app::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// TTL of the in-process caches of verified tokens and external IDs (a revoked token works at most this long;
    /// another process's rotation shows on reads after at most this long); 0 disables them.
    #[arg(long, env = "IDCBOOTSTRAP_CACHE_TTL", default_value = "2s", value_parser = parse_duration)]
    cache_ttl: Duration,
}

/// A duration that prints as clap's help shows a default (`120s`) and parses back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Timeout(Duration);

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.subsec_millis() {
            0 => write!(f, "{}s", self.0.as_secs()),
            _ => write!(f, "{}ms", self.0.as_millis()),
        }
    }
}

fn parse_timeout(s: &str) -> Result<Timeout, String> {
    parse_duration(s).map(Timeout)
}

/// Parses `30`, `30s`, `500ms`, `2m`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a duration (e.g. 30, 30s, 500ms, 2m)"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("{s:?}: unknown unit {unit:?} (use ms, s or m)")),
    }
}

/// A failure of a command, printed on stderr.
#[derive(Debug)]
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

fn default_data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("idcbootstrap");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local").join("share").join("idcbootstrap")
}

fn create_private_dir(dir: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Failure(format!("cannot create the data directory {}: {e}", dir.display())))
}

impl Global {
    fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    /// The database URL; the default SQLite file's directory is created.
    fn database_url(&self) -> Result<String, Failure> {
        if let Some(url) = &self.database {
            return Ok(url.clone());
        }
        let dir = self.data_dir();
        create_private_dir(&dir)?;
        Ok(format!("sqlite://{}?mode=rwc", dir.join("idcbootstrap.db").display()))
    }

    /// The keyring: IDCBOOTSTRAP_DATA_KEY, else the key file, else (SQLite only)
    /// the data directory's `data.key`, created with mode 0600 when `create`.
    fn keyring(&self, engine: Engine, create: bool) -> Result<Keyring, Failure> {
        let env_keys = std::env::var("IDCBOOTSTRAP_DATA_KEY").ok().filter(|v| !v.trim().is_empty());
        if let Some(keys) = env_keys {
            if self.data_key_file.is_some() {
                return Err(Failure("set either IDCBOOTSTRAP_DATA_KEY or --data-key-file, not both".into()));
            }
            return Ok(Keyring::from_base64(keys.split([',', '\n', ' ']))?);
        }
        let path = match &self.data_key_file {
            Some(p) => p.clone(),
            None if engine == Engine::Sqlite => self.data_dir().join("data.key"),
            None => {
                return Err(Failure(
                    "a data key is required with PostgreSQL (every server process needs the same one): set \
                     --data-key-file / IDCBOOTSTRAP_DATA_KEY_FILE or IDCBOOTSTRAP_DATA_KEY"
                        .into(),
                ));
            }
        };
        if !path.exists() && create && self.data_key_file.is_none() {
            write_new_key_file(&path)?;
            tracing::info!(path = %path.display(), "created a data key file");
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure(format!("cannot read the data key file {}: {e}", path.display())))?;
        let keys = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
        Keyring::from_base64(keys).map_err(|e| Failure(format!("{}: {e}", path.display())))
    }
}

fn write_new_key_file(path: &Path) -> Result<(), Failure> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let key = Keyring::generate_key()?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure(format!("cannot create the data key file {}: {e}", path.display())))?;
    writeln!(f, "{key}")?;
    f.sync_all()?;
    Ok(())
}

async fn open_db(g: &Global) -> Result<Db, Failure> {
    let url = g.database_url()?;
    let db = Db::connect(&url).await.map_err(|e| Failure(format!("cannot open the database: {e}")))?;
    db.migrate().await?;
    Ok(db)
}

fn check_settings(a: &ServeArgs) -> Result<Settings, Failure> {
    let raw = RawSettings {
        sts_endpoint: a.sts_endpoint.clone(),
        sso_admin_endpoint: a.sso_admin_endpoint.clone(),
        identitystore_endpoint: a.identitystore_endpoint.clone(),
        propagation_timeout_seconds: Some(a.propagation_timeout.0.as_secs()),
        ..RawSettings::default()
    };
    let settings = Settings::validate(&raw).map_err(|e| Failure(format!("invalid settings: {e}")))?;
    // Sub-second timeouts (tests) are kept exactly.
    Ok(settings.with_propagation_timeout(a.propagation_timeout.0))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn serve(g: &Global, a: &ServeArgs) -> Result<(), Failure> {
    let settings = check_settings(a)?;
    let rate_limit = NonZeroU32::new(a.rate_limit).map(|per_second| RateLimit {
        per_second,
        burst: a
            .rate_limit_burst
            .and_then(NonZeroU32::new)
            .unwrap_or_else(|| per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1))),
    });
    let config = AppConfig {
        trusted_principal_arn: a.trusted_principal_arn.clone(),
        template_url: a.template_url.clone(),
        check_settings: settings,
        request_timeout: a.request_timeout,
        body_limit: a.body_limit,
        rate_limit,
        cache_ttl: a.cache_ttl,
    };
    config.validate().map_err(|e| Failure(format!("invalid settings: {e}")))?;
    if config.trusted_principal_arn.is_none() {
        tracing::warn!("no --trusted-principal-arn: bootstrap-template will answer 500 until one is set");
    }
    let db = open_db(g).await?;
    let keys = g.keyring(db.engine(), true)?;
    tracing::info!(engine = ?db.engine(), key_ids = ?keys.key_ids(), "database ready");
    idcbootstrap::connectivity::install_crypto_provider();
    let store = Store::new(db.clone(), keys, config.cache_ttl);
    let state = AppState::new(store, config);
    let housekeeping = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                state.housekeeping();
            }
        })
    };
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .map_err(|e| Failure(format!("cannot listen on {}: {e}", a.listen)))?;
    let addr = listener.local_addr()?;
    tracing::info!(addr = %addr, "listening");
    axum::serve(listener, app::router(state)).with_graceful_shutdown(shutdown_signal()).await?;
    housekeeping.abort();
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn run_command(cli: Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match &cli.command {
        Command::Serve(a) => serve(g, a).await,
        Command::Migrate => {
            open_db(g).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Openapi => {
            print!("{}", crate::openapi::document_string());
            Ok(())
        }
        Command::Token(TokenCommand::Create { tenant }) => {
            let db = open_db(g).await?;
            let (id, token) = db.create_token(*tenant).await?;
            db.close().await;
            println!("{token}");
            eprintln!("{id}");
            Ok(())
        }
        Command::Token(TokenCommand::List { tenant }) => {
            let db = open_db(g).await?;
            for t in db.list_tokens(*tenant).await? {
                println!("{}", serde_json::to_string(&t)?);
            }
            db.close().await;
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let db = open_db(g).await?;
            let found = db.revoke_token(id).await?;
            db.close().await;
            if !found {
                return Err(Failure(format!("no token with ID {id}")));
            }
            eprintln!("revoked {id}");
            Ok(())
        }
        Command::Rekey => {
            let db = open_db(g).await?;
            let keys = g.keyring(db.engine(), false)?;
            let store = Store::new(db.clone(), keys, Duration::ZERO);
            let (rewritten, seen) = store.rekey().await?;
            db.close().await;
            eprintln!("re-encrypted {rewritten} of {seen} tenants' external IDs under the first key");
            Ok(())
        }
    }
}

/// Parses the command line, runs the command, and maps failure to exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = if matches!(cli.command, Command::Serve(_)) { "info" } else { "warn" };
    crate::logging::init(cli.global.log.as_deref().unwrap_or(default_log));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("idcbootstrap-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run_command(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            tracing::error!(error = %msg, "failed");
            crate::logging::flush();
            eprintln!("idcbootstrap-server: {msg}");
            ExitCode::FAILURE
        }
    };
    crate::logging::flush();
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("x").is_err());
    }

    #[test]
    fn propagation_timeout_defaults_to_the_products_and_round_trips() {
        // Only when the environment does not set it (a developer's shell might).
        if std::env::var_os("IDCBOOTSTRAP_PROPAGATION_TIMEOUT").is_none() {
            let cli = Cli::try_parse_from(["idcbootstrap-server", "serve"]).unwrap();
            let Command::Serve(a) = cli.command else { panic!("serve") };
            assert_eq!(a.propagation_timeout.0, DEFAULT_PROPAGATION_TIMEOUT);
        }
        for d in [Duration::ZERO, Duration::from_millis(250), Duration::from_secs(90)] {
            assert_eq!(parse_timeout(&Timeout(d).to_string()), Ok(Timeout(d)));
        }
    }

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from([
            "idcbootstrap-server",
            "--database",
            "sqlite:///tmp/x.db",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--propagation-timeout",
            "5s",
        ])
        .unwrap();
        let Command::Serve(a) = cli.command else { panic!("serve") };
        assert_eq!(a.listen.port(), 0);
        assert_eq!(a.propagation_timeout, Timeout(Duration::from_secs(5)));
        let cli = Cli::try_parse_from([
            "idcbootstrap-server",
            "token",
            "create",
            "--tenant",
            &Uuid::new_v4().to_string(),
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::Token(TokenCommand::Create { .. })));
    }
}
