//! Logs for Terraform: one JSON object per line on stderr in hclog's shape
//! (`@level`, `@message`, `@module`), which go-plugin re-emits through Terraform's
//! own log at the level given. Written by hand because tracing-subscriber's JSON
//! layout is not hclog's. The level comes from `TF_LOG_PROVIDER` or `TF_LOG`.
//! Nothing logged is secret: values are never logged, only names and counts.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The level Terraform asks for; off when it asks for none.
pub(crate) fn level_from(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> LevelFilter {
    let v = tf_log_provider.filter(|s| !s.is_empty()).or(tf_log).unwrap_or("");
    match v.trim().to_ascii_lowercase().as_str() {
        "trace" | "json" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "info" => LevelFilter::INFO,
        "warn" => LevelFilter::WARN,
        "error" => LevelFilter::ERROR,
        // Any other non-empty value makes Terraform log at TRACE.
        "" | "off" => LevelFilter::OFF,
        _ => LevelFilter::TRACE,
    }
}

pub(crate) fn init() {
    let level =
        level_from(std::env::var("TF_LOG_PROVIDER").ok().as_deref(), std::env::var("TF_LOG").ok().as_deref());
    if level == LevelFilter::OFF {
        return;
    }
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // Our own events at the level asked for; the libraries' (h2, hyper, rustls)
    // only when they warn, so frame dumps never reach the log.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), level)
        .with_default(level.min(LevelFilter::WARN));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).event_format(Hclog);
    let _ = tracing_subscriber::registry().with(filter).with(fmt).try_init();
}

struct Hclog;

struct Fields(serde_json::Map<String, serde_json::Value>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

impl<S, N> FormatEvent<S, N> for Hclog
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut f = Fields(serde_json::Map::new());
        event.record(&mut f);
        // go-plugin type-asserts `@message` and `@level` as strings and panics (taking
        // Terraform down) on anything else, so both are always strings.
        let message = match f.0.remove("message") {
            Some(serde_json::Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let mut out = serde_json::Map::new();
        out.insert("@level".into(), event.metadata().level().as_str().to_ascii_lowercase().into());
        out.insert("@message".into(), message.into());
        out.insert("@module".into(), "idcbootstrap".into());
        out.insert("@caller".into(), event.metadata().target().into());
        out.extend(f.0);
        writeln!(w, "{}", serde_json::Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_hclog_string_fields_even_without_a_message() {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::layer::SubscriberExt;
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let w = buf.clone();
        let sub = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(move || w.clone()).event_format(Hclog));
        tracing::subscriber::with_default(sub, || {
            tracing::info!(count = 3, "hello");
            tracing::info!(only_a_field = true);
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["@message"], "hello");
        assert_eq!(lines[0]["@level"], "info");
        assert_eq!(lines[0]["count"], 3);
        assert_eq!(lines[1]["@message"], "");
    }

    #[test]
    fn tf_log_levels_map_like_terraform() {
        assert_eq!(level_from(None, None), LevelFilter::OFF);
        assert_eq!(level_from(None, Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(level_from(Some("warn"), Some("trace")), LevelFilter::WARN);
        assert_eq!(level_from(None, Some("JSON")), LevelFilter::TRACE);
        assert_eq!(level_from(None, Some("1")), LevelFilter::TRACE);
    }
}
