//! Diagnostics: what the user reads when something is wrong. One constructor per
//! kind, on the protocol's [`AttrPath`]. What a provider's own errors become is the
//! provider's business (its glue builds them with these constructors).

use super::path::AttrPath;
use super::value::DecodeError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// One diagnostic. A `path` of `None` means the whole block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Diagnostic {
    pub(crate) severity: Severity,
    pub(crate) summary: String,
    pub(crate) detail: String,
    pub(crate) path: Option<AttrPath>,
}

/// The diagnostics of one RPC. Duplicates are dropped, as the plugin framework does;
/// a hash set finds them, so many diagnostics cost linear time, not quadratic.
#[derive(Debug, Clone, Default)]
pub(crate) struct Diagnostics {
    items: Vec<Diagnostic>,
    seen: std::collections::HashSet<Diagnostic>,
}

impl Diagnostics {
    pub(crate) fn push(&mut self, d: Diagnostic) {
        if !self.seen.contains(&d) {
            self.seen.insert(d.clone());
            self.items.push(d);
        }
    }

    pub(crate) fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        });
    }

    pub(crate) fn attribute_error(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        let path = if path.is_root() { None } else { Some(path) };
        self.push(Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path,
        });
    }

    pub(crate) fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        });
    }

    /// A value Terraform sent could not be decoded with the schema (a protocol bug,
    /// not a user error).
    pub(crate) fn decode_error(&mut self, what: &str, e: &DecodeError) {
        self.attribute_error(
            e.path.clone(),
            "Invalid value from Terraform",
            format!(
                "The provider could not decode the {what}: {}. This is a bug in the provider or Terraform.",
                e.message
            ),
        );
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    #[cfg(test)]
    pub(crate) fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_dropped() {
        let mut d = Diagnostics::default();
        d.error("a", "b");
        d.error("a", "b");
        assert_eq!(d.into_vec().len(), 1);
    }

    /// Many distinct diagnostics (an input with thousands of bad elements) stay
    /// cheap: with a linear search per push, 200,000 of them take minutes; the bound
    /// below is two orders of magnitude above what the hash set needs.
    #[test]
    fn many_diagnostics_are_deduplicated_in_linear_time() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut d = Diagnostics::default();
            for i in 0..200_000 {
                d.attribute_error(
                    AttrPath::root().attr("tags").key(format!("k{i}")),
                    "Invalid input",
                    "too long",
                );
                d.error("Invalid input", "the same one");
            }
            let _ = tx.send(d.into_vec());
        });
        let items =
            rx.recv_timeout(std::time::Duration::from_secs(60)).expect("de-duplication is not linear");
        assert_eq!(items.len(), 200_001);
        assert_eq!(items[1].detail, "the same one", "order of first appearance kept");
    }
}
