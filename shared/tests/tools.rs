//! The rendered artifacts against the real tools that consume them: cfn-lint
//! (errors, warnings and informational findings all fail), PyYAML (a YAML 1.1
//! reader, as cfn-lint and much older tooling use), `terraform fmt -check` and
//! python-hcl2. The tools come from `scripts/setup.sh` (venv) and the image
//! (`terraform` on PATH).

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use common::{check_cfn, matrix, rendered, venv_bin};
use serde_json::Value;

fn run_with_stdin(cmd: &mut Command, stdin: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn cfn_lint_accepts_every_rendered_template() {
    let dir = tempfile::tempdir().unwrap();
    // cfn-lint checks resource specs per region: lint each template in its own region.
    let mut by_region: BTreeMap<String, Vec<std::path::PathBuf>> = BTreeMap::new();
    for (name, raw) in matrix() {
        let (req, out) = rendered(&raw);
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, &out.cloudformation_yaml).unwrap();
        by_region.entry(req.region().to_owned()).or_default().push(path);
    }
    for (region, files) in by_region {
        let output = Command::new(venv_bin("cfn-lint"))
            .args(["--format", "parseable", "--regions", &region, "--"])
            .args(&files)
            .output()
            .expect("run cfn-lint");
        let stdout = String::from_utf8_lossy(&output.stdout);
        if region.starts_with("us-iso")
            && output.status.code() == Some(2)
            && only_iso_principal_findings(&stdout)
        {
            continue;
        }
        assert!(
            output.status.success(),
            "cfn-lint ({region}) exited {:?}:\n{stdout}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// cfn-lint 1.58's schema for IAM principals knows only the aws, aws-cn and
/// aws-us-gov partitions, so it reports E3530 on an `arn:aws-iso…` principal, which
/// CloudFormation in those partitions accepts. Allowed only when every finding is
/// that one, on the trust policy's principal line.
fn only_iso_principal_findings(parseable: &str) -> bool {
    parseable.lines().all(|line| {
        // path:line:col:endline:endcol:rule:message
        let parts = line.splitn(7, ':').collect::<Vec<_>>();
        let [path, line_no, _, _, _, rule, _] = parts[..] else { return false };
        let Ok(n) = line_no.parse::<usize>() else { return false };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        rule == "E3530"
            && text.lines().nth(n - 1).is_some_and(|l| l.trim_start().starts_with("AWS: arn:aws-iso"))
    })
}

/// cfn-lint must fail on a template that breaks its rules, or the test above proves
/// nothing.
#[test]
fn cfn_lint_rejects_a_broken_template() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = rendered(&common::base("aws", "us-east-1", "read_only"));
    let broken = out.cloudformation_yaml.replace("sso:ListInstances", "sso:ListInstancez");
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, broken).unwrap();
    let status = Command::new(venv_bin("cfn-lint")).arg("--").arg(&path).output().unwrap().status;
    assert!(!status.success(), "cfn-lint accepted an unknown action");
}

/// PyYAML implements YAML 1.1, where `yes`, `on`, `0123` and dates are not strings:
/// every value must still come back as the string that was rendered.
#[test]
fn yaml_1_1_reader_reads_every_value_back_as_rendered() {
    const LOAD: &str = "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(sys.stdin.read())))";
    for (name, raw) in matrix() {
        let (req, out) = rendered(&raw);
        let output =
            run_with_stdin(Command::new(venv_bin("python")).args(["-c", LOAD]), &out.cloudformation_yaml);
        assert!(
            output.status.success(),
            "{name}: PyYAML failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
        check_cfn(&doc, &req, &out);
    }
}

fn terraform() -> Command {
    let home = tempfile::tempdir().unwrap().keep();
    let mut cmd = Command::new(std::env::var_os("IDCB_TERRAFORM").unwrap_or_else(|| "terraform".into()));
    cmd.env("HOME", &home)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_CLI_CONFIG_FILE", home.join("terraform.rc"));
    std::fs::write(home.join("terraform.rc"), "").unwrap();
    cmd
}

#[test]
fn terraform_fmt_leaves_rendered_hcl_unchanged() {
    for (name, raw) in matrix() {
        let (_, out) = rendered(&raw);
        let output = run_with_stdin(
            terraform().args(["fmt", "-no-color", "-check", "-diff", "-"]),
            &out.terraform_hcl,
        );
        assert!(
            output.status.success(),
            "{name}: terraform fmt would change the HCL:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// `terraform fmt -check` must fail on misaligned HCL, or the test above proves nothing.
#[test]
fn terraform_fmt_rejects_misaligned_hcl() {
    let (_, out) = rendered(&common::base("aws", "us-east-1", "read_only"));
    let misaligned = out.terraform_hcl.replacen("name                 =", "name =", 1);
    assert_ne!(misaligned, out.terraform_hcl);
    let output = run_with_stdin(terraform().args(["fmt", "-check", "-"]), &misaligned);
    assert!(!output.status.success(), "terraform fmt accepted misaligned HCL");
}

#[test]
fn python_hcl2_parses_rendered_hcl() {
    const LOAD: &str = "import json, sys, hcl2\nd = hcl2.loads(sys.stdin.read())\n\
        print(json.dumps(sorted(k.strip('\"') for r in d['resource'] for k in r)))";
    for (name, raw) in matrix() {
        let (_, out) = rendered(&raw);
        let output = run_with_stdin(Command::new(venv_bin("python")).args(["-c", LOAD]), &out.terraform_hcl);
        assert!(
            output.status.success(),
            "{name}: python-hcl2 failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let kinds: Vec<String> = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(kinds, ["aws_iam_role", "aws_iam_role_policy"], "{name}");
    }
}

/// A moto server on 127.0.0.1, stopped (by its own PID) when dropped.
struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Moto {
    fn start() -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "moto_server did not listen on {port}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        moto
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a stack from the template on stdin in moto's CloudFormation and prints the
/// stack status, outputs, the IAM role and its inline policy as JSON.
const CREATE_STACK: &str = r#"
import ast, boto3, json, sys
port, name = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url="http://127.0.0.1:" + port, region_name="us-east-1",
          aws_access_key_id="test", aws_secret_access_key="test")
cfn, iam = boto3.client("cloudformation", **kw), boto3.client("iam", **kw)
cfn.create_stack(StackName=name, TemplateBody=sys.stdin.read(), Capabilities=["CAPABILITY_NAMED_IAM"])
stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
res = cfn.describe_stack_resource(StackName=name, LogicalResourceId="TrustRole")["StackResourceDetail"]
role = iam.get_role(RoleName=res["PhysicalResourceId"])["Role"]
names = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
doc = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=names[0])["PolicyDocument"]
if isinstance(doc, str):  # moto keeps the document as the Python repr it was given
    doc = ast.literal_eval(doc)
cfn.delete_stack(StackName=name)
print(json.dumps({"status": stack["StackStatus"], "outputs": stack.get("Outputs", []), "role": role,
                  "policy_names": names, "policy": doc}, default=str))
"#;

/// moto's CloudFormation deploys the rendered template: the role it creates has the
/// ARN `role_arn` predicts and exactly the rendered trust and permissions policies.
/// (moto does not evaluate policies; this checks what CloudFormation makes of the
/// template, not what IAM would allow.)
#[test]
fn cloudformation_emulator_creates_the_role_as_rendered() {
    let moto = Moto::start();
    let cases = matrix().into_iter().filter(|(name, _)| name.ends_with("_aws"));
    for (i, (name, raw)) in cases.enumerate() {
        let (req, out) = rendered(&raw);
        let output = run_with_stdin(
            Command::new(venv_bin("python")).args([
                "-c",
                CREATE_STACK,
                &moto.port.to_string(),
                &format!("s{i}"),
            ]),
            &out.cloudformation_yaml,
        );
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let got: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(got["status"], "CREATE_COMPLETE", "{name}");
        assert_eq!(got["outputs"][0]["OutputValue"], out.role_arn, "{name}");
        let role = &got["role"];
        assert_eq!(role["Arn"], out.role_arn, "{name}");
        assert_eq!(role["RoleName"], req.role_name(), "{name}");
        assert_eq!(role["Path"], req.role_path(), "{name}");
        assert_eq!(role["MaxSessionDuration"], req.max_session_duration(), "{name}");
        let trust: Value = serde_json::from_str(&out.trust_policy_json).unwrap();
        assert_eq!(role["AssumeRolePolicyDocument"], trust, "{name}");
        let perms: Value = serde_json::from_str(&out.permissions_policy_json).unwrap();
        assert_eq!(got["policy_names"], serde_json::json!([idcbootstrap::policy::PERMISSIONS_POLICY_NAME]));
        assert_eq!(got["policy"], perms, "{name}");
        let tags: BTreeMap<String, String> = role
            .get("Tags")
            .map(|t| {
                t.as_array()
                    .unwrap()
                    .iter()
                    .map(|kv| {
                        (kv["Key"].as_str().unwrap().to_owned(), kv["Value"].as_str().unwrap().to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(&tags, req.tags(), "{name}");
    }
}
