//! ValidateDataSourceConfig: plan-time checks of a data source block; unknown
//! values are skipped, to be checked again when they are known.

use super::{SettingsBound, unknown_type};
use crate::framework::{Diagnostics, Registry};
use crate::protocol::{decode_or_diag, diagnostics_to_proto, tfplugin5 as pb};

pub(super) fn handle<S: SettingsBound>(
    reg: &Registry<S>,
    req: pb::validate_data_source_config::Request,
) -> pb::validate_data_source_config::Response {
    let Some(ds) = reg.data_source(&req.type_name) else {
        return pb::validate_data_source_config::Response {
            diagnostics: diagnostics_to_proto(unknown_type("data source", &req.type_name)),
        };
    };
    let mut diags = Diagnostics::default();
    if let Some(config) =
        decode_or_diag(req.config.as_ref(), &ds.schema().object_type(), "configuration", &mut diags)
    {
        ds.validate(&config, &mut diags);
    }
    pb::validate_data_source_config::Response { diagnostics: diagnostics_to_proto(diags) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::Value;
    use crate::server::test_support::*;

    #[test]
    fn a_bad_value_is_reported_on_its_attribute_and_unknowns_pass() {
        let ty = fake_type(ECHO);
        let r = handle(
            &fake_registry(),
            pb::validate_data_source_config::Request {
                type_name: ECHO.into(),
                config: dv(&obj(&[("input", Value::string("")), ("output", Value::Null)]), &ty),
            },
        );
        assert_eq!(diag_paths(&r.diagnostics), [Some("input".to_owned())]);
        let r = handle(
            &fake_registry(),
            pb::validate_data_source_config::Request {
                type_name: ECHO.into(),
                config: dv(&obj(&[("input", Value::Unknown), ("output", Value::Null)]), &ty),
            },
        );
        assert!(r.diagnostics.is_empty());
    }

    #[test]
    fn unknown_type_names_are_diagnostics_not_errors() {
        let r = handle(
            &fake_registry(),
            pb::validate_data_source_config::Request { type_name: "fake_nope".into(), config: None },
        );
        assert_eq!(errors(&r.diagnostics).len(), 1);
    }
}
