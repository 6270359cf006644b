//! ReadDataSource: computes a data source's state from its (wholly known) config.

use super::{ProviderService, unknown_type};
use crate::framework::{Diagnostics, ReadOutcome};
use crate::protocol::{decode_or_diag, diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) async fn handle(
    svc: &ProviderService,
    req: pb::read_data_source::Request,
) -> pb::read_data_source::Response {
    let Some(ds) = svc.registry.data_source(&req.type_name) else {
        return pb::read_data_source::Response {
            diagnostics: diagnostics_to_proto(unknown_type("data source", &req.type_name)),
            ..Default::default()
        };
    };
    let ctx = svc.ctx(req.client_capabilities.as_ref());
    let ty = ds.schema().object_type();
    let mut diags = Diagnostics::default();
    let mut resp = pb::read_data_source::Response::default();
    if let Some(config) = decode_or_diag(req.config.as_ref(), &ty, "configuration", &mut diags) {
        match ds.read(&ctx, &config, &mut diags).await {
            Some(ReadOutcome::Read(state)) if !diags.has_errors() => {
                resp.state = encode_dynamic(&state, &ty, &mut diags);
            }
            Some(ReadOutcome::DeferProviderConfigUnknown) => {
                resp.deferred =
                    Some(pb::Deferred { reason: pb::deferred::Reason::ProviderConfigUnknown as i32 });
                resp.state = req.config;
            }
            _ => {}
        }
    }
    resp.diagnostics = diagnostics_to_proto(diags);
    resp
}
