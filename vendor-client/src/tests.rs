//! The client against a scripted stand-in on 127.0.0.1 (axum): the faults the real
//! server cannot be made to produce on demand (5xx, 429 with `Retry-After`, slow
//! answers, refused connections). The end-to-end tests drive the real
//! `idcbootstrap-server`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::*;

const TENANT: &str = "2489E9AD-2ee2-4e00-8ec9-32d5f69181c0";
const TOKEN: &str = "idcb_secret-token-value-0123456789";
const ID: &str = "6f1c2d4e-aaaa-4bbb-8ccc-1234567890ab";
const PENDING: &str = "0e9d8c7b-1111-4222-8333-ba0987654321";

/// One scripted answer: status, `Retry-After`, body, delay before answering.
#[derive(Clone)]
struct Answer(u16, Option<u64>, String, Duration);

fn ok(body: &str) -> Answer {
    Answer(200, None, body.to_owned(), Duration::ZERO)
}

fn err(status: u16, code: &str) -> Answer {
    let body = format!(
        r#"{{"code":"{code}","message":"{code} happened","details":{{"fields":[{{"field":"role_arn","rule":"pattern","message":"m"}}]}},"notices":["n"]}}"#
    );
    Answer(status, None, body, Duration::ZERO)
}

/// A request as the stand-in saw it: method, path, authorization, x-tenant-id, body.
type Seen = (String, String, String, String, String);

#[derive(Default)]
struct Script {
    answers: Mutex<VecDeque<Answer>>,
    seen: Mutex<Vec<Seen>>,
}

async fn handler(State(s): State<Arc<Script>>, req: Request) -> Response {
    let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
    let (auth, tenant) = {
        let h = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        (h("authorization"), h("x-tenant-id"))
    };
    let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
    s.seen.lock().unwrap().push((method, path, auth, tenant, String::from_utf8_lossy(&body).into_owned()));
    let Answer(status, retry_after, body, delay) =
        s.answers.lock().unwrap().pop_front().unwrap_or_else(|| ok(r#"{"external_id":"x"}"#));
    tokio::time::sleep(delay).await;
    let mut r = Response::builder().status(StatusCode::from_u16(status).unwrap());
    if let Some(ra) = retry_after {
        r = r.header("retry-after", ra.to_string());
    }
    r.header("content-type", "application/json").body(Body::from(body)).unwrap()
}

async fn stand_in(answers: Vec<Answer>) -> (String, Arc<Script>) {
    let script = Arc::new(Script { answers: Mutex::new(answers.into()), ..Script::default() });
    let app = axum::Router::new().fallback(handler).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), script)
}

fn fast() -> Options {
    Options {
        retry: Retry {
            attempts: 4,
            first_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            budget: Duration::from_secs(5),
        },
        request_timeout: Duration::from_millis(500),
        test_timeout: Duration::from_millis(500),
        propagation_backoff: Duration::from_millis(20),
        ..Options::default()
    }
}

fn client(url: &str) -> VendorClient {
    VendorClient::with_options(url, TENANT, TOKEN, fast()).unwrap()
}

#[tokio::test]
async fn sends_token_and_tenant_and_reads_external_ids() {
    let body = format!(r#"{{"external_id":"{ID}","external_id_pending":"{PENDING}"}}"#);
    let (url, script) = stand_in(vec![ok(&body)]).await;
    let c = client(&url);
    let ids = c.external_ids().await.unwrap();
    assert_eq!(ids.all(), [ID, PENDING]);
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (method, path, auth, tenant, _) = &seen[0];
    assert_eq!((method.as_str(), path.as_str()), ("GET", "/v1/integrations/aws-identity-center/external-id"));
    assert_eq!(auth, &format!("Bearer {TOKEN}"));
    assert_eq!(tenant, &TENANT.to_ascii_lowercase());
    for shown in [format!("{c:?}"), format!("{ids:?}")] {
        assert!(!shown.contains(TOKEN) && !shown.contains(ID) && !shown.contains(PENDING), "{shown}");
    }
}

#[tokio::test]
async fn put_config_sends_the_registration_and_reads_the_answer() {
    let answer = r#"{"sso_instance_arn":"i","role_arn":"r","region":"eu-west-1","configured":true}"#;
    let (url, script) = stand_in(vec![ok(answer)]).await;
    let reg = Registration { sso_instance_arn: "i".into(), role_arn: "r".into(), region: "eu-west-1".into() };
    let cfg = client(&url).put_config(&reg).await.unwrap();
    assert_eq!(cfg.registration(), Some(reg));
    let body: serde_json::Value = serde_json::from_str(&script.seen.lock().unwrap()[0].4).unwrap();
    assert_eq!(body, serde_json::json!({"sso_instance_arn": "i", "role_arn": "r", "region": "eu-west-1"}));
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried_within_the_bound() {
    let mut limited = err(429, "rate_limited");
    limited.1 = Some(60); // cut to max_backoff
    let answer = r#"{"configured":false,"role_arn":null,"sso_instance_arn":null,"region":null}"#;
    let (url, script) =
        stand_in(vec![err(503, "throttled"), limited, err(502, "network_error"), ok(answer)]).await;
    let started = std::time::Instant::now();
    let cfg = client(&url).get_config().await.unwrap();
    assert!(!cfg.configured && cfg.registration().is_none());
    assert_eq!(script.seen.lock().unwrap().len(), 4);
    assert!(started.elapsed() < Duration::from_secs(2), "Retry-After is capped");

    // Out of attempts: the last answer, with its code and status.
    let (url, script) = stand_in(vec![err(500, "internal"); 6]).await;
    let e = client(&url).get_config().await.unwrap_err();
    assert_eq!((e.code(), e.status(), e.attempts()), ("internal", Some(500), 4));
    assert_eq!(script.seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn client_errors_and_state_changes_are_not_retried() {
    let (url, script) = stand_in(vec![err(400, "invalid_input")]).await;
    let reg = Registration { sso_instance_arn: "i".into(), role_arn: "bad".into(), region: "r".into() };
    let e = client(&url).put_config(&reg).await.unwrap_err();
    assert_eq!((e.code(), e.status(), e.field().as_deref()), ("invalid_input", Some(400), Some("role_arn")));
    assert_eq!(e.notices(), ["n"]);
    assert_eq!(script.seen.lock().unwrap().len(), 1);

    // A rotate that may have happened is not repeated; a rate-limited one is.
    let (url, script) = stand_in(vec![err(500, "internal")]).await;
    assert_eq!(client(&url).rotate().await.unwrap_err().code(), "internal");
    assert_eq!(script.seen.lock().unwrap().len(), 1);
    let ids = format!(r#"{{"external_id":"{ID}","external_id_pending":"{PENDING}"}}"#);
    let (url, script) = stand_in(vec![err(429, "rate_limited"), ok(&ids)]).await;
    assert_eq!(client(&url).rotate().await.unwrap().pending.as_deref(), Some(PENDING));
    assert_eq!(script.seen.lock().unwrap().len(), 2);

    let (url, _) = stand_in(vec![err(401, "unauthenticated")]).await;
    let e = client(&url).external_ids().await.unwrap_err();
    assert_eq!(e.credential_settings(), ["api_token"]);
    let (url, _) = stand_in(vec![err(403, "tenant_mismatch")]).await;
    let e = client(&url).external_ids().await.unwrap_err();
    assert_eq!((e.code(), e.credential_settings()), ("tenant_mismatch", &["tenant_id", "api_token"][..]));
}

#[tokio::test]
async fn unreachable_and_slow_apis_are_network_and_timeout_errors() {
    // Nothing listens on the discard port of loopback.
    let e = client("http://127.0.0.1:9").external_ids().await.unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.attempts(), e.status()),
        (ErrorKind::Network, "network_error", 4, None)
    );
    assert!(e.message().contains("could not be reached"), "{e}");

    let slow = Answer(200, None, "{}".into(), Duration::from_secs(3));
    let (url, script) = stand_in(vec![slow; 4]).await;
    let mut o = fast();
    o.retry.attempts = 2;
    let e = VendorClient::with_options(&url, TENANT, TOKEN, o).unwrap().get_config().await.unwrap_err();
    assert_eq!((e.kind(), e.code(), e.attempts()), (ErrorKind::Timeout, "timeout", 2));
    assert_eq!(script.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn test_waits_out_propagation_and_stops_at_other_failures() {
    let pass = r#"{"success":true,"message":"ok","steps":[{"step":"assume_role_current","ok":true,"code":null,"message":"m","duration_ms":3}]}"#;
    let (url, script) =
        stand_in(vec![err(422, "sts_assume_role_failed"), err(422, "access_denied"), ok(pass)]).await;
    let r = client(&url).test(Duration::from_secs(5)).await.unwrap();
    assert_eq!((r.success, r.attempts, r.steps.len()), (true, 3, 1));
    assert!(script.seen.lock().unwrap().iter().all(|s| s.0 == "POST" && s.1.ends_with("/test")));

    // The role never becomes assumable: the last failure, with how long it waited.
    let (url, _) = stand_in(vec![err(422, "sts_assume_role_failed"); 50]).await;
    let e = client(&url).test(Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(e.code(), "sts_assume_role_failed");
    assert!(e.notices().iter().any(|n| n.contains("propagation")), "{:?}", e.notices());

    // Not propagation: no second test.
    let (url, script) = stand_in(vec![err(422, "external_id_not_enforced"), ok(pass)]).await;
    assert_eq!(
        client(&url).test(Duration::from_secs(5)).await.unwrap_err().code(),
        "external_id_not_enforced"
    );
    assert_eq!(script.seen.lock().unwrap().len(), 1);
    let (url, _) = stand_in(vec![err(404, "not_configured")]).await;
    assert!(client(&url).test(Duration::from_secs(5)).await.unwrap_err().is_not_configured());
}

#[tokio::test]
async fn control_characters_in_a_successful_answer_are_replaced_before_use() {
    let pass = r#"{"success":true,"message":"ok\u001b[1A","steps":[{"step":"assume_role\r","ok":true,"code":null,"message":"m\u001b]8;;x\u0007","duration_ms":3}]}"#;
    let (url, _) = stand_in(vec![ok(pass)]).await;
    let r = client(&url).test(Duration::from_secs(5)).await.unwrap();
    let texts = [&r.message, &r.steps[0].step, &r.steps[0].message];
    assert!(texts.iter().all(|t| !t.chars().any(char::is_control)), "{texts:?}");
    assert_eq!(r.steps[0].message, "m\u{FFFD}]8;;x\u{FFFD}");
}

#[test]
fn settings_are_checked_before_anything_is_sent() {
    let field = |r: Result<VendorClient, Error>| r.unwrap_err().field();
    assert_eq!(field(VendorClient::new("ftp://x", TENANT, TOKEN)).as_deref(), Some("api_url"));
    assert_eq!(field(VendorClient::new("https://u:p@x", TENANT, TOKEN)).as_deref(), Some("api_url"));
    assert_eq!(field(VendorClient::new("https://x/?a=1", TENANT, TOKEN)).as_deref(), Some("api_url"));
    assert_eq!(field(VendorClient::new("http://api.example", TENANT, TOKEN)).as_deref(), Some("api_url"));
    for local in ["http://localhost:8080", "http://127.0.0.2", "http://[::1]:1"] {
        assert!(VendorClient::new(local, TENANT, TOKEN).is_ok(), "{local}");
    }
    assert_eq!(field(VendorClient::new("https://x", "tenant-1", TOKEN)).as_deref(), Some("tenant_id"));
    let e = VendorClient::new("https://x", TENANT, "has space secret").unwrap_err();
    assert_eq!(e.field().as_deref(), Some("api_token"));
    assert!(!e.to_string().contains("secret"), "{e}");
    let c = VendorClient::new("https://api.example/base/", TENANT, TOKEN).unwrap();
    assert_eq!(c.base, "https://api.example/base/v1/integrations/aws-identity-center");
}
