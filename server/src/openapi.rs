//! The OpenAPI 3.1 document, generated from the types the handlers answer with
//! (schemars) and from the core's field descriptions, never written by hand.
//! `idcbootstrap-server openapi` prints it; `docs/openapi.json` is its checked-in copy.

use idcbootstrap::ErrorCode;
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use idcbootstrap::spec::{self, Part, ResourceSpec};

use crate::api::{CommitResponse, VENDOR_FIELDS};
use crate::app::BASE_PATH;
use crate::error::{ErrorBody, code};

struct Doc {
    generator: SchemaGenerator,
}

impl Doc {
    fn schema<T: JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A request or response schema from the core's field spec.
fn from_spec(spec: &ResourceSpec, part: Part, omit: &[&str], title: &str) -> Value {
    // Nullable outputs and input patterns are declared in the spec itself.
    let mut s = spec.json_schema(part, omit);
    s["title"] = title.into();
    s
}

fn every_code() -> Vec<&'static str> {
    let mut v: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    v.extend(code::ALL);
    v
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn ok_json(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// Responses every authenticated operation may give.
fn common_errors(responses: &mut Map<String, Value>) {
    let add = |r: &mut Map<String, Value>, status: &str, text: &str| {
        r.entry(status.to_owned()).or_insert_with(|| error_response(text));
    };
    add(
        responses,
        "400",
        "`invalid_input`: `details.fields` names each offending field and rule (also a missing or malformed `X-Tenant-ID`, or malformed JSON).",
    );
    add(
        responses,
        "401",
        "`unauthenticated`: no bearer token, or an unknown or revoked one (`WWW-Authenticate: Bearer`).",
    );
    add(
        responses,
        "403",
        "`tenant_mismatch`: `X-Tenant-ID` is not the token's tenant (the same answer whether or not that tenant exists).",
    );
    add(responses, "413", "`payload_too_large`: the body is over the limit.");
    add(responses, "415", "`unsupported_media_type`: a body that is not `application/json`.");
    add(responses, "429", "`rate_limited`: over the tenant's rate limit (`Retry-After`).");
    add(responses, "500", "`internal`: a server-side failure; the server log has the cause.");
    add(responses, "504", "`timeout`: the request did not finish in time.");
}

fn operation(
    id: &str,
    summary: &str,
    description: &str,
    body: Option<(Value, bool)>,
    mut responses: Map<String, Value>,
) -> Value {
    common_errors(&mut responses);
    let mut op = json!({
        "operationId": id,
        "summary": summary,
        "description": description,
        "parameters": [{ "$ref": "#/components/parameters/TenantId" }],
        "security": [{ "bearer": [] }],
        "responses": responses,
    });
    if let Some((schema, required)) = body {
        op["requestBody"] = json!({
            "required": required,
            "content": { "application/json": { "schema": schema } }
        });
    }
    op
}

fn responses(items: &[(&str, Value)]) -> Map<String, Value> {
    items.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// The document.
pub fn document() -> Value {
    let mut d = Doc {
        generator: SchemaGenerator::new(SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas/".into();
            s.meta_schema = None;
        })),
    };
    // The commit answer and the error body are server types (schemars); every other
    // request and response is the core's field spec.
    let mut commit_out = d.schema::<CommitResponse>();
    let _ = d.schema::<ErrorBody>();
    if let Some(props) =
        d.generator.definitions_mut().get_mut("ErrorBody").and_then(|s| s.get_mut("properties"))
    {
        props["code"]["enum"] = json!(every_code());
    }
    let mut schemas = d.generator.take_definitions(true);
    if let Some(e) = schemas.remove("ErrorBody") {
        schemas.insert("Error".into(), e);
    }
    // The commit answer's ID fields are described by the spec too.
    if let Some(c) = schemas.get_mut("CommitResponse") {
        let ids = from_spec(&spec::VENDOR_EXTERNAL_ID, Part::Output, &[], "ExternalIds");
        for name in ["external_id", "external_id_pending"] {
            c["properties"][name] = ids["properties"][name].clone();
        }
        commit_out = schema_ref("CommitResponse");
    }
    let mut add = |name: &str, schema: Value| {
        schemas.insert(name.to_owned(), schema);
        schema_ref(name)
    };
    // The vendor's own template inputs: a client sending them gets `unknown_field`.
    let vendor_inputs: Vec<&str> = VENDOR_FIELDS.iter().map(|(name, _)| *name).collect();
    let template_in = add(
        "BootstrapTemplateRequest",
        from_spec(&spec::TEMPLATE, Part::Input, &vendor_inputs, "BootstrapTemplateRequest"),
    );
    let template_out = add(
        "BootstrapTemplateResponse",
        from_spec(&spec::TEMPLATE, Part::Output, &[], "BootstrapTemplateResponse"),
    );
    let config_in = add("ConfigRequest", from_spec(&spec::VENDOR_CONFIG, Part::Input, &[], "ConfigRequest"));
    let config_out =
        add("ConfigResponse", from_spec(&spec::VENDOR_CONFIG, Part::Output, &[], "ConfigResponse"));
    let ids_out = add("ExternalIds", from_spec(&spec::VENDOR_EXTERNAL_ID, Part::Output, &[], "ExternalIds"));
    let commit_in =
        add("CommitRequest", from_spec(&spec::VENDOR_EXTERNAL_ID, Part::Input, &[], "CommitRequest"));
    let test_out =
        add("TestResponse", from_spec(&spec::CONNECTIVITY_CHECK, Part::Output, &["id"], "TestResponse"));
    let base = BASE_PATH;
    let no_body =
        Some((json!({ "type": "object", "additionalProperties": false, "maxProperties": 0 }), false));
    let mut paths = Map::new();
    paths.insert(
        format!("{base}/bootstrap-template"),
        json!({ "post": operation(
            "bootstrapTemplate",
            "Generate CloudFormation and Terraform bootstrap artifacts for an IAM Identity Center trust role",
            "Renders the trust role with the tenant's external IDs (created on first use) and the vendor's \
             principal. `external_ids` lists the trusted IDs as the core renders them: the pending (new) ID first \
             during a rotation, then the one in use.",
            Some((template_in, true)),
            responses(&[("200", ok_json("Rendered bootstrap artifacts.", template_out))]),
        )}),
    );
    paths.insert(
        format!("{base}/config"),
        json!({
            "put": operation("putConfig", "Save the tenant's instance, role and region",
                "Insert or replace. Validated with the core's rules.",
                Some((config_in, true)),
                responses(&[("200", ok_json("The saved settings.", config_out.clone()))])),
            "get": operation("getConfig", "Read the tenant's settings", "`configured: false` when nothing is saved.",
                None, responses(&[("200", ok_json("The saved settings.", config_out.clone()))])),
            "delete": operation("deleteConfig", "Clear the tenant's settings", "The external IDs stay.",
                None, responses(&[("204", json!({ "description": "Cleared." }))])),
        }),
    );
    let mut test_responses = responses(&[
        ("200", ok_json("Connection test passed.", test_out)),
        ("404", error_response("`not_configured`: no role ARN (or instance, or region) saved.")),
        (
            "422",
            error_response(
                "The role failed the check: `sts_assume_role_failed`, `access_denied`, `instance_not_found`, \
             `instance_not_active`, `account_mismatch` or `external_id_not_enforced`; `details.steps` has every step.",
            ),
        ),
        ("502", error_response("`network_error`: AWS could not be reached.")),
        ("503", error_response("`throttled`: AWS throttled the check (`Retry-After`).")),
        ("504", error_response("`timeout`: the check did not finish in time.")),
    ]);
    common_errors(&mut test_responses);
    paths.insert(
        format!("{base}/test"),
        json!({ "post": operation(
            "testConnectivity",
            "Test AWS Identity Center connectivity",
            "Runs the core's connectivity check with the saved role, the tenant's external IDs (both during a \
             rotation) and the vendor's credentials: AssumeRole with each ID (waiting out IAM propagation), the \
             instance, the read permissions, and that the role refuses callers without an external ID. A pass \
             during a rotation allows `external-id/commit`.",
            no_body.clone(),
            test_responses,
        )}),
    );
    paths.insert(
        format!("{base}/external-id"),
        json!({ "get": operation("getExternalId", "The tenant's external IDs",
            "Created on first use (UUID v4); `external_id_pending` is null at steady state.",
            None, responses(&[("200", ok_json("The external IDs.", ids_out.clone()))])) }),
    );
    paths.insert(
        format!("{base}/external-id/rotate"),
        json!({ "post": operation("rotateExternalId", "Start a rotation",
            "Issues a new pending external ID, trusted beside the one in use by roles rendered from now on.",
            no_body.clone(),
            responses(&[
                ("200", ok_json("Both IDs.", ids_out.clone())),
                ("409", error_response("`conflict`: a rotation is already in progress, or a concurrent change won.")),
            ])) }),
    );
    let mut commit = operation(
        "commitExternalId",
        "End a rotation: the pending ID becomes the one in use",
        "Needs a passing `POST test` with the pending ID since the rotation began, unless forced \
         (`{\"force\": true}` or `?force=true`); the old ID is dropped.",
        Some((commit_in, false)),
        responses(&[
            ("200", ok_json("The new ID in use.", commit_out)),
            (
                "409",
                error_response(
                    "`conflict`: no rotation in progress, no passing test with the pending ID (and no force), or a \
                 concurrent change won.",
                ),
            ),
        ]),
    );
    if let Some(params) = commit["parameters"].as_array_mut() {
        params.push(
            json!({ "name": "force", "in": "query", "required": false, "schema": { "type": "boolean" },
            "description": "Same as `{\"force\": true}` in the body." }),
        );
    }
    paths.insert(format!("{base}/external-id/commit"), json!({ "post": commit }));
    paths.insert(
        format!("{base}/external-id/cancel"),
        json!({ "post": operation("cancelExternalId", "Cancel a rotation",
            "Discards the pending ID; the one in use stays. Without a rotation, changes nothing.",
            no_body,
            responses(&[
                ("200", ok_json("The ID in use.", ids_out)),
                ("409", error_response("`conflict`: a concurrent change won.")),
            ])) }),
    );
    let status = |desc: &str| {
        json!({ "description": desc, "content": { "application/json": { "schema": {
            "type": "object", "properties": { "status": { "type": "string" } }, "required": ["status"] } } } })
    };
    paths.insert(
        "/healthz".into(),
        json!({ "get": { "operationId": "healthz", "summary": "Liveness", "security": [],
            "responses": { "200": status("The process answers.") } } }),
    );
    paths.insert(
        "/readyz".into(),
        json!({ "get": { "operationId": "readyz", "summary": "Readiness: the database answers and its migrations are applied",
            "security": [],
            "responses": { "200": status("Ready."), "503": error_response("Not ready (`internal`).") } } }),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({ "get": { "operationId": "openapi", "summary": "This document", "security": [],
            "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": { "schema": { "type": "object" } } } } } } }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "idcbootstrap vendor API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Issues each tenant its external IDs, renders the IAM Identity Center trust role for \
                it, keeps the role it registered and tests that role with the vendor's principal. Every error \
                answers `{code, message, details, notices}` with a stable `code`.",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer",
                "description": "A token from `idcbootstrap-server token create --tenant <uuid>`." } },
            "parameters": { "TenantId": { "name": "X-Tenant-ID", "in": "header", "required": true,
                "schema": { "type": "string", "format": "uuid" },
                "description": "Tenant identifier. Must match the tenant associated with the credential. Returns \
                    403 tenant_mismatch if the credential and header belong to different tenants." } },
        },
    })
}

/// `v` with every object's keys in sorted order. serde_json keeps insertion order
/// when any crate in the build turns on its `preserve_order` feature (a workspace
/// test build does), so the document's bytes are made canonical here rather than
/// left to which packages were built together.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let ordered: std::collections::BTreeMap<String, Value> = m.into_iter().collect();
            Value::Object(ordered.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The document, pretty-printed with a final newline (as `docs/openapi.json` holds it).
pub fn document_string() -> String {
    let mut s = serde_json::to_string_pretty(&sorted(document())).unwrap_or_default();
    s.push('\n');
    s
}
