//! The vendor API's reference, checked against its one source: the document
//! `idcbootstrap-server openapi` prints, which the server serves at `/openapi.json`
//! and the server crate keeps in `docs/openapi.json`. `docs/api.md` is generated
//! from it (`util/api_docs.rs`); a stale page fails the test, `UPDATE_DOCS=1`
//! rewrites it:
//!
//! ```text
//! UPDATE_DOCS=1 cargo test -p idcbootstrap-e2e --test e2e server_docs::
//! ```

use std::process::Command;

use serde_json::Value;

use crate::util::api_docs::render;
use crate::util::docs::check_or_update;
use crate::util::server::{Deployment, Endpoints};
use crate::util::{repo_root, venv_bin};

/// The document as the CLI prints it.
fn openapi_from_cli(dep: &Deployment) -> Value {
    let raw = dep.cli(&["openapi"]);
    serde_json::from_str(&raw).unwrap_or_else(|e| panic!("`openapi` printed no JSON ({e}):\n{raw}"))
}

#[test]
fn api_reference_is_generated_from_the_served_openapi_document() {
    let mut dep = Deployment::sqlite(Endpoints::unreachable());
    let doc = openapi_from_cli(&dep);
    // The live server serves the same document.
    let server = dep.start();
    let served = server.anonymous().get("/openapi.json").expect(200);
    assert_eq!(served, doc, "/openapi.json differs from `idcbootstrap-server openapi`");

    // docs/openapi.json is the server crate's checked-in copy (its own test rewrites
    // it); the reference is generated from the same document.
    let json_path = repo_root().join("docs/openapi.json");
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap_or_default()).unwrap_or(Value::Null);
    assert!(
        on_disk == doc,
        "docs/openapi.json is stale: `UPDATE_DOCS=1 cargo test -p idcbootstrap-server docs_openapi` rewrites it"
    );
    if let Some(problem) = check_or_update(&repo_root().join("docs/api.md"), &(render(&doc) + "\n")) {
        panic!("{problem}");
    }

    // A valid OpenAPI document (openapi-spec-validator from the venv).
    let out = Command::new(venv_bin("openapi-spec-validator"))
        .arg(&json_path)
        .output()
        .expect("openapi-spec-validator");
    assert!(
        out.status.success(),
        "docs/openapi.json is not a valid OpenAPI document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn openapi_document_has_every_endpoint_of_the_contract() {
    let doc = openapi_from_cli(&Deployment::sqlite(Endpoints::unreachable()));
    let p = "/v1/integrations/aws-identity-center";
    let want = [
        ("post", format!("{p}/bootstrap-template")),
        ("put", format!("{p}/config")),
        ("get", format!("{p}/config")),
        ("delete", format!("{p}/config")),
        ("post", format!("{p}/test")),
        ("get", format!("{p}/external-id")),
        ("post", format!("{p}/external-id/rotate")),
        ("post", format!("{p}/external-id/commit")),
        ("post", format!("{p}/external-id/cancel")),
        ("get", "/healthz".to_owned()),
        ("get", "/readyz".to_owned()),
    ];
    let missing: Vec<String> = want
        .iter()
        .filter(|(m, path)| doc["paths"][path.as_str()].get(*m).is_none())
        .map(|(m, path)| format!("{} {path}", m.to_uppercase()))
        .collect();
    assert!(missing.is_empty(), "the OpenAPI document lacks: {missing:?}");
}
