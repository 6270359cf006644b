//! ValidateResourceTypeConfig: plan-time checks of a resource block.

use super::{SettingsBound, unknown_type};
use crate::framework::{Diagnostics, Registry};
use crate::protocol::{decode_or_diag, diagnostics_to_proto, tfplugin5 as pb};

pub(super) fn handle<S: SettingsBound>(
    reg: &Registry<S>,
    req: pb::validate_resource_type_config::Request,
) -> pb::validate_resource_type_config::Response {
    let Some(res) = reg.resource(&req.type_name) else {
        return pb::validate_resource_type_config::Response {
            diagnostics: diagnostics_to_proto(unknown_type("resource", &req.type_name)),
        };
    };
    let mut diags = Diagnostics::default();
    if let Some(config) =
        decode_or_diag(req.config.as_ref(), &res.schema().object_type(), "configuration", &mut diags)
    {
        res.validate(&config, &mut diags);
    }
    pb::validate_resource_type_config::Response { diagnostics: diagnostics_to_proto(diags) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::test_support::*;

    #[test]
    fn a_bad_value_is_reported_on_its_attribute() {
        let r = handle(
            &fake_registry(),
            pb::validate_resource_type_config::Request {
                type_name: THING.into(),
                config: dv(&fake_thing("", false), &fake_type(THING)),
                ..Default::default()
            },
        );
        assert_eq!(diag_paths(&r.diagnostics), [Some("name".to_owned())]);
    }

    #[test]
    fn garbage_msgpack_is_a_diagnostic() {
        let r = handle(
            &crate::registry(),
            pb::validate_resource_type_config::Request {
                type_name: "idcbootstrap_external_id".into(),
                config: Some(pb::DynamicValue { msgpack: vec![0xa1, b'x'], json: vec![] }),
                ..Default::default()
            },
        );
        assert_eq!(errors(&r.diagnostics).len(), 1);
    }
}
