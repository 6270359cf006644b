//! `bootstrap`: the idcbootstrap CloudFormation custom-resource Lambda
//! (`provided.al2023`).
//!
//! Two layers, imports in one direction:
//!
//! * plumbing — [`event`] (decoding CloudFormation requests), [`response`]
//!   (size-bounded response bodies), [`transport`] (the PUT to the pre-signed
//!   `ResponseURL`) and [`handler`] (catch-panic, deadline guard, exactly one
//!   answer). It knows nothing of IAM Identity Center.
//! * [`resources`] — one file per `Custom::` type, built on the `idcbootstrap` core.
//!   `main` builds the registry of types and hands it to the handler, as
//!   `lambda_runtime` takes a service: the plumbing never imports `resources`.
//!
//! Whatever happens — bad properties, a panic, a misconfigured function, a deadline
//! about to pass — CloudFormation gets exactly one answer, so a stack never hangs.

mod config;
mod event;
mod handler;
mod resources;
mod response;
mod response_url;
mod transport;

use std::process::ExitCode;
use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::config::Config;
use crate::handler::Handler;
use crate::response_url::ResponseEndpoints;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--describe") {
        println!("{:#}", resources::describe());
        return ExitCode::SUCCESS;
    }
    if std::env::args().nth(1).as_deref() == Some("--describe-settings") {
        println!("{:#}", describe_settings());
        return ExitCode::SUCCESS;
    }
    // The SDK and reqwest both use rustls; pin the one provider compiled in so that
    // neither can pick a different default at first use. An Err only means another
    // provider was installed first, which is equally fine.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    // Reading the configuration can fail; it must not stop the function from
    // answering CloudFormation, so the error is kept and every event is answered
    // with it (see `Handler::misconfigured`). Posting to `/init/error` instead would
    // make Lambda fail the invocation without a response and leave the stack
    // waiting for an hour.
    let get = |name: &str| std::env::var(name).ok();
    // Where answers may go is read apart from the rest: an invalid setting still
    // leaves CloudFormation's own endpoints, so the error can be answered.
    let (config, endpoints) = match ResponseEndpoints::from_lookup(&get) {
        Ok(endpoints) => (Config::from_lookup(&get), endpoints),
        Err(e) => (Err(e), ResponseEndpoints::cloudformation(&get)),
    };
    config::init_logging(config.as_ref().ok().map(|c| c.log_filter.as_str()));
    // The default hook prints the panic message, which could quote data (an
    // external ID); log where it happened only. The panic is still caught and
    // answered by the handler.
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!(location = %at, "panic");
    }));

    // One event at a time, and the work is a few milliseconds of CPU plus one HTTP
    // PUT: a current-thread runtime starts fastest and uses the least memory. The
    // deadline guard still fires on time because resource work yields or runs in
    // `spawn_blocking`.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match endpoints.region() {
        Some(region) => tracing::info!(
            region,
            added_origins = endpoints.extra_count(),
            "answers go to CloudFormation's response endpoints for this region only"
        ),
        None => tracing::warn!(
            variable = response_url::REGION_VAR,
            added_origins = endpoints.extra_count(),
            "no known region: answers go only to the origins of IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS"
        ),
    }
    runtime.block_on(async move {
        let handler = match config {
            Ok(config) => {
                let registry = resources::registry(&get);
                let types: Vec<&str> = registry.iter().map(|r| r.resource_type()).collect();
                tracing::info!(resource_types = ?types, "configuration loaded");
                Handler::new(&config, endpoints, registry)
            }
            Err(e) => {
                tracing::error!(error = %e, "invalid function configuration: every event will be answered FAILED (Delete: SUCCESS)");
                Handler::misconfigured(e.to_string(), endpoints)
            }
        };
        let handler = Arc::new(handler);
        let service = service_fn(move |event: LambdaEvent<Value>| {
            let handler = Arc::clone(&handler);
            async move { handler.handle(event).await }
        });
        match lambda_runtime::run(service).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "Lambda runtime stopped");
                ExitCode::FAILURE
            }
        }
    })
}

/// The function's own variables (`bootstrap --describe-settings`), for the docs:
/// the state key, the plumbing's, and each type's settings that only the
/// function's configuration gives. Property defaults (`IDCBOOTSTRAP_<FIELD>`) are
/// in `--describe`.
fn describe_settings() -> Value {
    use resources::external_id::{MIN_STATE_KEY_LEN, STATE_KEY_VAR};
    let mut rows = vec![serde_json::json!({
        "variable": STATE_KEY_VAR,
        "meaning": format!(
            "Secret (at least {MIN_STATE_KEY_LEN} characters) the external IDs of `Custom::IdcExternalId` are \
             derived from. Never change it. Only that type needs it: without it, it answers `not_configured` \
             and the others work."
        ),
        "default": "",
    })];
    for v in config::VARIABLES {
        rows.push(serde_json::json!({"variable": v.name, "meaning": v.meaning, "default": v.default}));
    }
    for table in resources::TABLES {
        for s in table.describe()["settings"].as_array().into_iter().flatten() {
            rows.push(serde_json::json!({
                "variable": s["env_var"],
                "meaning": format!(
                    "{} {} Read by `{}` from the function's configuration only: a stack cannot set it.",
                    s["description"].as_str().unwrap_or_default(),
                    s["rule"].as_str().unwrap_or_default(),
                    table.resource_type()
                ),
                "default": "",
            }));
        }
    }
    Value::Array(rows)
}
