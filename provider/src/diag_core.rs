//! The core's errors as diagnostics: the glue between [`idcbootstrap::Error`] and the
//! protocol's [`Diagnostics`], on the provider's side of the layering (the protocol
//! knows neither the core nor its paths).
//!
//! One diagnostic per broken rule, on the rule's attribute, with the code's fixed
//! summary and a detail naming the field, the rule and the wire code; notices become
//! warnings. The core never puts a secret in a message, so messages are passed on.

use idcbootstrap::Error;
use idcbootstrap::path::PathStep;

use crate::framework::{Diagnostics, Path};

/// The protocol path of the core path `p`, under `base`.
fn path_under(base: &Path, p: &idcbootstrap::AttrPath) -> Path {
    p.steps().iter().fold(base.clone(), |at, step| match step {
        PathStep::Attr(a) => at.attr(a.to_string()),
        PathStep::Index(i) => at.index(*i),
        PathStep::Key(k) => at.key(k.clone()),
    })
}

/// Reporting the core's errors.
pub(crate) trait CoreDiagnostics {
    /// `e` as diagnostics on the attributes its details name.
    fn core_error(&mut self, e: &Error);
    /// As [`CoreDiagnostics::core_error`], every detail's field relative to `base`.
    fn core_error_at(&mut self, e: &Error, base: &Path);
}

impl CoreDiagnostics for Diagnostics {
    fn core_error(&mut self, e: &Error) {
        self.core_error_at(e, &Path::root());
    }

    fn core_error_at(&mut self, e: &Error, base: &Path) {
        let code = e.code.as_str();
        if e.details.is_empty() {
            self.attribute_error(
                base.clone(),
                e.code.summary(),
                format!("{} (error code `{code}`)", e.message),
            );
        }
        for d in &e.details {
            let field = if d.field.is_root() { String::new() } else { format!("{}: ", d.field) };
            self.attribute_error(
                path_under(base, &d.field),
                e.code.summary(),
                format!("{field}{} (rule `{}`, error code `{code}`)", d.message, d.rule),
            );
        }
        for n in &e.notices {
            self.warning(e.code.summary(), n.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use idcbootstrap::{AttrPath, Detail, ErrorCode};

    use super::*;
    use crate::protocol::diag::Severity;

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
    fn core_paths_translate_step_by_step_and_print_the_same() {
        for p in [
            AttrPath::field("tags").key("env"),
            AttrPath::field("external_ids").index(1),
            AttrPath::field("steps").index(0).attr("ok"),
        ] {
            assert_eq!(path_under(&Path::root(), &p).to_string(), p.to_string());
        }
        let mut d = Diagnostics::default();
        let e = Error::invalid_input(vec![Detail::new(AttrPath::field("x"), "r", "m")]);
        d.core_error_at(&e, &Path::field("block"));
        assert_eq!(d.into_vec()[0].path.as_ref().unwrap().to_string(), "block.x");
    }
}
