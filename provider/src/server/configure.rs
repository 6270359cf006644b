//! Configure: records the provider settings (with `IDCBOOTSTRAP_*` fallbacks) for
//! the RPCs that follow.

use super::{ProviderService, SettingsBound};
use crate::framework::Diagnostics;
use crate::protocol::{decode_or_diag, diagnostics_to_proto, tfplugin5 as pb};

pub(super) fn handle<S: SettingsBound>(
    svc: &ProviderService<S>,
    req: pb::configure::Request,
) -> pb::configure::Response {
    let mut diags = Diagnostics::default();
    let ty = svc.registry.provider.schema().object_type();
    if let Some(config) = decode_or_diag(req.config.as_ref(), &ty, "provider configuration", &mut diags)
        && let Some(settings) = svc.registry.provider.configure(&req.terraform_version, &config, &mut diags)
    {
        svc.set_settings(settings);
    }
    pb::configure::Response { diagnostics: diagnostics_to_proto(diags) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::Value;
    use crate::server::test_support::*;

    fn configure(svc: &ProviderService<FakeConfigured>, greeting: &str) -> pb::configure::Response {
        handle(
            svc,
            pb::configure::Request {
                terraform_version: "1.11.4".into(),
                config: dv(&obj(&[("greeting", Value::string(greeting))]), &fake_type("")),
                ..Default::default()
            },
        )
    }

    #[test]
    fn configure_keeps_settings_for_later_calls() {
        let svc = fake_service();
        assert_eq!(*svc.ctx(None).settings, FakeConfigured::default(), "defaults before Configure");
        let r = configure(&svc, "hi");
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        let ctx = svc.ctx(None);
        assert_eq!(ctx.settings.greeting.as_deref(), Some("hi"));
        assert_eq!(ctx.settings.terraform_version, "1.11.4");
    }

    #[test]
    fn a_refused_configuration_is_a_diagnostic_and_keeps_the_old_settings() {
        let svc = fake_service();
        assert!(configure(&svc, "hi").diagnostics.is_empty());
        let r = configure(&svc, "bad");
        assert_eq!(diag_paths(&r.diagnostics), [Some("greeting".to_owned())]);
        assert_eq!(svc.ctx(None).settings.greeting.as_deref(), Some("hi"));
    }

    #[test]
    fn the_real_provider_reads_its_block() {
        let svc = real_service();
        let ty = svc.registry.provider.schema().object_type();
        let r = handle(
            &svc,
            pb::configure::Request {
                terraform_version: "1.11.4".into(),
                config: dv(&obj(&[("role_name", Value::string("VendorRole"))]), &ty),
                ..Default::default()
            },
        );
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
    }
}
