//! ReadResource: refresh. Private data is passed through untouched.

use super::{ProviderService, unknown_type};
use crate::framework::Diagnostics;
use crate::protocol::{decode_or_diag, diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) async fn handle(
    svc: &ProviderService,
    req: pb::read_resource::Request,
) -> pb::read_resource::Response {
    let Some(res) = svc.registry.resource(&req.type_name) else {
        return pb::read_resource::Response {
            diagnostics: diagnostics_to_proto(unknown_type("resource", &req.type_name)),
            ..Default::default()
        };
    };
    let ctx = svc.ctx(req.client_capabilities.as_ref());
    let ty = res.schema().object_type();
    let mut diags = Diagnostics::default();
    let mut resp = pb::read_resource::Response { private: req.private, ..Default::default() };
    if let Some(state) = decode_or_diag(req.current_state.as_ref(), &ty, "current state", &mut diags)
        && let Some(new) = res.read(&ctx, state, &mut diags).await
    {
        resp.new_state = encode_dynamic(&new, &ty, &mut diags);
    }
    if diags.has_errors() && resp.new_state.is_none() {
        // Keep what Terraform had rather than dropping the resource from state.
        resp.new_state = req.current_state;
    }
    resp.diagnostics = diagnostics_to_proto(diags);
    resp
}
