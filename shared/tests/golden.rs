//! Checked-in artifacts that must match the code byte for byte: rendered templates
//! (`tests/golden/`) and the JSON Schemas (`docs/schema/`).
//!
//! After an intended change, regenerate and review the diff:
//! `UPDATE_GOLDEN=1 UPDATE_SCHEMA=1 cargo test -p idcbootstrap --test golden`.

mod common;

use std::path::Path;

use common::{base, rendered, tricky};
use idcbootstrap::{Error, RawTemplateRequest, TemplateOutput};

/// Whether the variable's value asks for a rewrite: exactly `1`. `UPDATE_GOLDEN=0` (or
/// empty, or `false`) compares, as it reads.
fn wants_update(value: Option<&str>) -> bool {
    value == Some("1")
}

/// Compares `actual` with the file at `path`, or rewrites the file when `env` is `1`.
fn assert_file(path: &Path, actual: &str, env: &str) {
    if wants_update(std::env::var(env).ok().as_deref()) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with {env}=1 to create it", path.display()));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        panic!(
            "{} is stale (first difference near line {line}); run with {env}=1 and review the diff\n\
             --- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}

fn cases() -> Vec<(&'static str, RawTemplateRequest)> {
    let mut with_url = base("aws", "eu-central-1", "read_only");
    with_url.template_url =
        Some("https://example-bucket.s3.eu-central-1.amazonaws.com/idcbootstrap/template.yaml".into());
    vec![
        ("read_only_aws", with_url),
        ("assignments_aws_us_gov", base("aws-us-gov", "us-gov-west-1", "assignments")),
        ("admin_aws_cn", base("aws-cn", "cn-northwest-1", "admin")),
        ("read_only_aws_iso_b", base("aws-iso-b", "us-isob-east-1", "read_only")),
        ("tricky_rotating_aws", tricky("aws", "us-west-2")),
    ]
}

#[test]
fn rendered_artifacts_match_golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for (name, raw) in cases() {
        let (_, out) = rendered(&raw);
        let TemplateOutput { cloudformation_yaml, terraform_hcl, .. } = &out;
        let rest = serde_json::json!({
            "launch_stack_url": out.launch_stack_url,
            "external_ids": out.external_ids,
            "role_arn": out.role_arn,
            "role_name": out.role_name,
            "trust_policy": serde_json::from_str::<serde_json::Value>(&out.trust_policy_json).unwrap(),
            "permissions_policy": serde_json::from_str::<serde_json::Value>(&out.permissions_policy_json).unwrap(),
        });
        assert_file(&dir.join(name).join("template.yaml"), cloudformation_yaml, "UPDATE_GOLDEN");
        assert_file(&dir.join(name).join("main.tf"), terraform_hcl, "UPDATE_GOLDEN");
        assert_file(
            &dir.join(name).join("trust-policy.json"),
            &format!("{}\n", out.trust_policy_json),
            "UPDATE_GOLDEN",
        );
        assert_file(
            &dir.join(name).join("permissions-policy.json"),
            &format!("{}\n", out.permissions_policy_json),
            "UPDATE_GOLDEN",
        );
        assert_file(
            &dir.join(name).join("output.json"),
            &format!("{}\n", serde_json::to_string_pretty(&rest).unwrap()),
            "UPDATE_GOLDEN",
        );
    }
}

#[test]
fn json_schemas_in_docs_are_current() {
    let dir = common::repo_root().join("docs/schema");
    let schemas = [
        ("request.json", schemars::schema_for!(RawTemplateRequest)),
        ("response.json", schemars::schema_for!(TemplateOutput)),
        ("error.json", schemars::schema_for!(Error)),
    ];
    for (file, schema) in schemas {
        let text = format!("{}\n", serde_json::to_string_pretty(&schema).unwrap());
        assert_file(&dir.join(file), &text, "UPDATE_SCHEMA");
    }
}

#[test]
fn request_schema_describes_fields_from_the_field_table() {
    let schema = serde_json::to_value(schemars::schema_for!(RawTemplateRequest)).unwrap();
    for f in idcbootstrap::spec::TEMPLATE.inputs() {
        let d = schema["properties"][f.name]["description"].as_str().unwrap_or_default();
        assert!(d.contains(f.description) && d.contains(f.rule.unwrap_or_default()), "{}: {d}", f.name);
    }
}

#[test]
fn only_update_equal_to_1_rewrites() {
    assert!(wants_update(Some("1")));
    for no in [None, Some("0"), Some(""), Some("false"), Some("no"), Some("true")] {
        assert!(!wants_update(no), "{no:?}");
    }
}
