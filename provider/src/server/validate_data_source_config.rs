//! ValidateDataSourceConfig: plan-time checks of a data source block; unknown
//! values are skipped, to be checked again when they are known.

use super::unknown_type;
use crate::framework::{Diagnostics, Registry};
use crate::protocol::{decode_or_diag, diagnostics_to_proto, tfplugin5 as pb};

pub(super) fn handle(
    reg: &Registry,
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
    use crate::server::test_support::*;

    #[test]
    fn unknown_type_names_are_diagnostics_not_errors() {
        let r = handle(
            &crate::registry(),
            pb::validate_data_source_config::Request { type_name: "idcbootstrap_nope".into(), config: None },
        );
        assert_eq!(errors(&r.diagnostics).len(), 1);
    }
}
