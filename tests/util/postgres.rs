//! PostgreSQL for the server's tests: the cluster `scripts/postgres.sh` runs
//! (`scripts/test.sh` starts it and exports `IDCB_TEST_POSTGRES_URL`), and a fresh
//! database in it for each test, so tests running side by side never share rows.
//!
//! Without `IDCB_TEST_POSTGRES_URL` the PostgreSQL variants are skipped with a
//! loud message, except under `CI=true`, where they fail: CI must not pass by
//! skipping them.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Environment variable naming the cluster: `postgres://USER@HOST:PORT/DB`.
pub(crate) const URL_VAR: &str = "IDCB_TEST_POSTGRES_URL";

/// The cluster's URL, or `None` (after saying so on stderr) when the variable is
/// unset outside CI. Panics under `CI=true` when it is unset.
pub(crate) fn cluster(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "{URL_VAR} is not set under CI=true: {test} must run against PostgreSQL \
             (scripts/test.sh starts one with scripts/postgres.sh)"
        ),
        _ => {
            eprintln!(
                "\n********\n* SKIPPED {test}: {URL_VAR} is not set. Run `export {URL_VAR}=$(scripts/postgres.sh start)`\n\
                 * (scripts/test.sh does it); CI=true turns this skip into a failure.\n********\n"
            );
            None
        }
    }
}

/// `psql` from Debian's PostgreSQL (`PG_BINDIR`, then `/usr/lib/postgresql/*/bin`, then PATH).
fn psql() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BINDIR") {
        return PathBuf::from(dir).join("psql");
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .map(|d| d.join("psql"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("psql"))
}

/// Runs one SQL statement against `url` with psql.
pub(crate) fn psql_exec(url: &str, sql: &str) -> String {
    let out = Command::new(psql())
        .args([url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql])
        .output()
        .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
    assert!(
        out.status.success(),
        "psql `{sql}` failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new, empty database in the cluster, named after `hint`: its URL. `None` when
/// PostgreSQL tests are skipped (see [`cluster`]).
pub(crate) fn fresh_database(hint: &str) -> Option<String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let base = cluster(hint)?;
    let safe: String = hint
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .take(30)
        .collect();
    let name = format!("idcb_{safe}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    psql_exec(&base, &format!("CREATE DATABASE {name}"));
    let (base, query) =
        base.split_once('?').map_or((base.as_str(), String::new()), |(b, q)| (b, format!("?{q}")));
    let (prefix, _) = base.rsplit_once('/').expect("URL ends with /DATABASE");
    Some(format!("{prefix}/{name}{query}"))
}
