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

use crate::framework::{Ctx, Registry};
use crate::protocol::tfplugin5 as pb;

/// What the service needs of the provider's settings type: a value to use before
/// Configure, and to be shared between RPCs running at once.
pub(crate) trait SettingsBound: Default + Send + Sync + 'static {}
impl<S: Default + Send + Sync + 'static> SettingsBound for S {}

/// The provider service: the registry plus the state Configure and Stop leave behind.
/// Generic over the provider's settings `S`, which it stores and hands out, never reads.
pub(crate) struct ProviderService<S> {
    registry: Arc<Registry<S>>,
    settings: RwLock<Option<Arc<S>>>,
    stop_tx: watch::Sender<bool>,
}

impl<S: SettingsBound> ProviderService<S> {
    pub(crate) fn new(registry: Arc<Registry<S>>) -> Self {
        let (stop_tx, _) = watch::channel(false);
        ProviderService { registry, settings: RwLock::new(None), stop_tx }
    }

    fn ctx(&self, caps: Option<&pb::ClientCapabilities>) -> Ctx<S> {
        let settings = self
            .settings
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
            .unwrap_or_default();
        Ctx {
            settings,
            stop: self.stop_tx.subscribe(),
            deferral_allowed: caps.is_some_and(|c| c.deferral_allowed),
        }
    }

    fn set_settings(&self, s: S) {
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
impl<S: SettingsBound> pb::provider_server::Provider for ProviderService<S> {
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
mod tests {
    use super::*;

    #[test]
    fn the_service_is_served_under_the_grpc_name_terraform_calls() {
        assert_eq!(
            <pb::provider_server::ProviderServer<ProviderService<()>> as tonic::server::NamedService>::NAME,
            "tfplugin5.Provider"
        );
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! For the per-RPC tests: a fake provider (in-memory, named as such) whose
    //! behaviour each test can predict, the real registry where a test is about the
    //! real resources, and msgpack helpers.
    //!
    //! The fakes: provider block `greeting` (`"bad"` fails validation); data source
    //! `fake_echo` (`input` → `output = "<greeting>, <input>"`; input `"defer"` defers
    //! when allowed); resource `fake_thing` at schema version 1 (`name` required; apply
    //! of `"fail"`, delete of `"undeletable"`, refresh of `"broken"` fail; refresh of
    //! `"gone"` finds it deleted; a changed `name` requires replacement).

    use std::collections::BTreeMap;

    use super::*;
    use crate::framework::{
        BoxFuture, DataSource, Diagnostics, Path, Planned, ProviderDef, ReadOutcome, Resource, Schema,
    };
    use crate::protocol::schema::Attribute;
    use crate::protocol::value::{Type, Value};

    /// What the fake provider's Configure produces.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub(crate) struct FakeConfigured {
        pub(crate) greeting: Option<String>,
        pub(crate) terraform_version: String,
    }

    fn attr(name: &'static str, ty: Type, required: bool, optional: bool, computed: bool) -> Attribute {
        Attribute { name, ty, description: name.into(), required, optional, computed, sensitive: false }
    }

    pub(crate) struct FakeProvider(Schema);
    pub(crate) struct FakeEcho(Schema);
    pub(crate) struct FakeThing(Schema);

    pub(crate) const ECHO: &str = "fake_echo";
    pub(crate) const THING: &str = "fake_thing";

    impl ProviderDef for FakeProvider {
        type Settings = FakeConfigured;

        fn schema(&self) -> &Schema {
            &self.0
        }

        fn validate(&self, config: &Value, diags: &mut Diagnostics) {
            if config.get("greeting").as_str() == Some("bad") {
                diags.attribute_error(Path::field("greeting"), "Invalid input", "greeting: not that one");
            }
        }

        fn configure(&self, tf: &str, config: &Value, diags: &mut Diagnostics) -> Option<FakeConfigured> {
            self.validate(config, diags);
            (!diags.has_errors()).then(|| FakeConfigured {
                greeting: config.get("greeting").as_str().map(str::to_owned),
                terraform_version: tf.to_owned(),
            })
        }
    }

    impl DataSource<FakeConfigured> for FakeEcho {
        fn type_name(&self) -> &'static str {
            ECHO
        }

        fn schema(&self) -> &Schema {
            &self.0
        }

        fn validate(&self, config: &Value, diags: &mut Diagnostics) {
            if config.get("input").as_str() == Some("") {
                diags.attribute_error(Path::field("input"), "Invalid input", "input: must not be empty");
            }
        }

        fn read<'a>(
            &'a self,
            ctx: &'a Ctx<FakeConfigured>,
            config: &'a Value,
            diags: &'a mut Diagnostics,
        ) -> BoxFuture<'a, Option<ReadOutcome>> {
            Box::pin(async move {
                let input = config.get("input").as_str().unwrap_or_default();
                if input == "defer" {
                    if ctx.deferral_allowed {
                        return Some(ReadOutcome::DeferProviderConfigUnknown);
                    }
                    diags.error("Provider configuration not known yet", "fake: cannot defer");
                    return None;
                }
                let greeting = ctx.settings.greeting.as_deref().unwrap_or("hello");
                let mut m = BTreeMap::new();
                m.insert("input".to_owned(), Value::string(input));
                m.insert("output".to_owned(), Value::string(format!("{greeting}, {input}")));
                Some(ReadOutcome::Read(Value::Object(m)))
            })
        }
    }

    fn thing(name: &str) -> Value {
        Value::Object(BTreeMap::from([
            ("name".to_owned(), Value::string(name)),
            ("id".to_owned(), Value::string(format!("id-{name}"))),
        ]))
    }

    impl Resource<FakeConfigured> for FakeThing {
        fn type_name(&self) -> &'static str {
            THING
        }

        fn schema(&self) -> &Schema {
            &self.0
        }

        fn validate(&self, config: &Value, diags: &mut Diagnostics) {
            if config.get("name").as_str() == Some("") {
                diags.attribute_error(Path::field("name"), "Invalid input", "name: must not be empty");
            }
        }

        fn read<'a>(
            &'a self,
            _ctx: &'a Ctx<FakeConfigured>,
            state: Value,
            diags: &'a mut Diagnostics,
        ) -> BoxFuture<'a, Option<Value>> {
            Box::pin(async move {
                match state.get("name").as_str() {
                    Some("gone") => Some(Value::Null),
                    Some("broken") => {
                        diags.error("Refresh failed", "fake: the remote end did not answer");
                        None
                    }
                    _ => Some(state),
                }
            })
        }

        fn plan(
            &self,
            _ctx: &Ctx<FakeConfigured>,
            prior: &Value,
            _proposed: &Value,
            config: &Value,
            diags: &mut Diagnostics,
        ) -> Option<Planned> {
            if config.get("name").as_str() == Some("refused") {
                diags.attribute_error(Path::field("name"), "Invalid input", "name: refused at plan");
                return None;
            }
            let mut m = BTreeMap::new();
            m.insert("name".to_owned(), config.get("name").clone());
            let same = !prior.is_null() && prior.get("name") == config.get("name");
            m.insert("id".to_owned(), if same { prior.get("id").clone() } else { Value::Unknown });
            let requires_replace =
                if prior.is_null() || same { Vec::new() } else { vec![Path::field("name")] };
            Some(Planned { state: Value::Object(m), requires_replace })
        }

        fn apply<'a>(
            &'a self,
            _ctx: &'a Ctx<FakeConfigured>,
            _prior: &'a Value,
            _planned: &'a Value,
            config: &'a Value,
            diags: &'a mut Diagnostics,
        ) -> BoxFuture<'a, Option<Value>> {
            Box::pin(async move {
                let name = config.get("name").as_str().unwrap_or_default();
                if name == "fail" {
                    diags.error("Apply failed", "fake: the remote end refused");
                    return None;
                }
                Some(thing(name))
            })
        }

        fn delete<'a>(
            &'a self,
            _ctx: &'a Ctx<FakeConfigured>,
            prior: &'a Value,
            diags: &'a mut Diagnostics,
        ) -> BoxFuture<'a, bool> {
            Box::pin(async move {
                if prior.get("name").as_str() == Some("undeletable") {
                    diags.error("Delete failed", "fake: still in use");
                    return false;
                }
                true
            })
        }

        fn import(&self, _ctx: &Ctx<FakeConfigured>, id: &str, diags: &mut Diagnostics) -> Option<Value> {
            if id == "bad" {
                diags.error("Invalid import ID", "fake: no such thing");
                return None;
            }
            Some(thing(id))
        }
    }

    /// The fake provider's registry.
    pub(crate) fn fake_registry() -> Registry<FakeConfigured> {
        let provider = Schema::new("fake", vec![attr("greeting", Type::String, false, true, false)]);
        let echo = Schema::new(
            "fake echo",
            vec![
                attr("input", Type::String, true, false, false),
                attr("output", Type::String, false, false, true),
            ],
        );
        let thing = Schema::new(
            "fake thing",
            vec![
                attr("name", Type::String, true, false, false),
                attr("id", Type::String, false, false, true),
            ],
        )
        .with_version(1);
        Registry {
            provider: Box::new(FakeProvider(provider)),
            data_sources: vec![Box::new(FakeEcho(echo))],
            resources: vec![Box::new(FakeThing(thing))],
        }
    }

    /// A service over the fake provider.
    pub(crate) fn fake_service() -> ProviderService<FakeConfigured> {
        ProviderService::new(Arc::new(fake_registry()))
    }

    /// The object type of the fake resource, data source or (`""`) provider block.
    pub(crate) fn fake_type(name: &str) -> Type {
        let reg = fake_registry();
        match name {
            ECHO => reg.data_source(ECHO).map(|d| d.schema().object_type()),
            THING => reg.resource(THING).map(|r| r.schema().object_type()),
            _ => Some(reg.provider.schema().object_type()),
        }
        .unwrap_or(Type::String)
    }

    /// A `fake_thing` state (or config) with `name`, and its id once created.
    pub(crate) fn fake_thing(name: &str, created: bool) -> Value {
        let mut v = thing(name);
        if !created && let Value::Object(m) = &mut v {
            m.insert("id".to_owned(), Value::Null);
        }
        v
    }

    /// An object of the given attributes.
    pub(crate) fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    /// A service over the real registry, for tests about the real resources.
    pub(crate) fn real_service() -> ProviderService<impl SettingsBound> {
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

    /// The attribute names of each diagnostic's path (`None` for the whole block).
    pub(crate) fn diag_paths(d: &[pb::Diagnostic]) -> Vec<Option<String>> {
        use pb::attribute_path::step::Selector;
        d.iter()
            .map(|d| {
                d.attribute.as_ref().map(|p| {
                    p.steps
                        .iter()
                        .map(|s| match &s.selector {
                            Some(Selector::AttributeName(a)) => a.clone(),
                            other => format!("{other:?}"),
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                })
            })
            .collect()
    }

    pub(crate) fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }
}
