//! ApplyResourceChange: carries out a plan; a null planned state is a destroy.

use super::{ProviderService, unknown_type};
use crate::framework::Diagnostics;
use crate::protocol::{decode_or_diag, diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) async fn handle(
    svc: &ProviderService,
    req: pb::apply_resource_change::Request,
) -> pb::apply_resource_change::Response {
    let Some(res) = svc.registry.resource(&req.type_name) else {
        return pb::apply_resource_change::Response {
            diagnostics: diagnostics_to_proto(unknown_type("resource", &req.type_name)),
            ..Default::default()
        };
    };
    let ctx = svc.ctx(None);
    let ty = res.schema().object_type();
    let mut diags = Diagnostics::default();
    let mut resp =
        pb::apply_resource_change::Response { private: req.planned_private.clone(), ..Default::default() };
    let decoded = (|| {
        let prior = decode_or_diag(req.prior_state.as_ref(), &ty, "prior state", &mut diags)?;
        let planned = decode_or_diag(req.planned_state.as_ref(), &ty, "planned state", &mut diags)?;
        let config = decode_or_diag(req.config.as_ref(), &ty, "configuration", &mut diags)?;
        Some((prior, planned, config))
    })();
    if let Some((prior, planned, config)) = decoded {
        tracing::trace!(
            create = prior.is_null(),
            destroy = planned.is_null(),
            prior_msgpack_len = req.prior_state.as_ref().map_or(0, |d| d.msgpack.len()),
            prior_json_len = req.prior_state.as_ref().map_or(0, |d| d.json.len()),
            "applying"
        );
        if planned.is_null() {
            if res.delete(&ctx, &prior, &mut diags).await {
                resp.new_state = req.planned_state;
            } else {
                // Still there: keep it in state.
                resp.new_state = req.prior_state;
            }
        } else {
            match res.apply(&ctx, &prior, &planned, &config, &mut diags).await {
                Some(new) => resp.new_state = encode_dynamic(&new, &ty, &mut diags),
                // Nothing changed: an update keeps the prior state, a failed create leaves none.
                None => resp.new_state = req.prior_state,
            }
        }
    }
    resp.diagnostics = diagnostics_to_proto(diags);
    resp
}
