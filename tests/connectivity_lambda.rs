//! The connectivity check through the CloudFormation Lambda, against local AWS peers.
//!
//! The real `bootstrap` binary runs under cargo-lambda's Runtime API emulator (or
//! the strict stand-in where a case needs a real deadline), answers to the
//! recording S3 stand-in, assumes the trust role at the STS stand-in (which
//! enforces trust policies and external IDs; moto does not) and reads sso-admin
//! and identitystore from moto. The function's base credentials come from its
//! environment, as in Lambda. See `util/lambda.rs` and `util/aws.rs` for the peers.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::aws::{Moto, StsStandIn, trust_policy};
use crate::util::lambda::{Outcome, Put, RESPONSE_URL_SIGNATURE, RuntimeApi, S3StandIn, cfn_event};
use crate::util::sweep::Sweep;

const CHECK: &str = "Custom::IdcConnectivityCheck";
const REGION: &str = "eu-west-1";
const VENDOR_KEY: &str = "AKIAVENDOR0EXAMPLE01";
const VENDOR_SECRET: &str = "vendor-secret-key-never-shown";
const VENDOR: &str = "arn:aws:iam::111111111111:role/vendor-connector";
const ROLE: &str = "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole";
const CURRENT: &str = "current-external-id-4f1c2a9e7b";
const WRONG: &str = "wrong-external-id-0c9d8e7f6a";
const LONG: Duration = Duration::from_secs(600);

/// Moto, the STS stand-in knowing the vendor's key, and the S3 stand-in.
struct Peers {
    moto: Moto,
    sts: StsStandIn,
    s3: S3StandIn,
    instance_arn: String,
    owner: String,
}

impl Peers {
    async fn start() -> Peers {
        let moto = Moto::start();
        let (instance_arn, owner) = moto.sso_instance(REGION).await;
        let sts = StsStandIn::start().await;
        sts.add_caller(VENDOR_KEY, VENDOR);
        sts.put_role(ROLE, &trust_policy(VENDOR, &[CURRENT]));
        Peers { moto, sts, s3: S3StandIn::start(0).await, instance_arn, owner }
    }

    /// The properties as CloudFormation sends them (all strings).
    fn props(&self, external_id: &str, propagation_secs: u64) -> Value {
        json!({
            "RoleArn": ROLE,
            "ExternalIds": [external_id],
            "SsoInstanceArn": self.instance_arn,
            "AwsAccountId": self.owner,
            "Region": REGION,
            "AccessLevel": "read_only",
            "PropagationTimeout": propagation_secs.to_string(),
        })
    }

    /// The function's environment in Lambda: its execution role's credentials, the
    /// endpoints of the local peers (the function's configuration: a stack cannot
    /// set them), and no state key: the check does not need one (only
    /// `Custom::IdcExternalId` does).
    fn lambda_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", VENDOR_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", VENDOR_SECRET.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("IDCBOOTSTRAP_STATE_KEY", String::new()),
            ("IDCBOOTSTRAP_STS_ENDPOINT", self.sts.endpoint()),
            ("IDCBOOTSTRAP_SSO_ADMIN_ENDPOINT", self.moto.endpoint()),
            ("IDCBOOTSTRAP_IDENTITYSTORE_ENDPOINT", self.moto.endpoint()),
        ]
    }

    fn physical_id(&self) -> String {
        let instance = self.instance_arn.rsplit('/').next().unwrap();
        format!("{ROLE}#connectivity-check:{instance}")
    }
}

/// `env` as the emulators take it, plus `extra`.
fn env<'a>(
    env: &'a [(&'static str, String)],
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'a str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).chain(extra.iter().copied()).collect()
}

/// The one answer CloudFormation got for `event`: one PUT, ≤ 4096 bytes of JSON
/// echoing the request.
async fn call(api: &RuntimeApi, s3: &S3StandIn, event: &Value, deadline_in: Duration) -> Value {
    let before = s3.puts().len();
    let outcome = api.invoke(event.clone(), deadline_in).await;
    assert!(matches!(outcome, Outcome::Response(_)), "{outcome:?}\nlogs:\n{}", api.logs());
    let puts = s3.puts();
    assert_eq!(puts.len(), before + 1, "exactly one PUT per event");
    check_put(&puts[before], event)
}

fn check_put(put: &Put, event: &Value) -> Value {
    assert_eq!(put.method, "PUT");
    assert!(put.body.len() <= 4096, "{} bytes", put.body.len());
    let body = put.json();
    for key in ["StackId", "RequestId", "LogicalResourceId"] {
        assert_eq!(body[key], event[key], "{key}");
    }
    body
}

/// The secrets sweep of one scenario (issue 13): no external ID and no credential
/// (the function's access key and secret key, every secret key and session token
/// the STS stand-in issued, the `ResponseURL`'s signature) in any line the function
/// logged, anything it reported to the Runtime API, or any part of any answer
/// CloudFormation got. The check's answers carry no ID by design (it has no ID
/// output in `sweep::ID_OUTPUTS`), so the IDs are given as input only
/// (`Sweep::given_ids`) and allowed nowhere here.
fn assert_no_secrets(scenario: &str, api: &RuntimeApi, peers: &Peers) {
    assert!(!api.logs().is_empty(), "the function logged nothing (log dir {})", api.log_dir().display());
    let mut sweep = Sweep::new(scenario);
    sweep
        .given_ids(&[CURRENT, WRONG])
        .credential(VENDOR_KEY)
        .credential(VENDOR_SECRET)
        // Any issued secret key or token, whole or cut short.
        .credential("standin-secret")
        .credential("standin-token")
        .credential(RESPONSE_URL_SIGNATURE)
        .function(api)
        .cfn_responses(&peers.s3.bodies());
    for secret in peers.sts.issued_secrets() {
        sweep.credential(&secret);
    }
    sweep.check();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_role_succeeds_and_update_rechecks_under_the_same_id() {
    let peers = Peers::start().await;
    // At the most verbose level: the AWS SDK would log the AssumeRole request (with
    // the external ID) at TRACE; assert_no_secrets reads every line.
    let api = RuntimeApi::cargo_lambda(&env(&peers.lambda_env(), &[("IDCBOOTSTRAP_LOG", "trace")]));
    let url = peers.s3.url("check");

    let create = cfn_event("Create", CHECK, "Check", None, peers.props(CURRENT, 10), None, &url);
    let created = call(&api, &peers.s3, &create, LONG).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}\nlogs:\n{}", api.logs());
    assert_eq!(created["PhysicalResourceId"], peers.physical_id());
    let data = &created["Data"];
    assert_eq!(data["Success"], "true", "{data}");
    let message = data["Message"].as_str().unwrap();
    assert!(message.contains(&peers.instance_arn) && message.contains(ROLE), "{message}");
    let steps = data["Steps"].as_str().unwrap();
    for step in ["assume_role_current ok", "list_instances ok", "external_id_enforced ok"] {
        assert!(steps.contains(step), "{step} missing: {steps}");
    }
    // The role was really assumed with the ID, and the negative probe was refused.
    let calls = peers.sts.calls();
    assert!(calls.iter().any(|c| c.with_external_id && c.status == 200), "{calls:?}");
    assert!(calls.iter().any(|c| !c.with_external_id && c.status == 403), "{calls:?}");

    // An Update (here: a longer propagation timeout) runs the check again and keeps the ID.
    let calls_before = peers.sts.calls().len();
    let physical = peers.physical_id();
    let update = cfn_event(
        "Update",
        CHECK,
        "Check",
        Some(&physical),
        peers.props(CURRENT, 20),
        Some(peers.props(CURRENT, 10)),
        &url,
    );
    let updated = call(&api, &peers.s3, &update, LONG).await;
    assert_eq!(updated["Status"], "SUCCESS", "{updated}");
    assert_eq!(updated["PhysicalResourceId"], physical);
    assert!(peers.sts.calls().len() > calls_before, "the Update ran the check");

    // Delete calls nothing.
    let calls_before = peers.sts.calls().len();
    let delete = cfn_event("Delete", CHECK, "Check", Some(&physical), peers.props(CURRENT, 20), None, &url);
    let deleted = call(&api, &peers.s3, &delete, LONG).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert_eq!(deleted["PhysicalResourceId"], physical);
    assert_eq!(peers.sts.calls().len(), calls_before, "Delete made no AWS call");

    assert_no_secrets("good_role_succeeds_and_update_rechecks_under_the_same_id", &api, &peers);
    api.stop().await;
    peers.s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_external_id_fails_with_sts_assume_role_failed() {
    let peers = Peers::start().await;
    let api = RuntimeApi::cargo_lambda(&env(&peers.lambda_env(), &[]));
    let url = peers.s3.url("check");

    let create = cfn_event("Create", CHECK, "Check", None, peers.props(WRONG, 2), None, &url);
    let answer = call(&api, &peers.s3, &create, LONG).await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(reason.starts_with("sts_assume_role_failed: "), "{reason}");
    assert_eq!(answer["PhysicalResourceId"], "Check-not-created");
    assert!(answer.get("Data").is_none_or(|d| d.as_object().is_none_or(|m| m.is_empty())), "{answer}");
    assert!(peers.sts.calls().len() > 1, "denials were retried within PropagationTimeout");
    eprintln!("Reason of a failed check: {reason}");

    assert_no_secrets("wrong_external_id_fails_with_sts_assume_role_failed", &api, &peers);
    api.stop().await;
    peers.s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagation_longer_than_the_lambda_deadline_answers_timeout_in_time() {
    let peers = Peers::start().await;
    // IAM "propagates" for ten minutes; the function has seconds.
    peers.sts.deny_for(ROLE, Duration::from_secs(600));
    let api = RuntimeApi::strict(&env(&peers.lambda_env(), &[])).await;
    let url = peers.s3.url("check");

    let create = cfn_event("Create", CHECK, "Check", None, peers.props(CURRENT, 3600), None, &url);
    // Answered before the deadline: the strict emulator ends the invocation there.
    let answer = call(&api, &peers.s3, &create, Duration::from_secs(8)).await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(reason.starts_with("timeout: "), "{reason}");
    // The check answered itself, with what it was doing, before the handler's guard.
    assert!(!reason.contains("did not finish before the Lambda deadline"), "the guard answered: {reason}");
    assert!(reason.contains("assume_role_current"), "{reason}");
    assert!(peers.sts.calls().len() > 1, "it kept retrying until the deadline");

    // Nothing else arrives later: exactly one answer.
    let puts = peers.s3.wait_for(2, Duration::from_secs(3)).await;
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert!(api.init_errors().is_empty());

    assert_no_secrets("propagation_longer_than_the_lambda_deadline_answers_timeout_in_time", &api, &peers);
    api.stop().await;
    peers.s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_properties_fail_by_name_and_delete_still_succeeds() {
    let peers = Peers::start().await;
    let api = RuntimeApi::cargo_lambda(&env(&peers.lambda_env(), &[]));
    let url = peers.s3.url("check");

    let mut props = peers.props(CURRENT, 2);
    props["RoleArn"] = json!("arn:aws:iam::12345:role/IdcBootstrapTrustRole");
    let create = cfn_event("Create", CHECK, "Check", None, props.clone(), None, &url);
    let answer = call(&api, &peers.s3, &create, LONG).await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(reason.starts_with("invalid_input: 1 property is invalid — RoleArn (pattern): "), "{reason}");

    // A stack naming where the signed AssumeRole (with the external ID) goes.
    let mut stolen = peers.props(CURRENT, 2);
    stolen["StsEndpoint"] = json!(peers.sts.endpoint());
    let create = cfn_event("Create", CHECK, "Check", None, stolen, None, &url);
    let answer = call(&api, &peers.s3, &create, LONG).await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(reason.contains("StsEndpoint (configuration)"), "{reason}");

    props["ExternalIds"] = json!(["x"]);
    props["PropagationTimeout"] = json!("forever");
    let delete = cfn_event("Delete", CHECK, "Check", Some("Check-not-created"), props, None, &url);
    let deleted = call(&api, &peers.s3, &delete, LONG).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert_eq!(deleted["PhysicalResourceId"], "Check-not-created");

    assert!(peers.sts.calls().is_empty(), "invalid input and Delete call no AWS API");
    assert_no_secrets("invalid_properties_fail_by_name_and_delete_still_succeeds", &api, &peers);
    api.stop().await;
    peers.s3.stop().await;
}
