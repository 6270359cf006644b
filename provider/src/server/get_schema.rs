//! GetProviderSchema: every schema, from the same declarations the RPCs decode with.

use super::SettingsBound;
use crate::framework::Registry;
use crate::protocol::{schema_to_proto, tfplugin5 as pb};

pub(super) fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // Destroy is planned by the server itself; no need to be asked.
        plan_destroy: false,
        // Schemas are static: Terraform may reuse a cached copy.
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

pub(super) fn handle<S: SettingsBound>(reg: &Registry<S>) -> pb::get_provider_schema::Response {
    pb::get_provider_schema::Response {
        provider: Some(schema_to_proto(reg.provider.schema())),
        resource_schemas: reg
            .resources
            .iter()
            .map(|r| (r.type_name().to_owned(), schema_to_proto(r.schema())))
            .collect(),
        data_source_schemas: reg
            .data_sources
            .iter()
            .map(|d| (d.type_name().to_owned(), schema_to_proto(d.schema())))
            .collect(),
        server_capabilities: Some(capabilities()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::server::test_support::*;

    #[test]
    fn every_schema_is_served_with_terraform_json_types_and_versions() {
        let r = super::handle(&fake_registry());
        let thing = &r.resource_schemas[THING];
        assert_eq!(thing.version, 1);
        let block = thing.block.as_ref().unwrap();
        let name = block.attributes.iter().find(|a| a.name == "name").unwrap();
        assert_eq!(name.r#type, br#""string""#);
        assert!(name.required && !name.computed);
        let echo = r.data_source_schemas[ECHO].block.as_ref().unwrap();
        assert!(echo.attributes.iter().any(|a| a.name == "output" && a.computed));
        assert_eq!(r.provider.unwrap().block.unwrap().attributes[0].name, "greeting");
        assert!(r.server_capabilities.is_some_and(|c| !c.plan_destroy));
    }

    #[test]
    fn schema_types_are_terraform_json() {
        let r = super::handle(&crate::registry());
        let ds = &r.data_source_schemas["idcbootstrap_template"];
        let block = ds.block.as_ref().unwrap();
        let ids = block.attributes.iter().find(|a| a.name == "external_ids").unwrap();
        assert_eq!(ids.r#type, br#"["list","string"]"#);
        assert!(ids.sensitive && ids.required);
        assert!(block.attributes.iter().all(|a| !a.description.is_empty()), "every attribute is documented");
        let res = &r.resource_schemas["idcbootstrap_external_id"];
        assert!(res.version >= 1);
        assert!(r.provider.unwrap().block.unwrap().attributes.iter().all(|a| a.optional));
    }
}
