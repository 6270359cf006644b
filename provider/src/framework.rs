//! What data sources and resources implement, in plain types: [`Value`]s decoded
//! with their own schema, [`Diagnostics`] for every failure, no prost type in sight.
//! `server/` adapts each RPC to these traits.
//!
//! Generic over the provider's settings type `S` (what Configure produces and every
//! later RPC sees in [`Ctx::settings`]): this module and the protocol below it know
//! nothing of IAM Identity Center, of the core or of the provider's configuration,
//! which plug in from above through [`ProviderDef`] and the [`Registry`].
//!
//! Every method reports failure through `diags` and returns `None` (or the value it
//! could still build); the server turns that into a normal response carrying the
//! diagnostics, never a gRPC error.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;

pub(crate) use crate::protocol::diag::Diagnostics;
pub(crate) use crate::protocol::path::AttrPath as Path;
pub(crate) use crate::protocol::schema::Schema;
pub(crate) use crate::protocol::value::Value;

/// A boxed future, so the traits stay object-safe while allowing async work (the
/// connectivity check talks to AWS).
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an operation can see besides its own values.
pub(crate) struct Ctx<S> {
    /// The provider's settings, as Configure left them (the settings type's default
    /// before Configure).
    pub(crate) settings: Arc<S>,
    /// Becomes `true` when Terraform asks the provider to stop (Ctrl-C): long
    /// operations should give up and report.
    pub(crate) stop: watch::Receiver<bool>,
    /// Whether this Terraform accepts deferred results (protocol 5.6+).
    pub(crate) deferral_allowed: bool,
}

impl<S> Clone for Ctx<S> {
    fn clone(&self) -> Self {
        Ctx {
            settings: Arc::clone(&self.settings),
            stop: self.stop.clone(),
            deferral_allowed: self.deferral_allowed,
        }
    }
}

impl<S> Ctx<S> {
    /// Resolves when Terraform asks the provider to stop.
    #[allow(dead_code)]
    pub(crate) async fn stopped(&self) {
        let mut rx = self.stop.clone();
        // An error means the server is gone, which is a stop as well.
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// The outcome of `read` for a data source.
pub(crate) enum ReadOutcome {
    /// The state to record.
    Read(Value),
    /// The read cannot happen yet (a provider setting is unknown); Terraform will
    /// retry after apply, when deferral is allowed.
    DeferProviderConfigUnknown,
}

/// A data source: validate a configuration, read a state from it.
pub(crate) trait DataSource<S>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    /// Plan-time checks; `config` may hold unknowns, which must be skipped.
    fn validate(&self, config: &Value, diags: &mut Diagnostics);
    /// Produces the state from a wholly known `config`.
    fn read<'a>(
        &'a self,
        ctx: &'a Ctx<S>,
        config: &'a Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, Option<ReadOutcome>>;
}

/// A plan for one resource instance.
pub(crate) struct Planned {
    pub(crate) state: Value,
    pub(crate) requires_replace: Vec<Path>,
}

/// A managed resource. Destroy is handled by the server: a null proposed state
/// plans a null state, and applying it calls [`Resource::delete`].
pub(crate) trait Resource<S: Sync>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    fn validate(&self, config: &Value, diags: &mut Diagnostics);

    /// Turns stored JSON state written with schema version `version` into a value of
    /// the current schema. The default accepts the current version only.
    fn upgrade(&self, version: i64, json: &[u8], diags: &mut Diagnostics) -> Option<Value> {
        let current = self.schema().version;
        if version != current {
            diags.error(
                "Unsupported state version",
                format!(
                    "The state of this {} was written with schema version {version}; this provider reads version {current}. \
                     Use the provider release that wrote it.",
                    self.type_name()
                ),
            );
            return None;
        }
        match crate::protocol::value::from_json_lenient(json, &self.schema().object_type()) {
            Ok(v) => Some(v),
            Err(e) => {
                diags.decode_error("stored state", &e);
                None
            }
        }
    }

    /// Refreshes `state`; `Value::Null` means the object is gone.
    fn read<'a>(
        &'a self,
        ctx: &'a Ctx<S>,
        state: Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, Option<Value>> {
        let _ = (ctx, diags);
        Box::pin(async move { Some(state) })
    }

    /// Plans a create (`prior` null) or an update. `config` may hold unknowns.
    fn plan(
        &self,
        ctx: &Ctx<S>,
        prior: &Value,
        proposed: &Value,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Planned>;

    /// Applies a create or an update; the result must agree with every known value of `planned`.
    fn apply<'a>(
        &'a self,
        ctx: &'a Ctx<S>,
        prior: &'a Value,
        planned: &'a Value,
        config: &'a Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, Option<Value>>;

    /// Deletes; the default has nothing to delete outside the state.
    fn delete<'a>(
        &'a self,
        ctx: &'a Ctx<S>,
        prior: &'a Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, bool> {
        let _ = (ctx, prior, diags);
        Box::pin(async { true })
    }

    /// Builds a state from an import ID; `None` (with a diagnostic) when the ID is invalid.
    fn import(&self, ctx: &Ctx<S>, id: &str, diags: &mut Diagnostics) -> Option<Value>;
}

/// Provider-level behaviour: its schema, validation and configuration.
pub(crate) trait ProviderDef: Send + Sync {
    /// What Configure produces and every later RPC sees; its default stands in
    /// until Terraform configures the provider.
    type Settings;
    fn schema(&self) -> &Schema;
    fn validate(&self, config: &Value, diags: &mut Diagnostics);
    fn configure(
        &self,
        terraform_version: &str,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Self::Settings>;
}

/// Everything the server serves, for a provider whose settings are `S`.
pub(crate) struct Registry<S> {
    pub(crate) provider: Box<dyn ProviderDef<Settings = S>>,
    pub(crate) data_sources: Vec<Box<dyn DataSource<S>>>,
    pub(crate) resources: Vec<Box<dyn Resource<S>>>,
}

impl<S: Sync> Registry<S> {
    pub(crate) fn data_source(&self, name: &str) -> Option<&dyn DataSource<S>> {
        self.data_sources.iter().find(|d| d.type_name() == name).map(|d| &**d)
    }

    pub(crate) fn resource(&self, name: &str) -> Option<&dyn Resource<S>> {
        self.resources.iter().find(|r| r.type_name() == name).map(|r| &**r)
    }
}
