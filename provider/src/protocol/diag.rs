//! Diagnostics: what the user reads when something is wrong. One constructor per
//! kind, attribute paths in the core's [`AttrPath`], and the core's
//! [`idcbootstrap::Error`] turned into one diagnostic per broken rule.

use idcbootstrap::{AttrPath, Error};

use super::value::DecodeError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// One diagnostic. A `path` of `None` means the whole block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    pub(crate) severity: Severity,
    pub(crate) summary: String,
    pub(crate) detail: String,
    pub(crate) path: Option<AttrPath>,
}

/// The diagnostics of one RPC. Duplicates are dropped, as the plugin framework does.
#[derive(Debug, Clone, Default)]
pub(crate) struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub(crate) fn push(&mut self, d: Diagnostic) {
        if !self.items.contains(&d) {
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

    /// The core's error: one diagnostic per detail, on the detail's attribute, with the
    /// code's fixed summary and a detail naming the rule and the code. Notices become
    /// warnings. The core never puts a secret in messages, so they are passed on.
    pub(crate) fn core_error(&mut self, e: &Error) {
        self.core_error_at(e, &AttrPath::root());
    }

    /// As [`Diagnostics::core_error`], with every detail's field relative to `base`.
    pub(crate) fn core_error_at(&mut self, e: &Error, base: &AttrPath) {
        let code = e.code.as_str();
        if e.details.is_empty() {
            self.attribute_error(
                base.clone(),
                e.code.summary(),
                format!("{} (error code `{code}`)", e.message),
            );
        }
        for d in &e.details {
            let mut path = base.clone();
            for step in d.field.steps() {
                path = match step {
                    idcbootstrap::path::PathStep::Attr(a) => path.attr(a.clone()),
                    idcbootstrap::path::PathStep::Index(i) => path.index(*i),
                    idcbootstrap::path::PathStep::Key(k) => path.key(k.clone()),
                };
            }
            let field = if d.field.is_root() { String::new() } else { format!("{}: ", d.field) };
            self.attribute_error(
                path,
                e.code.summary(),
                format!("{field}{} (rule `{}`, error code `{code}`)", d.message, d.rule),
            );
        }
        for n in &e.notices {
            self.warning(e.code.summary(), n.clone());
        }
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
    use idcbootstrap::{Detail, ErrorCode};

    use super::*;

    #[test]
    fn core_errors_become_one_diagnostic_per_rule_with_path() {
        let e = Error::invalid_input(vec![
            Detail::new(AttrPath::field("tags").key("env"), "length", "too long"),
            Detail::new(AttrPath::field("region"), "region", "not a region"),
        ])
        .with_notice("heads up");
        let mut d = Diagnostics::default();
        d.core_error(&e);
        let v = d.into_vec();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].summary, ErrorCode::InvalidInput.summary());
        assert_eq!(v[0].path.as_ref().unwrap().to_string(), "tags[\"env\"]");
        assert!(
            v[0].detail.contains("rule `length`") && v[0].detail.contains("invalid_input"),
            "{}",
            v[0].detail
        );
        assert_eq!(v[2].severity, Severity::Warning);
    }

    #[test]
    fn errors_without_details_still_name_the_code() {
        let mut d = Diagnostics::default();
        d.core_error(&Error::new(ErrorCode::Timeout, "took too long"));
        let v = d.into_vec();
        assert_eq!(v[0].path, None);
        assert!(v[0].detail.contains("`timeout`"));
    }

    #[test]
    fn duplicates_are_dropped() {
        let mut d = Diagnostics::default();
        d.error("a", "b");
        d.error("a", "b");
        assert_eq!(d.into_vec().len(), 1);
    }
}
