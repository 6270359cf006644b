//! GetMetadata (protocol 5.4+): the type names without building schemas.

use crate::framework::Registry;
use crate::protocol::tfplugin5 as pb;

pub(super) fn handle(reg: &Registry) -> pb::get_metadata::Response {
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
    #[test]
    fn metadata_lists_every_type() {
        let r = super::handle(&crate::registry());
        assert!(r.data_sources.iter().any(|d| d.type_name == "idcbootstrap_template"));
        assert!(r.resources.iter().any(|d| d.type_name == "idcbootstrap_external_id"));
        assert!(r.diagnostics.is_empty());
    }
}
