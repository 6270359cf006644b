//! ImportResourceState: `terraform import <address> <id>`.

use super::{ProviderService, unknown_type};
use crate::framework::Diagnostics;
use crate::protocol::{diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) fn handle(
    svc: &ProviderService,
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
