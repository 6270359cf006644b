//! Connectivity check end to end: the core's `connectivity::check` against moto
//! (sso-admin) and the STS stand-in (trust policies and external IDs), all on
//! 127.0.0.1. See `util/aws.rs` for why each peer is what it is.

use std::time::{Duration, Instant};

use idcbootstrap::connectivity::{
    self, BaseCredentials, CheckReport, RawCheckRequest, RawSettings, Secret, Settings, step,
};
use idcbootstrap::{ErrorCode, ExternalId};

use crate::util::aws::{
    Moto, SsoAdminFront, StsStandIn, trust_policy, trust_policy_with_condition,
    trust_policy_without_external_id,
};
use crate::util::faults::{Fault, FaultServer};

const REGION: &str = "eu-west-1";
const VENDOR_KEY: &str = "AKIAVENDOR0EXAMPLE01";
const VENDOR_SECRET: &str = "vendor-secret-key-never-shown";
const VENDOR: &str = "arn:aws:iam::111111111111:role/vendor-connector";
const ROLE: &str = "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole";
const CURRENT: &str = "current-external-id-4f1c2a9e7b";
const PREVIOUS: &str = "previous-external-id-77aa01c3d5";

/// Moto, the STS stand-in with the vendor as caller, and moto's instance.
struct Peers {
    moto: Moto,
    sts: StsStandIn,
    instance_arn: String,
    owner: String,
}

impl Peers {
    async fn start() -> Peers {
        let moto = Moto::start();
        let (instance_arn, owner) = moto.sso_instance(REGION).await;
        let sts = StsStandIn::start().await;
        sts.add_caller(VENDOR_KEY, VENDOR);
        Peers { moto, sts, instance_arn, owner }
    }

    fn raw(&self, ids: &[&str]) -> RawCheckRequest {
        RawCheckRequest {
            role_arn: Some(ROLE.into()),
            external_ids: Some(ids.iter().map(|s| ExternalId::new(*s)).collect()),
            sso_instance_arn: Some(self.instance_arn.clone()),
            aws_account_id: Some(self.owner.clone()),
            region: Some(REGION.into()),
            access_level: Some("read_only".into()),
        }
    }

    /// Settings with sso-admin and identitystore both at `sso_admin` (moto, or the
    /// front in front of it).
    fn raw_settings(&self, sso_admin: &str, propagation_secs: u64) -> RawSettings {
        RawSettings {
            sts_endpoint: Some(self.sts.endpoint()),
            sso_admin_endpoint: Some(sso_admin.to_owned()),
            identitystore_endpoint: Some(sso_admin.to_owned()),
            propagation_timeout_seconds: Some(propagation_secs),
            access_key_id: Some(VENDOR_KEY.into()),
            secret_access_key: Some(Secret::new(VENDOR_SECRET)),
            ..RawSettings::default()
        }
    }

    /// Validates through the public raw → validated step and runs the check.
    async fn check_with(&self, raw: RawCheckRequest, settings: RawSettings) -> CheckReport {
        let (req, settings) = connectivity::validate_all(&raw, &settings).expect("valid input");
        let report = connectivity::check(&req, &settings).await;
        assert_no_secrets(&report);
        report
    }

    async fn check(&self, ids: &[&str], propagation_secs: u64) -> CheckReport {
        self.check_with(self.raw(ids), self.raw_settings(&self.moto.endpoint(), propagation_secs)).await
    }
}

/// No external ID or credential anywhere in the report or its error.
fn assert_no_secrets(report: &CheckReport) {
    let json = serde_json::to_string(report).unwrap();
    for secret in [CURRENT, PREVIOUS, VENDOR_SECRET, "standin-secret", "standin-token", "wrong-external-id"] {
        assert!(!json.contains(secret), "report leaks {secret}: {json}");
    }
}

fn code_of(report: &CheckReport) -> Option<ErrorCode> {
    report.error.as_ref().map(|e| e.code)
}

fn step_code(report: &CheckReport, name: &str) -> Option<ErrorCode> {
    report.step(name).unwrap_or_else(|| panic!("no step {name} in {report:#?}")).code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_role_passes_with_both_rotation_ids() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT, PREVIOUS]));
    let report = peers.check(&[CURRENT, PREVIOUS], 10).await;
    assert!(report.success, "{report:#?}");
    assert_eq!(report.error, None);
    let names: Vec<&str> = report.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        names,
        [
            step::ASSUME_ROLE_CURRENT,
            step::ASSUME_ROLE_PREVIOUS,
            step::LIST_INSTANCES,
            "probe:sso:ListPermissionSets",
            "probe:sso:ListPermissionSetsProvisionedToAccount",
            "probe:identitystore:ListUsers",
            step::EXTERNAL_ID_ENFORCED,
        ]
    );
    assert!(report.steps.iter().all(|s| s.ok && s.code.is_none()));
    // Both IDs and the negative probe really reached STS.
    let calls = peers.sts.calls();
    assert_eq!(calls.iter().filter(|c| c.with_external_id && c.status == 200).count(), 2, "{calls:?}");
    assert_eq!(calls.iter().filter(|c| !c.with_external_id && c.status == 403).count(), 1, "{calls:?}");
    // ... and so did the probe with a random ID, denied like the call without one.
    assert_eq!(calls.iter().filter(|c| c.with_external_id && c.status == 403).count(), 1, "{calls:?}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["success"], true);
    assert!(json["message"].as_str().unwrap().contains(&peers.instance_arn));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_external_id_fails_after_the_propagation_timeout() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let report = peers.check(&["wrong-external-id"], 2).await;
    assert!(!report.success);
    assert_eq!(code_of(&report), Some(ErrorCode::StsAssumeRoleFailed), "{report:#?}");
    assert_eq!(step_code(&report, step::ASSUME_ROLE_CURRENT), Some(ErrorCode::StsAssumeRoleFailed));
    // Nothing runs with a role that cannot be assumed.
    assert_eq!(report.steps.len(), 1, "{report:#?}");
    assert!(peers.sts.calls().len() > 1, "denials are retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retired_previous_id_fails_while_current_passes() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let report = peers.check(&[CURRENT, PREVIOUS], 1).await;
    assert_eq!(code_of(&report), Some(ErrorCode::StsAssumeRoleFailed), "{report:#?}");
    assert!(report.step(step::ASSUME_ROLE_CURRENT).unwrap().ok);
    assert_eq!(step_code(&report, step::ASSUME_ROLE_PREVIOUS), Some(ErrorCode::StsAssumeRoleFailed));
    assert!(report.message.contains("external_ids[1]"), "{}", report.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_without_external_id_condition_fails_the_negative_probe() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy_without_external_id(VENDOR));
    let report = peers.check(&[CURRENT], 5).await;
    assert_eq!(code_of(&report), Some(ErrorCode::ExternalIdNotEnforced), "{report:#?}");
    assert_eq!(step_code(&report, step::EXTERNAL_ID_ENFORCED), Some(ErrorCode::ExternalIdNotEnforced));
    assert!(report.step(step::LIST_INSTANCES).unwrap().ok);
}

/// Issue 13, defect 4: a trust policy that only asks for *some* external ID denies
/// a caller without one, yet trusts any ID; the probe with a random ID catches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_accepting_any_external_id_fails_the_negative_probe() {
    let peers = Peers::start().await;
    for (operator, value) in [("StringLike", "*"), ("Null", "false")] {
        peers.sts.put_role(ROLE, &trust_policy_with_condition(VENDOR, operator, value));
        let report = peers.check(&[CURRENT], 5).await;
        assert_eq!(code_of(&report), Some(ErrorCode::ExternalIdNotEnforced), "{operator}: {report:#?}");
        let probe = report.step(step::EXTERNAL_ID_ENFORCED).expect("negative probe");
        assert_eq!(probe.code, Some(ErrorCode::ExternalIdNotEnforced));
        assert!(probe.message.contains("random external ID"), "{operator}: {}", probe.message);
        assert!(report.step(step::ASSUME_ROLE_CURRENT).unwrap().ok, "{operator}");
    }
    // The call without an ID really was denied; the one with a random ID got in.
    let calls = peers.sts.calls();
    assert!(calls.iter().any(|c| !c.with_external_id && c.status == 403), "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagation_delay_is_waited_out() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    peers.sts.deny_for(ROLE, Duration::from_secs(3));
    let report = peers.check(&[CURRENT], 30).await;
    assert!(report.success, "{report:#?}");
    let denied_first = peers.sts.calls().iter().filter(|c| c.with_external_id && c.status == 403).count();
    assert!(denied_first >= 2, "the check retried through the propagation delay: {denied_first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagation_longer_than_the_timeout_fails() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    peers.sts.deny_for(ROLE, Duration::from_secs(300));
    let report = peers.check(&[CURRENT], 2).await;
    assert_eq!(code_of(&report), Some(ErrorCode::StsAssumeRoleFailed), "{report:#?}");
    assert!(report.message.contains("attempt"), "{}", report.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_not_reported() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    peers.sts.throttle(ROLE, 3);
    let report = peers.check(&[CURRENT], 30).await;
    assert!(report.success, "{report:#?}");
    assert!(peers.sts.calls().iter().filter(|c| c.status == 400).count() == 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_beyond_the_timeout_is_throttled() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    peers.sts.throttle(ROLE, u32::MAX);
    let report = peers.check(&[CURRENT], 1).await;
    assert_eq!(code_of(&report), Some(ErrorCode::Throttled), "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_instance_is_instance_not_found() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let raw = RawCheckRequest {
        sso_instance_arn: Some("arn:aws:sso:::instance/ssoins-0000000000000000".into()),
        ..peers.raw(&[CURRENT])
    };
    let report = peers.check_with(raw, peers.raw_settings(&peers.moto.endpoint(), 5)).await;
    assert_eq!(code_of(&report), Some(ErrorCode::InstanceNotFound), "{report:#?}");
    // The listed instances are named, so a typo is easy to spot.
    assert!(report.message.contains(&peers.instance_arn), "{}", report.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_in_another_account_is_account_mismatch() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let raw = RawCheckRequest { aws_account_id: Some("210987654321".into()), ..peers.raw(&[CURRENT]) };
    let report = peers.check_with(raw, peers.raw_settings(&peers.moto.endpoint(), 5)).await;
    assert_eq!(code_of(&report), Some(ErrorCode::AccountMismatch), "{report:#?}");
    assert!(report.message.contains(&peers.owner), "{}", report.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_instance_is_instance_not_active() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let front = SsoAdminFront::start(&peers.moto).await;
    front.instance_status("CREATE_IN_PROGRESS");
    let report = peers.check_with(peers.raw(&[CURRENT]), peers.raw_settings(&front.endpoint(), 5)).await;
    assert_eq!(code_of(&report), Some(ErrorCode::InstanceNotActive), "{report:#?}");
    assert!(report.message.contains("CREATE_IN_PROGRESS"), "{}", report.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_probe_is_access_denied_naming_the_action() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let front = SsoAdminFront::start(&peers.moto).await;
    front.deny("ListPermissionSets");
    let report = peers.check_with(peers.raw(&[CURRENT]), peers.raw_settings(&front.endpoint(), 5)).await;
    assert_eq!(code_of(&report), Some(ErrorCode::AccessDenied), "{report:#?}");
    assert_eq!(step_code(&report, "probe:sso:ListPermissionSets"), Some(ErrorCode::AccessDenied));
    assert!(report.message.contains("sso:ListPermissionSets"), "{}", report.message);
    // The other probe and the instance still passed through moto.
    assert!(report.step("probe:sso:ListPermissionSetsProvisionedToAccount").unwrap().ok);
    assert!(report.step(step::LIST_INSTANCES).unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_identity_store_read_is_access_denied() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let front = SsoAdminFront::start(&peers.moto).await;
    front.deny("ListUsers");
    let report = peers.check_with(peers.raw(&[CURRENT]), peers.raw_settings(&front.endpoint(), 5)).await;
    assert_eq!(code_of(&report), Some(ErrorCode::AccessDenied), "{report:#?}");
    assert_eq!(step_code(&report, "probe:identitystore:ListUsers"), Some(ErrorCode::AccessDenied));
    assert!(report.message.contains("identitystore:ListUsers"), "{}", report.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_level_probes_the_reads_of_its_permissions() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let front = SsoAdminFront::start(&peers.moto).await;
    let raw = RawCheckRequest { access_level: Some("admin".into()), ..peers.raw(&[CURRENT]) };
    let report = peers.check_with(raw, peers.raw_settings(&front.endpoint(), 5)).await;
    assert!(report.success, "{report:#?}");
    for action in connectivity::probed_actions(idcbootstrap::AccessLevel::Admin) {
        assert!(report.step(&format!("probe:{action}")).is_some_and(|s| s.ok), "{action}: {report:#?}");
    }
    // The status lists the front answers for moto are only probed above read_only.
    let front_denies = SsoAdminFront::start(&peers.moto).await;
    front_denies.deny("ListPermissionSetProvisioningStatus");
    let raw = RawCheckRequest { access_level: Some("admin".into()), ..peers.raw(&[CURRENT]) };
    let report = peers.check_with(raw, peers.raw_settings(&front_denies.endpoint(), 5)).await;
    assert_eq!(
        step_code(&report, "probe:sso:ListPermissionSetProvisioningStatus"),
        Some(ErrorCode::AccessDenied)
    );
    let read_only =
        peers.check_with(peers.raw(&[CURRENT]), peers.raw_settings(&front_denies.endpoint(), 5)).await;
    assert!(read_only.success, "{read_only:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_sts_is_network_error() {
    let peers = Peers::start().await;
    // A port that was just free: nothing listens there.
    let down = format!("http://127.0.0.1:{}", crate::util::free_port());
    let settings = RawSettings { sts_endpoint: Some(down), ..peers.raw_settings(&peers.moto.endpoint(), 30) };
    let report = peers.check_with(peers.raw(&[CURRENT]), settings).await;
    assert_eq!(code_of(&report), Some(ErrorCode::NetworkError), "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overall_deadline_answers_with_timeout() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    peers.sts.deny_for(ROLE, Duration::from_secs(300));
    let (req, settings) =
        connectivity::validate_all(&peers.raw(&[CURRENT]), &peers.raw_settings(&peers.moto.endpoint(), 120))
            .unwrap();
    let settings = settings.with_deadline(Instant::now() + Duration::from_secs(1));
    let report = connectivity::check(&req, &settings).await;
    assert_eq!(code_of(&report), Some(ErrorCode::Timeout), "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_role_is_not_configured() {
    let raw = RawCheckRequest { role_arn: None, ..RawCheckRequest::default() };
    let err = connectivity::validate_all(&raw, &RawSettings::default()).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotConfigured);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_every_field() {
    let raw = RawCheckRequest {
        role_arn: Some("arn:aws:iam::123456789012:user/not-a-role".into()),
        external_ids: Some(vec![ExternalId::new("bad id with spaces")]),
        sso_instance_arn: Some("arn:aws:sso:::instance/ssoins-1234567890abcdef".into()),
        aws_account_id: Some("123".into()),
        region: Some("eu-west-1".into()),
        access_level: None,
    };
    let settings = RawSettings { sso_admin_endpoint: Some("not a url".into()), ..RawSettings::default() };
    let err = connectivity::validate_all(&raw, &settings).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    let fields: Vec<String> = err.details.iter().map(|d| d.field.to_string()).collect();
    for f in ["role_arn", "aws_account_id", "external_ids[0]", "sso_admin_endpoint"] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }
    assert!(!serde_json::to_string(&err).unwrap().contains("bad id with spaces"));
}

/// Issue 13, defect 10, for settings built in code (which skip validation): an
/// override to another host over plain http is refused before any request is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_built_in_code_refuse_plain_http_to_another_host() {
    let sts = FaultServer::start(Fault::NeverAnswer).await;
    let raw = RawCheckRequest {
        role_arn: Some(ROLE.into()),
        external_ids: Some(vec![ExternalId::new(CURRENT)]),
        sso_instance_arn: Some("arn:aws:sso:::instance/ssoins-1234567890abcdef".into()),
        aws_account_id: Some("123456789012".into()),
        region: Some(REGION.into()),
        access_level: None,
    };
    let req = connectivity::CheckRequest::validate(&raw).unwrap();
    // The stand-in's port, under a name that is not loopback: nothing may reach it.
    let remote = sts.endpoint().replace("127.0.0.1", "sts.example.com");
    let settings = Settings::default().with_endpoints(Some(remote), None);
    let report = connectivity::check(&req, &settings).await;
    assert_eq!(code_of(&report), Some(ErrorCode::InvalidInput), "{report:#?}");
    assert!(report.message.contains("sts_endpoint"), "{}", report.message);
    assert_eq!(sts.requests(), 0);
    assert_no_secrets(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_built_in_code_work_too() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let req = connectivity::CheckRequest::validate(&peers.raw(&[CURRENT])).unwrap();
    let settings = Settings::default()
        .with_endpoints(Some(peers.sts.endpoint()), Some(peers.moto.endpoint()))
        .with_identitystore_endpoint(Some(peers.moto.endpoint()))
        .with_propagation_timeout(Duration::from_secs(5))
        .with_credentials(BaseCredentials::Static {
            access_key_id: VENDOR_KEY.into(),
            secret_access_key: Secret::new(VENDOR_SECRET),
            session_token: None,
        });
    let report = connectivity::check(&req, &settings).await;
    assert!(report.success, "{report:#?}");
}

// ---------------------------------------------------------------- fault injection
//
// Endpoints that misbehave (tests/util/faults.rs): the check must answer, with the
// right code and a message of bounded size, whatever they do. Each check runs with a
// 2 s attempt timeout and under a 90 s guard that only catches a hang.

/// Runs the check with `sts` and `sso_admin` as endpoints and a 2 s attempt timeout.
async fn check_against(peers: &Peers, sts: String, sso_admin: String) -> CheckReport {
    let settings = RawSettings { sts_endpoint: Some(sts), ..peers.raw_settings(&sso_admin, 5) };
    let (req, settings) = connectivity::validate_all(&peers.raw(&[CURRENT]), &settings).expect("valid input");
    let settings = settings.with_attempt_timeout(Duration::from_secs(2));
    let report = tokio::time::timeout(Duration::from_secs(90), connectivity::check(&req, &settings))
        .await
        .expect("the check answers, whatever the endpoint does");
    assert_no_secrets(&report);
    let size = serde_json::to_string(&report).unwrap().len();
    assert!(size < 8 * 1024, "the report stays small whatever the endpoint sent: {size} bytes");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_that_never_answers_or_drips_is_timeout() {
    let peers = Peers::start().await;
    for fault in [Fault::NeverAnswer, Fault::Drip] {
        let sts = FaultServer::start(fault).await;
        let report = check_against(&peers, sts.endpoint(), peers.moto.endpoint()).await;
        assert_eq!(code_of(&report), Some(ErrorCode::Timeout), "{fault:?}: {report:#?}");
        assert!(sts.requests() >= 1, "{fault:?}: the stand-in was asked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_answering_100_mb_is_refused_unread() {
    let peers = Peers::start().await;
    let sts = FaultServer::start(Fault::HugeBody(100 << 20)).await;
    let report = check_against(&peers, sts.endpoint(), peers.moto.endpoint()).await;
    assert_eq!(code_of(&report), Some(ErrorCode::NetworkError), "{report:#?}");
    assert!(report.message.contains("bytes accepted"), "{}", report.message);
}

/// A chunked answer declares no length: the check stops reading at its cap instead
/// of holding 100 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_answering_100_mb_chunked_stops_reading_at_the_cap() {
    let peers = Peers::start().await;
    let sts = FaultServer::start(Fault::HugeChunked(100 << 20)).await;
    let report = check_against(&peers, sts.endpoint(), peers.moto.endpoint()).await;
    assert_eq!(code_of(&report), Some(ErrorCode::NetworkError), "{report:#?}");
    assert!(report.message.contains("ran past"), "{}", report.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_admin_that_never_answers_drips_or_answers_100_mb_fails_in_bounds() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    for (fault, code) in [
        (Fault::NeverAnswer, ErrorCode::Timeout),
        (Fault::Drip, ErrorCode::Timeout),
        (Fault::HugeBody(100 << 20), ErrorCode::NetworkError),
        (Fault::HugeChunked(100 << 20), ErrorCode::NetworkError),
    ] {
        let sso = FaultServer::start(fault).await;
        let report = check_against(&peers, peers.sts.endpoint(), sso.endpoint()).await;
        assert_eq!(step_code(&report, step::LIST_INSTANCES), Some(code), "{fault:?}: {report:#?}");
        assert!(report.step(step::ASSUME_ROLE_CURRENT).unwrap().ok, "{fault:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_admin_looping_next_token_is_instance_not_found_after_bounded_pages() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let sso = FaultServer::start(Fault::LoopNextToken).await;
    let report = check_against(&peers, peers.sts.endpoint(), sso.endpoint()).await;
    assert_eq!(step_code(&report, step::LIST_INSTANCES), Some(ErrorCode::InstanceNotFound), "{report:#?}");
    // ListInstances pages, plus one call per probe: the loop stopped.
    assert!(sso.requests() <= 40, "{} requests", sso.requests());
}

/// Issue 13, defect 11: `instance_not_found` names a few of the instances listed,
/// not all of them, however many an endpoint returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_admin_listing_10000_instances_gives_a_bounded_message() {
    let peers = Peers::start().await;
    peers.sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
    let sso = FaultServer::start(Fault::ManyInstances(10_000)).await;
    let report = check_against(&peers, peers.sts.endpoint(), sso.endpoint()).await;
    let list = report.step(step::LIST_INSTANCES).unwrap();
    assert_eq!(list.code, Some(ErrorCode::InstanceNotFound), "{report:#?}");
    assert!(list.message.contains("and 9995 more"), "{}", list.message);
    assert!(list.message.len() < 1024, "{} bytes", list.message.len());
}
