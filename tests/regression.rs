//! Regression tests, one per fixed defect, named `issue_<n>_<what>`, through the
//! real binaries. Each failed before its fix. Defects whose test lives beside the
//! behaviour it covers are listed here with where to find it:
//!
//! * issue 13, defect 1 (`env:NAME` import reads any variable):
//!   `terraform::import_from_the_environment_refuses_variables_outside_the_prefix`.
//! * issue 13, defect 4 (a trust policy accepting any external ID passes):
//!   `connectivity::role_accepting_any_external_id_fails_the_negative_probe`.
//! * issue 13, defect 11 (unbounded `instance_not_found`, TLS handshake without a
//!   timeout): `connectivity::sso_admin_listing_10000_instances_gives_a_bounded_message`,
//!   `terraform::provider_drops_a_client_that_never_finishes_the_tls_handshake`.

use crate::util::sweep::Sweep;
use crate::util::terraform::default_version;

fn flat(s: &str) -> String {
    s.replace(['│', '╷', '╵'], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_resource(extra: &str) -> String {
    format!(
        r#"resource "idcbootstrap_connectivity_check" "c" {{
  role_arn         = "arn:aws:iam::123456789012:role/VendorTrust"
  external_ids     = ["valid-external-id-0001"]
  sso_instance_arn = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
  aws_account_id   = "123456789012"
  region           = "eu-west-1"
{extra}}}
"#
    )
}

/// Issue 13, defect 10: an endpoint override received signed AssumeRole requests
/// with the external ID over plain http to any host.
#[test]
fn issue_13_plain_http_endpoint_to_a_remote_host_fails_validate() {
    let ws = default_version().workspace();
    ws.write_config(&check_resource(
        "  sts_endpoint       = \"http://sts.attacker.example\"\n  sso_admin_endpoint = \"http://127.0.0.1:4566\"\n",
    ));
    let e = flat(&ws.validate().failed().stderr);
    assert!(e.contains("sts_endpoint") && e.contains("rule `https`") && e.contains("invalid_input"), "{e}");
    assert!(!e.contains("sso_admin_endpoint"), "http to loopback stays allowed: {e}");
}

/// Issue 13, defect 7: a huge `propagation_timeout` wrapped (release) or panicked
/// (debug) instead of being refused.
#[test]
fn issue_13_propagation_timeout_overflow_fails_validate() {
    let ws = default_version().workspace();
    ws.write_config(&check_resource("  propagation_timeout = \"5124095576030432h\"\n"));
    let r = ws.validate().failed();
    let e = flat(&r.stderr);
    assert!(e.contains("propagation_timeout") && e.contains("rule `duration`"), "{e}");
    assert!(!r.both().contains("panicked"), "{}", r.both());
}

/// Issue 13, defect 9: a value of the wrong type in state was echoed in the decode
/// error (`got …`), which could print an external ID.
#[test]
fn issue_13_corrupted_state_value_is_not_echoed() {
    let secret = "Zq3vXw9LkT2mNb7RcY5pHs1dFg8jKa4e";
    let ws = default_version().workspace();
    ws.write_config("resource \"idcbootstrap_external_id\" \"vendor\" {}\n");
    let state = serde_json::json!({
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "0d9a8f3e-3c4b-4a77-9a51-8d1f0a1b2c3e",
        "outputs": {},
        "resources": [{
            "mode": "managed",
            "type": "idcbootstrap_external_id",
            "name": "vendor",
            "provider": "provider[\"registry.terraform.io/idcbootstrap/idcbootstrap\"]",
            "instances": [{
                "schema_version": 1,
                "attributes": {
                    "id": "eid-corrupted00000001",
                    "current": [secret],
                    "all": secret,
                    "rotation_state": {"x": secret}
                },
                "sensitive_attributes": []
            }]
        }]
    });
    ws.write_file("terraform.tfstate", &state.to_string());
    let r = ws.plan();
    assert_eq!(r.code, 1, "a corrupted state fails the plan:\n{}", r.both());
    assert!(flat(&r.stderr).contains("expected"), "the error says what was expected: {}", r.stderr);
    // The state file holds the value by construction; nothing else may.
    let mut sweep = Sweep::new("issue_13_corrupted_state");
    sweep
        .credential(secret)
        .text("terraform output", crate::util::sweep::Place::Output, &ws.transcript())
        .text("TRACE log", crate::util::sweep::Place::Log, &ws.log());
    sweep.check();
}
