//! The plumbing's configuration, read once at init from the function's environment.
//! Each resource type reads its own (see `resources::registry`), so a type that
//! needs nothing works whatever another type lacks.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `IDCBOOTSTRAP_DEADLINE_MARGIN_MS` | answer `FAILED`/`timeout` this long before the Lambda deadline (1000–60000) | 2000 |
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

/// One of the function's own variables, for `bootstrap --describe-settings` (from
/// which the docs' table is generated).
pub(crate) struct Variable {
    pub(crate) name: &'static str,
    pub(crate) meaning: &'static str,
    pub(crate) default: &'static str,
}

/// The plumbing's variables.
pub(crate) const VARIABLES: [Variable; 4] = [
    Variable {
        name: MARGIN_VAR,
        meaning: "How long before the Lambda deadline the function answers CloudFormation anyway (`timeout`), \
                  so a stack never hangs: 1000 to 60000 milliseconds. Delivery of that answer may use the \
                  margin less 200 ms.",
        default: "2000",
    },
    Variable {
        name: LOG_VAR,
        meaning: "Log filter (`info`, `debug`, `trace`, ...) of the function's own events. Libraries (the AWS SDK, \
                  hyper, rustls, the Lambda runtime) log warnings and errors only, whatever it says. External IDs \
                  are never logged at any level.",
        default: "info",
    },
    Variable {
        name: crate::response_url::ENDPOINTS_VAR,
        meaning: "Origins (`scheme://host[:port]`, comma-separated; without a port, any port of the host) the \
                  function may also send its answer to. Without it, answers go only over https to \
                  CloudFormation's response bucket of the function's region \
                  (`cloudformation-custom-resource-response-<region without dashes>`), and any other \
                  `ResponseURL` is refused, unanswered. For a private partition's endpoint, or local test \
                  stand-ins; never taken from an event.",
        default: "",
    },
    Variable {
        name: FAULT_VAR,
        meaning: "Test hook, never set in production: `panic` or `sleep=<ms>` in the resource stage.",
        default: "",
    },
];

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

/// Smallest deadline margin. The answer is sent within the margin, and delivery
/// gives up [`FREEZE_SLACK`] before the deadline: under a second left one short PUT
/// attempt, which a cold TLS connection to S3 often does not finish, and a lost
/// answer leaves the stack waiting for an hour.
pub(crate) const MIN_MARGIN: Duration = Duration::from_millis(1000);
/// Largest deadline margin.
pub(crate) const MAX_MARGIN: Duration = Duration::from_millis(60_000);
/// How long before the deadline delivery stops trying, so the invocation ends
/// (and is reported) before Lambda freezes the function.
pub(crate) const FREEZE_SLACK: Duration = Duration::from_millis(200);

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
            Some((v, var)) => match v.trim().parse::<u64>().map(Duration::from_millis) {
                Ok(margin) if (MIN_MARGIN..=MAX_MARGIN).contains(&margin) => margin,
                _ => {
                    return Err(ConfigError {
                        variable: var,
                        problem: format!(
                            "must be an integer from {} to {} (milliseconds): the answer needs at least a \
                             second to reach CloudFormation; got {v:?}",
                            MIN_MARGIN.as_millis(),
                            MAX_MARGIN.as_millis()
                        ),
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

/// JSON logs on stdout, which Lambda ships to CloudWatch.
pub(crate) fn init_logging(filter: Option<&str>) {
    let _ = tracing::subscriber::set_global_default(subscriber(filter, std::io::stdout));
}

/// The targets whose events follow `IDCBOOTSTRAP_LOG` at every level: the
/// function's own and the core's, which never log a value, only names and counts.
const OWN_TARGETS: [&str; 2] = [env!("CARGO_CRATE_NAME"), "idcbootstrap"];

/// The subscriber [`init_logging`] installs, writing to `writer`.
///
/// `IDCBOOTSTRAP_LOG` (an `EnvFilter`, `info` by default) decides what is logged,
/// under a cap it cannot lift, as the provider's log does: every other target —
/// the AWS SDK (which logs the AssumeRole request, external ID included, at TRACE),
/// hyper, h2, rustls, reqwest, `lambda_runtime` (raw event payloads at TRACE) — at
/// `warn` at most.
fn subscriber<W>(filter: Option<&str>, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::layer::SubscriberExt;
    let user = EnvFilter::try_new(filter.unwrap_or("info")).unwrap_or_else(|_| EnvFilter::new("info"));
    let cap = OWN_TARGETS
        .iter()
        .fold(tracing_subscriber::filter::Targets::new(), |t, own| t.with_target(*own, LevelFilter::TRACE))
        .with_default(LevelFilter::WARN);
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_writer(writer);
    tracing_subscriber::registry().with(cap).with(user).with(fmt)
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
        assert_eq!(cfg(&[(MARGIN_VAR, "1500")]).unwrap().deadline_margin, Duration::from_millis(1500));
        for bad in ["99", "60001", "x", "-1"] {
            assert_eq!(cfg(&[(MARGIN_VAR, bad)]).err().unwrap().variable, MARGIN_VAR);
        }
    }

    /// A margin under a second left the PUT a few hundred milliseconds, or none:
    /// the answer was lost and the stack waited an hour.
    #[test]
    fn margin_has_a_floor_that_leaves_delivery_a_real_chance() {
        for bad in ["100", "500", "999"] {
            let e = cfg(&[(MARGIN_VAR, bad)]).err().unwrap();
            assert_eq!(e.variable, MARGIN_VAR, "{bad}");
            assert!(e.problem.contains("1000"), "{}", e.problem);
        }
        assert_eq!(cfg(&[(MARGIN_VAR, "1000")]).unwrap().deadline_margin, Duration::from_millis(1000));
    }

    #[test]
    fn earlier_names_are_read_when_the_new_one_is_unset() {
        assert_eq!(
            cfg(&[("IDCB_DEADLINE_MARGIN_MS", "1500")]).unwrap().deadline_margin,
            Duration::from_millis(1500)
        );
        let both = cfg(&[("IDCB_DEADLINE_MARGIN_MS", "1500"), (MARGIN_VAR, "1700")]).unwrap();
        assert_eq!(both.deadline_margin, Duration::from_millis(1700), "the new name wins");
        let empty = cfg(&[("IDCB_LOG", "debug"), (LOG_VAR, "")]).unwrap();
        assert_eq!(empty.log_filter, "debug", "empty is unset");
        // A bad value is reported under the name it was set with.
        assert_eq!(
            cfg(&[("IDCB_DEADLINE_MARGIN_MS", "1")]).err().unwrap().variable,
            "IDCB_DEADLINE_MARGIN_MS"
        );
        assert_eq!(cfg(&[("IDCB_CFN_TEST_FAULT", "panic")]).unwrap().fault, Some(Fault::Panic));
    }

    /// A writer the tests read back.
    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// At TRACE the AWS SDK logs the AssumeRole request (with the external ID),
    /// hyper and rustls their frames: third-party targets are capped whatever
    /// `IDCBOOTSTRAP_LOG` asks for, and only the function's own events follow it.
    #[test]
    fn trace_never_writes_an_external_id() {
        const ID: &str = "secret-external-id-trace-0001";
        for filter in ["trace", "debug", "trace,aws_smithy_runtime=trace,hyper=trace"] {
            let buf = Buf::default();
            let w = buf.clone();
            tracing::subscriber::with_default(subscriber(Some(filter), move || w.clone()), || {
                tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", body = ID, "send");
                tracing::debug!(target: "aws_sdk_sts::operation", body = ID, "request");
                tracing::trace!(target: "aws_smithy_http_client::hyper", body = ID, "wire");
                tracing::trace!(target: "hyper_util::client::legacy", body = ID, "frame");
                tracing::trace!(target: "rustls::client", body = ID, "record");
                tracing::trace!(target: "reqwest::connect", body = ID, "connect");
                tracing::trace!(target: "h2::codec", body = ID, "frame");
                tracing::trace!(target: "lambda_runtime::layers", body = ID, "event");
                tracing::debug!(target: "bootstrap::handler", "own event");
                tracing::debug!(target: "idcbootstrap::connectivity", "core event");
                tracing::warn!(target: "hyper_util::client::legacy", "a library warning");
            });
            let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
            // The guard: the search had something to find.
            assert!(text.contains("own event") && text.contains("core event"), "{filter}: {text}");
            assert!(text.contains("a library warning"), "{filter}: {text}");
            assert!(!text.contains(ID), "{filter}: a third-party trace event was written:\n{text}");
        }
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
