//! PrepareProviderConfig (ValidateProviderConfig in newer clients): validates the
//! provider block and hands it back unchanged.

use super::SettingsBound;
use crate::framework::{Diagnostics, Registry};
use crate::protocol::{decode_or_diag, diagnostics_to_proto, tfplugin5 as pb};

pub(super) fn handle<S: SettingsBound>(
    reg: &Registry<S>,
    req: pb::prepare_provider_config::Request,
) -> pb::prepare_provider_config::Response {
    let mut diags = Diagnostics::default();
    let ty = reg.provider.schema().object_type();
    if let Some(config) = decode_or_diag(req.config.as_ref(), &ty, "provider configuration", &mut diags) {
        reg.provider.validate(&config, &mut diags);
    }
    pb::prepare_provider_config::Response {
        prepared_config: req.config,
        diagnostics: diagnostics_to_proto(diags),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::protocol::value::Value;
    use crate::server::test_support::*;

    #[test]
    fn the_block_is_validated_and_handed_back_unchanged() {
        let ty = fake_type("");
        let config = dv(&obj(&[("greeting", Value::string("bad"))]), &ty);
        let r = handle(&fake_registry(), pb::prepare_provider_config::Request { config: config.clone() });
        assert_eq!(diag_paths(&r.diagnostics), [Some("greeting".to_owned())]);
        assert_eq!(r.prepared_config, config);
    }

    #[test]
    fn bad_provider_settings_name_the_attribute() {
        let reg = crate::registry();
        let ty = reg.provider.schema().object_type();
        let mut m = BTreeMap::new();
        m.insert("access_level".to_owned(), Value::string("superuser"));
        let r = handle(&reg, pb::prepare_provider_config::Request { config: dv(&Value::Object(m), &ty) });
        assert_eq!(r.diagnostics.len(), 1, "{:?}", errors(&r.diagnostics));
        let path = r.diagnostics[0].attribute.as_ref().unwrap();
        assert_eq!(
            path.steps[0].selector,
            Some(pb::attribute_path::step::Selector::AttributeName("access_level".into()))
        );
        assert!(r.prepared_config.is_some());
    }

    #[test]
    fn unknown_and_null_settings_pass() {
        let reg = crate::registry();
        let ty = reg.provider.schema().object_type();
        let mut m = BTreeMap::new();
        m.insert("trusted_principal_arn".to_owned(), Value::Unknown);
        let r = handle(&reg, pb::prepare_provider_config::Request { config: dv(&Value::Object(m), &ty) });
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
    }
}
