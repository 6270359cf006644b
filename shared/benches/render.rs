//! Micro-benchmarks of the core: validating a request and rendering every artifact.
//!
//! `cargo bench -p idcbootstrap --bench render`

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idcbootstrap::{ExternalId, RawTemplateRequest, TemplateRequest, render};

fn request(access_level: &str, tags: usize) -> RawTemplateRequest {
    RawTemplateRequest {
        aws_account_id: Some("123456789012".into()),
        sso_instance_arn: Some("arn:aws:sso:::instance/ssoins-abcdef0123456789".into()),
        region: Some("us-east-1".into()),
        trusted_principal_arn: Some("arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration".into()),
        external_ids: Some(vec![
            ExternalId::new("Zq3vXw9LkT2mNb7RcY5pHs1dFg8jKa4e"),
            ExternalId::new("Pw8nB2cXe5rT7yU1iO3pA6sD9fG4hJ0k"),
        ]),
        access_level: Some(access_level.into()),
        tags: Some(
            (0..tags)
                .map(|i| (format!("team-{i}"), format!("Kostenstelle {i} äöü")))
                .collect::<BTreeMap<_, _>>(),
        ),
        template_url: Some(
            "https://example-bucket.s3.us-east-1.amazonaws.com/idcbootstrap/template.yaml".into(),
        ),
        ..RawTemplateRequest::default()
    }
}

fn validate(c: &mut Criterion) {
    let raw = request("admin", 10);
    c.bench_function("validate/admin_10_tags", |b| {
        b.iter(|| TemplateRequest::validate(black_box(&raw)).unwrap())
    });
    let raw = request("read_only", 0);
    c.bench_function("validate/read_only_no_tags", |b| {
        b.iter(|| TemplateRequest::validate(black_box(&raw)).unwrap())
    });
    let bad = RawTemplateRequest { aws_account_id: Some("x".into()), ..request("nope", 0) };
    c.bench_function("validate/invalid", |b| {
        b.iter(|| TemplateRequest::validate(black_box(&bad)).unwrap_err())
    });
}

fn render_all(c: &mut Criterion) {
    for (level, tags) in [("read_only", 0), ("admin", 10)] {
        let req = TemplateRequest::validate(&request(level, tags)).unwrap();
        c.bench_function(&format!("render/{level}_{tags}_tags"), |b| {
            b.iter(|| render(black_box(&req)).unwrap())
        });
    }
}

// The macros generate undocumented public functions.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, validate, render_all);
}
criterion_main!(group::benches);
