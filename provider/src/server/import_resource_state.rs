//! ImportResourceState: `terraform import <address> <id>`.

use super::{ProviderService, SettingsBound, unknown_type};
use crate::framework::Diagnostics;
use crate::protocol::{diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) fn handle<S: SettingsBound>(
    svc: &ProviderService<S>,
    req: pb::import_resource_state::Request,
) -> pb::import_resource_state::Response {
    let Some(res) = svc.registry.resource(&req.type_name) else {
        return pb::import_resource_state::Response {
            diagnostics: diagnostics_to_proto(unknown_type("resource", &req.type_name)),
            ..Default::default()
        };
    };
    let ctx = svc.ctx(req.client_capabilities.as_ref());
    let mut diags = Diagnostics::default();
    let mut resp = pb::import_resource_state::Response::default();
    if let Some(state) = res.import(&ctx, &req.id, &mut diags)
        && let Some(state) = encode_dynamic(&state, &res.schema().object_type(), &mut diags)
    {
        resp.imported_resources.push(pb::import_resource_state::ImportedResource {
            type_name: req.type_name.clone(),
            state: Some(state),
            ..Default::default()
        });
    }
    resp.diagnostics = diagnostics_to_proto(diags);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::test_support::*;

    fn import(id: &str) -> pb::import_resource_state::Response {
        handle(
            &fake_service(),
            pb::import_resource_state::Request {
                type_name: THING.into(),
                id: id.into(),
                ..Default::default()
            },
        )
    }

    #[test]
    fn import_builds_one_state_of_the_type() {
        let r = import("x");
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        assert_eq!(r.imported_resources.len(), 1);
        assert_eq!(r.imported_resources[0].type_name, THING);
        assert_eq!(decode(r.imported_resources[0].state.as_ref(), &fake_type(THING)), fake_thing("x", true));
    }

    #[test]
    fn a_bad_import_id_imports_nothing_and_says_why() {
        let r = import("bad");
        assert!(r.imported_resources.is_empty());
        assert_eq!(errors(&r.diagnostics), ["Invalid import ID: fake: no such thing"]);
    }
}
