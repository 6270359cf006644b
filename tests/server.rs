//! The vendor API end to end: the real `idcbootstrap-server` binary over real
//! HTTP, on SQLite and on PostgreSQL, with moto (sso-admin) and the STS stand-in
//! (trust policies and external IDs, see `util/aws.rs`) as its AWS.
//!
//! * the customer's whole journey: token → template → role → config → test →
//!   rotate → role updated → test with both IDs → commit → test, with the server
//!   logging at `trace` and no secret in anything it wrote;
//! * every refusal the API promises: 401, 403 `tenant_mismatch` (tenant B can
//!   neither read nor change A's data), 404 `not_configured`, 400 with field details,
//!   409, 413, 415 and the check's own failure codes;
//! * durability: a restart keeps tokens, IDs and config; a `kill -9` in the middle
//!   of a burst of writes loses none that were acknowledged;
//! * the OpenAPI document, exercised by schemathesis against the live server.
//!
//! Two processes on one PostgreSQL database are in `server_concurrency.rs`.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::aws::{BlockingPeers, trust_policy_without_external_id};
use crate::util::postgres::fresh_database;
use crate::util::server::{
    Api, DATA_KEY, Deployment, Endpoints, REGION, VENDOR, VENDOR_KEY, VENDOR_SECRET, uuid, write_file,
};
use crate::util::sweep::Sweep;
use crate::util::{temp_dir, venv_bin};

/// A token of the right shape that the server never issued.
const UNKNOWN_TOKEN: &str = "idcb_not-a-real-token-0000000000000000";
/// A syntactically valid instance ARN for tests that never reach AWS.
const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-72230a4f6e7c1d52";
const ACCOUNT: &str = "123456789012";

pub(crate) fn peers() -> BlockingPeers {
    BlockingPeers::start(REGION, VENDOR_KEY, VENDOR)
}

pub(crate) fn endpoints(p: &BlockingPeers) -> Endpoints {
    Endpoints { sts: p.sts.endpoint(), sso_admin: p.moto.endpoint() }
}

/// A deployment on SQLite, or on a fresh PostgreSQL database (`None`: skipped).
pub(crate) fn deployment(test: &str, postgres: bool, endpoints: Endpoints) -> Option<Deployment> {
    if postgres {
        fresh_database(test).map(|url| Deployment::postgres(url, endpoints))
    } else {
        Some(Deployment::sqlite(endpoints))
    }
}

/// The secrets sweep of one scenario (issue 13): every line any process of `dep`
/// wrote (the CLI's stdout aside: `token create` prints the token there, on purpose)
/// and every reply its clients got, searched for `tokens`, the data key, the AWS keys
/// (and every secret key and session token the STS stand-in of `peers` issued) and
/// the external IDs: `ids` and every ID a reply returned. The IDs may appear only in
/// the successful replies meant to return them (`sweep::ID_REPLIES`: the template,
/// GET external-id, rotate, commit, cancel); each of `ids` must be found there. Every
/// other reply (config, test, every refusal) is searched.
pub(crate) fn sweep(
    scenario: &str,
    dep: &Deployment,
    tokens: &[&str],
    ids: &[&str],
    peers: Option<&BlockingPeers>,
) -> Sweep {
    let mut sweep = Sweep::new(scenario);
    sweep
        .external_ids(ids)
        .given_ids(&dep.issued_ids())
        .credential(DATA_KEY)
        .credential(VENDOR_KEY)
        .credential(VENDOR_SECRET)
        // Any secret key or token the STS stand-in issued, whole or cut short.
        .credential("standin-secret")
        .credential("standin-token")
        .vendor_api(dep);
    for token in tokens {
        sweep.credential(token);
    }
    for secret in peers.map(|p| p.sts.issued_secrets()).unwrap_or_default() {
        sweep.credential(&secret);
    }
    sweep
}

/// A string field, or a panic naming it.
pub(crate) fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_else(|| panic!("no string `{field}` in {v}"))
}

fn ids(template: &Value) -> Vec<String> {
    template["external_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("no external_ids in {template}"))
        .iter()
        .map(|v| v.as_str().expect("external ID string").to_owned())
        .collect()
}

/// The trust policy of a template answer as JSON text (a string field, or an object).
fn trust_policy_of(template: &Value) -> String {
    match &template["trust_policy_json"] {
        Value::String(s) => s.clone(),
        Value::Null => panic!("no trust_policy_json in {template}"),
        v => v.to_string(),
    }
}

fn template_input(peers_instance: &str, owner: &str) -> Value {
    json!({ "aws_account_id": owner, "sso_instance_arn": peers_instance, "region": REGION })
}

/// `GET config` of a tenant without one: 200 with `configured: false` and no values
/// (the vendor's UI reads it to decide what to show), never another tenant's.
fn assert_unconfigured(api: &Api) {
    let v = api.get("config").expect(200);
    assert_eq!(v["configured"], false, "{v}");
    assert!(v["role_arn"].is_null() && v["sso_instance_arn"].is_null(), "{v}");
}

/// cfn-lint from the venv: no error, no warning, no informational finding.
fn assert_cfn_lint_clean(yaml: &str) {
    let dir = temp_dir();
    let path = write_file(dir.path(), "bootstrap.yaml", yaml);
    let out = Command::new(venv_bin("cfn-lint")).arg(&path).output().expect("run cfn-lint");
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "cfn-lint (exit {:?}) on the served template:\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The secrets of a journey, for the log search.
struct Secrets {
    token: String,
    first: String,
    second: String,
}

/// The customer's whole journey against a fresh server of `dep`, logging at trace.
fn journey(mut dep: Deployment, peers: &BlockingPeers) -> (Deployment, Secrets) {
    let mut server = dep.start();
    let tenant = uuid();
    let token = dep.token(&tenant);
    let api = server.api(&token, &tenant);
    let input = template_input(&peers.instance_arn, &peers.owner);

    // The vendor issues the tenant's external ID on the first template.
    let t1 = api.post("bootstrap-template", &input).expect(200);
    let first = ids(&t1);
    assert_eq!(first.len(), 1, "{t1}");
    let first = first[0].clone();
    let trust = trust_policy_of(&t1);
    assert!(
        trust.contains(&first) && trust.contains(VENDOR),
        "trust policy must name the ID and the vendor: {trust}"
    );
    for field in
        ["cloudformation_yaml", "terraform_hcl", "launch_stack_url", "permissions_policy_json", "role_name"]
    {
        assert!(t1.get(field).is_some_and(|v| !v.is_null()), "template lacks {field}: {t1}");
    }
    assert_cfn_lint_clean(s(&t1, "cloudformation_yaml"));
    let role = s(&t1, "role_arn").to_owned();
    assert!(role.starts_with(&format!("arn:aws:iam::{}:role/", peers.owner)), "{role}");
    // Same tenant, same ID: issuing is once.
    assert_eq!(ids(&api.post("bootstrap-template", &input).expect(200)), [first.as_str()]);
    let e = api.get("external-id").expect(200);
    assert_eq!((s(&e, "external_id"), &e["external_id_pending"]), (first.as_str(), &Value::Null), "{e}");

    // Nothing to test before a role is registered.
    api.post("test", &json!({})).expect_error(404, "not_configured");
    assert_unconfigured(&api);

    // The customer creates the role from the rendered trust policy and registers it.
    peers.sts.put_role(&role, &trust);
    let config = json!({ "sso_instance_arn": peers.instance_arn, "role_arn": role, "region": REGION });
    let saved = api.put("config", &config).expect(200);
    assert_eq!((s(&saved, "role_arn"), &saved["configured"]), (role.as_str(), &json!(true)), "{saved}");
    let read = api.get("config").expect(200);
    assert_eq!(
        (s(&read, "role_arn"), s(&read, "sso_instance_arn"), s(&read, "region")),
        (role.as_str(), peers.instance_arn.as_str(), REGION)
    );
    let r = api.post("test", &json!({})).expect(200);
    assert_eq!(r["success"], true, "{r}");

    // Rotation: a second ID, trusted beside the first until commit.
    let rot = api.post("external-id/rotate", &json!({})).expect(200);
    let second = s(&rot, "external_id_pending").to_owned();
    assert_eq!(s(&rot, "external_id"), first);
    assert_ne!(second, first);
    api.post("external-id/rotate", &json!({})).expect_error(409, "conflict");
    // No passing test with the pending ID yet: commit refuses.
    api.post("external-id/commit", &json!({})).expect_error(409, "conflict");
    let t2 = api.post("bootstrap-template", &input).expect(200);
    let both = ids(&t2);
    // The seed's order: the ID in use, then the pending one.
    assert_eq!(both, [first.clone(), second.clone()]);
    let trust2 = trust_policy_of(&t2);
    assert!(trust2.contains(&first) && trust2.contains(&second));
    assert_cfn_lint_clean(s(&t2, "cloudformation_yaml"));
    // Before the role is updated, the pending ID is not trusted: the check says so.
    api.post("test", &json!({})).expect_error(422, "sts_assume_role_failed");
    api.post("external-id/commit", &json!({})).expect_error(409, "conflict");
    peers.sts.put_role(&role, &trust2);
    assert_eq!(api.post("test", &json!({})).expect(200)["success"], true);
    let committed = api.post("external-id/commit", &json!({})).expect(200);
    assert_eq!(s(&committed, "external_id"), second, "{committed}");
    let e = api.get("external-id").expect(200);
    assert_eq!((s(&e, "external_id"), &e["external_id_pending"]), (second.as_str(), &Value::Null), "{e}");

    // Steady again: one ID; the role keeps passing, and a role that trusts only the
    // retired ID fails.
    let t3 = api.post("bootstrap-template", &input).expect(200);
    assert_eq!(ids(&t3), [second.as_str()]);
    peers.sts.put_role(&role, &trust_policy_of(&t3));
    assert_eq!(api.post("test", &json!({})).expect(200)["success"], true);
    peers.sts.put_role(&role, &trust_policy_of(&t1));
    api.post("test", &json!({})).expect_error(422, "sts_assume_role_failed");

    let status = server.stop().expect("was running");
    assert!(status.success(), "SIGTERM must end the server cleanly: {status}");
    (dep, Secrets { token, first, second })
}

fn journey_keeps_secrets_out_of_trace_logs(postgres: bool) {
    let test = if postgres { "server_journey_postgres" } else { "server_journey_sqlite" };
    let peers = peers();
    let Some(dep) = deployment(test, postgres, endpoints(&peers)) else { return };
    let (dep, secrets) = journey(dep.env("IDCBOOTSTRAP_LOG", "trace"), &peers);
    let out = dep.output();
    assert!(out.lines().count() > 20 && out.contains("TRACE"), "trace logging produced too little:\n{out}");
    dep.assert_output_lacks(&[
        ("the bearer token", &secrets.token),
        ("the first external ID", &secrets.first),
        ("the second external ID", &secrets.second),
        ("the AWS secret key", VENDOR_SECRET),
    ]);
    let ids = [secrets.first.as_str(), secrets.second.as_str()];
    sweep(test, &dep, &[&secrets.token], &ids, Some(&peers)).check();
}

#[test]
fn journey_on_sqlite_with_no_secret_in_trace_logs() {
    journey_keeps_secrets_out_of_trace_logs(false);
}

#[test]
fn journey_on_postgres_with_no_secret_in_trace_logs() {
    journey_keeps_secrets_out_of_trace_logs(true);
}

/// One configured tenant on a fresh SQLite server without AWS.
struct Fixture {
    dep: Deployment,
    server: crate::util::server::Server,
    tenant: String,
    token: String,
}

impl Fixture {
    fn start(test: &str) -> Option<Fixture> {
        let mut dep = deployment(test, false, Endpoints::unreachable())?;
        let server = dep.start();
        let tenant = uuid();
        let token = dep.token(&tenant);
        Some(Fixture { dep, server, tenant, token })
    }

    fn api(&self) -> Api {
        self.server.api(&self.token, &self.tenant)
    }
}

fn config_body(role: &str) -> Value {
    json!({ "sso_instance_arn": INSTANCE, "role_arn": role, "region": REGION })
}

/// Every endpoint that needs a tenant, with a valid body.
fn tenant_endpoints() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("POST", "bootstrap-template", Some(template_input(INSTANCE, ACCOUNT))),
        ("PUT", "config", Some(config_body(&format!("arn:aws:iam::{ACCOUNT}:role/Other")))),
        ("GET", "config", None),
        ("DELETE", "config", None),
        ("POST", "test", Some(json!({}))),
        ("GET", "external-id", None),
        ("POST", "external-id/rotate", Some(json!({}))),
        ("POST", "external-id/commit", Some(json!({ "force": true }))),
        ("POST", "external-id/cancel", Some(json!({}))),
    ]
}

#[test]
fn unauthenticated_requests_are_refused_and_probes_are_open() {
    let Some(f) = Fixture::start("server_unauthenticated") else { return };
    let api = f.api();
    for (method, path, body) in tenant_endpoints() {
        for (what, client) in [
            ("no token", api.with_token(None)),
            ("unknown token", api.with_token(Some(UNKNOWN_TOKEN))),
            ("garbage token", api.with_token(Some("x"))),
        ] {
            let r = client.call(method, path, body.as_ref());
            assert_eq!(
                r.error_code(),
                "unauthenticated",
                "{method} {path} with {what}: {} {}",
                r.status,
                r.body
            );
            r.expect_error(401, "unauthenticated");
        }
        // A scheme other than Bearer is no token either.
        let r = api.raw(method, path, &[("Authorization".into(), format!("Basic {}", f.token))], b"");
        assert_eq!(r.status, 401, "{method} {path} with Basic auth: {}", r.body);
    }
    for probe in ["/healthz", "/readyz", "/openapi.json"] {
        let r = f.server.anonymous().get(probe);
        assert_eq!(r.status, 200, "{probe}: {}", r.body);
    }
    // Nothing the refusals echoed carries the token.
    f.dep.assert_output_lacks(&[("the bearer token", &f.token)]);
    sweep("server_unauthenticated", &f.dep, &[&f.token, UNKNOWN_TOKEN], &[], None).check();
}

#[test]
fn revoked_token_is_refused_and_rate_limit_answers_429() {
    let Some(dep) = deployment("server_revoke_and_rate_limit", false, Endpoints::unreachable()) else {
        return;
    };
    // One request a second, two at once: the third of a quick burst is refused.
    let mut dep = dep.env("IDCBOOTSTRAP_RATE_LIMIT", "1").env("IDCBOOTSTRAP_RATE_LIMIT_BURST", "2");
    let server = dep.start();
    let tenant = uuid();
    let token = dep.token(&tenant);
    let api = server.api(&token, &tenant);
    let statuses: Vec<u16> = (0..6).map(|_| api.get("external-id").status).collect();
    assert!(statuses.contains(&200), "{statuses:?}");
    let limited =
        (0..6).map(|_| api.get("external-id")).find(|r| r.status == 429).expect("a 429 in a burst of 12");
    limited.expect_error(429, "rate_limited");
    assert!(limited.header("retry-after").is_some(), "429 without Retry-After: {:?}", limited.headers);

    // `token list` names the token; `token revoke` ends it (within the cache TTL).
    let listed: Vec<Value> = dep
        .cli(&["token", "list", "--tenant", &tenant])
        .lines()
        .map(|l| serde_json::from_str(l).expect("token list prints JSON lines"))
        .collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(!listed[0].to_string().contains(&token), "token list shows the token itself");
    dep.cli(&["token", "revoke", s(&listed[0], "id")]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = api.get("external-id");
        if r.status == 401 {
            r.expect_error(401, "unauthenticated");
            break;
        }
        assert!(matches!(r.status, 200 | 429), "{} {}", r.status, r.body);
        assert!(Instant::now() < deadline, "a revoked token still works after 10 s");
        std::thread::sleep(Duration::from_millis(250));
    }
    sweep("server_revoke_and_rate_limit", &dep, &[&token], &[], None).check();
}

#[test]
fn another_tenants_token_can_neither_read_nor_change_its_data() {
    let Some(mut f) = Fixture::start("server_tenant_isolation") else { return };
    let a = f.api();
    // A: an issued ID, a rotation under way and a saved config.
    let role_a = format!("arn:aws:iam::{ACCOUNT}:role/TenantA");
    let t = a.post("bootstrap-template", &template_input(INSTANCE, ACCOUNT)).expect(200);
    a.put("config", &config_body(&role_a)).expect(200);
    let rot = a.post("external-id/rotate", &json!({})).expect(200);
    let before_ids = a.get("external-id").expect(200);
    let before_config = a.get("config").expect(200);
    assert_eq!(s(&before_ids, "external_id"), ids(&t)[0]);

    let tenant_b = uuid();
    let token_b = f.dep.token(&tenant_b);
    // B's token with A's tenant header: refused on every endpoint, nothing changes.
    let b_as_a = a.with_token(Some(&token_b));
    for (method, path, body) in tenant_endpoints() {
        b_as_a.call(method, path, body.as_ref()).expect_error(403, "tenant_mismatch");
    }
    // B as itself sees none of A's data and what it does leaves A alone.
    let b = f.server.api(&token_b, &tenant_b);
    assert_unconfigured(&b);
    b.post("test", &json!({})).expect_error(404, "not_configured");
    let r = b.delete("config");
    assert!(matches!(r.status, 204 | 200 | 404), "{} {}", r.status, r.body);
    let b_ids = b.post("bootstrap-template", &template_input(INSTANCE, ACCOUNT)).expect(200);
    assert!(
        !ids(&b_ids).iter().any(|id| id == s(&rot, "external_id") || id == s(&rot, "external_id_pending"))
    );
    b.post("external-id/rotate", &json!({})).expect(200);
    b.post("external-id/commit", &json!({ "force": true })).expect(200);
    b.put("config", &config_body(&format!("arn:aws:iam::{ACCOUNT}:role/TenantB"))).expect(200);
    // A's token with B's header is refused too.
    a.with_tenant(Some(&tenant_b)).get("config").expect_error(403, "tenant_mismatch");

    assert_eq!(a.get("external-id").expect(200), before_ids);
    assert_eq!(a.get("config").expect(200), before_config);
    // Refusals and B's calls do not show A's IDs or tokens in the logs.
    f.server.stop();
    f.dep.assert_output_lacks(&[
        ("A's token", &f.token),
        ("B's token", &token_b),
        ("A's external ID", s(&rot, "external_id")),
        ("A's pending external ID", s(&rot, "external_id_pending")),
    ]);
    let a_ids = [s(&rot, "external_id"), s(&rot, "external_id_pending")];
    sweep("server_tenant_isolation", &f.dep, &[&f.token, &token_b], &a_ids, None).check();
}

#[test]
fn bad_requests_are_refused_with_the_field_and_rule() {
    let Some(f) = Fixture::start("server_bad_requests") else { return };
    let api = f.api();

    let fields_of = |v: &Value| -> Vec<String> {
        v["details"]["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("no details.fields in {v}"))
            .iter()
            .map(|d| {
                assert!(d["rule"].as_str().is_some_and(|r| !r.is_empty()), "detail without a rule: {d}");
                s(d, "field").to_owned()
            })
            .collect()
    };
    // Every bad field is reported, not just the first.
    let v = api
        .post("bootstrap-template", &json!({ "aws_account_id": "12345", "sso_instance_arn": "arn:aws:sso:::nope", "region": "mars-north-1" }))
        .expect_error(400, "invalid_input");
    let fields = fields_of(&v);
    for f in ["aws_account_id", "sso_instance_arn", "region"] {
        assert!(fields.iter().any(|x| x.contains(f)), "{f} missing from {fields:?}");
    }
    let v = api
        .put("config", &json!({ "sso_instance_arn": INSTANCE, "role_arn": "not-an-arn", "region": REGION }))
        .expect_error(400, "invalid_input");
    assert!(fields_of(&v).iter().any(|x| x.contains("role_arn")), "{v}");
    let v = api.put("config", &json!({ "region": REGION })).expect_error(400, "invalid_input");
    let fields = fields_of(&v);
    assert!(
        fields.iter().any(|x| x.contains("role_arn"))
            && fields.iter().any(|x| x.contains("sso_instance_arn")),
        "{fields:?}"
    );
    // Not JSON, or JSON of the wrong shape: still the seed's error body.
    let json_ct = [("Content-Type".to_owned(), "application/json".to_owned())];
    api.raw("POST", "bootstrap-template", &json_ct, b"{\"aws_account_id\":")
        .expect_error(400, "invalid_input");
    api.raw("PUT", "config", &json_ct, b"[1,2,3]").expect_error(400, "invalid_input");
    // A malformed tenant header.
    let r = api.with_tenant(Some("not-a-uuid")).get("config");
    assert!(matches!(r.status, 400 | 403), "{} {}", r.status, r.body);
    // Nothing was half-saved.
    assert_unconfigured(&api);
    sweep("server_bad_requests", &f.dep, &[&f.token], &[], None).check();
}

#[test]
fn media_type_and_body_size_are_enforced() {
    let Some(f) = Fixture::start("server_media_and_size") else { return };
    let api = f.api();
    let body = template_input(INSTANCE, ACCOUNT).to_string();
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/xml"] {
        api.raw("POST", "bootstrap-template", &[("Content-Type".into(), ct.into())], body.as_bytes())
            .expect_error(415, "unsupported_media_type");
    }
    api.raw("PUT", "config", &[], config_body("arn:aws:iam::123456789012:role/R").to_string().as_bytes())
        .expect_error(415, "unsupported_media_type");
    // 4 MiB of JSON: refused whole, before anything is parsed or saved.
    let huge = format!("{{\"aws_account_id\":\"{ACCOUNT}\",\"pad\":\"{}\"}}", "a".repeat(4 << 20));
    api.raw(
        "POST",
        "bootstrap-template",
        &[("Content-Type".into(), "application/json".into())],
        huge.as_bytes(),
    )
    .expect_error(413, "payload_too_large");
    let huge = format!("{{\"role_arn\":\"{}\"}}", "a".repeat(4 << 20));
    api.raw("PUT", "config", &[("Content-Type".into(), "application/json".into())], huge.as_bytes())
        .expect_error(413, "payload_too_large");
    assert_unconfigured(&api);
    // Unknown routes and methods answer in the same error shape.
    let r = api.get("no-such-endpoint");
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(!r.error_code().is_empty(), "404 body not in the error shape: {}", r.body);
    sweep("server_media_and_size", &f.dep, &[&f.token], &[], None).check();
}

#[test]
fn rotation_conflicts_and_forced_commit() {
    let Some(f) = Fixture::start("server_rotation_conflicts") else { return };
    let api = f.api();
    let t = api.post("bootstrap-template", &template_input(INSTANCE, ACCOUNT)).expect(200);
    let first = ids(&t)[0].clone();
    api.post("external-id/commit", &json!({})).expect_error(409, "conflict");
    // Cancel without a rotation changes nothing (idempotent, so a retried cancel is safe).
    let c = api.post("external-id/cancel", &json!({})).expect(200);
    assert_eq!((s(&c, "external_id"), &c["external_id_pending"]), (first.as_str(), &Value::Null), "{c}");
    let rot = api.post("external-id/rotate", &json!({})).expect(200);
    api.post("external-id/rotate", &json!({})).expect_error(409, "conflict");
    // Cancel drops the pending ID; the current one stays.
    let c = api.post("external-id/cancel", &json!({})).expect(200);
    assert_eq!((s(&c, "external_id"), &c["external_id_pending"]), (first.as_str(), &Value::Null), "{c}");
    let rot2 = api.post("external-id/rotate", &json!({})).expect(200);
    assert_ne!(rot2["external_id_pending"], rot["external_id_pending"], "a cancelled ID is never reissued");
    api.post("external-id/commit", &json!({})).expect_error(409, "conflict");
    // `force` is the operator's override: commit without a passing test.
    let done = api.post("external-id/commit", &json!({ "force": true })).expect(200);
    assert_eq!(done["external_id"], rot2["external_id_pending"]);
    assert_eq!(ids(&api.post("bootstrap-template", &template_input(INSTANCE, ACCOUNT)).expect(200)).len(), 1);
    let rotated = [first.as_str(), s(&rot, "external_id_pending"), s(&rot2, "external_id_pending")];
    sweep("server_rotation_conflicts", &f.dep, &[&f.token], &rotated, None).check();
}

#[test]
fn failing_checks_answer_with_the_roles_fault() {
    let peers = peers();
    let Some(mut dep) = deployment("server_failing_checks", false, endpoints(&peers)) else { return };
    let server = dep.start();
    let tenant = uuid();
    let token = dep.token(&tenant);
    let api = server.api(&token, &tenant);
    let t = api.post("bootstrap-template", &template_input(&peers.instance_arn, &peers.owner)).expect(200);
    let role = s(&t, "role_arn").to_owned();
    api.put("config", &json!({ "sso_instance_arn": peers.instance_arn, "role_arn": role, "region": REGION }))
        .expect(200);
    // No such role (never created): STS refuses.
    api.post("test", &json!({})).expect_error(422, "sts_assume_role_failed");
    // A role that trusts someone else.
    let other = trust_policy_of(&t).replace(VENDOR, "arn:aws:iam::222222222222:role/someone-else");
    peers.sts.put_role(&role, &other);
    let v = api.post("test", &json!({})).expect_error(422, "sts_assume_role_failed");
    assert!(!v.to_string().contains(&ids(&t)[0]), "the failure shows the external ID: {v}");
    // A role open to anyone who names it: confused-deputy hole.
    peers.sts.put_role(&role, &trust_policy_without_external_id(VENDOR));
    api.post("test", &json!({})).expect_error(422, "external_id_not_enforced");
    // The right role passes; deleting the config makes it unconfigured again.
    peers.sts.put_role(&role, &trust_policy_of(&t));
    assert_eq!(api.post("test", &json!({})).expect(200)["success"], true);
    let r = api.delete("config");
    assert!(matches!(r.status, 200 | 204), "{} {}", r.status, r.body);
    api.post("test", &json!({})).expect_error(404, "not_configured");
    assert_unconfigured(&api);
    sweep("server_failing_checks", &dep, &[&token], &[&ids(&t)[0]], Some(&peers)).check();
}

/// SIGTERM while a connectivity test waits out IAM propagation: the request in
/// flight still gets its answer, then the process exits cleanly.
#[test]
fn sigterm_finishes_the_request_in_flight() {
    let peers = peers();
    let Some(mut dep) = deployment("server_sigterm", false, endpoints(&peers)) else { return };
    let mut server = dep.start();
    let tenant = uuid();
    let token = dep.token(&tenant);
    let api = server.api(&token, &tenant);
    let t = api.post("bootstrap-template", &template_input(&peers.instance_arn, &peers.owner)).expect(200);
    let role = s(&t, "role_arn").to_owned();
    api.put("config", &json!({ "sso_instance_arn": peers.instance_arn, "role_arn": role, "region": REGION }))
        .expect(200);
    peers.sts.put_role(&role, &trust_policy_of(&t));
    // The role "propagates" for 2 s: the check retries until then (its timeout is 3 s).
    peers.sts.deny_for(&role, Duration::from_secs(2));
    let in_flight = {
        let api = api.clone();
        std::thread::spawn(move || api.post("test", &json!({})))
    };
    std::thread::sleep(Duration::from_millis(700));
    let status = server.stop().expect("running");
    let r = in_flight.join().expect("request thread");
    assert_eq!((r.status, r.json()["success"].clone()), (200, json!(true)), "{}", r.body);
    assert!(status.success(), "exit after SIGTERM: {status}");
    // The signal came while the test was in flight: the shutdown line precedes its answer's.
    let out = server.output();
    let (shutdown, answered) = (out.find("shutting down"), out.find("/test"));
    assert!(shutdown.is_some() && answered.is_some() && shutdown < answered, "order of events:\n{out}");
    assert!(r.header("x-request-id").is_some_and(|id| !id.is_empty()), "no request ID: {:?}", r.headers);
    sweep("server_sigterm", &dep, &[&token], &[&ids(&t)[0]], Some(&peers)).check();
}

fn restart_keeps_everything(postgres: bool) {
    let test = if postgres { "server_restart_postgres" } else { "server_restart_sqlite" };
    let Some(mut dep) = deployment(test, postgres, Endpoints::unreachable()) else { return };
    let mut server = dep.start();
    let tenant = uuid();
    let token = dep.token(&tenant);
    let api = server.api(&token, &tenant);
    api.post("bootstrap-template", &template_input(INSTANCE, ACCOUNT)).expect(200);
    api.post("external-id/rotate", &json!({})).expect(200);
    api.put("config", &config_body("arn:aws:iam::123456789012:role/Kept")).expect(200);
    let (ids_before, config_before) = (api.get("external-id").expect(200), api.get("config").expect(200));
    assert!(server.stop().expect("running").success());

    let server = dep.start();
    let api = api.at(server.addr);
    assert_eq!(api.get("external-id").expect(200), ids_before, "external IDs after a restart");
    assert_eq!(api.get("config").expect(200), config_before, "config after a restart");
    // The rotation state survived too: still one pending ID to commit.
    api.post("external-id/rotate", &json!({})).expect_error(409, "conflict");
    let kept = [s(&ids_before, "external_id"), s(&ids_before, "external_id_pending")];
    sweep(test, &dep, &[&token], &kept, None).check();
}

#[test]
fn restart_keeps_tokens_ids_and_config_on_sqlite() {
    restart_keeps_everything(false);
}

#[test]
fn restart_keeps_tokens_ids_and_config_on_postgres() {
    restart_keeps_everything(true);
}

/// `kill -9` while 4 tenants write their config as fast as the server acknowledges
/// and fresh tenants get their first external ID: after a restart, every
/// acknowledged write is there (the last acknowledged config, or the one in flight
/// when the process died; each acknowledged ID, unchanged).
fn crash_loses_no_acknowledged_write(postgres: bool) {
    let test = if postgres { "server_crash_postgres" } else { "server_crash_sqlite" };
    let Some(mut dep) = deployment(test, postgres, Endpoints::unreachable()) else { return };
    let mut server = dep.start();
    let writers: Vec<(String, String)> = (0..4)
        .map(|_| {
            let t = uuid();
            let token = dep.token(&t);
            (t, token)
        })
        .collect();
    let fresh: Vec<(String, String)> = (0..12)
        .map(|_| {
            let t = uuid();
            let token = dep.token(&t);
            (t, token)
        })
        .collect();
    let role = |i: usize| format!("arn:aws:iam::123456789012:role/crash-{i}");
    let acks = Arc::new(AtomicUsize::new(0));
    let dead = Arc::new(AtomicBool::new(false));
    let issued: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let mut threads = Vec::new();
    for (tenant, token) in writers.clone() {
        let (api, acks, dead) = (server.api(&token, &tenant), acks.clone(), dead.clone());
        threads.push(std::thread::spawn(move || {
            // (last acknowledged, in flight)
            let mut last: Option<usize> = None;
            for i in 0.. {
                let r = crate::util::server::http(
                    api.addr,
                    "PUT",
                    &format!("{}/config", crate::util::server::PREFIX),
                    &[
                        ("Authorization".into(), format!("Bearer {token}")),
                        ("X-Tenant-ID".into(), tenant.clone()),
                        ("Content-Type".into(), "application/json".into()),
                    ],
                    config_body(&role(i)).to_string().as_bytes(),
                );
                match r {
                    Ok(r) if r.status == 200 => {
                        last = Some(i);
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => panic!("PUT config answered {} {}", r.status, r.body),
                    Err(_) => return (last, i),
                }
                if dead.load(Ordering::Relaxed) && i > last.map_or(0, |l| l + 2) {
                    return (last, i);
                }
            }
            unreachable!()
        }));
    }
    let fresh_thread = {
        let (server_api, issued, fresh) = (server.anonymous(), issued.clone(), fresh.clone());
        std::thread::spawn(move || {
            for (n, (tenant, token)) in fresh.iter().enumerate() {
                let api =
                    Api { token: Some(token.clone()), tenant: Some(tenant.clone()), ..server_api.clone() };
                let r = crate::util::server::http(
                    api.addr,
                    "POST",
                    &format!("{}/bootstrap-template", crate::util::server::PREFIX),
                    &[
                        ("Authorization".into(), format!("Bearer {token}")),
                        ("X-Tenant-ID".into(), tenant.clone()),
                        ("Content-Type".into(), "application/json".into()),
                    ],
                    template_input(INSTANCE, ACCOUNT).to_string().as_bytes(),
                );
                match r {
                    Ok(r) if r.status == 200 => issued.lock().unwrap().push((n, ids(&r.json())[0].clone())),
                    Ok(r) => panic!("bootstrap-template answered {} {}", r.status, r.body),
                    Err(_) => return,
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let until = Instant::now() + Duration::from_secs(20);
    while acks.load(Ordering::Relaxed) < 60 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill9();
    dead.store(true, Ordering::Relaxed);
    let outcomes: Vec<(Option<usize>, usize)> =
        threads.into_iter().map(|t| t.join().expect("writer")).collect();
    fresh_thread.join().expect("issuer");
    let total = acks.load(Ordering::Relaxed);
    assert!(total >= 20, "only {total} writes acknowledged before the kill");

    let server = dep.start();
    for ((tenant, token), (last, in_flight)) in writers.iter().zip(&outcomes) {
        let api = server.api(token, tenant);
        let Some(last) = last else { continue };
        let got = api.get("config").expect(200);
        let got = s(&got, "role_arn");
        assert!(
            got == role(*last) || got == role(*in_flight),
            "tenant {tenant}: config is {got}, acknowledged {} (in flight {})",
            role(*last),
            role(*in_flight)
        );
    }
    for (n, id) in issued.lock().unwrap().iter() {
        let (tenant, token) = &fresh[*n];
        let e = server.api(token, tenant).get("external-id").expect(200);
        assert_eq!(s(&e, "external_id"), id, "an acknowledged external ID changed after the crash");
    }
    let tokens: Vec<&str> = writers.iter().chain(&fresh).map(|(_, token)| token.as_str()).collect();
    let issued: Vec<String> = issued.lock().unwrap().iter().map(|(_, id)| id.clone()).collect();
    let issued: Vec<&str> = issued.iter().map(String::as_str).collect();
    sweep(test, &dep, &tokens, &issued, None).check();
}

#[test]
fn kill_9_loses_no_acknowledged_write_on_sqlite() {
    crash_loses_no_acknowledged_write(false);
}

#[test]
fn kill_9_loses_no_acknowledged_write_on_postgres() {
    crash_loses_no_acknowledged_write(true);
}

/// schemathesis, from the venv, against the live document and server: bounded by
/// examples per operation and a wall-clock limit, authenticated as one tenant whose
/// role the STS stand-in knows (so `test` reaches a real answer, not a timeout).
#[test]
fn openapi_contract_holds_under_schemathesis() {
    let peers = peers();
    let Some(dep) = deployment("server_schemathesis", false, endpoints(&peers)) else { return };
    // Roles schemathesis registers do not exist: fail their checks fast.
    let mut dep = dep.env("IDCBOOTSTRAP_PROPAGATION_TIMEOUT", "300ms");
    let server = dep.start();
    let tenant = uuid();
    let token = dep.token(&tenant);
    let api = server.api(&token, &tenant);
    let t = api.post("bootstrap-template", &template_input(&peers.instance_arn, &peers.owner)).expect(200);
    peers.sts.put_role(s(&t, "role_arn"), &trust_policy_of(&t));
    api.put(
        "config",
        &json!({ "sso_instance_arn": peers.instance_arn, "role_arn": s(&t, "role_arn"), "region": REGION }),
    )
    .expect(200);
    let seed = std::env::var("IDCB_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261130".into());
    let report = temp_dir();
    let mut child = Command::new(venv_bin("schemathesis"))
        .args(["run", &format!("http://{}/openapi.json", server.addr)])
        .args(["--url", &format!("http://{}", server.addr)])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--header", &format!("X-Tenant-ID: {tenant}")])
        // Every check but positive_data_acceptance: a region must be a real one of the
        // ARN's partition, a rule across fields and a region table that JSON Schema
        // does not state, so some schema-valid requests are rightly refused (400).
        .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--max-examples", "20", "--seed", &seed, "--workers", "1", "--request-timeout", "30"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--report", "junit", "--report-dir"])
        .arg(report.path())
        .current_dir(report.path())
        .env("NO_COLOR", "1")
        .env("HOME", report.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run schemathesis");
    let deadline = Instant::now() + Duration::from_secs(240);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("schemathesis ran over its 240 s budget");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = child.wait_with_output().expect("schemathesis output");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found problems (seed {seed}):\n{text}");
    // Its own output too (it shows requests it sent when it reports them).
    let mut swept = sweep("server_schemathesis", &dep, &[&token], &[&ids(&t)[0]], Some(&peers));
    swept.text("schemathesis output", crate::util::sweep::Place::Output, &text).check();
    eprintln!(
        "{}",
        text.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}
