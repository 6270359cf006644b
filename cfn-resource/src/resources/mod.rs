//! The `Custom::` resource types, one file each, built on the `idcbootstrap` core.
//!
//! Adding a type (e.g. `Custom::IdcConnectivityCheck`) is one new file that
//! implements [`CustomResource`] plus one line in [`registry`] and [`TYPES`].

use std::sync::Arc;

use tokio::time::Instant;

use crate::config::ConfigError;
use crate::event::Request;
use crate::handler::{BoxFuture, CustomResource, Failure, Success};
use idcbootstrap::ErrorCode;

pub(crate) mod connectivity_check;
pub(crate) mod external_id;
pub(crate) mod properties;
pub(crate) mod template;
pub(crate) mod vendor;
pub(crate) mod vendor_external_ids;
pub(crate) mod vendor_registration;

/// Every `ResourceType` this function serves, with its properties and attributes.
pub(crate) const TABLES: [properties::Table; 5] = [
    template::TABLE,
    external_id::TABLE,
    connectivity_check::TABLE,
    vendor_external_ids::TABLE,
    vendor_registration::TABLE,
];

/// One handler per type, each configured from the environment (`get`) on its own:
/// a type whose configuration is missing or invalid answers every event with why
/// (Delete: SUCCESS), and the others serve as usual.
pub(crate) fn registry(get: &dyn Fn(&str) -> Option<String>) -> Vec<Arc<dyn CustomResource>> {
    let external_id: Arc<dyn CustomResource> = match external_id::StateKey::from_env(get) {
        Ok(Some(key)) => Arc::new(external_id::ExternalIdResource::new(&key)),
        Ok(None) => {
            tracing::warn!(
                resource_type = external_id::TABLE.resource_type(),
                variable = external_id::STATE_KEY_VAR,
                "not configured: the type answers not_configured"
            );
            Arc::new(Unavailable { table: external_id::TABLE, failure: external_id::not_configured() })
        }
        Err(e) => misconfigured(external_id::TABLE, &e),
    };
    vec![
        match template::Template::from_env(get) {
            Ok(t) => Arc::new(t),
            Err(e) => misconfigured(template::TABLE, &e),
        },
        external_id,
        match connectivity_check::from_env(get) {
            Ok(c) => Arc::new(c),
            Err(e) => misconfigured(connectivity_check::TABLE, &e),
        },
        match vendor_external_ids::from_env(get) {
            Ok(v) => Arc::new(v),
            Err(e) => misconfigured(vendor_external_ids::TABLE, &e),
        },
        match vendor_registration::from_env(get) {
            Ok(v) => Arc::new(v),
            Err(e) => misconfigured(vendor_registration::TABLE, &e),
        },
    ]
}

/// Run one event of a type whose only configuration is its table's environment
/// defaults (the deadline guard's instant, when there is one).
type Run =
    fn(Arc<properties::Defaults>, Arc<Request>, Option<Instant>) -> BoxFuture<Result<Success, Failure>>;

/// A type whose only configuration is its table's environment defaults: one
/// struct for all of them, each giving its table and its `run`.
pub(crate) struct TableResource {
    table: properties::Table,
    defaults: Arc<properties::Defaults>,
    run: Run,
}

impl TableResource {
    /// Reads `table`'s `IDCBOOTSTRAP_*` defaults through `get`.
    pub(crate) fn from_env(
        table: properties::Table,
        get: &dyn Fn(&str) -> Option<String>,
        run: Run,
    ) -> Result<TableResource, ConfigError> {
        Ok(TableResource { table, defaults: Arc::new(table.env_defaults(get)?), run })
    }
}

impl CustomResource for TableResource {
    fn resource_type(&self) -> &'static str {
        self.table.resource_type()
    }

    fn handle(&self, request: Arc<Request>) -> BoxFuture<Result<Success, Failure>> {
        (self.run)(self.defaults.clone(), request, None)
    }

    fn handle_until(&self, request: Arc<Request>, guard_at: Instant) -> BoxFuture<Result<Success, Failure>> {
        (self.run)(self.defaults.clone(), request, Some(guard_at))
    }
}

fn misconfigured(table: properties::Table, e: &ConfigError) -> Arc<dyn CustomResource> {
    tracing::error!(
        resource_type = table.resource_type(),
        error = %e,
        "invalid configuration: every event of this type will be answered FAILED (Delete: SUCCESS)"
    );
    let failure = Failure::new(ErrorCode::Internal, format!("the function is misconfigured: {e}"));
    Arc::new(Unavailable { table, failure })
}

/// A type that cannot serve as configured: every event gets `failure`.
struct Unavailable {
    table: properties::Table,
    failure: Failure,
}

impl CustomResource for Unavailable {
    fn resource_type(&self) -> &'static str {
        self.table.resource_type()
    }

    fn handle(&self, _request: Arc<Request>) -> BoxFuture<Result<Success, Failure>> {
        let failure = self.failure.clone();
        Box::pin(async move { Err(failure) })
    }
}

/// Every type with its properties and `Fn::GetAtt` attributes, as JSON
/// (`bootstrap --describe`), for the docs: all of it read from the core's spec.
pub(crate) fn describe() -> serde_json::Value {
    serde_json::Value::Array(TABLES.iter().map(properties::Table::describe).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(vars: &[(&str, &str)]) -> Vec<&'static str> {
        let get = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned());
        registry(&get).iter().map(|r| r.resource_type()).collect()
    }

    #[test]
    fn registry_matches_the_tables_whatever_is_configured() {
        let types: Vec<&str> = TABLES.iter().map(|t| t.resource_type()).collect();
        assert_eq!(names(&[]), types);
        assert_eq!(names(&[(external_id::STATE_KEY_VAR, "short"), ("IDCBOOTSTRAP_TAGS", "x")]), types);
        assert_eq!(
            names(&[(external_id::STATE_KEY_VAR, &"k".repeat(external_id::MIN_STATE_KEY_LEN))]),
            types
        );
    }
}
