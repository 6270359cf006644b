//! ReadResource: refresh. Private data is passed through untouched.

use super::{ProviderService, SettingsBound, unknown_type};
use crate::framework::Diagnostics;
use crate::protocol::{decode_or_diag, diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) async fn handle<S: SettingsBound>(
    svc: &ProviderService<S>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::Value;
    use crate::server::test_support::*;

    fn refresh(state: &Value) -> pb::read_resource::Response {
        block_on(handle(
            &fake_service(),
            pb::read_resource::Request {
                type_name: THING.into(),
                current_state: dv(state, &fake_type(THING)),
                private: b"opaque".to_vec(),
                ..Default::default()
            },
        ))
    }

    #[test]
    fn refresh_returns_the_state_and_passes_private_data_through() {
        let r = refresh(&fake_thing("a", true));
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        assert_eq!(decode(r.new_state.as_ref(), &fake_type(THING)), fake_thing("a", true));
        assert_eq!(r.private, b"opaque");
    }

    #[test]
    fn an_object_found_deleted_reads_as_null() {
        let r = refresh(&fake_thing("gone", true));
        assert!(r.diagnostics.is_empty());
        assert_eq!(decode(r.new_state.as_ref(), &fake_type(THING)), Value::Null);
    }

    #[test]
    fn a_failed_refresh_keeps_the_state_terraform_had() {
        let state = fake_thing("broken", true);
        let r = refresh(&state);
        assert_eq!(errors(&r.diagnostics).len(), 1);
        assert_eq!(decode(r.new_state.as_ref(), &fake_type(THING)), state, "not dropped from state");
    }
}
