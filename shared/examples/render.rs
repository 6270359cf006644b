//! Renders the seed API's example request into files, offline.
//!
//! ```text
//! cargo run -p idcbootstrap --example render -- OUT_DIR
//! ```
//!
//! Writes `template.yaml`, `main.tf`, `trust-policy.json` and
//! `permissions-policy.json` into `OUT_DIR`, prints their paths and the
//! quick-create link. The external ID is freshly generated on every run.

use std::path::PathBuf;
use std::process::ExitCode;

use idcbootstrap::{ExternalId, RawTemplateRequest, TemplateRequest, render};

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: render OUT_DIR");
        return ExitCode::from(2);
    };
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let raw = RawTemplateRequest {
        aws_account_id: Some("123456789012".into()),
        sso_instance_arn: Some("arn:aws:sso:::instance/ssoins-abcdef0123456789".into()),
        region: Some("us-east-1".into()),
        trusted_principal_arn: Some("arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration".into()),
        external_ids: Some(vec![ExternalId::generate()?]),
        template_url: Some(
            "https://example-bucket.s3.us-east-1.amazonaws.com/idcbootstrap/template.yaml".into(),
        ),
        ..RawTemplateRequest::default()
    };
    let req = TemplateRequest::validate(&raw)?;
    let out = render(&req)?;
    std::fs::create_dir_all(dir)?;
    for (name, body) in [
        ("template.yaml", &out.cloudformation_yaml),
        ("main.tf", &out.terraform_hcl),
        ("trust-policy.json", &out.trust_policy_json),
        ("permissions-policy.json", &out.permissions_policy_json),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, body)?;
        println!("{}", path.display());
    }
    println!("role ARN: {}", out.role_arn);
    println!("launch stack: {}", out.launch_stack_url);
    Ok(())
}
