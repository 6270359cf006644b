//! GetMetadata (protocol 5.4+): the type names without building schemas.

use super::SettingsBound;
use crate::framework::Registry;
use crate::protocol::tfplugin5 as pb;

pub(super) fn handle<S: SettingsBound>(reg: &Registry<S>) -> pb::get_metadata::Response {
    pb::get_metadata::Response {
        server_capabilities: Some(super::get_schema::capabilities()),
        data_sources: reg
            .data_sources
            .iter()
            .map(|d| pb::get_metadata::DataSourceMetadata { type_name: d.type_name().to_owned() })
            .collect(),
        resources: reg
            .resources
            .iter()
            .map(|r| pb::get_metadata::ResourceMetadata { type_name: r.type_name().to_owned() })
            .collect(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::server::test_support::*;

    #[test]
    fn metadata_lists_every_type_without_diagnostics() {
        let r = super::handle(&fake_registry());
        let ds: Vec<&str> = r.data_sources.iter().map(|d| d.type_name.as_str()).collect();
        let res: Vec<&str> = r.resources.iter().map(|d| d.type_name.as_str()).collect();
        assert_eq!(ds, [ECHO]);
        assert_eq!(res, [THING]);
        assert!(r.diagnostics.is_empty());
        assert!(r.server_capabilities.is_some_and(|c| c.get_provider_schema_optional));
    }

    #[test]
    fn the_real_registry_serves_the_idc_types() {
        let r = super::handle(&crate::registry());
        assert!(r.data_sources.iter().any(|d| d.type_name == "idcbootstrap_template"));
        assert!(r.resources.iter().any(|d| d.type_name == "idcbootstrap_external_id"));
    }
}
