//! The vendor data source and resource through the real `terraform`, against the
//! real `idcbootstrap-server` (SQLite) and the local AWS peers its `/test` calls: the
//! STS stand-in, which enforces trust policies and `sts:ExternalId` (moto's STS does
//! not), and moto's sso-admin. No mocked API.
//!
//! The role the vendor tests is made in the STS stand-in from the trust policy the
//! configuration rendered, as the quickstart's `aws-role` step (hashicorp/aws, which
//! cannot be installed here) would make it in IAM: render (`apply -target` of the
//! template), make the role, then apply the registration.

use serde_json::Value;

use crate::util::server::{REGION, VENDOR, uuid};
use crate::util::terraform::{Terraform, Workspace, default_version, named_version};
use crate::util::vendor::{Vendor, state_attrs};

const TEMPLATE: &str = "data.idcbootstrap_template.role";
const REGISTRATION: &str = "idcbootstrap_vendor_registration.this";

/// The customer's configuration: the vendor's IDs → the template → the registration.
/// Plain enough for Terraform 0.13.
fn config(v: &Vendor) -> String {
    let (owner, instance) = (&v.peers.owner, &v.peers.instance_arn);
    format!(
        r#"provider "idcbootstrap" {{
  trusted_principal_arn = "{VENDOR}"
}}

variable "test" {{
  type    = bool
  default = false
}}

data "idcbootstrap_vendor_external_ids" "vendor" {{}}

data "idcbootstrap_template" "role" {{
  aws_account_id   = "{owner}"
  sso_instance_arn = "{instance}"
  region           = "{REGION}"
  external_ids     = data.idcbootstrap_vendor_external_ids.vendor.all
}}

resource "idcbootstrap_vendor_registration" "this" {{
  role_arn            = data.idcbootstrap_template.role.role_arn
  sso_instance_arn    = "{instance}"
  region              = "{REGION}"
  test                = var.test
  propagation_timeout = "30s"
  triggers = {{
    trust_policy = data.idcbootstrap_template.role.trust_policy_json
  }}
}}
"#
    )
}

fn workspace(tf: &Terraform, v: &Vendor) -> Workspace {
    let mut ws = tf.workspace();
    v.configure(&mut ws);
    ws.write_config(&config(v));
    ws.init();
    ws
}

fn apply(ws: &Workspace, test: bool) -> crate::util::terraform::Run {
    let var = format!("-var=test={test}");
    ws.run(&["apply", "-input=false", "-no-color", "-auto-approve", &var])
}

fn plan(ws: &Workspace, test: bool) -> crate::util::terraform::Run {
    let var = format!("-var=test={test}");
    ws.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode", &var])
}

/// Renders the template alone, then makes the role it describes in the STS stand-in,
/// as `aws-role` would in IAM. Returns the role ARN and the trust policy.
fn render_and_make_role(ws: &Workspace, v: &Vendor) -> (String, String) {
    let target = format!("-target={TEMPLATE}");
    ws.run(&["apply", "-input=false", "-no-color", "-auto-approve", "-var=test=false", &target]).ok();
    let t = state_attrs(ws, "data", "idcbootstrap_template", "role").expect("template in state");
    let role = t["role_arn"].as_str().expect("role_arn").to_owned();
    let trust = t["trust_policy_json"].as_str().expect("trust policy").to_owned();
    v.put_role(&role, &trust);
    (role, trust)
}

fn registration(ws: &Workspace) -> Value {
    state_attrs(ws, "managed", "idcbootstrap_vendor_registration", "this").expect("registration in state")
}

/// The vendor tested the role (an AssumeRole with an external ID passed) and no
/// `POST test` failed: the server logs every 4xx and 5xx answer at info, with its
/// path, and successes only at debug.
fn no_test_failed(v: &Vendor) {
    let calls = v.peers.sts.calls();
    assert!(
        calls.iter().any(|c| c.with_external_id && c.status == 200),
        "the vendor never tested the role: {calls:?}"
    );
    let out = v.deployment.output();
    let failed: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("\"response\"") && l.contains("aws-identity-center/test"))
        .collect();
    assert!(failed.is_empty(), "a test failed on the way:\n{}", failed.join("\n"));
}

/// The whole journey on one Terraform: read the vendor's IDs, render, make the role,
/// register it with `test = true` (the vendor assumes it), converge, destroy.
fn journey(tf: &Terraform) {
    let v = Vendor::start();
    let ws = workspace(tf, &v);
    let (role, trust) = render_and_make_role(&ws, &v);
    let ids = v.external_ids();
    assert_eq!(ids.len(), 1);
    assert!(trust.contains(&ids[0]), "the role trusts the vendor's ID");

    apply(&ws, true).ok();
    let reg = registration(&ws);
    assert_eq!(reg["id"], v.tenant.as_str(), "{reg}");
    assert_eq!(reg["configured"], true, "{reg}");
    let saved = v.config();
    assert_eq!(saved["role_arn"], role.as_str(), "{saved}");
    assert_eq!(saved["configured"], true);
    no_test_failed(&v);

    let again = plan(&ws, true);
    assert_eq!(again.code, 0, "Terraform {}: a second plan wants changes:\n{}", tf.version, again.both());

    ws.destroy().ok();
    assert_eq!(v.config()["configured"], false, "destroy clears the registration");
    assert_eq!(v.external_ids(), ids, "the vendor's IDs stay");
    v.assert_no_secret_shown(&ws, &ids);
}

#[test]
fn journey_on_terraform_0_13() {
    if let Some(tf) = named_version("0.13.4", "vendor_terraform::journey_on_terraform_0_13") {
        journey(&tf);
    }
}

#[test]
fn journey_on_terraform_1_6() {
    if let Some(tf) = named_version("1.6.6", "vendor_terraform::journey_on_terraform_1_6") {
        journey(&tf);
    }
}

#[test]
fn journey_on_the_newest_terraform() {
    if let Some(tf) = named_version("1.15.5", "vendor_terraform::journey_on_the_newest_terraform") {
        journey(&tf);
    }
}

#[test]
fn journey_on_the_default_terraform() {
    journey(&default_version());
}

/// The rotation runbook, customer side in Terraform: vendor rotate → customer apply
/// (the role trusts both IDs, the vendor's test passes with both) → vendor commit
/// (accepted: a test with the pending ID passed) → customer apply (only the new ID)
/// — and no test fails at any point.
#[test]
fn rotation_runbook_never_fails_a_test() {
    let v = Vendor::start();
    let ws = workspace(&default_version(), &v);
    render_and_make_role(&ws, &v);
    apply(&ws, true).ok();
    let old = v.external_ids();

    // 1. The vendor starts a rotation.
    let rotated = v.rotate();
    let new = rotated["external_id_pending"].as_str().expect("pending ID").to_owned();
    let read = state_attrs(&ws, "data", "idcbootstrap_vendor_external_ids", "vendor").expect("IDs in state");
    assert!(read["pending"].is_null(), "steady before the customer's next plan");

    // 2. The customer applies: the template trusts both, the role is updated, the
    //    registration's trigger (the trust policy) re-registers and re-tests it.
    let plan2 = plan(&ws, true);
    assert_eq!(plan2.code, 2, "the rotation changes the trust policy:\n{}", plan2.both());
    assert!(
        plan2.stdout.contains("idcbootstrap_vendor_registration.this will be updated in-place"),
        "{}",
        plan2.stdout
    );
    let (_, trust) = render_and_make_role(&ws, &v);
    assert!(trust.contains(&old[0]) && trust.contains(&new), "the role trusts both IDs during the rotation");
    let read = state_attrs(&ws, "data", "idcbootstrap_vendor_external_ids", "vendor").expect("IDs in state");
    assert_eq!(read["all"], serde_json::json!([old[0], new]), "current, then pending");
    apply(&ws, true).ok();
    no_test_failed(&v);

    // 3. The vendor commits: allowed, because the customer's apply had it test the pending ID.
    let committed = v.commit();
    assert_eq!(committed["external_id"], new.as_str(), "{committed}");

    // 4. The customer applies again: only the new ID is trusted, and the test passes.
    let (_, trust) = render_and_make_role(&ws, &v);
    assert!(trust.contains(&new) && !trust.contains(&old[0]), "the old ID is no longer trusted");
    apply(&ws, true).ok();
    no_test_failed(&v);
    let read = state_attrs(&ws, "data", "idcbootstrap_vendor_external_ids", "vendor").expect("IDs in state");
    assert_eq!(read["all"], serde_json::json!([new]));
    assert!(read["pending"].is_null());
    let again = plan(&ws, true);
    assert_eq!(again.code, 0, "converged after the rotation:\n{}", again.both());
    v.assert_no_secret_shown(&ws, &[old[0].clone(), new]);
}

/// A role that does not work fails the apply with the vendor's code on `role_arn`,
/// and the vendor keeps the registration it had (nothing half-applied).
#[test]
fn a_role_that_fails_the_test_fails_the_apply_and_changes_nothing() {
    let v = Vendor::start();
    let ws = workspace(&default_version(), &v);
    // Registered without a test, then the role stops trusting the vendor's ID.
    apply(&ws, false).ok();
    let t = state_attrs(&ws, "data", "idcbootstrap_template", "role").expect("template");
    let role = t["role_arn"].as_str().unwrap().to_owned();
    v.put_role(&role, &crate::util::aws::trust_policy(VENDOR, &["an-id-the-vendor-does-not-have"]));
    let before = v.config();

    let out = apply(&ws, true).failed();
    let text = out.both();
    assert!(text.contains("Vendor API: POST test failed (sts_assume_role_failed, HTTP 422)"), "{text}");
    assert!(
        text.contains("with idcbootstrap_vendor_registration.this") && text.contains("role_arn"),
        "{text}"
    );
    assert!(text.contains("assume_role_current"), "the steps are shown: {text}");
    assert_eq!(v.config(), before, "the vendor's registration is unchanged");
    let out = v.deployment.output();
    assert!(
        out.lines().any(|l| l.contains("\"response\"") && l.contains("aws-identity-center/test")),
        "the server logs a failed test, which is what no_test_failed looks for:\n{out}"
    );
    assert_eq!(registration(&ws)["test"], false, "the state keeps the last registration that passed");
    v.assert_no_secret_shown(&ws, &v.external_ids());
}

/// Drift (the vendor holds another role) is planned back; import by tenant ID; and
/// the API's refusals name the provider argument to check, without printing the token.
#[test]
fn drift_import_and_credential_errors() {
    let v = Vendor::start();
    let mut ws = workspace(&default_version(), &v);
    apply(&ws, false).ok();
    let role = registration(&ws)["role_arn"].as_str().unwrap().to_owned();

    // Drift: someone registers another role at the vendor.
    let mut other = v.config();
    let other_role = role.replace("IdcBootstrapTrustRole", "SomethingElse");
    other["role_arn"] = other_role.clone().into();
    let body = serde_json::json!({
        "sso_instance_arn": other["sso_instance_arn"], "role_arn": other_role, "region": other["region"]
    });
    v.api().put("config", &body).expect(200);
    let drift = plan(&ws, false);
    assert_eq!(drift.code, 2, "{}", drift.both());
    assert!(
        drift.stdout.contains("updated in-place") && drift.stdout.contains("SomethingElse"),
        "{}",
        drift.stdout
    );
    apply(&ws, false).ok();
    assert_eq!(v.config()["role_arn"], role.as_str(), "the configuration wins back");

    // Import by tenant ID.
    ws.run(&["state", "rm", "-no-color", REGISTRATION]).ok();
    ws.run(&[
        "import",
        "-input=false",
        "-no-color",
        "-var=test=false",
        REGISTRATION,
        &v.tenant.to_uppercase(),
    ])
    .ok();
    let imported = registration(&ws);
    assert_eq!(imported["role_arn"], role.as_str(), "{imported}");
    assert_eq!(imported["id"], v.tenant.as_str());
    let wrong = uuid();
    let refused = ws.run(&[
        "import",
        "-input=false",
        "-no-color",
        "-var=test=false",
        "idcbootstrap_vendor_registration.x",
        &wrong,
    ]);
    assert_ne!(refused.code, 0);

    // A token the vendor does not know: 401, names api_token.
    ws.set_env("IDCBOOTSTRAP_API_TOKEN", "idcb_not-a-token-the-vendor-issued");
    let out = plan(&ws, false);
    assert_eq!(out.code, 1, "{}", out.both());
    let text = out.both();
    assert!(text.contains("unauthenticated") && text.contains("HTTP 401"), "{text}");
    assert!(text.contains("`api_token` (IDCBOOTSTRAP_API_TOKEN)"), "{text}");
    assert!(!text.contains("not-a-token-the-vendor-issued"), "the token was printed: {text}");

    // Another tenant's ID with this token: 403, names tenant_id.
    ws.set_env("IDCBOOTSTRAP_API_TOKEN", &v.token);
    ws.set_env("IDCBOOTSTRAP_TENANT_ID", &wrong);
    let text = plan(&ws, false).both();
    assert!(text.contains("tenant_mismatch") && text.contains("HTTP 403"), "{text}");
    assert!(text.contains("`tenant_id` (IDCBOOTSTRAP_TENANT_ID)"), "{text}");

    // No API settings at all: the vendor blocks say which are missing.
    let mut bare = default_version().workspace();
    bare.write_config(&config(&v));
    bare.set_env("IDCBOOTSTRAP_API_URL", "");
    let text = bare.run(&["plan", "-input=false", "-no-color"]).failed().both();
    assert!(text.contains("Vendor API not configured") && text.contains("IDCBOOTSTRAP_API_URL"), "{text}");
    v.assert_no_secret_shown(&ws, &v.external_ids());
}

/// A vendor API that went away: the plan fails after the client's bounded retries
/// (connection refused, five attempts within seconds), with `network_error` and no
/// secret, and works again once the API is back (a new process on the same database).
#[test]
fn an_unreachable_api_is_a_bounded_network_error() {
    let mut v = Vendor::start();
    let mut ws = workspace(&default_version(), &v);
    apply(&ws, false).ok();
    v.server.stop();
    let started = std::time::Instant::now();
    let text = plan(&ws, false).failed().both();
    assert!(text.contains("network_error") && text.contains("5 attempts"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "retries are bounded");

    v.server = v.deployment.start();
    v.configure(&mut ws);
    let again = plan(&ws, false);
    assert_eq!(again.code, 0, "back to normal with the API:\n{}", again.both());
    v.assert_no_secret_shown(&ws, &v.external_ids());
}
