//! terraform-provider-idcbootstrap: the idcbootstrap core served to Terraform and
//! OpenTofu over tfplugin5 (gRPC, go-plugin handshake, AutoMTLS).
//!
//! Layers, imports in one direction: `protocol` (wire types, codec, paths,
//! handshake) ← `framework` (plain traits, generic over the provider's settings) ←
//! `server` (one file per RPC) ← `serve`; none of them names the core or the
//! provider's settings (`tests/layering.rs` checks). Above them, `config`,
//! `spec_schema`, `diag_core`, `data_sources` and `resources` are the IdC parts:
//! they use the core and never see a prost type. This library exists for the binary and
//! its benchmarks; it has no stable API.

mod config;
mod data_sources;
mod diag_core;
mod framework;
#[doc(hidden)]
pub mod fuzz;
mod log;
mod protocol;
mod resources;
mod serve;
mod server;
mod spec_schema;

use std::process::ExitCode;

/// Every provider-level behaviour, data source and resource this binary serves.
fn registry() -> framework::Registry<config::Settings> {
    framework::Registry {
        provider: Box::new(config::ProviderConfig),
        data_sources: vec![
            Box::new(data_sources::template::Template),
            Box::new(data_sources::connectivity::Connectivity),
            Box::new(data_sources::vendor_external_ids::VendorExternalIds),
        ],
        resources: vec![
            Box::new(resources::external_id::ExternalIdResource),
            Box::new(resources::connectivity_check::ConnectivityCheck),
            Box::new(resources::vendor_registration::VendorRegistration),
        ],
    }
}

/// Runs the plugin: handshake, serve until Terraform shuts it down.
///
/// Exits with 1 (and a sentence on stderr) when run by hand or when start-up fails.
pub fn run() -> ExitCode {
    serve::run(registry())
}

/// Codec entry points for `benches/`; not an API.
#[doc(hidden)]
pub mod bench {
    use crate::protocol::value;

    /// A decoded value, opaque to the benchmark.
    pub struct Decoded(value::Value);

    /// The msgpack a Terraform client sends for a typical `idcbootstrap_template` config.
    pub fn template_config_msgpack() -> Vec<u8> {
        let schema = crate::data_sources::template::schema_for_bench();
        let ty = schema.object_type();
        let mut m = std::collections::BTreeMap::new();
        for a in &schema.attributes {
            m.insert(a.name.to_owned(), value::Value::Null);
        }
        let s = |v: &str| value::Value::string(v);
        m.insert("aws_account_id".into(), s("123456789012"));
        m.insert("sso_instance_arn".into(), s("arn:aws:sso:::instance/ssoins-1234567890abcdef"));
        m.insert("region".into(), s("eu-west-1"));
        m.insert(
            "external_ids".into(),
            value::Value::List(vec![
                s("a-32-character-external-id-00001"),
                s("b-32-character-external-id-00002"),
            ]),
        );
        m.insert("trusted_principal_arn".into(), s("arn:aws:iam::210987654321:role/vendor"));
        m.insert(
            "tags".into(),
            value::Value::Map([("env".to_owned(), s("prod")), ("team".to_owned(), s("platform"))].into()),
        );
        m.insert("max_session_duration".into(), value::Value::Number(7200.0));
        value::to_msgpack(&value::Value::Object(m), &ty).unwrap_or_default()
    }

    /// Decodes `bytes` with the data source's schema.
    pub fn decode_template_config(bytes: &[u8]) -> Option<Decoded> {
        let ty = crate::data_sources::template::schema_for_bench().object_type();
        value::from_msgpack(bytes, &ty).ok().map(Decoded)
    }

    /// Encodes `v` back with the data source's schema.
    pub fn encode_template_config(v: &Decoded) -> Vec<u8> {
        let ty = crate::data_sources::template::schema_for_bench().object_type();
        value::to_msgpack(&v.0, &ty).unwrap_or_default()
    }
}
