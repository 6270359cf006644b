//! The vendor types of the CloudFormation Lambda against the real vendor API.
//!
//! The real `bootstrap` runs under cargo-lambda's Runtime API emulator and answers
//! the recording S3 stand-in (`util/lambda.rs`); it calls the real
//! `idcbootstrap-server` binary over HTTP (`util/server.rs`, SQLite), which tests
//! roles with its own principal at the STS stand-in (trust policies and external IDs
//! enforced; moto does not) and reads sso-admin from moto. No part of the API is
//! mocked. The stack's events are sent in the order CloudFormation sends those of
//! `examples/cloudformation/example-stack.yaml`, with the properties it gives them,
//! and the stand-in's role plays `AWS::IAM::Role`, created and updated from the
//! rendered trust policy.
//!
//! * the journey: vendor IDs → template → role → registration, tested while the new
//!   role is still "propagating" (denied for a few seconds);
//! * the rotation runbook, CloudFormation side: vendor rotate → stack update (the
//!   role trusts both IDs, the vendor's test passes with both) → vendor commit →
//!   stack update (only the new ID) — and no test fails at any point;
//! * failures in the product's error model: a role the vendor cannot assume fails
//!   the Create with `sts_assume_role_failed` and leaves nothing registered; a
//!   revoked or foreign token names `ApiToken` / `TenantId`; the Delete of a
//!   registration never made succeeds without a call;
//! * the token and the external IDs in no log line, no reason, and the IDs only in
//!   `NoEcho` answers.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::aws::{Moto, StsStandIn};
use crate::util::lambda::{Outcome, RESPONSE_URL_SIGNATURE, RuntimeApi, S3StandIn, cfn_event};
use crate::util::server::{
    Api, DATA_KEY, Deployment, Endpoints, REGION, VENDOR, VENDOR_KEY, VENDOR_SECRET, uuid,
};
use crate::util::sweep::Sweep;

const IDS: &str = "Custom::IdcVendorExternalIds";
const TEMPLATE: &str = "Custom::IdcBootstrapTemplate";
const REGISTRATION: &str = "Custom::IdcVendorRegistration";
const LONG: Duration = Duration::from_secs(600);
/// A token the vendor does not know (revoked, or never issued).
const REVOKED: &str = "idcb_revoked0000000000000000000000000000";

/// Runs blocking work (the server's CLI, its synchronous client) off the runtime's
/// workers' async duties.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Every peer of one test: moto, the STS stand-in that knows the vendor's key, the
/// S3 stand-in, one `idcbootstrap-server` on SQLite with one tenant, and `bootstrap`.
struct Stack {
    moto: Moto,
    sts: StsStandIn,
    s3: S3StandIn,
    dep: Deployment,
    server: crate::util::server::Server,
    lambda: RuntimeApi,
    instance_arn: String,
    owner: String,
    tenant: String,
    token: String,
    /// The tenant's API client, as the vendor's own tools use it.
    vendor: Api,
}

impl Stack {
    /// Under cargo-lambda's emulator (its deadline is always ten minutes).
    async fn start() -> Stack {
        Stack::start_under(false).await
    }

    /// Under the strict Runtime API stand-in when `strict` (a real deadline per invoke).
    async fn start_under(strict: bool) -> Stack {
        let moto = Moto::start();
        let (instance_arn, owner) = moto.sso_instance(REGION).await;
        let sts = StsStandIn::start().await;
        sts.add_caller(VENDOR_KEY, VENDOR);
        let endpoints = Endpoints { sts: sts.endpoint(), sso_admin: moto.endpoint() };
        let (dep, server, tenant, token) = blocking(|| {
            let mut dep = Deployment::sqlite(endpoints).env("IDCBOOTSTRAP_LOG", "trace");
            let server = dep.start();
            let tenant = uuid();
            let token = dep.token(&tenant);
            (dep, server, tenant, token)
        });
        let vendor = server.api(&token, &tenant);
        // The vendor types need no state key and no AWS credentials; answers go to
        // the S3 stand-in on loopback. Both processes log at trace, so the secret
        // checks see everything either could write.
        let env = [
            ("IDCBOOTSTRAP_STATE_KEY", ""),
            ("IDCBOOTSTRAP_LOG", "trace"),
            ("IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS", "http://127.0.0.1"),
        ];
        let lambda = if strict { RuntimeApi::strict(&env).await } else { RuntimeApi::cargo_lambda(&env) };
        Stack {
            moto,
            sts,
            s3: S3StandIn::start(0).await,
            dep,
            server,
            lambda,
            instance_arn,
            owner,
            tenant,
            token,
            vendor,
        }
    }

    fn api_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The API settings as the example stack passes them (the token resolved from
    /// its Secrets Manager dynamic reference).
    fn api_props(&self, token: &str) -> Value {
        json!({ "ApiUrl": self.api_url(), "TenantId": self.tenant, "ApiToken": token })
    }

    fn ids_props(&self, refresh: &str) -> Value {
        let mut p = self.api_props(&self.token);
        p["Refresh"] = json!(refresh);
        p
    }

    fn template_props(&self, all: &str) -> Value {
        json!({
            "AwsAccountId": self.owner,
            "SsoInstanceArn": self.instance_arn,
            "Region": REGION,
            "TrustedPrincipalArn": VENDOR,
            "ExternalIds": all.split(',').collect::<Vec<_>>(),
            "RoleName": "IdcBootstrapTrustRole",
            "RolePath": "/idcbootstrap/",
            "AccessLevel": "read_only",
            "MaxSessionDuration": "3600",
            "Tags": { "managed-by": "idcbootstrap" },
        })
    }

    fn registration_props(&self, role: &str, all: &str, propagation: &str) -> Value {
        let mut p = self.api_props(&self.token);
        for (k, v) in [
            ("RoleArn", json!(role)),
            ("SsoInstanceArn", json!(self.instance_arn)),
            ("Region", json!(REGION)),
            ("Test", json!("true")),
            ("PropagationTimeout", json!(propagation)),
            ("ExternalIds", json!(all.split(',').collect::<Vec<_>>())),
        ] {
            p[k] = v;
        }
        p
    }

    /// Sends one event and returns CloudFormation's answer: exactly one PUT of at
    /// most 4096 bytes, echoing the request.
    async fn send(&self, event: Value) -> Value {
        self.send_within(event, LONG).await
    }

    /// [`Stack::send`] with the Lambda deadline `deadline_in` from now (strict emulator).
    async fn send_within(&self, event: Value, deadline_in: Duration) -> Value {
        let before = self.s3.puts().len();
        let outcome = self.lambda.invoke(event.clone(), deadline_in).await;
        assert!(matches!(outcome, Outcome::Response(_)), "{outcome:?}\nlogs:\n{}", self.lambda.logs());
        let puts = self.s3.puts();
        assert_eq!(puts.len(), before + 1, "exactly one answer per event");
        let put = &puts[before];
        assert!(put.body.len() <= 4096, "{} bytes", put.body.len());
        let body = put.json();
        for key in ["StackId", "RequestId", "LogicalResourceId"] {
            assert_eq!(body[key], event[key], "{key}");
        }
        body
    }

    /// Create or Update of `logical` (Update when `physical` is given), expected to succeed.
    async fn apply(
        &self,
        kind: &str,
        logical: &str,
        physical: Option<&str>,
        props: Value,
        old: Option<Value>,
    ) -> Value {
        let (rtype, url) = (resource_type(logical), self.s3.url(logical));
        let answer = self.send(cfn_event(kind, rtype, logical, physical, props, old, &url)).await;
        assert_eq!(answer["Status"], "SUCCESS", "{kind} {logical}: {answer}\nlogs:\n{}", self.lambda.logs());
        answer
    }

    /// The role, as `AWS::IAM::Role` creates or updates it from the template's answer.
    fn put_role(&self, template: &Value) -> String {
        let role = s(&template["Data"], "RoleArn").to_owned();
        self.sts.put_role(&role, s(&template["Data"], "TrustPolicy"));
        role
    }

    /// `GET config` at the vendor.
    fn held(&self) -> Value {
        blocking(|| self.vendor.get("config").expect(200))
    }

    /// The secrets sweep of one scenario (issue 13): the token (and `tokens`, others
    /// the scenario used), the server's data key, every AWS secret key and session
    /// token, the `ResponseURL`'s signature and the external IDs `ids` in no line the
    /// function or any server process wrote, nothing the function reported to the
    /// Runtime API, no part of an answer to CloudFormation and no reply of the vendor
    /// API. The IDs may appear only in the outputs meant to return them: the `NoEcho`
    /// `Current`/`Pending`/`All` of the vendor's IDs and `TrustPolicy`/`ExternalIds`/
    /// `LaunchStackUrl` of the template (`sweep::ID_OUTPUTS`; the registration has
    /// none), and the successful replies of GET external-id, rotate and commit
    /// (`sweep::ID_REPLIES`). Each of `ids` must be found in one of them.
    fn assert_no_secrets(&self, scenario: &str, ids: &[&str], tokens: &[&str]) {
        let mut sweep = Sweep::new(scenario);
        sweep
            .external_ids(ids)
            .credential(&self.token)
            .credential(DATA_KEY)
            .credential(VENDOR_KEY)
            .credential(VENDOR_SECRET)
            // Any secret key or token the STS stand-in issued, whole or cut short.
            .credential("standin-secret")
            .credential("standin-token")
            .credential(RESPONSE_URL_SIGNATURE)
            .function(&self.lambda)
            .cfn_responses(&self.s3.bodies())
            .vendor_api(&self.dep);
        for secret in tokens.iter().copied().map(str::to_owned).chain(self.sts.issued_secrets()) {
            sweep.credential(&secret);
        }
        sweep.check();
    }
}

fn resource_type(logical: &str) -> &'static str {
    match logical {
        "VendorExternalIds" => IDS,
        "Template" => TEMPLATE,
        _ => REGISTRATION,
    }
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_else(|| panic!("no string `{field}` in {v}"))
}

/// The whole stack, then the rotation runbook on its CloudFormation side, then the
/// stack's deletion: every registration test passes, including the first one,
/// which waits out the new role's propagation.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn the_stack_registers_a_tested_role_and_rotates_without_a_failing_test() {
    let st = Stack::start().await;

    // 1. The vendor's IDs (issued on first read).
    let ids = st.apply("Create", "VendorExternalIds", None, st.ids_props("1"), None).await;
    assert_eq!(ids["PhysicalResourceId"], format!("{}#vendor-external-ids", st.tenant));
    assert_eq!(ids["NoEcho"], true, "the IDs are secrets: {ids}");
    let first = s(&ids["Data"], "Current").to_owned();
    assert_eq!((s(&ids["Data"], "Pending"), s(&ids["Data"], "All")), ("", first.as_str()));
    let held_ids = blocking(|| st.vendor.get("external-id").expect(200));
    assert_eq!(s(&held_ids, "external_id"), first);

    // 2. The template, from `All`; 3. the role, from its trust policy, not yet
    // assumable (IAM propagation: denied for longer than the server waits by itself).
    let template = st.apply("Create", "Template", None, st.template_props(&first), None).await;
    let role = st.put_role(&template);
    st.sts.deny_for(&role, Duration::from_secs(5));

    // 4. The registration: saved, then tested by the vendor until the role works.
    let reg_props = st.registration_props(&role, &first, "60");
    let reg = st.apply("Create", "Registration", None, reg_props.clone(), None).await;
    let reg_id = format!("{}#vendor-registration", st.tenant);
    assert_eq!(reg["PhysicalResourceId"], reg_id);
    assert_eq!(reg["Data"]["Configured"], "true", "{reg}");
    assert_ne!(reg["NoEcho"], true, "nothing secret to hide: {reg}");
    let held = st.held();
    assert_eq!(
        (s(&held, "role_arn"), s(&held, "sso_instance_arn")),
        (role.as_str(), st.instance_arn.as_str())
    );
    let calls = st.sts.calls();
    assert!(
        calls.iter().any(|c| c.with_external_id && c.status == 200),
        "the vendor's test should have assumed the role with its ID: {calls:?}"
    );
    let logs = st.lambda.logs();
    assert!(logs.contains("testing again"), "the function should have asked the vendor again:\n{logs}");
    // From here on, every test passes at the first ask: the client logs each retry.
    let retries = |st: &Stack| st.lambda.logs().matches("testing again").count();
    let retries_after_create = retries(&st);

    // The rotation runbook. Vendor: rotate.
    let rotated = blocking(|| st.vendor.post("external-id/rotate", &json!({})).expect(200));
    let second = s(&rotated, "external_id_pending").to_owned();
    let both = format!("{first},{second}");
    // Between the vendor's rotate and the customer's update, an update of the
    // registration that did not read the IDs again (or the rollback of a failed
    // step 2, which puts the old properties back) cannot have the vendor test with
    // an ID the role does not trust: it registers, warns, and does not fail.
    let calls_before = st.sts.calls().len();
    st.apply("Update", "Registration", Some(&reg_id), reg_props.clone(), Some(reg_props.clone())).await;
    assert_eq!(st.sts.calls().len(), calls_before, "no test may run with an ID the role lacks");
    assert!(st.lambda.logs().contains("registered without the vendor's test"), "{}", st.lambda.logs());

    // Customer: stack update (VendorIdsRevision=2). IDs, then template, then role,
    // then registration, in the stack's dependency order.
    let ids2 = st
        .apply(
            "Update",
            "VendorExternalIds",
            Some(s(&ids, "PhysicalResourceId")),
            st.ids_props("2"),
            Some(st.ids_props("1")),
        )
        .await;
    assert_eq!(ids2["PhysicalResourceId"], ids["PhysicalResourceId"], "a rotation is no replacement");
    assert_eq!((s(&ids2["Data"], "Current"), s(&ids2["Data"], "Pending")), (first.as_str(), second.as_str()));
    assert_eq!(s(&ids2["Data"], "All"), both);
    let template2 = st
        .apply(
            "Update",
            "Template",
            Some(s(&template, "PhysicalResourceId")),
            st.template_props(&both),
            Some(st.template_props(&first)),
        )
        .await;
    let trust2 = s(&template2["Data"], "TrustPolicy");
    assert!(trust2.contains(&first) && trust2.contains(&second), "the role trusts both IDs: {trust2}");
    assert_eq!(st.put_role(&template2), role);
    let calls_before = st.sts.calls().len();
    let reg2_props = st.registration_props(&role, &both, "60");
    let reg2 = st.apply("Update", "Registration", Some(&reg_id), reg2_props.clone(), Some(reg_props)).await;
    assert_eq!(reg2["PhysicalResourceId"], reg_id);
    // The vendor tested the role with both IDs (one assume each; its negative
    // probes, without an ID and with a random one, are refused as they must be).
    let calls: Vec<_> = st.sts.calls().into_iter().skip(calls_before).collect();
    let assumed = calls.iter().filter(|c| c.with_external_id && c.status == 200).count();
    assert!(assumed >= 2, "{calls:?}");

    // Vendor: commit (allowed: the test with the pending ID passed).
    let committed = blocking(|| st.vendor.post("external-id/commit", &json!({})).expect(200));
    assert_eq!(s(&committed, "external_id"), second);

    // Customer: stack update again (VendorIdsRevision=3): only the new ID.
    let ids3 = st
        .apply(
            "Update",
            "VendorExternalIds",
            Some(s(&ids, "PhysicalResourceId")),
            st.ids_props("3"),
            Some(st.ids_props("2")),
        )
        .await;
    assert_eq!(
        (s(&ids3["Data"], "Current"), s(&ids3["Data"], "Pending"), s(&ids3["Data"], "All")),
        (second.as_str(), "", second.as_str())
    );
    let template3 = st
        .apply(
            "Update",
            "Template",
            Some(s(&template, "PhysicalResourceId")),
            st.template_props(&second),
            Some(st.template_props(&both)),
        )
        .await;
    let trust3 = s(&template3["Data"], "TrustPolicy");
    assert!(trust3.contains(&second) && !trust3.contains(&first), "only the new ID: {trust3}");
    st.put_role(&template3);
    let reg3_props = st.registration_props(&role, &second, "60");
    st.apply("Update", "Registration", Some(&reg_id), reg3_props.clone(), Some(reg2_props)).await;
    // At no point did the vendor's test fail once the role had propagated.
    assert_eq!(
        retries(&st),
        retries_after_create,
        "a test failed during the rotation:\n{}",
        st.lambda.logs()
    );
    let direct = blocking(|| st.vendor.post("test", &json!({})).expect(200));
    assert_eq!(direct["success"], true, "{direct}");

    // Stack deletion: the registration is removed, the IDs stay with the vendor.
    st.apply("Delete", "Registration", Some(&reg_id), reg3_props, None).await;
    assert_eq!(st.held()["configured"], false);
    st.apply("Delete", "VendorExternalIds", Some(s(&ids, "PhysicalResourceId")), st.ids_props("3"), None)
        .await;
    assert_eq!(s(&blocking(|| st.vendor.get("external-id").expect(200)), "external_id"), second);

    st.assert_no_secrets(
        "the_stack_registers_a_tested_role_and_rotates_without_a_failing_test",
        &[&first, &second],
        &[],
    );
    drop(st.moto);
}

/// What goes wrong comes back in the product's error model, with the API's code,
/// and leaves nothing half-applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn failures_name_the_code_and_the_property_and_leave_nothing_registered() {
    let st = Stack::start().await;
    let ids = st.apply("Create", "VendorExternalIds", None, st.ids_props("1"), None).await;
    let first = s(&ids["Data"], "Current").to_owned();
    let template = st.apply("Create", "Template", None, st.template_props(&first), None).await;
    let role = s(&template["Data"], "RoleArn").to_owned();
    // The role trusts another ID: the vendor cannot assume it.
    st.sts.put_role(&role, &crate::util::aws::trust_policy(VENDOR, &["someone-elses-id-0000"]));

    let url = st.s3.url("Registration");
    let create = cfn_event(
        "Create",
        REGISTRATION,
        "Registration",
        None,
        st.registration_props(&role, &first, "1"),
        None,
        &url,
    );
    let failed = st.send(create).await;
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    let reason = s(&failed, "Reason");
    assert!(reason.starts_with("sts_assume_role_failed: the vendor API's POST test failed"), "{reason}");
    // The Create put back what the vendor held: nothing.
    assert_eq!(st.held()["configured"], false, "a failed Create must not leave a registration");
    // CloudFormation's rollback deletes what never got made: no call, success.
    let never = s(&failed, "PhysicalResourceId").to_owned();
    let rollback = cfn_event(
        "Delete",
        REGISTRATION,
        "Registration",
        Some(&never),
        st.registration_props(&role, &first, "1"),
        None,
        &url,
    );
    assert_eq!(st.send(rollback).await["Status"], "SUCCESS");

    // A registration the vendor held before (made elsewhere) is put back the same way.
    let before = format!("arn:aws:iam::{}:role/registered-before", st.owner);
    let earlier = json!({ "sso_instance_arn": st.instance_arn, "role_arn": before, "region": REGION });
    blocking(|| st.vendor.put("config", &earlier).expect(200));
    let create = cfn_event(
        "Create",
        REGISTRATION,
        "Registration",
        None,
        st.registration_props(&role, &first, "1"),
        None,
        &url,
    );
    assert_eq!(st.send(create).await["Status"], "FAILED");
    assert_eq!(s(&st.held(), "role_arn"), before, "the failed Create must put the earlier role back");
    blocking(|| st.vendor.delete("config").expect(204));

    // Registered untested, then a Delete of a registration never made leaves it be.
    let mut untested = st.registration_props(&role, &first, "1");
    untested["Test"] = json!("false");
    st.apply("Create", "Registration", None, untested.clone(), None).await;
    assert_eq!(st.held()["configured"], true);
    let stray = cfn_event(
        "Delete",
        REGISTRATION,
        "Registration",
        Some("Registration-not-created"),
        untested.clone(),
        None,
        &url,
    );
    assert_eq!(st.send(stray).await["Status"], "SUCCESS");
    assert_eq!(st.held()["configured"], true, "a Delete of another physical ID must not deregister");
    // The vendor now holds another role for the tenant (registered elsewhere since):
    // deleting this resource leaves it in place.
    let other_role = format!("arn:aws:iam::{}:role/registered-elsewhere", st.owner);
    let elsewhere = json!({ "sso_instance_arn": st.instance_arn, "role_arn": other_role, "region": REGION });
    blocking(|| st.vendor.put("config", &elsewhere).expect(200));
    let reg_id = format!("{}#vendor-registration", st.tenant);
    st.apply("Delete", "Registration", Some(&reg_id), untested.clone(), None).await;
    assert_eq!(s(&st.held(), "role_arn"), other_role, "only the role this resource registered is removed");
    // Its own role is removed.
    blocking(|| {
        st.vendor
            .put(
                "config",
                &json!({ "sso_instance_arn": st.instance_arn, "role_arn": role, "region": REGION }),
            )
            .expect(200)
    });
    st.apply("Delete", "Registration", Some(&reg_id), untested.clone(), None).await;
    assert_eq!(st.held()["configured"], false);

    // A revoked token names ApiToken; a token of another tenant names TenantId too.
    let mut revoked = st.ids_props("1");
    revoked["ApiToken"] = json!(REVOKED);
    let url_ids = st.s3.url("VendorExternalIds");
    let a = st.send(cfn_event("Create", IDS, "VendorExternalIds", None, revoked, None, &url_ids)).await;
    assert_eq!(a["Status"], "FAILED");
    let reason = s(&a, "Reason");
    assert!(
        reason.starts_with(
            "invalid_input: the vendor API's GET external-id failed (unauthenticated, HTTP 401)"
        ),
        "{reason}"
    );
    assert!(reason.contains("ApiToken (unauthenticated)"), "{reason}");
    let other_tenant = uuid();
    let other_token = blocking(|| st.dep.token(&other_tenant));
    let mut foreign = st.ids_props("1");
    foreign["ApiToken"] = json!(other_token);
    let b = st.send(cfn_event("Create", IDS, "VendorExternalIds", None, foreign, None, &url_ids)).await;
    let reason = s(&b, "Reason");
    assert!(
        reason.contains("(tenant_mismatch, HTTP 403)")
            && reason.contains("TenantId, ApiToken (tenant_mismatch)"),
        "{reason}"
    );
    assert!(!reason.contains(&other_token), "{reason}");

    // Properties the API would refuse are refused before any call, by property.
    let mut bad = st.registration_props("arn:aws:iam::1:role/x", &first, "1");
    bad["Region"] = json!("mars-1");
    let c = st.send(cfn_event("Create", REGISTRATION, "Registration", None, bad, None, &url)).await;
    let reason = s(&c, "Reason");
    assert!(reason.starts_with("invalid_input: 2 properties are invalid"), "{reason}");
    assert!(reason.contains("RoleArn (pattern)") && reason.contains("Region (region)"), "{reason}");

    st.assert_no_secrets(
        "failures_name_the_code_and_the_property_and_leave_nothing_registered",
        &[&first],
        &[REVOKED, &other_token],
    );
}

/// A role the vendor can never assume, with a `PropagationTimeout` far past the
/// function's deadline: the registration stops asking in time and answers with its
/// own reason (the vendor's code, or `timeout` naming the test) before the deadline,
/// never by the deadline guard's catch-all, so a stack never waits for an hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_test_longer_than_the_deadline_is_answered_in_time_with_its_own_reason() {
    let st = Stack::start_under(true).await;
    let ids = st
        .send_within(
            cfn_event("Create", IDS, "VendorExternalIds", None, st.ids_props("1"), None, &st.s3.url("ids")),
            LONG,
        )
        .await;
    let first = s(&ids["Data"], "Current").to_owned();
    let role = format!("arn:aws:iam::{}:role/idcbootstrap/IdcBootstrapTrustRole", st.owner);
    st.sts.put_role(&role, &crate::util::aws::trust_policy(VENDOR, &["someone-elses-id-0000"]));

    let deadline = Duration::from_secs(14);
    let started = std::time::Instant::now();
    let props = st.registration_props(&role, &first, "600");
    let event = cfn_event("Create", REGISTRATION, "Registration", None, props, None, &st.s3.url("reg"));
    let answer = st.send_within(event, deadline).await;
    let took = started.elapsed();
    assert!(took < deadline, "answered after the deadline: {took:?}");
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = s(&answer, "Reason");
    assert!(
        reason.starts_with("sts_assume_role_failed: the vendor API's POST test failed")
            || reason.starts_with("timeout: the vendor's test (POST test) did not finish"),
        "the registration's own reason, not the guard's: {reason}"
    );
    assert!(st.lambda.logs().contains("testing again"), "it should have waited out propagation first");
    assert_eq!(st.held()["configured"], false, "a failed Create must not leave a registration");
    st.assert_no_secrets(
        "a_test_longer_than_the_deadline_is_answered_in_time_with_its_own_reason",
        &[&first],
        &[],
    );
}
