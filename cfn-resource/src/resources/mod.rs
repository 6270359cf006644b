//! The `Custom::` resource types, one file each, built on the `idcbootstrap` core.
//!
//! Adding a type (e.g. `Custom::IdcConnectivityCheck`) is one new file that
//! implements [`CustomResource`] plus one line in [`registry`] and [`TYPES`].

use std::sync::Arc;

use crate::config::Config;
use crate::handler::CustomResource;

pub(crate) mod connectivity_check;
pub(crate) mod external_id;
pub(crate) mod properties;
pub(crate) mod template;

/// Every `ResourceType` this function serves (for logs and the unknown-type reason).
pub(crate) const TYPES: [&str; 3] = [template::TYPE, external_id::TYPE, connectivity_check::TYPE];

/// One handler per type.
pub(crate) fn registry(config: &Config) -> Vec<Arc<dyn CustomResource>> {
    vec![
        Arc::new(template::Template),
        Arc::new(external_id::ExternalIdResource::new(&config.state_key)),
        Arc::new(connectivity_check::ConnectivityCheck),
    ]
}

/// Every type with its properties and `Fn::GetAtt` attributes, as JSON
/// (`bootstrap --describe`), for the docs.
pub(crate) fn describe() -> serde_json::Value {
    use serde_json::json;
    let template_props: Vec<serde_json::Value> = properties::TEMPLATE_PROPERTIES
        .iter()
        .map(|(property, field)| {
            let doc = idcbootstrap::spec::TEMPLATE.inputs().find(|f| f.name == *field);
            json!({
                "name": property,
                "core_field": field,
                "required": doc.map(|d| d.presence == idcbootstrap::spec::Presence::Required),
                "default": doc.and_then(|d| d.default),
                "description": doc.map(|d| d.description),
                "rule": doc.map(|d| d.rule),
                "secret": doc.map(|d| d.sensitive),
            })
        })
        .collect();
    json!([
        {
            "type": template::TYPE,
            "properties": template_props,
            "attributes": template::ATTRIBUTES,
        },
        {
            "type": external_id::TYPE,
            "properties": [
                {"name": "Rotation", "required": false, "default": "",
                 "description": "Names the generation of the external ID; change it to rotate.",
                 "rule": "At most 256 characters."},
                {"name": "RetirePrevious", "required": false, "default": "false",
                 "description": "Whether the previous generation's ID stops being trusted.",
                 "rule": "true or false."},
            ],
            "attributes": external_id::ATTRIBUTES,
        },
        {
            "type": connectivity_check::TYPE,
            "properties": connectivity_check::describe_properties(),
            "attributes": connectivity_check::ATTRIBUTES,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_matches_types() {
        let config = Config::from_lookup(|k| {
            (k == crate::config::STATE_KEY_VAR).then(|| "k".repeat(crate::config::MIN_STATE_KEY_LEN))
        })
        .unwrap();
        let names: Vec<&str> = registry(&config).iter().map(|r| r.resource_type()).collect();
        assert_eq!(names, TYPES);
    }
}
