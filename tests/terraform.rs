//! terraform end-to-end tests: the real `terraform` CLI (every version in the
//! matrix, see `util::terraform`) loads the built provider through the real plugin
//! protocol. Tests check values in state and outputs, not just exit codes.

use std::time::Duration;

use serde_json::Value;

use crate::util::sweep::Sweep;
use crate::util::terraform::{Terraform, Workspace, default_version, on_every_version, report_narrowing};

const VENDOR: &str = "arn:aws:iam::210987654321:role/vendor";
const ACCOUNT: &str = "123456789012";
const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-1234567890abcdef";

/// A provider block, an external ID with `rotation`, a template fed from it, and
/// outputs of both (the secret ones marked sensitive).
fn lifecycle_config(rotation: &str, retire_previous: bool) -> String {
    format!(
        r#"provider "idcbootstrap" {{
  trusted_principal_arn = "{VENDOR}"
}}

resource "idcbootstrap_external_id" "vendor" {{
  rotation        = "{rotation}"
  retire_previous = {retire_previous}
}}

data "idcbootstrap_template" "role" {{
  aws_account_id   = "{ACCOUNT}"
  sso_instance_arn = "{INSTANCE}"
  region           = "us-east-1"
  external_ids     = idcbootstrap_external_id.vendor.all
  role_name        = "VendorTrust"
  tags = {{
    team = "platform"
  }}
}}

output "role_arn" {{
  value = data.idcbootstrap_template.role.role_arn
}}

output "rotation_state" {{
  value = idcbootstrap_external_id.vendor.rotation_state
}}

output "current" {{
  value     = idcbootstrap_external_id.vendor.current
  sensitive = true
}}

output "all" {{
  value     = idcbootstrap_external_id.vendor.all
  sensitive = true
}}

output "trust_policy" {{
  value     = data.idcbootstrap_template.role.trust_policy_json
  sensitive = true
}}
"#
    )
}

/// Terraform wraps and frames diagnostics differently per version: compare text
/// with the frame removed and whitespace collapsed.
fn flat(s: &str) -> String {
    s.replace(['│', '╷', '╵'], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

fn trusted_ids(ws: &Workspace) -> Vec<String> {
    let policy: Value =
        serde_json::from_str(ws.output("trust_policy").as_str().expect("trust policy string"))
            .expect("trust policy is JSON");
    let text = policy.to_string();
    let all = ws.output("all");
    all.as_array()
        .expect("all is a list")
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .filter(|id| text.contains(id.as_str()))
        .collect()
}

fn lifecycle(tf: &Terraform) {
    let ws = tf.workspace();
    ws.write_config(&lifecycle_config("1", false));
    ws.init();
    ws.validate().ok();

    // First plan: the template depends on an ID not generated yet, so it is read at
    // apply and its outputs are unknown now, not an error.
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "changes expected:\n{}", plan.both());
    assert!(plan.stdout.contains("known after apply"), "{}", plan.stdout);

    ws.apply().ok();
    let second = ws.plan();
    assert_eq!(second.code, 0, "a second plan must show no changes:\n{}", second.both());

    assert_eq!(ws.output("role_arn"), format!("arn:aws:iam::{ACCOUNT}:role/VendorTrust"));
    assert_eq!(ws.output("rotation_state"), "steady");
    let first = ws.output("current").as_str().expect("current").to_owned();
    assert_eq!(first.len(), 32, "a generated ID is 32 base62 characters");
    assert_eq!(
        trusted_ids(&ws),
        std::slice::from_ref(&first),
        "the trust policy trusts exactly the current ID"
    );
    let state = ws.state_values("idcbootstrap_external_id.vendor").expect("resource in state");
    assert_eq!(state["current"], first.as_str());
    assert!(state["previous"].is_null());
    assert!(state["id"].as_str().is_some_and(|id| id.starts_with("eid-") && !id.contains(&first)));

    if tf.semver() < (0, 13, 0) {
        // The 0.12.29 build installed here applies every change as a create without
        // reading the prior state (its log says "no state present" while `plan` finds
        // it), so updates and destroy cannot be observed through it.
        report_narrowing(
            tf,
            "lifecycle stops after the first apply (rotation, retire, refresh, destroy not run)",
        );
        return;
    }

    // Rotate: a new current, the old one still trusted as previous.
    ws.write_config(&lifecycle_config("2", false));
    assert_eq!(ws.plan().code, 2);
    ws.apply().ok();
    let second_id = ws.output("current").as_str().expect("current").to_owned();
    assert_ne!(second_id, first);
    assert_eq!(ws.output("all"), serde_json::json!([second_id, first]));
    assert_eq!(ws.output("rotation_state"), "rotating");
    assert_eq!(trusted_ids(&ws), [second_id.clone(), first.clone()], "both IDs trusted while rotating");
    assert_eq!(ws.plan().code, 0, "stable while rotating");

    // Rotating again before retiring would drop an ID in use: refused at plan.
    ws.write_config(&lifecycle_config("3", false));
    let refused = ws.plan().failed();
    let e = flat(&refused.stderr);
    assert!(e.contains("a rotation is already in progress"), "{e}");
    assert!(e.contains("rule `rotation`") && e.contains("invalid_input"), "{e}");

    // Retire: back to steady with the new ID only.
    ws.write_config(&lifecycle_config("2", true));
    ws.apply().ok();
    assert_eq!(ws.output("all"), serde_json::json!([second_id]));
    assert_eq!(ws.output("rotation_state"), "steady");
    assert_eq!(trusted_ids(&ws), std::slice::from_ref(&second_id));

    // Refresh keeps everything (the state lives only in Terraform). The 0.13.4 build
    // installed here writes an empty state from `refresh` (it does not read the old
    // one), so there the refresh inside `plan` is what is checked.
    if tf.semver() >= (0, 14, 0) {
        ws.refresh().ok();
    } else {
        report_narrowing(tf, "`terraform refresh` skipped; the refresh inside `plan` is checked instead");
    }
    let state = ws.state_values("idcbootstrap_external_id.vendor").expect("still in state");
    assert_eq!(state["current"], second_id.as_str());
    assert!(state["previous"].is_null());
    assert_eq!(ws.plan().code, 0, "no changes after refresh");

    ws.destroy().ok();
    // 0.12.29's destroy may skip the provider, but the state must be empty.
    assert!(ws.state_values("idcbootstrap_external_id.vendor").is_none(), "destroyed");
}

#[test]
fn lifecycle_rotation_and_destroy_on_every_version() {
    on_every_version(lifecycle);
}

/// The one rotation rule (the core's `plan_rotation`, shared with CloudFormation)
/// through real Terraform: rotating and retiring in the same change is refused at
/// plan, on both attributes, and the ID the vendor uses stays in state; the same
/// rotation with `retire_previous = false` then rotates and keeps that ID trusted.
#[test]
fn rotating_while_retire_previous_is_still_true_is_refused_and_keeps_the_id_in_use() {
    on_every_version(|tf| {
        if tf.semver() < (0, 13, 0) {
            // 0.12.29 applies every change as a create (see `lifecycle`).
            report_narrowing(
                tf,
                "the rotation/retire_previous rule is not run (every change applies as a create)",
            );
            return;
        }
        let ws = tf.workspace();
        let current = |ws: &Workspace| ws.output("current").as_str().expect("current").to_owned();
        ws.write_config(&lifecycle_config("A", false));
        ws.init();
        ws.apply().ok();
        let a = current(&ws);
        ws.write_config(&lifecycle_config("B", false));
        ws.apply().ok();
        let b = current(&ws);
        assert_eq!(ws.output("all"), serde_json::json!([b, a]), "rotated, A still trusted");
        ws.write_config(&lifecycle_config("B", true));
        ws.apply().ok();
        assert_eq!(ws.output("all"), serde_json::json!([b]), "A retired");

        // retire_previous is still true in the change that starts the next rotation.
        ws.write_config(&lifecycle_config("C", true));
        let refused = ws.plan().failed();
        let e = flat(&refused.stderr);
        assert!(e.contains("rotation and retire_previous cannot change together"), "{e}");
        assert!(e.contains("rule `rotation`") && e.contains("error code `invalid_input`"), "{e}");
        if tf.semver() >= (0, 15, 0) {
            // One diagnostic per attribute the rule names: Terraform quotes each line.
            assert!(e.contains(r#"rotation = "C""#) && e.contains("retire_previous = true"), "{e}");
        } else {
            report_narrowing(tf, "diagnostics do not quote the configuration line (not checked)");
        }
        let e = flat(&ws.apply().failed().stderr);
        assert!(e.contains("rotation and retire_previous cannot change together"), "{e}");
        let state = ws.state_values("idcbootstrap_external_id.vendor").expect("still in state");
        assert_eq!(state["current"], b.as_str(), "the ID in use stays current");
        assert!(state["previous"].is_null());
        assert_eq!(state["rotation"], "B");

        // A fresh change: the new rotation alone.
        ws.write_config(&lifecycle_config("C", false));
        ws.apply().ok();
        let c = current(&ws);
        assert_ne!(c, b);
        assert_eq!(ws.output("all"), serde_json::json!([c, b]), "B kept as previous, still trusted");
        assert_eq!(ws.output("rotation_state"), "rotating");
        assert_eq!(trusted_ids(&ws), [c.clone(), b.clone()]);
        assert_eq!(ws.plan().code, 0, "stable after the rotation");
    });
}

#[test]
fn bad_input_names_the_attribute_and_the_rule_on_every_version() {
    on_every_version(|tf| {
        let ws = tf.workspace();
        ws.write_config(&format!(
            r#"data "idcbootstrap_template" "bad" {{
  aws_account_id        = "12345"
  sso_instance_arn      = "{INSTANCE}"
  region                = "us-east-1"
  trusted_principal_arn = "{VENDOR}"
  external_ids          = ["valid-external-id-0001"]
  max_session_duration  = 60
}}
"#
        ));
        ws.init();
        let r = ws.plan().failed();
        let e = &flat(&r.stderr);
        assert!(e.contains("Invalid input"), "{e}");
        assert!(e.contains("aws_account_id") && e.contains("rule `pattern`"), "{e}");
        assert!(e.contains("max_session_duration") && e.contains("rule `range`"), "{e}");
        assert!(e.contains("error code `invalid_input`"), "{e}");
        if tf.semver() >= (0, 15, 0) {
            // With an attribute path, Terraform points at the offending line.
            assert!(e.contains(r#"aws_account_id = "12345""#), "{e}");
        } else {
            report_narrowing(tf, "diagnostics do not quote the configuration line (not checked)");
        }
    });
}

#[test]
fn external_ids_never_reach_output_or_logs() {
    let tf = default_version();
    let ws = tf.workspace();
    ws.write_config(&lifecycle_config("1", false));
    ws.init();
    ws.validate().ok();
    assert_eq!(ws.plan().code, 2);
    ws.apply().ok();
    assert_eq!(ws.plan().code, 0);
    ws.run(&["show", "-no-color"]).ok();
    ws.write_config(&lifecycle_config("2", false));
    ws.apply().ok();
    ws.refresh().ok();
    // Read from the state file, not an output, so the sweep below covers every
    // command the test ran; the sweep refuses IDs that are not in state.
    let state = ws.state_file_values("idcbootstrap_external_id.vendor").expect("in state");
    let ids: Vec<String> =
        state["all"].as_array().expect("all").iter().filter_map(Value::as_str).map(str::to_owned).collect();
    assert_eq!(ids.len(), 2, "rotating: two IDs");
    // The log holds the provider's own lines about these very IDs, not just its name.
    assert!(ws.log().contains("generated a new external ID"), "the TRACE log has the provider's lines");
    assert!(ws.log().contains("rotated: new current external ID"), "the TRACE log has the rotation");
    Sweep::new("external_ids_never_reach_output_or_logs").external_ids(&ids).workspace(&ws).check();
}

#[test]
fn import_by_id_then_plan_shows_no_changes_on_every_version() {
    on_every_version(|tf| {
        let mut ws = tf.workspace();
        ws.set_env("IDCBOOTSTRAP_EXTERNAL_ID_VENDOR", "imported-from-env-0002");
        ws.write_config("resource \"idcbootstrap_external_id\" \"vendor\" {}\n");
        ws.init();
        ws.import("idcbootstrap_external_id.vendor", "existing-external-id-0001").ok();
        let state = ws.state_values("idcbootstrap_external_id.vendor").expect("imported");
        assert_eq!(state["current"], "existing-external-id-0001");
        assert_eq!(state["all"], serde_json::json!(["existing-external-id-0001"]));
        let plan = ws.plan();
        assert_eq!(plan.code, 0, "import then plan shows no changes:\n{}", plan.both());

        // `env:NAME` keeps the ID off the command line.
        ws.write_config(
            "resource \"idcbootstrap_external_id\" \"vendor\" {}\n\nresource \"idcbootstrap_external_id\" \"other\" {}\n",
        );
        ws.import("idcbootstrap_external_id.other", "env:IDCBOOTSTRAP_EXTERNAL_ID_VENDOR").ok();
        let state = ws.state_values("idcbootstrap_external_id.other").expect("imported");
        assert_eq!(state["current"], "imported-from-env-0002");

        // The 0.13/0.14 builds installed here drop other resources from state on
        // import, so `vendor` may already be gone; where it is there, removing it must work.
        if ws.state_values("idcbootstrap_external_id.vendor").is_some() {
            ws.run(&["state", "rm", "idcbootstrap_external_id.vendor"]).ok();
        } else {
            report_narrowing(tf, "import dropped the other resource from state; `state rm` not exercised");
        }
        assert!(ws.state_values("idcbootstrap_external_id.vendor").is_none(), "vendor removed from state");
        let bad = ws.import("idcbootstrap_external_id.vendor", "x").failed();
        let e = flat(&bad.stderr);
        assert!(e.contains("rule `length`"), "{e}");
    });
}

/// Issue 13, defect 1: `env:NAME` reads only `IDCBOOTSTRAP_EXTERNAL_ID_*`, so an import
/// (which an `import {}` block and a mere `plan` can trigger) cannot copy another
/// secret of the provider's environment into state.
#[test]
fn import_from_the_environment_refuses_variables_outside_the_prefix() {
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY0013";
    let mut ws = default_version().workspace();
    ws.set_env("AWS_SECRET_ACCESS_KEY", secret);
    ws.write_config("resource \"idcbootstrap_external_id\" \"vendor\" {}\n");
    ws.init();
    let refused = ws.import("idcbootstrap_external_id.vendor", "env:AWS_SECRET_ACCESS_KEY").failed();
    let e = flat(&refused.stderr);
    assert!(e.contains("rule `env_prefix`") && e.contains("IDCBOOTSTRAP_EXTERNAL_ID_"), "{e}");
    assert!(ws.state_file_values("idcbootstrap_external_id.vendor").is_none(), "nothing imported");
    let state = std::fs::read_to_string(ws.path("terraform.tfstate")).unwrap_or_default();
    assert!(!state.contains(secret), "the variable's value reached the state");
    Sweep::new("import_from_the_environment").credential(secret).workspace(&ws).check();
}

#[test]
fn state_of_schema_version_0_is_upgraded() {
    let tf = default_version();
    let ws = tf.workspace();
    ws.write_config("resource \"idcbootstrap_external_id\" \"vendor\" {\n  rotation = \"1\"\n}\n");
    let state = serde_json::json!({
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "0d9a8f3e-3c4b-4a77-9a51-8d1f0a1b2c3d",
        "outputs": {},
        "resources": [{
            "mode": "managed",
            "type": "idcbootstrap_external_id",
            "name": "vendor",
            "provider": "provider[\"registry.terraform.io/idcbootstrap/idcbootstrap\"]",
            "instances": [{
                "schema_version": 0,
                "attributes": {
                    "id": "eid-legacy000000001",
                    "rotation": "1",
                    "current": "current-id-from-v0-0001",
                    "previous": "previous-id-from-v0-0001"
                },
                "sensitive_attributes": []
            }]
        }]
    });
    ws.write_file("terraform.tfstate", &state.to_string());
    let plan = ws.plan();
    assert_eq!(plan.code, 0, "upgraded state matches the config:\n{}", plan.both());
    ws.refresh().ok();
    let v = ws.state_values("idcbootstrap_external_id.vendor").expect("in state");
    assert_eq!(v["all"], serde_json::json!(["current-id-from-v0-0001", "previous-id-from-v0-0001"]));
    assert_eq!(v["rotation_state"], "rotating");
    assert_eq!(v["id"], "eid-legacy000000001");
    let raw: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path("terraform.tfstate")).unwrap()).unwrap();
    assert_eq!(raw.pointer("/resources/0/instances/0/schema_version"), Some(&Value::from(1)));
}

#[test]
fn provider_settings_come_from_the_environment() {
    let tf = default_version();
    let mut ws = tf.workspace();
    ws.set_env("IDCBOOTSTRAP_TRUSTED_PRINCIPAL_ARN", "arn:aws:iam::111122223333:root");
    ws.set_env("IDCBOOTSTRAP_ACCESS_LEVEL", "assignments");
    ws.write_config(&format!(
        r#"data "idcbootstrap_template" "t" {{
  aws_account_id   = "{ACCOUNT}"
  sso_instance_arn = "{INSTANCE}"
  region           = "eu-west-1"
  external_ids     = ["env-test-external-id-1"]
}}

output "trust" {{
  value     = data.idcbootstrap_template.t.trust_policy_json
  sensitive = true
}}

output "permissions" {{
  value = data.idcbootstrap_template.t.permissions_policy_json
}}
"#
    ));
    ws.apply().ok();
    let trust = ws.output("trust");
    assert!(trust.as_str().unwrap().contains("arn:aws:iam::111122223333:root"), "{trust}");
    let perms = ws.output("permissions");
    assert!(perms.as_str().unwrap().contains("sso:CreateAccountAssignment"), "assignments level: {perms}");

    let mut bad = tf.workspace();
    bad.set_env("IDCBOOTSTRAP_ACCESS_LEVEL", "superuser");
    bad.write_config(
        "provider \"idcbootstrap\" {}\n\ndata \"idcbootstrap_template\" \"t\" {\n  aws_account_id   = \"123456789012\"\n  sso_instance_arn = \"arn:aws:sso:::instance/ssoins-1234567890abcdef\"\n  region           = \"eu-west-1\"\n  external_ids     = [\"env-test-external-id-1\"]\n  trusted_principal_arn = \"arn:aws:iam::111122223333:root\"\n}\n",
    );
    let r = flat(&bad.plan().failed().stderr);
    assert!(r.contains("access_level") && r.contains("rule `one_of`"), "{r}");
}

#[test]
fn running_the_provider_by_hand_explains_and_exits_1() {
    let out = std::process::Command::new(crate::util::built_bin("terraform-provider-idcbootstrap"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("plugin for Terraform"));
    assert!(out.stdout.is_empty(), "no handshake line without the cookie");
}

// ---------------------------------------------------------------- provider process faults

/// The provider binary started as Terraform starts it (magic cookie, protocol 5),
/// with `extra` environment; returns the child and its handshake line.
fn start_provider(extra: &[(&str, &str)]) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut cmd = std::process::Command::new(crate::util::built_bin("terraform-provider-idcbootstrap"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the provider");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("handshake line");
    assert!(line.starts_with("1|5|"), "handshake: {line:?}");
    (child, line.trim().to_owned())
}

const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Whether process `pid` has ended (gone, or a zombie nobody reaped yet).
fn process_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // `PID (comm) STATE ...`: the state follows the last ')'.
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Polls until `pid` has ended or `within` has passed; true if it ended.
fn ends_within(pid: u32, within: Duration) -> bool {
    let until = std::time::Instant::now() + within;
    while std::time::Instant::now() < until {
        if process_ended(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    process_ended(pid)
}

fn signal(pid: u32, sig: &str) {
    let ok =
        std::process::Command::new("kill").args([sig, &pid.to_string()]).status().expect("kill").success();
    assert!(ok, "kill {sig} {pid}");
}

/// SIGTERM stops the plugin, as go-plugin's clients expect, within two seconds.
#[test]
fn provider_exits_within_two_seconds_of_sigterm() {
    let (mut child, _) = start_provider(&[]);
    signal(child.id(), "-TERM");
    assert!(ends_within(child.id(), Duration::from_secs(2)), "still running 2 s after SIGTERM");
    let status = child.wait().expect("wait");
    assert!(status.success() || status.code().is_some(), "exited, not killed: {status:?}");
}

/// When Terraform dies without a Shutdown (killed, crashed), the re-parented plugin
/// notices and exits within two seconds instead of lingering.
#[test]
fn provider_exits_within_two_seconds_of_its_parent_dying() {
    use std::io::BufRead as _;
    let bin = crate::util::built_bin("terraform-provider-idcbootstrap");
    // A shell parent that starts the provider, says its PID, then waits; killing the
    // shell orphans the provider.
    let mut parent = std::process::Command::new("bash")
        .args(["-c", "\"$0\" & echo $!; wait", &bin.display().to_string()])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the parent shell");
    let mut out = std::io::BufReader::new(parent.stdout.take().expect("stdout"));
    let (mut pid, mut handshake) = (String::new(), String::new());
    out.read_line(&mut pid).expect("pid line");
    out.read_line(&mut handshake).expect("handshake line");
    let pid: u32 = pid.trim().parse().expect("pid");
    assert!(handshake.starts_with("1|5|"), "the provider is serving: {handshake:?}");
    assert!(!process_ended(pid), "the provider runs while its parent lives");
    parent.kill().expect("kill the parent");
    parent.wait().expect("reap the parent");
    let ended = ends_within(pid, Duration::from_secs(2));
    if !ended {
        signal(pid, "-KILL");
    }
    assert!(ended, "the orphaned provider was still running 2 s after its parent died");
}

/// Issue 13, defect 11: a client that connects and never starts the TLS handshake is
/// dropped (after 10 s), instead of holding a task and a socket for ever.
#[test]
fn provider_drops_a_client_that_never_finishes_the_tls_handshake() {
    use std::io::Read as _;
    let dir = crate::util::temp_dir();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
            "-nodes",
            "-days",
            "1",
        ])
        .args(["-subj", "/CN=localhost", "-addext", "basicConstraints=critical,CA:TRUE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(made.success(), "openssl made the client certificate");
    let pem = std::fs::read_to_string(&cert).expect("cert");
    let (mut child, line) = start_provider(&[("PLUGIN_CLIENT_CERT", &pem)]);
    let f: Vec<&str> = line.split('|').collect();
    assert!(f.len() >= 6 && !f[5].is_empty(), "TLS is on: {line}");
    let limit = Some(Duration::from_secs(30));
    let mut buf = [0u8; 64];
    // Connect and send nothing: the server must close the connection (read gives 0
    // or a reset) rather than wait for ever; 30 s is only a guard against a hang.
    let read = match f[2] {
        "unix" => {
            let mut s = std::os::unix::net::UnixStream::connect(f[3]).expect("connect");
            s.set_read_timeout(limit).unwrap();
            s.read(&mut buf)
        }
        _ => {
            let mut s = std::net::TcpStream::connect(f[3]).expect("connect");
            s.set_read_timeout(limit).unwrap();
            s.read(&mut buf)
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    match read {
        Ok(0) => {}
        Ok(n) => panic!("the server sent {n} bytes to a client that never said hello"),
        Err(e) => assert!(
            !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
            "the stalled handshake was never dropped: {e}"
        ),
    }
}
