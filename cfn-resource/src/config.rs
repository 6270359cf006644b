//! The plumbing's configuration, read once at init from the function's environment.
//! Each resource type reads its own (see `resources::registry`), so a type that
//! needs nothing works whatever another type lacks.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `IDCBOOTSTRAP_DEADLINE_MARGIN_MS` | answer `FAILED`/`timeout` this long before the Lambda deadline (100–60000) | 2000 |
//! | `IDCBOOTSTRAP_LOG` | log filter (`info`, `debug`, …) | `info` |
//! | `IDCBOOTSTRAP_CFN_TEST_FAULT` | test hook, never set in production: `panic` or `sleep=<ms>` | unset |
//!
//! One naming scheme for the provider and the function: `IDCBOOTSTRAP_*`. The
//! earlier names (`IDCB_DEADLINE_MARGIN_MS`, `IDCB_LOG`, `IDCB_CFN_TEST_FAULT`) are
//! read when the new one is unset ([`lookup`]).
//!
//! An invalid value is an init failure: the function still answers every event
//! (FAILED, or SUCCESS for Delete) with the reason, rather than dying.

use std::fmt;
use std::time::Duration;

/// Environment variable names, in one place for the docs and tests.
pub(crate) const MARGIN_VAR: &str = "IDCBOOTSTRAP_DEADLINE_MARGIN_MS";
pub(crate) const LOG_VAR: &str = "IDCBOOTSTRAP_LOG";
pub(crate) const FAULT_VAR: &str = "IDCBOOTSTRAP_CFN_TEST_FAULT";

/// Each variable with the earlier name that is still read when it is unset.
pub(crate) const ALIASES: [(&str, &str); 4] = [
    ("IDCBOOTSTRAP_STATE_KEY", "IDCB_STATE_KEY"),
    (MARGIN_VAR, "IDCB_DEADLINE_MARGIN_MS"),
    (LOG_VAR, "IDCB_LOG"),
    (FAULT_VAR, "IDCB_CFN_TEST_FAULT"),
];

/// The value of `name`, or, when it is unset or empty, of its earlier name (see
/// [`ALIASES`]); with the name it was read from, for error messages.
pub(crate) fn lookup(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<(String, String)> {
    let read = |n: &str| get(n).filter(|v| !v.is_empty()).map(|v| (v, n.to_owned()));
    read(name).or_else(|| ALIASES.iter().find(|(new, _)| *new == name).and_then(|(_, old)| read(old)))
}

/// A deliberate failure injected into the resource stage, so the end-to-end tests
/// can prove the catch-panic and deadline guards on the real binary. Read once at
/// init from `IDCBOOTSTRAP_CFN_TEST_FAULT`, which only tests set; the deployment
/// template never does, and the function logs a warning when it is set. A
/// CloudFormation stack cannot reach it: it is not a resource property.
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
    pub(crate) deadline_margin: Duration,
    pub(crate) log_filter: String,
    pub(crate) fault: Option<Fault>,
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
    /// Reads the configuration through `get` (the environment, or a table in tests).
    pub(crate) fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let deadline_margin = match lookup(get, MARGIN_VAR) {
            None => Duration::from_millis(2000),
            Some((v, var)) => match v.trim().parse::<u64>() {
                Ok(ms) if (100..=60_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(ConfigError {
                        variable: var,
                        problem: format!("must be an integer from 100 to 60000 (milliseconds), got {v:?}"),
                    });
                }
            },
        };
        let log_filter = lookup(get, LOG_VAR).map_or_else(|| "info".to_owned(), |(v, _)| v);
        let fault = match lookup(get, FAULT_VAR) {
            None => None,
            Some((v, _)) if v == "panic" => Some(Fault::Panic),
            Some((v, var)) => match v.strip_prefix("sleep=").and_then(|ms| ms.parse::<u64>().ok()) {
                Some(ms) => Some(Fault::Sleep(Duration::from_millis(ms))),
                None => {
                    return Err(ConfigError {
                        variable: var,
                        problem: format!("must be `panic` or `sleep=<ms>`, got {v:?}"),
                    });
                }
            },
        };
        Ok(Config { deadline_margin, log_filter, fault })
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
        Config::from_lookup(&|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn nothing_is_required() {
        let c = cfg(&[]).unwrap();
        assert_eq!(
            (c.deadline_margin, c.log_filter.as_str(), c.fault),
            (Duration::from_secs(2), "info", None)
        );
    }

    #[test]
    fn margin_range() {
        assert_eq!(cfg(&[(MARGIN_VAR, "500")]).unwrap().deadline_margin, Duration::from_millis(500));
        for bad in ["99", "60001", "x", "-1"] {
            assert_eq!(cfg(&[(MARGIN_VAR, bad)]).err().unwrap().variable, MARGIN_VAR);
        }
    }

    #[test]
    fn earlier_names_are_read_when_the_new_one_is_unset() {
        assert_eq!(
            cfg(&[("IDCB_DEADLINE_MARGIN_MS", "500")]).unwrap().deadline_margin,
            Duration::from_millis(500)
        );
        let both = cfg(&[("IDCB_DEADLINE_MARGIN_MS", "500"), (MARGIN_VAR, "700")]).unwrap();
        assert_eq!(both.deadline_margin, Duration::from_millis(700), "the new name wins");
        let empty = cfg(&[("IDCB_LOG", "debug"), (LOG_VAR, "")]).unwrap();
        assert_eq!(empty.log_filter, "debug", "empty is unset");
        // A bad value is reported under the name it was set with.
        assert_eq!(
            cfg(&[("IDCB_DEADLINE_MARGIN_MS", "1")]).err().unwrap().variable,
            "IDCB_DEADLINE_MARGIN_MS"
        );
        assert_eq!(cfg(&[("IDCB_CFN_TEST_FAULT", "panic")]).unwrap().fault, Some(Fault::Panic));
    }

    #[test]
    fn fault_values() {
        assert_eq!(cfg(&[(FAULT_VAR, "panic")]).unwrap().fault, Some(Fault::Panic));
        assert_eq!(
            cfg(&[(FAULT_VAR, "sleep=250")]).unwrap().fault,
            Some(Fault::Sleep(Duration::from_millis(250)))
        );
        assert_eq!(cfg(&[(FAULT_VAR, "boom")]).err().unwrap().variable, FAULT_VAR);
    }
}
