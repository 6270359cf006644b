//! The examples are executed, so they cannot rot: every Terraform example under
//! `examples/` is validated, planned, applied, re-planned (no drift) and destroyed
//! with the real `terraform` 1.11.4 and the built provider (the template example on
//! every installed Terraform, 0.12 to 1.15); every `.tf` file is
//! `terraform fmt` clean; every CloudFormation template passes `cfn-lint`; and a
//! release archive made by `scripts/release.sh` installs from a provider mirror.
//!
//! Skipped, and why:
//! * `examples/quickstart/aws-role/` and `examples/template-only/aws-role/` need the
//!   hashicorp/aws provider, which cannot be downloaded here (no registry access).
//!   They are `terraform fmt`-checked, parsed with python-hcl2, and every output of
//!   step 1 they read is checked to exist; they are not validated, planned or applied.
//! * The quickstart talks to the vendor API: it runs against the real
//!   `idcbootstrap-server` (SQLite) started for the test, with the AWS peers below
//!   for the vendor's test of the role.
//! * The connectivity-check examples talk to AWS. They run against local peers
//!   instead (moto's sso-admin and identitystore, and the STS stand-in of
//!   `tests/util/aws.rs`, which enforces trust policies and `sts:ExternalId` where
//!   moto's STS does not), with the endpoints added to their provider block and
//!   moto's instance ARN and account put in place of the example's. The role the
//!   examples check is registered in the STS stand-in from the rendered trust
//!   policy, as the `aws-role` step would create it in IAM. The template-only
//!   example's optional step 4 (`run_check = true`) runs the same way, with the
//!   endpoints from `IDCBOOTSTRAP_*` variables. These run on the default Terraform
//!   only: `check {}` blocks need Terraform 1.5.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::aws::BlockingPeers;
use crate::util::docs::{CustomCli, copy_example, examples_dir, files_under, terraform_example_dirs};
use crate::util::terraform::{PROVIDER_VERSION, Workspace, default_version, on_every_version};
use crate::util::{built_bin, repo_root, temp_dir, venv_bin};

/// Example directories that need a provider that cannot be installed offline.
const NEEDS_AWS_PROVIDER: &[&str] = &["quickstart/aws-role", "template-only/aws-role"];

/// Every example directory with its own test below; `every_terraform_example_has_a_test`
/// keeps this list complete.
const TESTED: &[&str] = &[
    "provider",
    "data-sources/idcbootstrap_template",
    "data-sources/idcbootstrap_connectivity",
    "resources/idcbootstrap_external_id",
    "resources/idcbootstrap_connectivity_check",
    "data-sources/idcbootstrap_vendor_external_ids",
    "resources/idcbootstrap_vendor_registration",
    "quickstart",
    "template-only",
];

/// Validate, plan, apply, plan again (must be empty), in a copy of the example.
fn applied(rel: &str) -> Workspace {
    let ws = default_version().workspace();
    copy_example(rel, &ws.dir);
    ws.validate().ok();
    let plan = ws.plan();
    assert!(plan.code == 0 || plan.code == 2, "plan of examples/{rel} failed:\n{}", plan.both());
    ws.apply().ok();
    let again = ws.plan();
    assert_eq!(
        again.code,
        0,
        "examples/{rel} does not converge: a second plan wants changes:\n{}",
        again.both()
    );
    ws
}

fn destroyed(ws: &Workspace) {
    ws.destroy().ok();
    let state = ws.show();
    assert!(
        state.pointer("/values/root_module/resources").is_none(),
        "resources left after destroy: {state}"
    );
}

#[test]
fn every_terraform_example_has_a_test() {
    let dirs = terraform_example_dirs();
    let untested: Vec<&String> = dirs
        .iter()
        .filter(|d| !TESTED.contains(&d.as_str()) && !NEEDS_AWS_PROVIDER.contains(&d.as_str()))
        .collect();
    assert!(untested.is_empty(), "examples without a test in tests/examples.rs: {untested:?}");
    for t in TESTED.iter().chain(NEEDS_AWS_PROVIDER) {
        assert!(dirs.iter().any(|d| d == t), "examples/{t} is listed here but has no .tf file");
    }
}

#[test]
fn every_terraform_file_is_fmt_clean() {
    let ws = default_version().workspace();
    let examples = examples_dir();
    let files = files_under(&examples, &|p| p.extension().is_some_and(|e| e == "tf"));
    assert!(files.len() >= 6, "expected the registry examples, found {files:?}");
    let r = ws.run(&["fmt", "-check", "-diff", "-recursive", "-no-color", &examples.display().to_string()]);
    assert_eq!(r.code, 0, "terraform fmt would change these files:\n{}", r.both());
}

#[test]
fn every_cloudformation_template_passes_cfn_lint() {
    let templates = files_under(&examples_dir(), &|p| {
        matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json" | "template"))
            && std::fs::read_to_string(p).is_ok_and(|t| t.contains("AWSTemplateFormatVersion"))
    });
    if templates.is_empty() {
        assert!(
            !examples_dir().join("cloudformation").exists(),
            "examples/cloudformation exists but holds no template with AWSTemplateFormatVersion"
        );
        eprintln!("no CloudFormation template under examples/ yet; nothing to lint");
        return;
    }
    let out = Command::new(venv_bin("cfn-lint")).args(&templates).output().expect("run cfn-lint");
    // cfn-lint's exit code is a bit field: 2 errors, 4 warnings, 8 informational.
    assert_eq!(
        out.status.code(),
        Some(0),
        "cfn-lint {templates:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn provider_example_configures_and_applies() {
    let ws = applied("provider");
    destroyed(&ws);
}

#[test]
fn template_data_source_example_renders_the_role() {
    let ws = applied("data-sources/idcbootstrap_template");
    assert_eq!(ws.output("role_arn"), "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole");
    let policy: Value = serde_json::from_str(ws.output("permissions_policy_json").as_str().unwrap()).unwrap();
    let text = policy.to_string();
    assert!(text.contains("sso:ListInstances"), "{text}");
    // read_only writes nothing.
    assert!(!text.contains("sso:CreateAccountAssignment"), "{text}");
    destroyed(&ws);
}

/// The template example on every installed Terraform (0.12 to 1.15), each loading
/// the provider its own way (`init -plugin-dir`, a filesystem mirror, dev_overrides).
#[test]
fn template_data_source_example_works_on_every_terraform_version() {
    on_every_version(|tf| {
        let ws = tf.workspace();
        copy_example("data-sources/idcbootstrap_template", &ws.dir);
        ws.init();
        ws.apply().ok();
        assert_eq!(ws.output("role_arn"), "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole");
        ws.destroy().ok();
    });
}

/// Replaces `from` with `to` in the workspace's copy of `file` (the edit the
/// rotation guide tells the user to make).
fn edit(ws: &Workspace, file: &str, from: &str, to: &str) {
    let path = ws.path(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} no longer contains {from:?}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

fn ids(ws: &Workspace) -> Vec<String> {
    serde_json::from_value(ws.output("external_ids")).unwrap()
}

#[test]
fn external_id_example_rotates_as_the_guide_says() {
    let ws = applied("resources/idcbootstrap_external_id");
    assert_eq!(ws.output("rotation_state"), "steady");
    let first = ids(&ws);
    assert_eq!(first.len(), 1);

    // docs/guides/rotation.md, step 1: change `rotation`.
    edit(&ws, "resource.tf", r#"rotation        = "2026-01""#, r#"rotation        = "2026-07""#);
    ws.apply().ok();
    assert_eq!(ws.output("rotation_state"), "rotating");
    let rotating = ids(&ws);
    assert_eq!(rotating.len(), 2);
    assert_ne!(rotating[0], first[0], "a rotation makes a new current ID");
    assert_eq!(rotating[1], first[0], "the old ID stays trusted as previous");

    // Step 2: once the vendor uses the new ID, retire the previous one.
    edit(&ws, "resource.tf", "retire_previous = false", "retire_previous = true");
    ws.apply().ok();
    assert_eq!(ws.output("rotation_state"), "steady");
    assert_eq!(ids(&ws), [rotating[0].clone()]);
    destroyed(&ws);
}

#[test]
fn external_id_import_example_adopts_an_existing_id_without_echoing_it() {
    let script =
        std::fs::read_to_string(examples_dir().join("resources/idcbootstrap_external_id/import.sh")).unwrap();
    // The first `terraform import ADDRESS ID` line that is not a comment, as the user runs it.
    let line = script
        .lines()
        .find(|l| l.trim_start().starts_with("terraform import "))
        .expect("import.sh has a terraform import line");
    let words: Vec<&str> = line.split_whitespace().collect();
    let (address, id) = (words[2], words[3]);
    let var = id.strip_prefix("env:").expect("import.sh passes the ID through the environment");
    assert!(script.contains(&format!("export {var}=")), "import.sh sets {var}");

    let existing = "existing-vendor-external-id-7f3a9c2e41";
    let mut ws = default_version().workspace();
    copy_example("resources/idcbootstrap_external_id", &ws.dir);
    ws.set_env(var, existing);
    ws.import(address, id).ok();
    assert!(!ws.transcript().contains(existing), "the external ID was printed:\n{}", ws.transcript());
    let state = ws.state_values(address).expect("imported resource in state");
    assert_eq!(state["current"], existing);
    assert_eq!(state["rotation_state"], "steady");
    // The imported ID is kept: the first apply records `rotation`, it does not rotate.
    ws.apply().ok();
    assert_eq!(ids(&ws), [existing]);
}

/// The vendor principal the connectivity examples' provider block trusts; its
/// access key makes the STS stand-in sign requests as that principal.
const EXAMPLE_VENDOR: &str = "arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration";
const EXAMPLE_VENDOR_KEY: &str = "AKIAEXAMPLEVENDOR001";
const EXAMPLE_VENDOR_SECRET: &str = "example-vendor-secret-access-key";
const EXAMPLE_INSTANCE: &str = "arn:aws:sso:::instance/ssoins-abcdef0123456789";
const EXAMPLE_ACCOUNT: &str = "123456789012";
const EXAMPLE_REGION: &str = "us-east-1";

/// Local AWS peers for a connectivity example, on a runtime of their own so that
/// the test thread runs Terraform meanwhile.
struct AwsPeers(BlockingPeers);

impl std::ops::Deref for AwsPeers {
    type Target = BlockingPeers;

    fn deref(&self) -> &BlockingPeers {
        &self.0
    }
}

impl AwsPeers {
    fn start() -> AwsPeers {
        AwsPeers(BlockingPeers::start(EXAMPLE_REGION, EXAMPLE_VENDOR_KEY, EXAMPLE_VENDOR))
    }

    /// A copy of `examples/<rel>` pointed at these peers, with the vendor's credentials.
    fn workspace(&self, rel: &str, file: &str) -> Workspace {
        let mut ws = default_version().workspace();
        copy_example(rel, &ws.dir);
        ws.set_env("AWS_ACCESS_KEY_ID", EXAMPLE_VENDOR_KEY);
        ws.set_env("AWS_SECRET_ACCESS_KEY", EXAMPLE_VENDOR_SECRET);
        ws.set_env("AWS_EC2_METADATA_DISABLED", "true");
        edit(&ws, file, EXAMPLE_INSTANCE, &self.instance_arn);
        edit(&ws, file, &format!("\"{EXAMPLE_ACCOUNT}\""), &format!("\"{}\"", self.owner));
        edit(
            &ws,
            file,
            "provider \"idcbootstrap\" {\n",
            &format!(
                "provider \"idcbootstrap\" {{\n  sts_endpoint       = \"{}\"\n  sso_admin_endpoint = \"{}\"\n",
                self.sts.endpoint(),
                self.moto.endpoint()
            ),
        );
        ws.validate().ok();
        ws
    }

    /// Renders the template alone (`-target`), then creates the role it describes
    /// in the STS stand-in, as applying the rendered role would in IAM.
    fn create_role(&self, ws: &Workspace) -> String {
        ws.run(&[
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-target=data.idcbootstrap_template.trust_role",
        ])
        .ok();
        let template =
            state_attrs(ws, "data", "idcbootstrap_template", "trust_role").expect("template in state");
        let role = template["role_arn"].as_str().expect("role_arn").to_owned();
        self.sts.put_role(&role, template["trust_policy_json"].as_str().expect("trust policy"));
        role
    }
}

/// The attributes of `mode`/`type_`.`name`, read from the state file rather than
/// `terraform show -json` (which prints sensitive values), so that the transcript
/// holds only what a user sees and can be searched for secrets.
fn state_attrs(ws: &Workspace, mode: &str, type_: &str, name: &str) -> Option<Value> {
    let state: Value = serde_json::from_str(&std::fs::read_to_string(ws.path("terraform.tfstate")).ok()?)
        .expect("state is JSON");
    state["resources"].as_array()?.iter().find_map(|r| {
        (r["mode"] == mode && r["type"] == type_ && r["name"] == name)
            .then(|| r.pointer("/instances/0/attributes").cloned())
            .flatten()
    })
}

/// The generated external IDs, from the state file (no Terraform command prints them).
fn state_external_ids(ws: &Workspace) -> Vec<String> {
    let v = state_attrs(ws, "managed", "idcbootstrap_external_id", "vendor").expect("external ID in state");
    v["all"].as_array().expect("all").iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()
}

fn assert_no_secret_printed(ws: &Workspace, ids: &[String]) {
    assert!(!ids.is_empty());
    let transcript = ws.transcript();
    for id in ids {
        assert!(!transcript.contains(id.as_str()), "an external ID was printed:\n{transcript}");
    }
    assert!(!transcript.contains(EXAMPLE_VENDOR_SECRET), "the secret key was printed");
}

#[test]
fn connectivity_check_example_proves_the_role_at_apply() {
    let peers = AwsPeers::start();
    let rel = "resources/idcbootstrap_connectivity_check";
    let ws = peers.workspace(rel, "resource.tf");
    let role = peers.create_role(&ws);
    ws.apply().ok();
    let check =
        state_attrs(&ws, "managed", "idcbootstrap_connectivity_check", "trust_role").expect("check in state");
    assert_eq!(check["success"], true, "{check}");
    assert_eq!(check["id"], role.as_str());
    let steps: Vec<&str> =
        check["steps"].as_array().expect("steps").iter().filter_map(|s| s["step"].as_str()).collect();
    assert_eq!(steps.first(), Some(&"assume_role_current"), "{check}");
    assert_eq!(steps.last(), Some(&"external_id_enforced"), "{check}");
    let calls = peers.sts.calls();
    assert!(calls.iter().any(|c| c.with_external_id && c.status == 200), "{calls:?}");
    assert!(calls.iter().any(|c| !c.with_external_id && c.status == 403), "negative probe: {calls:?}");
    assert_eq!(ws.output("connectivity"), check["message"]);
    let again = ws.plan();
    assert_eq!(again.code, 0, "examples/{rel} does not converge:\n{}", again.both());
    let ids = state_external_ids(&ws);
    destroyed(&ws);
    assert_no_secret_printed(&ws, &ids);
}

#[test]
fn connectivity_data_source_example_checks_in_a_check_block() {
    let peers = AwsPeers::start();
    let rel = "data-sources/idcbootstrap_connectivity";
    let ws = peers.workspace(rel, "data-source.tf");
    peers.create_role(&ws);
    let apply = ws.apply().ok();
    assert!(!apply.both().contains("Check block assertion failed"), "{}", apply.both());
    let read =
        state_attrs(&ws, "data", "idcbootstrap_connectivity", "trust_role").expect("data source in state");
    assert_eq!(read["success"], true, "{read}");
    assert!(read["code"].is_null(), "{read}");

    // A role that stops trusting the vendor is a warning, not a failed plan.
    peers.sts.put_role(
        read["id"].as_str().expect("id"),
        &crate::util::aws::trust_policy("arn:aws:iam::222222222222:root", &["nobody-has-this-id-0001"]),
    );
    edit(&ws, "data-source.tf", "    aws_account_id", "    propagation_timeout = \"1s\"\n    aws_account_id");
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(plan.code, 0, "a failing check must not fail the plan:\n{}", plan.both());
    let text = plan.both();
    assert!(text.contains("Check block assertion failed"), "{text}");
    assert!(text.contains("Connectivity check failed: "), "{text}");
    let apply = ws.apply().ok();
    assert!(apply.both().contains("Check block assertion failed"), "{}", apply.both());
    let read =
        state_attrs(&ws, "data", "idcbootstrap_connectivity", "trust_role").expect("data source in state");
    assert_eq!(read["success"], false, "{read}");
    assert_eq!(read["code"], "sts_assume_role_failed", "{read}");
    let ids = state_external_ids(&ws);
    destroyed(&ws);
    assert_no_secret_printed(&ws, &ids);
}

#[test]
fn template_only_applies_offline_and_renders_checked_artifacts() {
    let ws = applied("template-only");
    let out = ws.outputs();
    let val = |k: &str| out[k]["value"].as_str().unwrap_or_else(|| panic!("output {k}: {out}")).to_owned();
    assert_eq!(val("role_arn"), "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole");
    assert!(val("launch_stack_url").starts_with("https://"), "{}", val("launch_stack_url"));
    assert!(val("launch_stack_url").contains("region=us-east-1"), "{}", val("launch_stack_url"));
    let trust: Value = serde_json::from_str(&val("trust_policy_json")).unwrap();
    assert!(trust.to_string().contains(&val("external_id")), "the trust policy requires the external ID");

    // The rendered artifacts pass the real tools: cfn-lint, terraform fmt.
    let tmp = temp_dir();
    let yaml = tmp.path().join("template.yaml");
    std::fs::write(&yaml, val("cloudformation_yaml")).unwrap();
    let lint = Command::new(venv_bin("cfn-lint")).arg(&yaml).output().expect("cfn-lint");
    assert_eq!(lint.status.code(), Some(0), "cfn-lint:\n{}", String::from_utf8_lossy(&lint.stdout));
    let hcl = tmp.path().join("role.tf");
    std::fs::write(&hcl, val("terraform_hcl")).unwrap();
    ws.run(&["fmt", "-check", "-diff", "-no-color", &hcl.display().to_string()]).ok();

    // aws-role cannot be planned here (hashicorp/aws): check that every output of
    // step 1 it reads exists, with python-hcl2 parsing it as Terraform would.
    let read = aws_role_reads("template-only");
    assert!(read.len() >= 4, "aws-role reads {read:?}");
    for name in &read {
        assert!(
            out.get(name).is_some(),
            "aws-role reads output {name:?}, which the quickstart does not have"
        );
    }
    destroyed(&ws);
}

/// Step 4 of the template-only example (`-var run_check=true`) against the local peers, which
/// the provider reaches through its `IDCBOOTSTRAP_*` environment variables as a CI
/// job would; the role stands in for what `./aws-role` creates from step 1.
#[test]
fn template_only_step_4_checks_the_role() {
    let peers = AwsPeers::start();
    let mut ws = default_version().workspace();
    copy_example("template-only", &ws.dir);
    ws.set_env("AWS_ACCESS_KEY_ID", EXAMPLE_VENDOR_KEY);
    ws.set_env("AWS_SECRET_ACCESS_KEY", EXAMPLE_VENDOR_SECRET);
    ws.set_env("AWS_EC2_METADATA_DISABLED", "true");
    ws.set_env("IDCBOOTSTRAP_STS_ENDPOINT", &peers.sts.endpoint());
    ws.set_env("IDCBOOTSTRAP_SSO_ADMIN_ENDPOINT", &peers.moto.endpoint());
    let vars = [
        format!("-var=sso_instance_arn={}", peers.instance_arn),
        format!("-var=aws_account_id={}", peers.owner),
        format!("-var=trusted_principal_arn={EXAMPLE_VENDOR}"),
    ];
    let with = |args: &[&str], check: bool| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(vars.iter().map(String::as_str));
        all.push(if check { "-var=run_check=true" } else { "-var=run_check=false" });
        ws.run(&all)
    };
    with(&["apply", "-input=false", "-no-color", "-auto-approve"], false).ok();
    assert_eq!(raw_output(&ws, "connectivity"), "", "no check unless run_check");
    let template =
        state_attrs(&ws, "data", "idcbootstrap_template", "trust_role").expect("template in state");
    let role = template["role_arn"].as_str().expect("role_arn").to_owned();
    peers.sts.put_role(&role, template["trust_policy_json"].as_str().expect("trust policy"));

    with(&["apply", "-input=false", "-no-color", "-auto-approve"], true).ok();
    let check =
        state_attrs(&ws, "managed", "idcbootstrap_connectivity_check", "trust_role").expect("check ran");
    assert_eq!(check["success"], true, "{check}");
    assert_eq!(raw_output(&ws, "connectivity"), check["message"].as_str().expect("message"));
    let ids = state_external_ids(&ws);
    with(&["destroy", "-input=false", "-no-color", "-auto-approve"], true).ok();
    assert_no_secret_printed(&ws, &ids);
}

/// The vendor data source example against the real `idcbootstrap-server`: the
/// vendor's ID feeds the template; after the vendor rotates, the next apply reads
/// both and the trust policy trusts both.
#[test]
fn vendor_external_ids_example_follows_the_vendors_rotation() {
    use crate::util::vendor::Vendor;

    let v = Vendor::start();
    let mut ws = default_version().workspace();
    copy_example("data-sources/idcbootstrap_vendor_external_ids", &ws.dir);
    v.configure(&mut ws);
    ws.validate().ok();
    ws.apply().ok();
    assert_eq!(raw_output(&ws, "rotating"), "false");
    let again = ws.plan();
    assert_eq!(again.code, 0, "does not converge:\n{}", again.both());
    v.rotate();
    ws.apply().ok();
    assert_eq!(raw_output(&ws, "rotating"), "true");
    let ids = v.external_ids();
    let template =
        state_attrs(&ws, "data", "idcbootstrap_template", "trust_role").expect("template in state");
    let trust = template["trust_policy_json"].as_str().expect("trust policy");
    assert!(ids.len() == 2 && ids.iter().all(|id| trust.contains(id.as_str())), "trusts both");
    destroyed(&ws);
    v.assert_no_secret_shown(&ws, &ids);
}

/// The registration example against the real `idcbootstrap-server`: registers,
/// converges, imports as `import.sh` does (with the test's tenant), and destroy
/// clears the registration.
#[test]
fn vendor_registration_example_registers_imports_and_clears() {
    use crate::util::vendor::Vendor;

    let rel = "resources/idcbootstrap_vendor_registration";
    let v = Vendor::start();
    let mut ws = default_version().workspace();
    copy_example(rel, &ws.dir);
    v.configure(&mut ws);
    ws.validate().ok();
    ws.apply().ok();
    assert_eq!(raw_output(&ws, "registered"), "true");
    assert_eq!(v.config()["role_arn"], "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole");
    let again = ws.plan();
    assert_eq!(again.code, 0, "examples/{rel} does not converge:\n{}", again.both());

    let script = std::fs::read_to_string(examples_dir().join(rel).join("import.sh")).unwrap();
    let line = script.lines().find(|l| l.starts_with("terraform import ")).expect("import line");
    let words: Vec<&str> = line.split_whitespace().collect();
    ws.run(&["state", "rm", "-no-color", words[2]]).ok();
    ws.import(words[2], &v.tenant).ok();
    let again = ws.plan();
    assert_eq!(again.code, 2, "the imported registration lacks only test and triggers:\n{}", again.both());
    assert!(again.stdout.contains("updated in-place"), "{}", again.stdout);
    ws.apply().ok();
    destroyed(&ws);
    assert_eq!(v.config()["configured"], false);
    v.assert_no_secret_shown(&ws, &v.external_ids());
}

/// The quickstart, as `scripts/run.sh` runs it: the vendor's IDs from the real
/// `idcbootstrap-server`, the role rendered for them and registered (offline, no
/// test); then, with the role made in the local AWS peers from the rendered trust
/// policy (what `./aws-role` does in IAM), step 3 (`-var test=true`): the vendor
/// tests the role. Converges, and destroy clears the registration.
#[test]
fn quickstart_registers_the_role_and_the_vendor_tests_it() {
    use crate::util::server::VENDOR;
    use crate::util::vendor::Vendor;

    let v = Vendor::start();
    let mut ws = default_version().workspace();
    copy_example("quickstart", &ws.dir);
    v.configure(&mut ws);
    ws.validate().ok();
    // Offline, as the README's command runs it: the example's own variables.
    ws.apply().ok();
    assert_eq!(raw_output(&ws, "registered"), "true");
    assert_eq!(raw_output(&ws, "tenant_id"), v.tenant);
    let role = raw_output(&ws, "role_arn");
    assert_eq!(v.config()["role_arn"], role.as_str());
    let again = ws.plan();
    assert_eq!(again.code, 0, "examples/quickstart does not converge:\n{}", again.both());
    let read = aws_role_reads("quickstart");
    assert!(read.len() >= 4, "aws-role reads {read:?}");
    // The output names from the state file: `output -json` would print the sensitive ones.
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path("terraform.tfstate")).unwrap()).unwrap();
    for name in &read {
        assert!(
            state["outputs"].get(name).is_some(),
            "aws-role reads output {name:?}, which the quickstart does not have"
        );
    }

    // Step 2 in the local peers, step 3 with the vendor's test.
    let vars = [
        format!("-var=sso_instance_arn={}", v.peers.instance_arn),
        format!("-var=aws_account_id={}", v.peers.owner),
        format!("-var=trusted_principal_arn={VENDOR}"),
        format!("-var=region={}", crate::util::server::REGION),
    ];
    let with = |args: &[&str], test: bool| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(vars.iter().map(String::as_str));
        all.push(if test { "-var=test=true" } else { "-var=test=false" });
        ws.run(&all)
    };
    with(
        &[
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-target=data.idcbootstrap_template.trust_role",
        ],
        false,
    )
    .ok();
    let template =
        state_attrs(&ws, "data", "idcbootstrap_template", "trust_role").expect("template in state");
    let role = template["role_arn"].as_str().expect("role_arn").to_owned();
    v.put_role(&role, template["trust_policy_json"].as_str().expect("trust policy"));
    with(&["apply", "-input=false", "-no-color", "-auto-approve"], true).ok();
    assert_eq!(raw_output(&ws, "tested"), "true");
    assert_eq!(v.config()["role_arn"], role.as_str());
    let calls = v.peers.sts.calls();
    assert!(
        calls.iter().any(|c| c.with_external_id && c.status == 200),
        "the vendor assumed the role: {calls:?}"
    );
    with(&["destroy", "-input=false", "-no-color", "-auto-approve"], true).ok();
    assert_eq!(v.config()["configured"], false);
    v.assert_no_secret_shown(&ws, &v.external_ids());
}

/// One output by `terraform output -raw`: `output -json` would print the sensitive
/// outputs too, and the transcript is searched for secrets.
fn raw_output(ws: &Workspace, name: &str) -> String {
    ws.run(&["output", "-raw", "-no-color", name]).ok().stdout
}

/// The step-1 outputs `examples/<example>/aws-role/*.tf` reads through
/// `data.terraform_remote_state.quickstart.outputs` (directly or via `local.rendered`).
fn aws_role_reads(example: &str) -> Vec<String> {
    let dir = examples_dir().join(example).join("aws-role");
    let mut names = Vec::new();
    for f in files_under(&dir, &|p| p.extension().is_some_and(|e| e == "tf")) {
        let out = Command::new(venv_bin("hcl2tojson")).arg(&f).output().expect("hcl2tojson");
        assert!(
            out.status.success(),
            "{} does not parse:\n{}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let json = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str::<Value>(&json).expect("hcl2tojson prints JSON");
        for prefix in ["local.rendered.", "data.terraform_remote_state.quickstart.outputs."] {
            for part in json.split(prefix).skip(1) {
                let name: String =
                    part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// `scripts/release.sh`'s archive installs from a packed filesystem mirror, as for
/// a private-registry-mirror user, and its checksum is the one Terraform records.
/// To stay cheap it packages the debug build (`--provider-bin`) instead of
/// building `--release`, and leaves out the Lambda zip (`--no-lambda`).
#[test]
fn release_archive_installs_from_a_provider_mirror() {
    let dist = temp_dir();
    let out = Command::new(repo_root().join("scripts/release.sh"))
        .arg("--provider-bin")
        .arg(built_bin("terraform-provider-idcbootstrap"))
        .arg("--no-lambda")
        .arg("--out")
        .arg(dist.path())
        .output()
        .expect("run scripts/release.sh");
    assert!(out.status.success(), "release.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let v = PROVIDER_VERSION;
    let zip_name = format!("terraform-provider-idcbootstrap_{v}_linux_amd64.zip");
    let zip = dist.path().join(&zip_name);
    assert!(
        zip.is_file(),
        "no {zip_name} in {:?}",
        std::fs::read_dir(dist.path()).unwrap().collect::<Vec<_>>()
    );

    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dist.path().join(format!("terraform-provider-idcbootstrap_{v}_manifest.json")),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest, serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["5.0"]}}));
    let sums =
        std::fs::read_to_string(dist.path().join(format!("terraform-provider-idcbootstrap_{v}_SHA256SUMS")))
            .unwrap();
    let check = Command::new("sha256sum")
        .args(["-c", "--strict", &format!("terraform-provider-idcbootstrap_{v}_SHA256SUMS")])
        .current_dir(dist.path())
        .output()
        .expect("sha256sum");
    assert!(check.status.success(), "SHA256SUMS does not match:\n{}", String::from_utf8_lossy(&check.stdout));
    let zip_sum = sums
        .lines()
        .find(|l| l.ends_with(&zip_name))
        .and_then(|l| l.split_whitespace().next())
        .expect("the zip is listed in SHA256SUMS")
        .to_owned();

    // The packed mirror layout: HOST/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_TARGET.zip.
    let tf = CustomCli::new(
        "provider_installation {\n  filesystem_mirror {\n    path = \"{ROOT}/mirror\"\n  }\n}\n",
    );
    let pkg = tf.root.join("mirror/registry.terraform.io/idcbootstrap/idcbootstrap");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::copy(&zip, pkg.join(&zip_name)).unwrap();
    copy_example("data-sources/idcbootstrap_template", &tf.dir);
    pin_version(&tf.dir.join("data-source.tf"), v);

    tf.run(&["init", "-input=false", "-no-color"]).ok();
    let lock = std::fs::read_to_string(tf.dir.join(".terraform.lock.hcl")).expect("init writes a lock file");
    assert!(lock.contains(&format!("version     = \"{v}\"")), "{lock}");
    // From a mirror Terraform records only the `h1:` hash (dirhash over the unpacked
    // files); it must be that of the binary we packaged, under its versioned name.
    let bin_sum = sha256_hex(&std::fs::read(built_bin("terraform-provider-idcbootstrap")).unwrap());
    let summary = format!("{bin_sum}  terraform-provider-idcbootstrap_v{v}\n");
    let h1 = format!("h1:{}", base64(&hex_bytes(&sha256_hex(summary.as_bytes()))));
    assert!(lock.contains(&format!("\"{h1}\"")), "the lock file should record {h1}:\n{lock}");
    assert_eq!(zip_sum, sha256_hex(&std::fs::read(&zip).unwrap()));
    let plan = tf.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "plan against the mirrored provider:\n{}", plan.both());
    assert!(plan.stdout.contains("idcbootstrap_external_id.vendor will be created"), "{}", plan.stdout);
}

/// Adds `version = "= V"` to the provider requirement, as a mirror user pins it.
fn pin_version(file: &Path, v: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let from = "source = \"idcbootstrap/idcbootstrap\"";
    assert!(text.contains(from));
    std::fs::write(file, text.replacen(from, &format!("{from}\n      version = \"= {v}\""), 1)).unwrap();
}

/// SHA-256 of `data` in hex, by the system's `sha256sum` (an independent implementation).
fn sha256_hex(data: &[u8]) -> String {
    use std::io::Write as _;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_owned()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

/// Standard base64 with padding, as Terraform writes `h1:` hashes; hand-written
/// because the tests need it for this one comparison only.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
