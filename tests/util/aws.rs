//! AWS API peers for the connectivity tests, all on 127.0.0.1:
//!
//! * [`Moto`]: a real moto server (sso-admin, and the instance it auto-creates).
//! * [`StsStandIn`]: a stand-in for STS `AssumeRole`, because moto's STS does not
//!   enforce trust policies or `sts:ExternalId`, and those are what the check tests.
//! * [`SsoAdminFront`]: a stand-in in front of moto for what moto cannot do: deny a
//!   permission, report an instance that is not `ACTIVE`, and answer the two status
//!   lists moto does not implement. Everything else it forwards to moto unchanged.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{free_port, venv_bin};

/// The account moto gives callers it does not know (all of ours).
pub(crate) const MOTO_ACCOUNT: &str = "123456789012";

/// A moto server on 127.0.0.1, killed on drop.
pub(crate) struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Starts `moto_server` on a free port and waits until it accepts connections.
    pub(crate) fn start() -> Moto {
        let port = free_port();
        let child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let mut moto = Moto { child, port };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited early: {status}");
            }
            assert!(Instant::now() < until, "moto_server did not listen on {port} within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The instance moto creates for `region` (listing creates it): `(arn, owner)`.
    pub(crate) async fn sso_instance(&self, region: &str) -> (String, String) {
        let body = sso_admin_call(&self.endpoint(), region, "ListInstances", json!({})).await;
        let inst = &body["Instances"][0];
        (
            inst["InstanceArn"].as_str().expect("InstanceArn").to_owned(),
            inst["OwnerAccountId"].as_str().expect("owner").to_owned(),
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One unsigned sso-admin JSON call (moto does not check signatures; the
/// credential scope names the region it answers for).
async fn sso_admin_call(endpoint: &str, region: &str, op: &str, body: Value) -> Value {
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    let req = Request::post(endpoint)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("SWBExternalService.{op}"))
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/{region}/sso/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .body(Body::from(body.to_string()))
        .expect("request");
    let resp = client.request(req).await.expect("sso-admin call");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    assert!(status.is_success(), "{op}: {status} {}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).expect("json")
}

/// A running axum server on 127.0.0.1:0, stopped (and joined) on drop.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    async fn start(app: axum::Router) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
        });
        Server { addr, stop: Some(stop), task: Some(task) }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Graceful shutdown waits for open keep-alive connections; do not wait for
        // clients that linger, the task ends with the runtime.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The trust policy the core renders (`policy::trust_policy_document`): only
/// `principal`, only `sts:AssumeRole`, only with `sts:ExternalId` equal to one of `ids`.
pub(crate) fn trust_policy(principal: &str, ids: &[&str]) -> String {
    let ids: Vec<idcbootstrap::ExternalId> = ids.iter().map(|s| idcbootstrap::ExternalId::new(*s)).collect();
    let condition = idcbootstrap::policy::external_id_condition(&ids);
    idcbootstrap::policy::trust_policy_document(principal, condition).to_string()
}

/// A trust policy that names `principal` but has no external-ID condition: the
/// confused-deputy hole the negative probe must catch.
pub(crate) fn trust_policy_without_external_id(principal: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Principal": { "AWS": principal }, "Action": "sts:AssumeRole" }]
    })
    .to_string()
}

#[derive(Default)]
struct Role {
    trust_policy: Value,
    /// Denied until then, as a role IAM has not propagated yet.
    denied_until: Option<Instant>,
    /// Throttle this many more calls.
    throttle: u32,
}

/// One `AssumeRole` the stand-in answered.
#[derive(Debug, Clone)]
pub(crate) struct AssumeCall {
    /// The role asked for.
    pub(crate) role_arn: String,
    /// Whether an external ID was sent (its value is not kept).
    pub(crate) with_external_id: bool,
    /// The HTTP status answered.
    pub(crate) status: u16,
}

#[derive(Default)]
struct StsState {
    callers: HashMap<String, String>,
    roles: HashMap<String, Role>,
    calls: Vec<AssumeCall>,
    issued: u64,
    /// Every secret access key and session token handed out, for the secrets sweep.
    secrets: Vec<String>,
}

/// A stand-in for STS `AssumeRole` (Query protocol, XML answers), because moto's
/// STS assumes any role for anyone: it neither evaluates trust policies nor checks
/// `sts:ExternalId`, which is exactly what the connectivity check must verify.
///
/// It knows callers by access key ID (from the SigV4 `Credential=` scope; signatures
/// are not verified), evaluates each role's trust policy (`Allow`/`Deny` statements,
/// `Principal.AWS` as ARN, account root or account ID, `Action` `sts:AssumeRole`,
/// `StringEquals`, `StringLike` and `Null` on `sts:ExternalId`; any other condition
/// fails closed), can deny a
/// role for a while (IAM propagation) or throttle it N times, and issues credentials.
pub(crate) struct StsStandIn {
    state: Arc<Mutex<StsState>>,
    server: Server,
}

impl StsStandIn {
    /// Starts the stand-in on 127.0.0.1:0.
    pub(crate) async fn start() -> StsStandIn {
        let state = Arc::new(Mutex::new(StsState::default()));
        let app = axum::Router::new().fallback(sts_handler).with_state(state.clone());
        StsStandIn { state, server: Server::start(app).await }
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Makes `access_key_id` sign as `principal_arn`.
    pub(crate) fn add_caller(&self, access_key_id: &str, principal_arn: &str) {
        self.state.lock().unwrap().callers.insert(access_key_id.to_owned(), principal_arn.to_owned());
    }

    /// Creates (or replaces) role `arn` with `trust_policy` (JSON).
    pub(crate) fn put_role(&self, arn: &str, trust_policy: &str) {
        let trust_policy = serde_json::from_str(trust_policy).expect("trust policy JSON");
        self.state.lock().unwrap().roles.insert(arn.to_owned(), Role { trust_policy, ..Role::default() });
    }

    /// Denies every `AssumeRole` of `arn` for `d` from now, as IAM does until a new
    /// role propagates.
    pub(crate) fn deny_for(&self, arn: &str, d: Duration) {
        self.state.lock().unwrap().roles.get_mut(arn).expect("role").denied_until = Some(Instant::now() + d);
    }

    /// Throttles the next `n` `AssumeRole` calls of `arn`.
    pub(crate) fn throttle(&self, arn: &str, n: u32) {
        self.state.lock().unwrap().roles.get_mut(arn).expect("role").throttle = n;
    }

    /// Every call answered so far.
    pub(crate) fn calls(&self) -> Vec<AssumeCall> {
        self.state.lock().unwrap().calls.clone()
    }

    /// Every secret access key and session token issued so far (for the sweep).
    pub(crate) fn issued_secrets(&self) -> Vec<String> {
        self.state.lock().unwrap().secrets.clone()
    }
}

fn access_key_of(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    Some(cred.split('/').next()?.to_owned())
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn principal_matches(pattern: &str, caller: &str) -> bool {
    if pattern == "*" || pattern == caller {
        return true;
    }
    // Account principals: `123456789012` or `arn:aws:iam::123456789012:root`.
    let caller_account = caller.split(':').nth(4).unwrap_or_default();
    let account = pattern.strip_suffix(":root").and_then(|p| p.split(':').nth(4)).unwrap_or(pattern);
    account.len() == 12 && account == caller_account
}

fn statement_applies(st: &Value, caller: &str, external_id: Option<&str>) -> bool {
    let action_ok = strings(&st["Action"]).iter().any(|a| matches!(*a, "sts:AssumeRole" | "sts:*" | "*"));
    let principal_ok = match &st["Principal"] {
        Value::String(s) => s == "*",
        p => strings(&p["AWS"]).iter().any(|pat| principal_matches(pat, caller)),
    };
    let condition_ok = match st.get("Condition") {
        None => true,
        Some(Value::Object(ops)) => ops.iter().all(|(op, keys)| match (op.as_str(), keys) {
            ("StringEquals", Value::Object(keys)) => keys.iter().all(|(k, v)| match k.as_str() {
                "sts:ExternalId" => external_id.is_some_and(|id| strings(v).contains(&id)),
                _ => false,
            }),
            // IAM: a missing key never matches StringLike; `*` and `?` are wildcards.
            ("StringLike", Value::Object(keys)) => keys.iter().all(|(k, v)| match k.as_str() {
                "sts:ExternalId" => external_id.is_some_and(|id| strings(v).iter().any(|p| glob(p, id))),
                _ => false,
            }),
            // IAM: `"true"` matches when the key is absent, `"false"` when it is present.
            ("Null", Value::Object(keys)) => keys.iter().all(|(k, v)| match (k.as_str(), v.as_str()) {
                ("sts:ExternalId", Some("true")) => external_id.is_none(),
                ("sts:ExternalId", Some("false")) => external_id.is_some(),
                _ => false,
            }),
            _ => false,
        }),
        Some(_) => false,
    };
    action_ok && principal_ok && condition_ok
}

/// IAM's `StringLike` match: `*` any run of characters, `?` any one, case-sensitive.
fn glob(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    // Classic two-pointer wildcard match with one backtrack point.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < s.len() {
        if i < p.len() && (p[i] == '?' || p[i] == s[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(st) = star {
            i = st + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// A trust policy that names `principal` and asks for an external ID with
/// `operator` (`StringLike`, `Null`) and `value`: it denies callers without an ID,
/// yet (with `"*"` or `"false"`) trusts any ID at all.
pub(crate) fn trust_policy_with_condition(principal: &str, operator: &str, value: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": principal },
            "Action": "sts:AssumeRole",
            "Condition": { operator: { "sts:ExternalId": value } }
        }]
    })
    .to_string()
}

fn trust_allows(policy: &Value, caller: &str, external_id: Option<&str>) -> bool {
    let statements: Vec<&Value> = match &policy["Statement"] {
        Value::Array(a) => a.iter().collect(),
        one @ Value::Object(_) => vec![one],
        _ => Vec::new(),
    };
    let applies = |effect: &str| {
        statements.iter().any(|st| st["Effect"] == effect && statement_applies(st, caller, external_id))
    };
    !applies("Deny") && applies("Allow")
}

fn sts_xml(status: StatusCode, body: String) -> Response<Body> {
    (status, [("content-type", "text/xml")], body).into_response()
}

fn sts_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    sts_xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
             <Code>{code}</Code><Message>{message}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>"
        ),
    )
}

/// ISO 8601 UTC for a Unix time (days-from-civil inverse, Howard Hinnant's algorithm).
fn iso8601(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

async fn sts_handler(
    State(state): State<Arc<Mutex<StsState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    if form.get("Action").map(String::as_str) != Some("AssumeRole") {
        return sts_error(StatusCode::BAD_REQUEST, "InvalidAction", "the stand-in only serves AssumeRole");
    }
    let role_arn = form.get("RoleArn").cloned().unwrap_or_default();
    let external_id = form.get("ExternalId").map(String::as_str);
    let duration: u64 = form.get("DurationSeconds").and_then(|d| d.parse().ok()).unwrap_or(3600);
    let mut guard = state.lock().unwrap();
    // Borrow the fields apart: a role stays borrowed while a credential is issued.
    let st = &mut *guard;
    let caller = access_key_of(&headers).and_then(|k| st.callers.get(&k).cloned());
    let denied = |caller: &str| {
        sts_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!("User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
        )
    };
    let resp = match (caller, st.roles.get_mut(&role_arn)) {
        (None, _) => sts_error(
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        (Some(caller), None) => denied(&caller),
        (Some(_), Some(role)) if role.throttle > 0 => {
            role.throttle -= 1;
            sts_error(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded")
        }
        (Some(caller), Some(role)) if role.denied_until.is_some_and(|t| Instant::now() < t) => {
            denied(&caller)
        }
        (Some(caller), Some(role)) if !trust_allows(&role.trust_policy, &caller, external_id) => {
            denied(&caller)
        }
        (Some(_), Some(_)) => {
            st.issued += 1;
            let n = st.issued;
            let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
            let role_name = role_arn.rsplit('/').next().unwrap_or_default();
            let session = form.get("RoleSessionName").cloned().unwrap_or_default();
            let account = role_arn.split(':').nth(4).unwrap_or_default();
            st.secrets.push(format!("standin-secret-{n}-{now}"));
            st.secrets.push(format!("standin-token-{n}-{now}"));
            sts_xml(
                StatusCode::OK,
                format!(
                    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
                     <Credentials><AccessKeyId>ASIASTANDIN{n:09}</AccessKeyId>\
                     <SecretAccessKey>standin-secret-{n}-{now}</SecretAccessKey>\
                     <SessionToken>standin-token-{n}-{now}</SessionToken>\
                     <Expiration>{}</Expiration></Credentials>\
                     <AssumedRoleUser><AssumedRoleId>AROASTANDIN:{session}</AssumedRoleId>\
                     <Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{session}</Arn></AssumedRoleUser>\
                     </AssumeRoleResult><ResponseMetadata><RequestId>stand-in-{n}</RequestId></ResponseMetadata>\
                     </AssumeRoleResponse>",
                    iso8601(now + duration)
                ),
            )
        }
    };
    st.calls.push(AssumeCall {
        role_arn,
        with_external_id: external_id.is_some(),
        status: resp.status().as_u16(),
    });
    resp
}

#[derive(Default)]
struct FrontState {
    moto: String,
    denied: HashSet<String>,
    instance_status: Option<String>,
}

/// Moto and the STS stand-in with one vendor caller, and moto's instance, on a
/// runtime of their own so that a test thread can run Terraform synchronously
/// meanwhile. The Terraform-driven suites share it.
pub(crate) struct BlockingPeers {
    pub(crate) moto: Moto,
    pub(crate) sts: StsStandIn,
    pub(crate) instance_arn: String,
    pub(crate) owner: String,
    // Last: the servers above stop before their runtime does.
    _rt: tokio::runtime::Runtime,
}

impl BlockingPeers {
    /// Starts both peers; `vendor_key` signs requests as `vendor` at the stand-in.
    pub(crate) fn start(region: &str, vendor_key: &str, vendor: &str) -> BlockingPeers {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let moto = Moto::start();
        let (instance_arn, owner) = rt.block_on(moto.sso_instance(region));
        let sts = rt.block_on(StsStandIn::start());
        sts.add_caller(vendor_key, vendor);
        BlockingPeers { moto, sts, instance_arn, owner, _rt: rt }
    }
}

/// A stand-in in front of moto's sso-admin and identitystore for what moto cannot do:
/// it denies the operations it is told to (moto does not evaluate the role's
/// permissions), can rewrite `ListInstances` statuses (moto's instances are always
/// `ACTIVE`), and answers `ListAccountAssignmentCreationStatus` and
/// `ListPermissionSetProvisioningStatus` (not implemented in moto 5.2.5) with an
/// empty list. Every other request goes to moto as is.
pub(crate) struct SsoAdminFront {
    state: Arc<Mutex<FrontState>>,
    server: Server,
}

impl SsoAdminFront {
    /// Starts the front on 127.0.0.1:0, forwarding to `moto`.
    pub(crate) async fn start(moto: &Moto) -> SsoAdminFront {
        let state = Arc::new(Mutex::new(FrontState { moto: moto.endpoint(), ..FrontState::default() }));
        let app = axum::Router::new().fallback(front_handler).with_state(state.clone());
        SsoAdminFront { state, server: Server::start(app).await }
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Answers `AccessDeniedException` to `operation` (e.g. `ListPermissionSets`, or
    /// identitystore's `ListUsers`).
    pub(crate) fn deny(&self, operation: &str) {
        self.state.lock().unwrap().denied.insert(operation.to_owned());
    }

    /// Reports every instance with `status` (e.g. `CREATE_IN_PROGRESS`).
    pub(crate) fn instance_status(&self, status: &str) {
        self.state.lock().unwrap().instance_status = Some(status.to_owned());
    }
}

/// Answers to the sso-admin reads moto 5.2.5 does not implement: no operations in
/// progress, which is what a fresh instance reports.
fn moto_lacks(op: &str) -> Option<Value> {
    match op {
        "ListAccountAssignmentCreationStatus" => Some(json!({ "AccountAssignmentsCreationStatus": [] })),
        "ListPermissionSetProvisioningStatus" => Some(json!({ "PermissionSetsProvisioningStatus": [] })),
        _ => None,
    }
}

async fn front_handler(State(state): State<Arc<Mutex<FrontState>>>, req: Request<Body>) -> Response<Body> {
    let op = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split('.').nth(1))
        .unwrap_or_default()
        .to_owned();
    let (moto, denied, status) = {
        let st = state.lock().unwrap();
        (st.moto.clone(), st.denied.contains(&op), st.instance_status.clone())
    };
    if denied {
        let body = json!({
            "__type": "AccessDeniedException",
            "Message": format!("User is not authorized to perform: sso:{op}")
        });
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.1"), ("x-amzn-errortype", "AccessDeniedException")],
            body.to_string(),
        )
            .into_response();
    }
    if let Some(answer) = moto_lacks(&op) {
        return (StatusCode::OK, [("content-type", "application/x-amz-json-1.1")], answer.to_string())
            .into_response();
    }
    let (mut parts, body) = req.into_parts();
    let bytes = body.collect().await.expect("request body").to_bytes();
    parts.uri = format!("{moto}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .parse()
        .expect("uri");
    parts.headers.remove("host");
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    let resp = client.request(Request::from_parts(parts, Body::from(bytes))).await.expect("forward to moto");
    let (mut parts, body) = resp.into_parts();
    let mut bytes = body.collect().await.expect("moto body").to_bytes();
    if let (Some(status), "ListInstances") = (status, op.as_str()) {
        let mut v: Value = serde_json::from_slice(&bytes).expect("ListInstances JSON");
        for inst in v["Instances"].as_array_mut().into_iter().flatten() {
            inst["Status"] = Value::from(status.as_str());
            inst["StatusReason"] = Value::from("set by the test");
        }
        bytes = Bytes::from(v.to_string());
        parts.headers.remove("content-length");
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_798_761_599), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn trust_evaluation() {
        let vendor = "arn:aws:iam::111111111111:role/vendor";
        let p: Value = serde_json::from_str(&trust_policy(vendor, &["id-one", "id-two"])).unwrap();
        assert!(trust_allows(&p, vendor, Some("id-one")));
        assert!(trust_allows(&p, vendor, Some("id-two")));
        assert!(!trust_allows(&p, vendor, Some("id-three")));
        assert!(!trust_allows(&p, vendor, None));
        assert!(!trust_allows(&p, "arn:aws:iam::222222222222:role/vendor", Some("id-one")));
        let open: Value = serde_json::from_str(&trust_policy_without_external_id(vendor)).unwrap();
        assert!(trust_allows(&open, vendor, None));
        let root: Value =
            serde_json::from_str(&trust_policy_without_external_id("arn:aws:iam::111111111111:root"))
                .unwrap();
        assert!(trust_allows(&root, vendor, None));
    }

    #[test]
    fn string_like_and_null_conditions_on_the_external_id() {
        let vendor = "arn:aws:iam::111111111111:role/vendor";
        let policy = |op: &str, v: &str| -> Value {
            serde_json::from_str(&trust_policy_with_condition(vendor, op, v)).unwrap()
        };
        let any = policy("StringLike", "*");
        assert!(!trust_allows(&any, vendor, None), "a missing key never matches StringLike");
        assert!(trust_allows(&any, vendor, Some("anything-at-all")));
        let prefixed = policy("StringLike", "vendor-?-*");
        assert!(trust_allows(&prefixed, vendor, Some("vendor-a-123")));
        assert!(!trust_allows(&prefixed, vendor, Some("vendor-ab-123")));
        assert!(!trust_allows(&prefixed, vendor, Some("other-a-123")));
        let present = policy("Null", "false");
        assert!(!trust_allows(&present, vendor, None));
        assert!(trust_allows(&present, vendor, Some("anything-at-all")));
        let absent = policy("Null", "true");
        assert!(trust_allows(&absent, vendor, None));
        assert!(!trust_allows(&absent, vendor, Some("x1")));
        // Unknown operators and keys fail closed.
        assert!(!trust_allows(&policy("StringNotEquals", "x"), vendor, Some("y")));
    }

    #[test]
    fn glob_matches_like_iam() {
        for (p, s, want) in [
            ("*", "", true),
            ("*", "abc", true),
            ("a*c", "abbbc", true),
            ("a*c", "abcd", false),
            ("?", "", false),
            ("a?c", "abc", true),
            ("*b*", "xxbyy", true),
            ("abc", "ABC", false),
        ] {
            assert_eq!(glob(p, s), want, "{p} vs {s}");
        }
    }
}
