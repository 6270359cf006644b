//! Latency of one connectivity check against a local moto server (STS and
//! sso-admin on 127.0.0.1), and of validating its input.
//!
//! moto's STS does not enforce `sts:ExternalId`, so every check here ends with
//! `external_id_not_enforced`; it makes the same calls as a passing check (two
//! `AssumeRole`, `ListInstances`, the probes), which is what is measured.
//!
//! Needs moto in the project's venv (`scripts/setup.sh`; `IDCB_VENV` overrides):
//! `cargo bench -p idcbootstrap --features aws --bench connectivity`.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use idcbootstrap::ExternalId;
use idcbootstrap::connectivity::{self, BaseCredentials, CheckRequest, RawCheckRequest, Secret, Settings};

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> (Moto, u16) {
    let venv = std::env::var_os("IDCB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(venv.join("bin/moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server from the venv (run scripts/setup.sh)");
    let moto = Moto(child);
    let until = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "moto did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (moto, port)
}

fn raw(instance: Option<String>) -> RawCheckRequest {
    RawCheckRequest {
        role_arn: Some("arn:aws:iam::123456789012:role/IdcBootstrapTrustRole".into()),
        external_ids: Some(vec![ExternalId::new("bench-external-id-0001")]),
        sso_instance_arn: Some(
            instance.unwrap_or_else(|| "arn:aws:sso:::instance/ssoins-1234567890abcdef".into()),
        ),
        aws_account_id: Some("123456789012".into()),
        region: Some("us-east-1".into()),
        access_level: None,
    }
}

fn bench(c: &mut Criterion) {
    c.bench_function("validate_check_request", |b| {
        let r = raw(None);
        b.iter(|| CheckRequest::validate(std::hint::black_box(&r)).unwrap())
    });

    let (_moto, port) = start_moto();
    let endpoint = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let settings = Settings::default()
        .with_endpoints(Some(endpoint.clone()), Some(endpoint.clone()))
        .with_identitystore_endpoint(Some(endpoint))
        .with_credentials(BaseCredentials::Static {
            access_key_id: "AKIABENCH".into(),
            secret_access_key: Secret::new("bench"),
            session_token: None,
        });
    // Learn the instance moto creates, from the check's own answer.
    let first = rt.block_on(connectivity::check(&CheckRequest::validate(&raw(None)).unwrap(), &settings));
    let listed = first.step(connectivity::step::LIST_INSTANCES).expect("list step").message.clone();
    // The not-found message lists what the role sees: "(listed: <arn>, ...)".
    let instance =
        listed.split("listed: ").nth(1).and_then(|rest| rest.split([',', ')']).next()).map(str::to_owned);
    let req = CheckRequest::validate(&raw(instance)).unwrap();
    let report = rt.block_on(connectivity::check(&req, &settings));
    assert!(report.step(connectivity::step::LIST_INSTANCES).is_some_and(|s| s.ok), "{report:#?}");

    let mut group = c.benchmark_group("check");
    group.sample_size(30);
    group.bench_function("moto_one_external_id", |b| {
        b.iter(|| rt.block_on(connectivity::check(&req, &settings)))
    });
    group.finish();
}

// The macros generate undocumented public functions.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(group::benches);
