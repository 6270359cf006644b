//! The CloudFormation custom-resource Lambda end to end: the real `bootstrap`
//! binary under a Lambda Runtime API (cargo-lambda's emulator, or the strict
//! stand-in where a case needs a real deadline), answering to a local stand-in for
//! the pre-signed S3 `ResponseURL`. See `util/lambda.rs` for the peers.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::lambda::{
    EndpointFault, FaultyEndpoint, Outcome, Put, RESPONSE_URL_SIGNATURE, RuntimeApi, S3StandIn,
    TEST_STATE_KEY, cfn_event,
};
use crate::util::sweep::Sweep;

const TEMPLATE: &str = "Custom::IdcBootstrapTemplate";
const XID: &str = "Custom::IdcExternalId";
const LONG: Duration = Duration::from_secs(600);
/// The external ID the template's properties give.
const PROPERTY_ID: &str = "Q7pWm2Zk9XcV4bN8rT1yL6sD3fG5hJ0a";

fn template_props() -> Value {
    json!({
        "AwsAccountId": "111122223333",
        "SsoInstanceArn": "arn:aws:sso:::instance/ssoins-7223abc1234def56",
        "Region": "us-east-1",
        "TrustedPrincipalArn": "arn:aws:iam::999988887777:role/vendor-integration",
        "ExternalIds": [PROPERTY_ID],
        "RoleName": "IdcBootstrapTrustRole",
        "AccessLevel": "read_only",
        "MaxSessionDuration": "3600",
        "Tags": {"env": "prod"}
    })
}

/// Checks what every answer must be: one PUT, empty Content-Type, a correct
/// Content-Length, at most 4096 bytes of valid JSON echoing the request.
fn check_put(put: &Put, event: &Value) -> Value {
    assert_eq!(put.method, "PUT");
    assert!(put.path_and_query.contains("X-Amz-Signature="), "{}", put.path_and_query);
    assert_eq!(put.header("content-type"), Some(""), "headers: {:?}", put.headers);
    assert_eq!(put.header("content-length"), Some(put.body.len().to_string().as_str()));
    assert!(put.body.len() <= 4096, "{} bytes", put.body.len());
    let body = put.json();
    for key in ["StackId", "RequestId", "LogicalResourceId"] {
        assert_eq!(body[key], event[key], "{key}");
    }
    let physical = body["PhysicalResourceId"].as_str().expect("PhysicalResourceId");
    assert!(!physical.is_empty());
    assert!(!physical.contains("[$LATEST]"), "never a log stream name: {physical}");
    body
}

/// The secrets sweep of one scenario (issue 13): the function's log, what it
/// reported for each invocation and every answer CloudFormation got (`bodies`),
/// searched for the state key, the `ResponseURL`'s signature, the `ids` the
/// scenario made and the template's [`PROPERTY_ID`]. IDs may appear only in the
/// `NoEcho` outputs that carry them by design (`sweep::ID_OUTPUTS`: the external
/// ID's `ExternalId`/`PreviousExternalId`/`ExternalIds`, the template's
/// `TrustPolicy`/`ExternalIds`/`LaunchStackUrl`); `Reason`, `PhysicalResourceId`
/// and every other field are searched. Each of `ids` must be found there.
fn sweep(scenario: &str, api: &RuntimeApi, bodies: &[Vec<u8>], ids: &[&str]) -> Sweep {
    let mut sweep = Sweep::new(scenario);
    sweep
        .external_ids(ids)
        .given_ids(&[PROPERTY_ID])
        .credential(TEST_STATE_KEY)
        .credential(RESPONSE_URL_SIGNATURE)
        .function(api)
        .cfn_responses(bodies);
    sweep
}

/// Invokes and returns the one answer CloudFormation got.
async fn call(api: &RuntimeApi, s3: &S3StandIn, event: &Value) -> Value {
    let before = s3.puts().len();
    let outcome = api.invoke(event.clone(), LONG).await;
    assert!(matches!(outcome, Outcome::Response(_)), "{outcome:?}\nlogs:\n{}", api.logs());
    let puts = s3.puts();
    assert_eq!(puts.len(), before + 1, "exactly one PUT per event");
    check_put(&puts[before], event)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_create_update_delete() {
    let s3 = S3StandIn::start(0).await;
    let api = RuntimeApi::cargo_lambda(&[]);
    let url = s3.url("template");

    let create = cfn_event("Create", TEMPLATE, "Template", None, template_props(), None, &url);
    let created = call(&api, &s3, &create).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(created["PhysicalResourceId"], "arn:aws:iam::111122223333:role/IdcBootstrapTrustRole");
    assert_eq!(created["NoEcho"], true);
    let data = &created["Data"];
    for attr in [
        "TrustPolicy",
        "PermissionsPolicy",
        "PermissionsPolicyParts",
        "RoleArn",
        "RoleName",
        "LaunchStackUrl",
        "ExternalIds",
    ] {
        assert!(data[attr].is_string(), "{attr} missing: {data}");
    }
    let trust: Value = serde_json::from_str(data["TrustPolicy"].as_str().unwrap()).unwrap();
    assert_eq!(trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], PROPERTY_ID);
    assert_eq!(data["ExternalIds"], PROPERTY_ID);
    assert_eq!(data["PermissionsPolicyParts"], "1");

    // Update that changes the access level: same role, same physical ID.
    let mut props = template_props();
    props["AccessLevel"] = json!("admin");
    let physical = created["PhysicalResourceId"].as_str().unwrap();
    let update = cfn_event(
        "Update",
        TEMPLATE,
        "Template",
        Some(physical),
        props.clone(),
        Some(template_props()),
        &url,
    );
    let updated = call(&api, &s3, &update).await;
    assert_eq!(updated["Status"], "SUCCESS", "{updated}");
    assert_eq!(updated["PhysicalResourceId"], physical);
    let parts: usize = updated["Data"]["PermissionsPolicyParts"].as_str().unwrap().parse().unwrap();
    assert!(parts > 1, "the admin policy does not fit one response");

    // Each further part is its own resource, its own physical ID.
    props["PermissionsPolicyPart"] = json!("2");
    let part2 = cfn_event("Create", TEMPLATE, "TemplatePart2", None, props, None, &url);
    let p2 = call(&api, &s3, &part2).await;
    assert_eq!(p2["Status"], "SUCCESS", "{p2}");
    assert_eq!(p2["PhysicalResourceId"], format!("{physical}#permissions-policy-part-2"));

    let delete = cfn_event("Delete", TEMPLATE, "Template", Some(physical), template_props(), None, &url);
    let deleted = call(&api, &s3, &delete).await;
    assert_eq!(deleted["Status"], "SUCCESS");
    assert_eq!(deleted["PhysicalResourceId"], physical);

    // The external ID given as a property never reaches the logs, and is only in
    // the template's NoEcho outputs.
    assert!(!api.logs().contains(PROPERTY_ID), "{}", api.logs());
    sweep("template_create_update_delete", &api, &s3.bodies(), &[PROPERTY_ID]).check();
    api.stop().await;
    s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_id_rotation_keeps_previous_id_trusted() {
    let s3 = S3StandIn::start(0).await;
    let api = RuntimeApi::cargo_lambda(&[]);
    let url = s3.url("xid");

    let v1 = json!({"Rotation": "1"});
    let created =
        call(&api, &s3, &cfn_event("Create", XID, "ExternalId", None, v1.clone(), None, &url)).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(created["NoEcho"], true);
    let p1 = created["PhysicalResourceId"].as_str().unwrap().to_owned();
    let id1 = created["Data"]["ExternalId"].as_str().unwrap().to_owned();
    assert_eq!(id1.len(), 32);
    assert!(!p1.contains(&id1), "the ID is not in the physical ID (stack events show it)");

    // An update that does not ask for rotation keeps everything.
    let same = call(
        &api,
        &s3,
        &cfn_event("Update", XID, "ExternalId", Some(&p1), v1.clone(), Some(v1.clone()), &url),
    )
    .await;
    assert_eq!(same["PhysicalResourceId"], p1.as_str());
    assert_eq!(same["Data"]["ExternalId"], id1.as_str());

    // Rotation: a new current ID, the old one still trusted.
    let v2 = json!({"Rotation": "2"});
    let rotated =
        call(&api, &s3, &cfn_event("Update", XID, "ExternalId", Some(&p1), v2.clone(), Some(v1), &url)).await;
    assert_eq!(rotated["Status"], "SUCCESS", "{rotated}");
    let p2 = rotated["PhysicalResourceId"].as_str().unwrap().to_owned();
    let id2 = rotated["Data"]["ExternalId"].as_str().unwrap().to_owned();
    assert_ne!(id2, id1);
    assert_eq!(rotated["Data"]["PreviousExternalId"], id1.as_str());
    assert_eq!(rotated["Data"]["ExternalIds"], format!("{id2},{id1}"));
    assert_eq!(rotated["Data"]["RotationState"], "rotating");

    // Rotating again before retiring is refused and names the property.
    let v3 = json!({"Rotation": "3"});
    let refused =
        call(&api, &s3, &cfn_event("Update", XID, "ExternalId", Some(&p2), v3, Some(v2.clone()), &url)).await;
    assert_eq!(refused["Status"], "FAILED");
    assert_eq!(refused["PhysicalResourceId"], p2.as_str(), "a failed update keeps the physical ID");
    assert!(refused["Reason"].as_str().unwrap().contains("Rotation (rotation)"), "{refused}");

    // Retire: the new ID alone.
    let retire = json!({"Rotation": "2", "RetirePrevious": "true"});
    let retired =
        call(&api, &s3, &cfn_event("Update", XID, "ExternalId", Some(&p2), retire.clone(), Some(v2), &url))
            .await;
    assert_eq!(retired["Data"]["ExternalId"], id2.as_str());
    assert_eq!(retired["Data"]["PreviousExternalId"], "");
    assert_eq!(retired["Data"]["RotationState"], "steady");
    let p3 = retired["PhysicalResourceId"].as_str().unwrap().to_owned();

    let deleted =
        call(&api, &s3, &cfn_event("Delete", XID, "ExternalId", Some(&p3), retire, None, &url)).await;
    assert_eq!(deleted["Status"], "SUCCESS");

    let logs = api.logs();
    for secret in [&id1, &id2] {
        assert!(!logs.contains(secret.as_str()), "an external ID reached the logs");
    }
    assert!(logs.contains("response delivered"), "the function logs: {logs}");
    sweep("external_id_rotation_keeps_previous_id_trusted", &api, &s3.bodies(), &[&id1, &id2]).check();
    api.stop().await;
    s3.stop().await;
}

/// The change that once dropped the ID in use: `RetirePrevious` still `"true"` from
/// the last rotation while `Rotation` changes again. It is refused, and
/// CloudFormation's rollback (an Update from the refused properties back to the
/// previous ones) succeeds with the same IDs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_while_retire_previous_stays_true_is_refused_and_the_rollback_keeps_the_ids() {
    let s3 = S3StandIn::start(0).await;
    let api = RuntimeApi::cargo_lambda(&[]);
    let url = s3.url("xid-retire");
    let update = |physical: &str, old: &Value, new: &Value| {
        cfn_event("Update", XID, "ExternalId", Some(physical), new.clone(), Some(old.clone()), &url)
    };

    // Created without a Rotation; setting one only records it.
    let created = call(&api, &s3, &cfn_event("Create", XID, "ExternalId", None, json!({}), None, &url)).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let id_a = created["Data"]["ExternalId"].as_str().unwrap().to_owned();
    let a = json!({"Rotation": "A"});
    let recorded =
        call(&api, &s3, &update(created["PhysicalResourceId"].as_str().unwrap(), &json!({}), &a)).await;
    assert_eq!(recorded["Status"], "SUCCESS", "{recorded}");
    assert_eq!(recorded["Data"], created["Data"], "recording the keeper rotates nothing");

    // A → B: rotating; then retire.
    let b = json!({"Rotation": "B"});
    let rotated = call(&api, &s3, &update(recorded["PhysicalResourceId"].as_str().unwrap(), &a, &b)).await;
    assert_eq!(rotated["Data"]["RotationState"], "rotating", "{rotated}");
    assert_eq!(rotated["Data"]["PreviousExternalId"], id_a.as_str());
    let id_b = rotated["Data"]["ExternalId"].as_str().unwrap().to_owned();
    let b_retired = json!({"Rotation": "B", "RetirePrevious": "true"});
    let retired =
        call(&api, &s3, &update(rotated["PhysicalResourceId"].as_str().unwrap(), &b, &b_retired)).await;
    assert_eq!(retired["Status"], "SUCCESS", "{retired}");
    assert_eq!(retired["Data"]["ExternalId"], id_b.as_str());
    assert_eq!(retired["Data"]["ExternalIds"], id_b.as_str());
    let p_retired = retired["PhysicalResourceId"].as_str().unwrap().to_owned();

    // B → C with RetirePrevious still "true": refused, naming both properties.
    let c_retired = json!({"Rotation": "C", "RetirePrevious": "true"});
    let refused = call(&api, &s3, &update(&p_retired, &b_retired, &c_retired)).await;
    assert_eq!(refused["Status"], "FAILED", "{refused}");
    assert_eq!(refused["PhysicalResourceId"], p_retired.as_str(), "a refused update keeps the physical ID");
    let reason = refused["Reason"].as_str().unwrap();
    assert!(reason.starts_with("invalid_input: "), "{reason}");
    assert!(
        reason.contains(
            "Rotation, RetirePrevious (rotation): Rotation and RetirePrevious cannot change together"
        ),
        "{reason}"
    );
    assert!(!reason.contains("retire_previous"), "in the template's words: {reason}");
    assert!(refused.get("Data").is_none(), "{refused}");

    // The rollback: from the refused properties back to the previous ones.
    let rollback = call(&api, &s3, &update(&p_retired, &c_retired, &b_retired)).await;
    assert_eq!(rollback["Status"], "SUCCESS", "{rollback}");
    assert_eq!(rollback["PhysicalResourceId"], p_retired.as_str());
    assert_eq!(rollback["Data"], retired["Data"], "the ID the vendor uses stays trusted");

    // Done properly, the next rotation keeps B trusted while C comes in.
    let c = json!({"Rotation": "C", "RetirePrevious": "false"});
    let next = call(&api, &s3, &update(&p_retired, &b_retired, &c)).await;
    assert_eq!(next["Status"], "SUCCESS", "{next}");
    assert_eq!(next["Data"]["PreviousExternalId"], id_b.as_str());

    let logs = api.logs();
    for secret in [&id_a, &id_b] {
        assert!(!logs.contains(secret.as_str()), "an external ID reached the logs");
    }
    let id_c = next["Data"]["ExternalId"].as_str().unwrap();
    sweep(
        "rotating_while_retire_previous_stays_true_is_refused_and_the_rollback_keeps_the_ids",
        &api,
        &s3.bodies(),
        &[&id_a, &id_b, id_c],
    )
    .check();
    api.stop().await;
    s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_properties_fail_create_naming_the_property_and_delete_succeeds() {
    let s3 = S3StandIn::start(0).await;
    let api = RuntimeApi::cargo_lambda(&[]);
    let url = s3.url("invalid");
    let mut props = template_props();
    props["AwsAccountId"] = json!("12345");
    props["MaxSessionDuration"] = json!("an hour");
    props["Tags"] = json!({"env": "x".repeat(300)});
    let create = cfn_event("Create", TEMPLATE, "Template", None, props.clone(), None, &url);
    let failed = call(&api, &s3, &create).await;
    assert_eq!(failed["Status"], "FAILED");
    assert_eq!(failed["PhysicalResourceId"], "Template-not-created");
    let reason = failed["Reason"].as_str().unwrap();
    assert!(reason.starts_with("invalid_input: "), "{reason}");
    for property in ["AwsAccountId", "MaxSessionDuration", "Tags.env"] {
        assert!(reason.contains(property), "{property} not named: {reason}");
    }

    // The rollback's Delete of what never got created, with the same bad properties.
    let delete = cfn_event("Delete", TEMPLATE, "Template", Some("Template-not-created"), props, None, &url);
    let deleted = call(&api, &s3, &delete).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");

    let xdelete = cfn_event(
        "Delete",
        XID,
        "ExternalId",
        Some("ExternalId-not-created"),
        json!({"Bogus": "1"}),
        None,
        &url,
    );
    assert_eq!(call(&api, &s3, &xdelete).await["Status"], "SUCCESS");
    sweep("invalid_properties_fail_create_naming_the_property_and_delete_succeeds", &api, &s3.bodies(), &[])
        .check();
    api.stop().await;
    s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_answered_and_the_function_lives_on() {
    let s3 = S3StandIn::start(0).await;
    let mut api = RuntimeApi::cargo_lambda(&[("IDCBOOTSTRAP_CFN_TEST_FAULT", "panic")]);
    let url = s3.url("panic");
    let create = cfn_event("Create", TEMPLATE, "Template", None, template_props(), None, &url);
    let failed = call(&api, &s3, &create).await;
    assert_eq!(failed["Status"], "FAILED");
    assert!(failed["Reason"].as_str().unwrap().starts_with("internal: "), "{failed}");
    assert!(failed["Reason"].as_str().unwrap().contains("panic"), "{failed}");
    // Same process, next event: still served (Delete succeeds even so).
    let delete =
        cfn_event("Delete", TEMPLATE, "Template", Some("Template-not-created"), template_props(), None, &url);
    assert_eq!(call(&api, &s3, &delete).await["Status"], "SUCCESS");
    assert!(api.function_alive());
    assert!(api.logs().contains("fault-injection test mode"), "the hook announces itself");
    sweep("a_panicking_handler_is_answered_and_the_function_lives_on", &api, &s3.bodies(), &[]).check();
    api.stop().await;
    s3.stop().await;
}

/// The strict stand-in, because cargo-lambda's emulator cannot set a deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_work_is_answered_failed_before_the_deadline() {
    let s3 = S3StandIn::start(0).await;
    let api = RuntimeApi::strict(&[
        ("IDCBOOTSTRAP_CFN_TEST_FAULT", "sleep=60000"),
        ("IDCBOOTSTRAP_DEADLINE_MARGIN_MS", "1500"),
    ])
    .await;
    let url = s3.url("slow");
    let create = cfn_event("Create", XID, "ExternalId", None, json!({}), None, &url);
    let outcome = api.invoke(create.clone(), Duration::from_secs(4)).await;
    let puts = s3.wait_for(1, Duration::from_secs(1)).await;
    assert_eq!(puts.len(), 1, "one answer; logs:\n{}", api.logs());
    // Answered by the guard (the `timeout` reason), not after the 60 s of work:
    // the emulator ends the invocation at its deadline, as Lambda does.
    let body = check_put(&puts[0], &create);
    assert_eq!(body["Status"], "FAILED");
    assert!(body["Reason"].as_str().unwrap().starts_with("timeout: "), "{body}");
    assert!(matches!(outcome, Outcome::Response(_)), "{outcome:?}");
    sweep("slow_work_is_answered_failed_before_the_deadline", &api, &s3.bodies(), &[]).check();
    api.stop().await;
    s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_is_retried_when_s3_fails() {
    let s3 = S3StandIn::start(2).await;
    let api = RuntimeApi::cargo_lambda(&[]);
    let url = s3.url("flaky");
    let create = cfn_event("Create", TEMPLATE, "Template", None, template_props(), None, &url);
    let outcome = api.invoke(create.clone(), LONG).await;
    let Outcome::Response(summary) = outcome else { panic!("{outcome:?}\n{}", api.logs()) };
    assert_eq!(summary["DeliveryAttempts"], 3, "{summary}");
    let puts = s3.puts();
    assert_eq!(puts.iter().map(|p| p.status).collect::<Vec<_>>(), [503, 503, 200]);
    for put in &puts {
        check_put(put, &create);
        assert_eq!(put.body, puts[2].body, "every attempt sends the same answer");
    }
    assert_eq!(puts[2].json()["Status"], "SUCCESS");
    sweep("the_response_is_retried_when_s3_fails", &api, &s3.bodies(), &[PROPERTY_ID]).check();
    api.stop().await;
    s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_reason_is_shortened_into_valid_json() {
    let s3 = S3StandIn::start(0).await;
    let api = RuntimeApi::cargo_lambda(&[]);
    let url = s3.url("big");
    // Eighty unknown properties with long names: the first ones are named, all
    // are counted, and the names alone are far over 4096 bytes.
    let mut props = template_props();
    for i in 0..80 {
        props[format!("UnknownPropertyWithAVeryLongName{}Number{i:03}ÄÖÜ", "X".repeat(150))] = json!("x");
    }
    let create = cfn_event("Create", TEMPLATE, "Template", None, props, None, &url);
    let body = call(&api, &s3, &create).await;
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(reason.ends_with('…'), "{reason}");
    assert!(reason.starts_with("invalid_input: 80 properties are invalid (the first"), "{reason}");
    assert!(s3.puts()[0].body.len() > 3900, "the reason fills the body: {}", s3.puts()[0].body.len());
    sweep("an_oversized_reason_is_shortened_into_valid_json", &api, &s3.bodies(), &[]).check();
    api.stop().await;
    s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_resource_type_fails_clearly() {
    let s3 = S3StandIn::start(0).await;
    let api = RuntimeApi::cargo_lambda(&[]);
    let url = s3.url("unknown");
    let create = cfn_event("Create", "Custom::IdcSomethingElse", "Thing", None, json!({}), None, &url);
    let body = call(&api, &s3, &create).await;
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(reason.contains("Custom::IdcSomethingElse"), "{reason}");
    assert!(reason.contains(TEMPLATE) && reason.contains(XID), "lists what is served: {reason}");
    let delete = cfn_event(
        "Delete",
        "Custom::IdcSomethingElse",
        "Thing",
        Some("Thing-not-created"),
        json!({}),
        None,
        &url,
    );
    assert_eq!(call(&api, &s3, &delete).await["Status"], "SUCCESS", "rollback must finish");
    sweep("an_unknown_resource_type_fails_clearly", &api, &s3.bodies(), &[]).check();
    api.stop().await;
    s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_are_answered_when_they_can_be() {
    let s3 = S3StandIn::start(0).await;
    let api = RuntimeApi::cargo_lambda(&[]);
    let url = s3.url("malformed");

    // No RequestType, but it says where to answer: FAILED there.
    let mut event = cfn_event("Create", TEMPLATE, "Template", None, template_props(), None, &url);
    event.as_object_mut().unwrap().remove("RequestType");
    let body = call(&api, &s3, &event).await;
    assert_eq!(body["Status"], "FAILED");
    assert!(body["Reason"].as_str().unwrap().contains("RequestType"), "{body}");

    // No ResponseURL: nobody to answer; the invocation fails with a stable type.
    let mut event = cfn_event("Create", TEMPLATE, "Template", None, template_props(), None, &url);
    event.as_object_mut().unwrap().remove("ResponseURL");
    let outcome = api.invoke(event, LONG).await;
    assert!(
        matches!(&outcome, Outcome::Error { error_type, .. } if error_type == "MalformedEvent"),
        "{outcome:?}"
    );

    // Not JSON at all: the runtime rejects it before the handler.
    let (status, text) = api.invoke_raw_cargo_lambda(b"{not json").await;
    assert!(status >= 400 || text.contains("errorType"), "{status} {text}");

    assert_eq!(s3.puts().len(), 1, "only the answerable event got a PUT");
    // And the function still serves.
    let ok = cfn_event("Create", XID, "ExternalId", None, json!({}), None, &url);
    let created = call(&api, &s3, &ok).await;
    assert_eq!(created["Status"], "SUCCESS");
    let id = created["Data"]["ExternalId"].as_str().unwrap();
    sweep("malformed_events_are_answered_when_they_can_be", &api, &s3.bodies(), &[id]).check();
    api.stop().await;
    s3.stop().await;
}

/// The strict stand-in, to see that nothing is posted to `/init/error`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_failure_is_answered_not_left_hanging() {
    let s3 = S3StandIn::start(0).await;
    // An invalid margin, under the earlier name (still read): every event fails.
    let api = RuntimeApi::strict(&[("IDCB_DEADLINE_MARGIN_MS", "5")]).await;
    let url = s3.url("init");
    for (resource_type, logical) in [(XID, "ExternalId"), (TEMPLATE, "Template")] {
        let props = if resource_type == TEMPLATE { template_props() } else { json!({}) };
        let create = cfn_event("Create", resource_type, logical, None, props, None, &url);
        let body = call(&api, &s3, &create).await;
        assert_eq!(body["Status"], "FAILED");
        let reason = body["Reason"].as_str().unwrap();
        assert!(reason.starts_with("internal: the function is misconfigured"), "{reason}");
        assert!(reason.contains("IDCB_DEADLINE_MARGIN_MS"), "names the variable as it was set: {reason}");
    }
    let delete =
        cfn_event("Delete", XID, "ExternalId", Some("ExternalId-not-created"), json!({}), None, &url);
    assert_eq!(call(&api, &s3, &delete).await["Status"], "SUCCESS", "deletion and rollback still finish");
    assert!(api.init_errors().is_empty(), "posting /init/error would leave CloudFormation waiting");
    assert!(api.next_calls() >= 3);
    sweep("an_init_failure_is_answered_not_left_hanging", &api, &s3.bodies(), &[]).check();
    api.stop().await;
    s3.stop().await;
}

/// Each type reads its own configuration: the template serves without a state key
/// (and takes its template URL from the environment, as the provider would), the
/// external ID says what to set, and a key too short fails only its own type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_type_needs_only_its_own_configuration() {
    const URL: &str = "https://example-bucket.s3.amazonaws.com/idcbootstrap/template.yaml";
    let s3 = S3StandIn::start(0).await;
    let url = s3.url("config");
    let api = RuntimeApi::cargo_lambda(&[("IDCBOOTSTRAP_STATE_KEY", ""), ("IDCBOOTSTRAP_TEMPLATE_URL", URL)]);

    let create = cfn_event("Create", TEMPLATE, "Template", None, template_props(), None, &url);
    let created = call(&api, &s3, &create).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let link = created["Data"]["LaunchStackUrl"].as_str().unwrap();
    assert!(link.starts_with("https://") && link.contains("templateURL="), "{link}");
    assert!(link.contains("example-bucket"), "the template URL from IDCBOOTSTRAP_TEMPLATE_URL: {link}");
    // A property wins over the environment.
    let mut props = template_props();
    props["TemplateUrl"] = json!("https://other-bucket.s3.amazonaws.com/t.yaml");
    let own = call(&api, &s3, &cfn_event("Create", TEMPLATE, "Template2", None, props, None, &url)).await;
    let link = own["Data"]["LaunchStackUrl"].as_str().unwrap();
    assert!(link.contains("other-bucket") && !link.contains("example-bucket"), "{link}");

    let xid = call(&api, &s3, &cfn_event("Create", XID, "ExternalId", None, json!({}), None, &url)).await;
    assert_eq!(xid["Status"], "FAILED");
    let reason = xid["Reason"].as_str().unwrap();
    assert!(
        reason.starts_with("not_configured: Custom::IdcExternalId needs IDCBOOTSTRAP_STATE_KEY"),
        "{reason}"
    );
    let delete =
        cfn_event("Delete", XID, "ExternalId", Some("ExternalId-not-created"), json!({}), None, &url);
    assert_eq!(call(&api, &s3, &delete).await["Status"], "SUCCESS");
    let mut swept = sweep("each_type_needs_only_its_own_configuration", &api, &s3.bodies(), &[]);
    api.stop().await;

    // A key that is set but too short fails its own type only, and is never shown.
    let api = RuntimeApi::cargo_lambda(&[("IDCBOOTSTRAP_STATE_KEY", "too-short-secret")]);
    let xid = call(&api, &s3, &cfn_event("Create", XID, "ExternalId", None, json!({}), None, &url)).await;
    assert_eq!(xid["Status"], "FAILED");
    let reason = xid["Reason"].as_str().unwrap();
    assert!(reason.starts_with("internal: the function is misconfigured"), "{reason}");
    assert!(reason.contains("IDCBOOTSTRAP_STATE_KEY") && !reason.contains("too-short-secret"), "{reason}");
    let template =
        call(&api, &s3, &cfn_event("Create", TEMPLATE, "Template", None, template_props(), None, &url)).await;
    assert_eq!(template["Status"], "SUCCESS", "{template}");
    assert!(!api.logs().contains("too-short-secret"), "the key never reaches the logs");
    // Both functions' logs; the responses (all of them, from the start) once more.
    swept.function(&api).credential("too-short-secret").cfn_responses(&s3.bodies()).check();
    api.stop().await;
    s3.stop().await;
}

/// Whether the function reported the invocation failed with `error_type` (the
/// Runtime API's `errorType`; Lambda's header says only `unhandled`).
fn refused(outcome: &Outcome, error_type: &str) -> bool {
    matches!(outcome, Outcome::Error { body, .. } if body["errorType"] == error_type)
}

/// A forged event (anyone allowed to invoke the function can send one) naming
/// another stack's physical ID and the invoker's own URL: nothing reaches that
/// URL, no work is done, and the log says the event could not be answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_url_that_is_not_cloudformations_gets_nothing() {
    let s3 = S3StandIn::start(0).await;
    let attacker = S3StandIn::start(0).await;
    let url = s3.url("xid");
    // Only the stand-in's own origin is added; the attacker's port is not.
    let origin = format!("http://{}", url.trim_start_matches("http://").split('/').next().unwrap());
    let api = RuntimeApi::cargo_lambda(&[
        ("IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS", origin.as_str()),
        ("AWS_REGION", "us-east-1"),
    ]);
    let created = call(&api, &s3, &cfn_event("Create", XID, "ExternalId", None, json!({}), None, &url)).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let physical = created["PhysicalResourceId"].as_str().unwrap();
    let id = created["Data"]["ExternalId"].as_str().unwrap();

    let forged_urls = [
        attacker.url("steal"),
        "https://attacker-bucket.s3.amazonaws.com/steal?X-Amz-Signature=e2e0signature".to_owned(),
        "https://cloudformation-custom-resource-response-uswest2.s3.us-west-2.amazonaws.com/x?X-Amz-Signature=e2e0signature"
            .to_owned(),
    ];
    for forged_url in &forged_urls {
        let forged =
            cfn_event("Update", XID, "ExternalId", Some(physical), json!({}), Some(json!({})), forged_url);
        let outcome = api.invoke(forged, LONG).await;
        assert!(refused(&outcome, "ResponseUrlRefused"), "{forged_url}: {outcome:?}\n{}", api.logs());
    }
    assert!(attacker.puts().is_empty(), "the forged URL got {:?}", attacker.puts());
    assert_eq!(s3.puts().len(), 1, "nothing else was sent anywhere");
    let logs = api.logs();
    assert!(logs.contains("ResponseURL refused") && logs.contains("cannot be answered"), "{logs}");
    assert!(!logs.contains(id) && !logs.contains(RESPONSE_URL_SIGNATURE), "no secret in the log: {logs}");
    let mut swept =
        sweep("a_response_url_that_is_not_cloudformations_gets_nothing", &api, &s3.bodies(), &[id]);
    api.stop().await;

    // Without the setting, the local stand-in is not CloudFormation's either.
    let api = RuntimeApi::cargo_lambda(&[("IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS", "")]);
    let outcome = api
        .invoke(cfn_event("Create", XID, "ExternalId", None, json!({}), None, &s3.url("unset")), LONG)
        .await;
    assert!(refused(&outcome, "ResponseUrlRefused"), "{outcome:?}");
    assert_eq!(s3.puts().len(), 1);
    swept.function(&api).check();
    api.stop().await;
    attacker.stop().await;
    s3.stop().await;
}

/// The response endpoint misbehaving: the function retries the same answer, gives
/// up before Lambda's deadline (the strict emulator ends the invocation there, as
/// Lambda does), says so, never sends another answer, and serves the next event.
async fn response_endpoint_fault(fault: EndpointFault) {
    let endpoint = FaultyEndpoint::start(fault).await;
    let s3 = S3StandIn::start(0).await;
    let api = RuntimeApi::strict(&[]).await;
    let create = cfn_event("Create", XID, "ExternalId", None, json!({}), None, &endpoint.url("fault"));
    let outcome = api.invoke(create, Duration::from_secs(6)).await;
    assert!(refused(&outcome, "ResponseNotDelivered"), "{fault:?}: {outcome:?}\nlogs:\n{}", api.logs());
    let bodies = endpoint.bodies();
    assert!(!bodies.is_empty(), "{fault:?}: the endpoint read nothing");
    eprintln!("{fault:?}: {} attempt(s) read in full before the function gave up", bodies.len());
    if fault != EndpointFault::Hang {
        assert!(bodies.len() > 1, "{fault:?}: not retried ({} attempt)", bodies.len());
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{fault:?}: two different answers");
    let answer: Value = serde_json::from_slice(&bodies[0]).unwrap();
    assert_eq!(answer["Status"], "SUCCESS", "{fault:?}");
    // Nothing more after giving up.
    let next = cfn_event("Create", TEMPLATE, "Template", None, template_props(), None, &s3.url("next"));
    assert_eq!(call(&api, &s3, &next).await["Status"], "SUCCESS", "{fault:?}: the function serves on");
    assert_eq!(endpoint.bodies().len(), bodies.len(), "{fault:?}: sent again after giving up");
    assert!(api.logs().contains("could not deliver the response"), "{fault:?}: {}", api.logs());
    // What the endpoint read in full, and the next event's answer.
    let mut all = bodies.clone();
    all.extend(s3.bodies());
    let id = answer["Data"]["ExternalId"].as_str().unwrap();
    sweep(&format!("response_endpoint_fault {fault:?}"), &api, &all, &[id]).check();
    api.stop().await;
    endpoint.stop().await;
    s3.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_endpoint_answering_503_forever_is_given_up_in_time() {
    response_endpoint_fault(EndpointFault::Unavailable).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_response_endpoint_is_given_up_in_time() {
    response_endpoint_fault(EndpointFault::Hang).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_endpoint_resetting_after_the_body_is_given_up_in_time() {
    response_endpoint_fault(EndpointFault::ResetAfterBody).await;
}

#[test]
fn cloudformation_examples_pass_cfn_lint() {
    let dir = crate::util::repo_root().join("examples/cloudformation");
    let mut templates: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/cloudformation")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    templates.sort();
    assert!(templates.len() >= 2, "{templates:?}");
    let out = std::process::Command::new(crate::util::venv_bin("cfn-lint"))
        .args(&templates)
        .output()
        .expect("run cfn-lint");
    assert!(
        out.status.success(),
        "cfn-lint exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
