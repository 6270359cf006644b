//! ReadDataSource: computes a data source's state from its (wholly known) config.

use super::{ProviderService, SettingsBound, unknown_type};
use crate::framework::{Diagnostics, ReadOutcome};
use crate::protocol::{decode_or_diag, diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) async fn handle<S: SettingsBound>(
    svc: &ProviderService<S>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::Value;
    use crate::server::test_support::*;

    fn read(
        svc: &ProviderService<FakeConfigured>,
        input: &str,
        deferral_allowed: bool,
    ) -> pb::read_data_source::Response {
        block_on(handle(
            svc,
            pb::read_data_source::Request {
                type_name: ECHO.into(),
                config: dv(
                    &obj(&[("input", Value::string(input)), ("output", Value::Null)]),
                    &fake_type(ECHO),
                ),
                client_capabilities: Some(pb::ClientCapabilities { deferral_allowed, ..Default::default() }),
                ..Default::default()
            },
        ))
    }

    #[test]
    fn read_computes_the_state_with_the_configured_settings() {
        let svc = fake_service();
        let r = read(&svc, "world", false);
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        assert_eq!(decode(r.state.as_ref(), &fake_type(ECHO)).get("output").as_str(), Some("hello, world"));
        assert!(r.deferred.is_none());
        svc.set_settings(FakeConfigured { greeting: Some("hi".into()), ..Default::default() });
        let r = read(&svc, "world", false);
        assert_eq!(decode(r.state.as_ref(), &fake_type(ECHO)).get("output").as_str(), Some("hi, world"));
    }

    #[test]
    fn a_read_that_cannot_happen_yet_is_deferred_when_terraform_allows() {
        let r = read(&fake_service(), "defer", true);
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        assert_eq!(r.deferred.map(|d| d.reason), Some(pb::deferred::Reason::ProviderConfigUnknown as i32));
        assert_eq!(decode(r.state.as_ref(), &fake_type(ECHO)).get("input").as_str(), Some("defer"));

        let r = read(&fake_service(), "defer", false);
        assert!(r.deferred.is_none());
        assert_eq!(errors(&r.diagnostics).len(), 1);
        assert!(r.state.is_none());
    }

    #[test]
    fn unknown_data_sources_are_diagnostics() {
        let r = block_on(handle(
            &fake_service(),
            pb::read_data_source::Request { type_name: "fake_nope".into(), ..Default::default() },
        ));
        assert!(errors(&r.diagnostics)[0].contains("Unknown data source type"));
    }
}
