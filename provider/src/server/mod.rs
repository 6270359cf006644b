//! The tfplugin5 `Provider` gRPC service, one file per RPC. Each RPC decodes its
//! request with the schema, calls the [`crate::framework`] traits, and answers with
//! diagnostics inside a normal response: failures never become gRPC errors, and
//! RPCs this provider has nothing for answer empty or `Unimplemented`.

mod apply_resource_change;
mod configure;
mod get_metadata;
mod get_schema;
mod import_resource_state;
mod plan_resource_change;
mod prepare_provider_config;
mod read_data_source;
mod read_resource;
mod stop;
mod unimplemented;
mod upgrade_resource_state;
mod validate_data_source_config;
mod validate_resource_type_config;

use std::sync::{Arc, RwLock};
use std::time::Instant;

use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::config::Settings;
use crate::framework::{Ctx, Registry};
use crate::protocol::tfplugin5 as pb;

/// The provider service: the registry plus the state Configure and Stop leave behind.
pub(crate) struct ProviderService {
    registry: Arc<Registry>,
    settings: RwLock<Option<Arc<Settings>>>,
    stop_tx: watch::Sender<bool>,
}

impl ProviderService {
    pub(crate) fn new(registry: Arc<Registry>) -> Self {
        let (stop_tx, _) = watch::channel(false);
        ProviderService { registry, settings: RwLock::new(None), stop_tx }
    }

    fn ctx(&self, caps: Option<&pb::ClientCapabilities>) -> Ctx {
        let settings = self
            .settings
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
            .unwrap_or_else(|| Arc::new(Settings::default()));
        Ctx {
            settings,
            stop: self.stop_tx.subscribe(),
            deferral_allowed: caps.is_some_and(|c| c.deferral_allowed),
        }
    }

    fn set_settings(&self, s: Settings) {
        let mut g = self.settings.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        *g = Some(Arc::new(s));
    }
}

/// Logs one RPC: its name, the type it was about, how long it took and how many
/// diagnostics it produced. Never values: they may hold secrets.
fn log_rpc(rpc: &str, type_name: &str, start: Instant, diagnostics: &[pb::Diagnostic]) {
    let errors = diagnostics.iter().filter(|d| d.severity == pb::diagnostic::Severity::Error as i32).count();
    tracing::debug!(
        tf_rpc = rpc,
        tf_resource_type = type_name,
        duration_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        diagnostics = diagnostics.len(),
        errors,
        "served RPC"
    );
}

fn unknown_type(kind: &str, name: &str) -> crate::framework::Diagnostics {
    let mut d = crate::framework::Diagnostics::default();
    d.error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} named {name:?}. Check the spelling and the provider version."),
    );
    d
}

type R<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    async fn get_metadata(&self, _: Request<pb::get_metadata::Request>) -> R<pb::get_metadata::Response> {
        let start = Instant::now();
        let r = get_metadata::handle(&self.registry);
        log_rpc("GetMetadata", "", start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn get_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> R<pb::get_provider_schema::Response> {
        let start = Instant::now();
        let r = get_schema::handle(&self.registry);
        log_rpc("GetProviderSchema", "", start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> R<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response::default()))
    }

    async fn prepare_provider_config(
        &self,
        req: Request<pb::prepare_provider_config::Request>,
    ) -> R<pb::prepare_provider_config::Response> {
        let start = Instant::now();
        let r = prepare_provider_config::handle(&self.registry, req.into_inner());
        log_rpc("PrepareProviderConfig", "", start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn validate_resource_type_config(
        &self,
        req: Request<pb::validate_resource_type_config::Request>,
    ) -> R<pb::validate_resource_type_config::Response> {
        let start = Instant::now();
        let req = req.into_inner();
        let name = req.type_name.clone();
        let r = validate_resource_type_config::handle(&self.registry, req);
        log_rpc("ValidateResourceTypeConfig", &name, start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn validate_data_source_config(
        &self,
        req: Request<pb::validate_data_source_config::Request>,
    ) -> R<pb::validate_data_source_config::Response> {
        let start = Instant::now();
        let req = req.into_inner();
        let name = req.type_name.clone();
        let r = validate_data_source_config::handle(&self.registry, req);
        log_rpc("ValidateDataSourceConfig", &name, start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> R<pb::upgrade_resource_state::Response> {
        let start = Instant::now();
        let req = req.into_inner();
        let name = req.type_name.clone();
        let r = upgrade_resource_state::handle(&self.registry, req);
        log_rpc("UpgradeResourceState", &name, start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn upgrade_resource_identity(
        &self,
        _: Request<pb::upgrade_resource_identity::Request>,
    ) -> R<pb::upgrade_resource_identity::Response> {
        Err(unimplemented::status("UpgradeResourceIdentity"))
    }

    async fn configure(&self, req: Request<pb::configure::Request>) -> R<pb::configure::Response> {
        let start = Instant::now();
        let r = configure::handle(self, req.into_inner());
        log_rpc("Configure", "", start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> R<pb::read_resource::Response> {
        let start = Instant::now();
        let req = req.into_inner();
        let name = req.type_name.clone();
        let r = read_resource::handle(self, req).await;
        log_rpc("ReadResource", &name, start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> R<pb::plan_resource_change::Response> {
        let start = Instant::now();
        let req = req.into_inner();
        let name = req.type_name.clone();
        let r = plan_resource_change::handle(self, req);
        log_rpc("PlanResourceChange", &name, start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> R<pb::apply_resource_change::Response> {
        let start = Instant::now();
        let req = req.into_inner();
        let name = req.type_name.clone();
        let r = apply_resource_change::handle(self, req).await;
        log_rpc("ApplyResourceChange", &name, start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> R<pb::import_resource_state::Response> {
        let start = Instant::now();
        let req = req.into_inner();
        let name = req.type_name.clone();
        let r = import_resource_state::handle(self, req);
        log_rpc("ImportResourceState", &name, start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn move_resource_state(
        &self,
        _: Request<pb::move_resource_state::Request>,
    ) -> R<pb::move_resource_state::Response> {
        Err(unimplemented::status("MoveResourceState"))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> R<pb::read_data_source::Response> {
        let start = Instant::now();
        let req = req.into_inner();
        let name = req.type_name.clone();
        let r = read_data_source::handle(self, req).await;
        log_rpc("ReadDataSource", &name, start, &r.diagnostics);
        Ok(Response::new(r))
    }

    async fn generate_resource_config(
        &self,
        _: Request<pb::generate_resource_config::Request>,
    ) -> R<pb::generate_resource_config::Response> {
        Err(unimplemented::status("GenerateResourceConfig"))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> R<pb::validate_ephemeral_resource_config::Response> {
        Err(unimplemented::status("ValidateEphemeralResourceConfig"))
    }

    async fn open_ephemeral_resource(
        &self,
        _: Request<pb::open_ephemeral_resource::Request>,
    ) -> R<pb::open_ephemeral_resource::Response> {
        Err(unimplemented::status("OpenEphemeralResource"))
    }

    async fn renew_ephemeral_resource(
        &self,
        _: Request<pb::renew_ephemeral_resource::Request>,
    ) -> R<pb::renew_ephemeral_resource::Response> {
        Err(unimplemented::status("RenewEphemeralResource"))
    }

    async fn close_ephemeral_resource(
        &self,
        _: Request<pb::close_ephemeral_resource::Request>,
    ) -> R<pb::close_ephemeral_resource::Response> {
        Err(unimplemented::status("CloseEphemeralResource"))
    }

    type ListResourceStream = tokio_stream::Empty<Result<pb::list_resource::Event, Status>>;

    async fn list_resource(&self, _: Request<pb::list_resource::Request>) -> R<Self::ListResourceStream> {
        Err(unimplemented::status("ListResource"))
    }

    async fn validate_list_resource_config(
        &self,
        _: Request<pb::validate_list_resource_config::Request>,
    ) -> R<pb::validate_list_resource_config::Response> {
        Err(unimplemented::status("ValidateListResourceConfig"))
    }

    async fn get_functions(&self, _: Request<pb::get_functions::Request>) -> R<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(&self, _: Request<pb::call_function::Request>) -> R<pb::call_function::Response> {
        Err(unimplemented::status("CallFunction"))
    }

    async fn validate_action_config(
        &self,
        _: Request<pb::validate_action_config::Request>,
    ) -> R<pb::validate_action_config::Response> {
        Err(unimplemented::status("ValidateActionConfig"))
    }

    async fn plan_action(&self, _: Request<pb::plan_action::Request>) -> R<pb::plan_action::Response> {
        Err(unimplemented::status("PlanAction"))
    }

    type InvokeActionStream = tokio_stream::Empty<Result<pb::invoke_action::Event, Status>>;

    async fn invoke_action(&self, _: Request<pb::invoke_action::Request>) -> R<Self::InvokeActionStream> {
        Err(unimplemented::status("InvokeAction"))
    }

    async fn stop(&self, _: Request<pb::stop::Request>) -> R<pb::stop::Response> {
        Ok(Response::new(stop::handle(&self.stop_tx)))
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers for the per-RPC tests: a service over the real registry and msgpack
    //! encoding of test values.

    use super::*;
    use crate::protocol::value::{Type, Value};

    pub(crate) fn service() -> ProviderService {
        ProviderService::new(Arc::new(crate::registry()))
    }

    pub(crate) fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
        Some(pb::DynamicValue {
            msgpack: crate::protocol::value::to_msgpack(v, ty).unwrap(),
            json: Vec::new(),
        })
    }

    pub(crate) fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Value {
        crate::protocol::decode_dynamic(dv, ty).unwrap()
    }

    pub(crate) fn errors(d: &[pb::Diagnostic]) -> Vec<String> {
        d.iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect()
    }
}
