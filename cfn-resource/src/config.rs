//! The function's configuration, read once at init from its environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `IDCB_STATE_KEY` | secret (≥ 32 characters) from which `Custom::IdcExternalId` derives external IDs; see `README.md` | required |
//! | `IDCB_DEADLINE_MARGIN_MS` | answer `FAILED`/`timeout` this long before the Lambda deadline (100–60000) | 2000 |
//! | `IDCB_LOG` | log filter (`info`, `debug`, …) | `info` |
//! | `IDCB_CFN_TEST_FAULT` | test hook, never set in production: `panic` or `sleep=<ms>` | unset |
//!
//! An invalid value is an init failure: the function still answers every event
//! (FAILED, or SUCCESS for Delete) with the reason, rather than dying.

use std::fmt;
use std::time::Duration;

/// Environment variable names, in one place for the docs and tests.
pub(crate) const STATE_KEY_VAR: &str = "IDCB_STATE_KEY";
pub(crate) const MARGIN_VAR: &str = "IDCB_DEADLINE_MARGIN_MS";
pub(crate) const LOG_VAR: &str = "IDCB_LOG";
pub(crate) const FAULT_VAR: &str = "IDCB_CFN_TEST_FAULT";

/// Shortest accepted state key: 32 characters of a generated secret carry well
/// over 128 bits (Secrets Manager's `GenerateSecretString` of 64 alphanumerics
/// carries ~380).
pub(crate) const MIN_STATE_KEY_LEN: usize = 32;

/// A deliberate failure injected into the resource stage, so the end-to-end tests
/// can prove the catch-panic and deadline guards on the real binary. Read once at
/// init from `IDCB_CFN_TEST_FAULT`, which only tests set; the deployment template
/// never does, and the function logs a warning when it is set. A CloudFormation
/// stack cannot reach it: it is not a resource property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Panic inside the resource handler.
    Panic,
    /// Sleep this long inside the resource handler before doing the work.
    Sleep(Duration),
}

/// The validated configuration.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) state_key: StateKey,
    pub(crate) deadline_margin: Duration,
    pub(crate) log_filter: String,
    pub(crate) fault: Option<Fault>,
}

/// The secret behind `Custom::IdcExternalId`. `Debug` redacts it.
#[derive(Clone)]
pub(crate) struct StateKey(pub(crate) Vec<u8>);

impl fmt::Debug for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateKey(<redacted>)")
    }
}

/// Why the configuration is invalid. Never contains a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    pub(crate) variable: String,
    pub(crate) problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "environment variable {}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment.
    pub(crate) fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get` (the environment, or a table in tests).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let state_key = match get(STATE_KEY_VAR) {
            None => {
                return Err(ConfigError {
                    variable: STATE_KEY_VAR.into(),
                    problem: "is not set; the deployment template sets it from a generated secret".into(),
                });
            }
            Some(k) if k.trim().chars().count() < MIN_STATE_KEY_LEN => {
                return Err(ConfigError {
                    variable: STATE_KEY_VAR.into(),
                    problem: format!("must be at least {MIN_STATE_KEY_LEN} characters"),
                });
            }
            Some(k) => StateKey(k.trim().as_bytes().to_vec()),
        };
        let deadline_margin = match get(MARGIN_VAR) {
            None => Duration::from_millis(2000),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(ms) if (100..=60_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(ConfigError {
                        variable: MARGIN_VAR.into(),
                        problem: format!("must be an integer from 100 to 60000 (milliseconds), got {v:?}"),
                    });
                }
            },
        };
        let log_filter = get(LOG_VAR).unwrap_or_else(|| "info".to_owned());
        let fault = match get(FAULT_VAR) {
            None => None,
            Some(v) if v == "panic" => Some(Fault::Panic),
            Some(v) => match v.strip_prefix("sleep=").and_then(|ms| ms.parse::<u64>().ok()) {
                Some(ms) => Some(Fault::Sleep(Duration::from_millis(ms))),
                None => {
                    return Err(ConfigError {
                        variable: FAULT_VAR.into(),
                        problem: format!("must be `panic` or `sleep=<ms>`, got {v:?}"),
                    });
                }
            },
        };
        Ok(Config { state_key, deadline_margin, log_filter, fault })
    }
}

/// JSON logs on stdout, which Lambda ships to CloudWatch. The runtime's own
/// targets are capped at `info`: at `trace` `lambda_runtime` prints raw event
/// payloads, and those carry external IDs.
pub(crate) fn init_logging(filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let user = filter.unwrap_or("info");
    let directives = format!("{user},lambda_runtime=info,lambda_runtime_api_client=info");
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_writer(std::io::stdout)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn state_key_is_required_and_long_enough() {
        assert_eq!(cfg(&[]).err().unwrap().variable, STATE_KEY_VAR);
        let err = cfg(&[(STATE_KEY_VAR, "short")]).err().unwrap();
        assert_eq!(err.variable, STATE_KEY_VAR);
        assert!(!err.to_string().contains("short"), "never echo the key: {err}");
        assert!(cfg(&[(STATE_KEY_VAR, KEY)]).is_ok());
    }

    #[test]
    fn state_key_debug_redacts() {
        let c = cfg(&[(STATE_KEY_VAR, KEY)]).unwrap();
        assert!(!format!("{:?}", c.state_key).contains(KEY));
    }

    #[test]
    fn margin_range() {
        assert_eq!(cfg(&[(STATE_KEY_VAR, KEY)]).unwrap().deadline_margin, Duration::from_secs(2));
        assert_eq!(
            cfg(&[(STATE_KEY_VAR, KEY), (MARGIN_VAR, "500")]).unwrap().deadline_margin,
            Duration::from_millis(500)
        );
        for bad in ["99", "60001", "x", "-1"] {
            assert_eq!(cfg(&[(STATE_KEY_VAR, KEY), (MARGIN_VAR, bad)]).err().unwrap().variable, MARGIN_VAR);
        }
    }

    #[test]
    fn fault_values() {
        assert_eq!(cfg(&[(STATE_KEY_VAR, KEY)]).unwrap().fault, None);
        assert_eq!(cfg(&[(STATE_KEY_VAR, KEY), (FAULT_VAR, "panic")]).unwrap().fault, Some(Fault::Panic));
        assert_eq!(
            cfg(&[(STATE_KEY_VAR, KEY), (FAULT_VAR, "sleep=250")]).unwrap().fault,
            Some(Fault::Sleep(Duration::from_millis(250)))
        );
        assert_eq!(cfg(&[(STATE_KEY_VAR, KEY), (FAULT_VAR, "boom")]).err().unwrap().variable, FAULT_VAR);
    }
}
