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
pub(crate) const TABLES: [properties::Table; 3] =
    [template::TABLE, external_id::TABLE, connectivity_check::TABLE];

/// One handler per type.
pub(crate) fn registry(config: &Config) -> Vec<Arc<dyn CustomResource>> {
    vec![
        Arc::new(template::Template::default()),
        Arc::new(external_id::ExternalIdResource::new(&config.state_key)),
        Arc::new(connectivity_check::ConnectivityCheck::default()),
    ]
}

/// Every type with its properties and `Fn::GetAtt` attributes, as JSON
/// (`bootstrap --describe`), for the docs: all of it read from the core's spec.
pub(crate) fn describe() -> serde_json::Value {
    serde_json::Value::Array(TABLES.iter().map(properties::Table::describe).collect())
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
        let types: Vec<&str> = TABLES.iter().map(|t| t.resource_type()).collect();
        assert_eq!(names, types);
    }
}
