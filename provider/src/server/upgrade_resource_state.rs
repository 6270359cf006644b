//! UpgradeResourceState: stored JSON state (any schema version this provider ever
//! wrote) becomes msgpack of the current schema.

use super::unknown_type;
use crate::framework::{Diagnostics, Registry};
use crate::protocol::{diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) fn handle(
    reg: &Registry,
    req: pb::upgrade_resource_state::Request,
) -> pb::upgrade_resource_state::Response {
    let Some(res) = reg.resource(&req.type_name) else {
        return pb::upgrade_resource_state::Response {
            diagnostics: diagnostics_to_proto(unknown_type("resource", &req.type_name)),
            ..Default::default()
        };
    };
    let mut diags = Diagnostics::default();
    let mut resp = pb::upgrade_resource_state::Response::default();
    let raw = req.raw_state.unwrap_or_default();
    if raw.json.is_empty() {
        if !raw.flatmap.is_empty() {
            diags.error(
                "Unsupported state format",
                "The stored state is in the flatmap format of Terraform 0.11 and older, which this provider never wrote.",
            );
        }
    } else if let Some(v) = res.upgrade(req.version, &raw.json, &mut diags) {
        resp.upgraded_state = encode_dynamic(&v, &res.schema().object_type(), &mut diags);
    }
    resp.diagnostics = diagnostics_to_proto(diags);
    resp
}
