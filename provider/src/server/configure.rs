//! Configure: records the provider settings (with `IDCBOOTSTRAP_*` fallbacks) for
//! the RPCs that follow.

use super::ProviderService;
use crate::framework::Diagnostics;
use crate::protocol::{decode_or_diag, diagnostics_to_proto, tfplugin5 as pb};

pub(super) fn handle(svc: &ProviderService, req: pb::configure::Request) -> pb::configure::Response {
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
    use std::collections::BTreeMap;

    use super::*;
    use crate::protocol::value::Value;
    use crate::server::test_support::*;

    #[test]
    fn configure_keeps_settings_for_later_calls() {
        let svc = service();
        let ty = svc.registry.provider.schema().object_type();
        let mut m = BTreeMap::new();
        m.insert("role_name".to_owned(), Value::string("VendorRole"));
        let r = handle(
            &svc,
            pb::configure::Request {
                terraform_version: "1.11.4".into(),
                config: dv(&Value::Object(m), &ty),
                ..Default::default()
            },
        );
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        assert_eq!(svc.ctx(None).settings.template.role_name.as_deref(), Some("VendorRole"));
    }
}
