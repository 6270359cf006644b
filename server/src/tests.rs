//! In-process tests of every status path: the router driven with
//! `tower::ServiceExt::oneshot` on SQLite in a temporary directory, and again on
//! PostgreSQL when `IDCB_TEST_POSTGRES_URL` is set (random tenants keep the runs
//! apart in one shared database).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use idcbootstrap::connectivity::{BaseCredentials, Secret, Settings};
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use crate::app::{AppConfig, AppState, BASE_PATH, RateLimit, router};
use crate::auth::Tenant;
use crate::crypto::Keyring;
use crate::store::{Db, Store};

const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/Vendor";
const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-abcdef0123456789";

struct Harness {
    app: Router,
    state: AppState,
    _dir: Option<tempfile::TempDir>,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

fn unreachable_settings() -> Settings {
    // Nothing listens on port 1: every AWS call fails at once with a network error.
    Settings::default()
        .with_credentials(BaseCredentials::Static {
            access_key_id: "AKIDTESTSERVER".into(),
            secret_access_key: Secret::new("test-secret-key"),
            session_token: None,
        })
        .with_endpoints(Some("http://127.0.0.1:1".into()), Some("http://127.0.0.1:1".into()))
        .with_identitystore_endpoint(Some("http://127.0.0.1:1".into()))
        .with_propagation_timeout(Duration::ZERO)
        .with_attempt_timeout(Duration::from_secs(2))
}

fn config() -> AppConfig {
    let mut c = AppConfig::new(unreachable_settings());
    c.trusted_principal_arn = Some(PRINCIPAL.into());
    c
}

async fn harness_with(url: Option<String>, config: AppConfig) -> Harness {
    let (url, dir) = match url {
        Some(u) => (u, None),
        None => {
            let dir = tempfile::tempdir().unwrap();
            (format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()), Some(dir))
        }
    };
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let keys = Keyring::from_base64([Keyring::generate_key().unwrap().as_str()]).unwrap();
    let store = Store::new(db, keys, config.cache_ttl);
    let state = AppState::new(store, config);
    Harness { app: router(state.clone()), state, _dir: dir }
}

/// The engines to run on: SQLite always, PostgreSQL when configured.
fn engines() -> Vec<Option<String>> {
    let mut v = vec![None];
    if let Ok(url) = std::env::var("IDCB_TEST_POSTGRES_URL")
        && !url.is_empty()
    {
        v.push(Some(url));
    }
    v
}

/// Runs an async test body on every engine.
macro_rules! on_every_engine {
    ($(#[$m:meta])* $name:ident, $config:expr, |$h:ident| $body:block) => {
        $(#[$m])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for url in engines() {
                let $h = harness_with(url, $config).await;
                $body
            }
        }
    };
}

impl Harness {
    async fn token(&self, tenant: Uuid) -> String {
        self.state.store.db().create_token(tenant).await.unwrap().1
    }

    async fn tenant(&self) -> (Uuid, String) {
        let t = Uuid::new_v4();
        (t, self.token(t).await)
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<(&str, Uuid)>,
        body: Option<Value>,
    ) -> Reply {
        let uri = if path.starts_with('/')
            && !path.starts_with(BASE_PATH)
            && path != "/healthz"
            && path != "/readyz"
            && path != "/openapi.json"
        {
            format!("{BASE_PATH}{path}")
        } else {
            path.to_owned()
        };
        let mut b = Request::builder().method(method).uri(uri);
        if let Some((token, tenant)) = auth {
            b = b
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header("x-tenant-id", tenant.to_string());
        }
        let req = match body {
            Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }
}

fn assert_seed_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["code"], code, "{}", r.text);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text);
    assert!(r.body["details"].is_object(), "{}", r.text);
    assert!(r.body["notices"].is_array(), "{}", r.text);
    assert_eq!(r.headers.get(header::CONTENT_TYPE).unwrap(), "application/json");
}

fn fields(r: &Reply) -> Vec<(String, String)> {
    r.body["details"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| (f["field"].as_str().unwrap().to_owned(), f["rule"].as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn template_body() -> Value {
    json!({ "aws_account_id": "123456789012", "sso_instance_arn": INSTANCE, "region": "us-east-1" })
}

fn config_body() -> Value {
    json!({ "sso_instance_arn": INSTANCE, "role_arn": "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole", "region": "us-east-1" })
}

/// Every authenticated operation: method, path, body.
fn operations() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::POST, "/bootstrap-template", Some(template_body())),
        (Method::PUT, "/config", Some(config_body())),
        (Method::GET, "/config", None),
        (Method::DELETE, "/config", None),
        (Method::POST, "/test", None),
        (Method::GET, "/external-id", None),
        (Method::POST, "/external-id/rotate", None),
        (Method::POST, "/external-id/commit", None),
        (Method::POST, "/external-id/cancel", None),
    ]
}

on_every_engine!(every_operation_refuses_a_missing_or_bad_token, config(), |h| {
    let (tenant, token) = h.tenant().await;
    for (method, path, body) in operations() {
        let r = h.call(method.clone(), path, None, body.clone()).await;
        assert_seed_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
        assert_eq!(r.headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
        let bad = format!("{token}x");
        let r = h.call(method.clone(), path, Some((&bad, tenant)), body.clone()).await;
        assert_seed_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
        assert!(!r.text.contains(&bad) && !r.text.contains(&token), "{}", r.text);
        let basic = Request::builder()
            .method(method)
            .uri(format!("{BASE_PATH}{path}"))
            .header(header::AUTHORIZATION, format!("Basic {token}"))
            .header("x-tenant-id", tenant.to_string())
            .body(Body::empty())
            .unwrap();
        assert_seed_error(&h.send(basic).await, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
});

on_every_engine!(a_revoked_token_stops_working, AppConfig { cache_ttl: Duration::ZERO, ..config() }, |h| {
    let t = Uuid::new_v4();
    let (id, token) = h.state.store.db().create_token(t).await.unwrap();
    assert_eq!(h.call(Method::GET, "/external-id", Some((&token, t)), None).await.status, StatusCode::OK);
    assert!(h.state.store.db().revoke_token(&id).await.unwrap());
    let r = h.call(Method::GET, "/external-id", Some((&token, t)), None).await;
    assert_seed_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    let listed = h.state.store.db().list_tokens(t).await.unwrap();
    assert!(listed.len() == 1 && listed[0].revoked_at.is_some());
    assert!(!h.state.store.db().revoke_token("no-such-id").await.unwrap());
});

on_every_engine!(another_tenants_token_gets_tenant_mismatch_everywhere, config(), |h| {
    let (a, token_a) = h.tenant().await;
    let (b, token_b) = h.tenant().await;
    // A has state; B's token naming A is refused, and so is naming a tenant that does not exist.
    assert_eq!(
        h.call(Method::PUT, "/config", Some((&token_a, a)), Some(config_body())).await.status,
        StatusCode::OK
    );
    for (method, path, body) in operations() {
        for other in [a, Uuid::new_v4()] {
            let r = h.call(method.clone(), path, Some((&token_b, other)), body.clone()).await;
            assert_seed_error(&r, StatusCode::FORBIDDEN, "tenant_mismatch");
        }
    }
    // A's data is untouched and B sees only its own.
    let ra = h.call(Method::GET, "/config", Some((&token_a, a)), None).await;
    assert_eq!(ra.body["configured"], true);
    let rb = h.call(Method::GET, "/config", Some((&token_b, b)), None).await;
    assert_eq!(rb.body["configured"], false);
    let ida = h.call(Method::GET, "/external-id", Some((&token_a, a)), None).await;
    let idb = h.call(Method::GET, "/external-id", Some((&token_b, b)), None).await;
    assert_ne!(ida.body["external_id"], idb.body["external_id"]);
});

on_every_engine!(the_tenant_header_is_required_and_must_be_a_uuid, config(), |h| {
    let (tenant, token) = h.tenant().await;
    let base = || {
        Request::builder()
            .uri(format!("{BASE_PATH}/external-id"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
    };
    let r = h.send(base().body(Body::empty()).unwrap()).await;
    assert_seed_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(fields(&r), [("X-Tenant-ID".to_owned(), "required".to_owned())]);
    let r = h.send(base().header("x-tenant-id", "not-a-uuid").body(Body::empty()).unwrap()).await;
    assert_eq!(fields(&r), [("X-Tenant-ID".to_owned(), "uuid".to_owned())]);
    // Upper case, as the seed's example sends it, is the same tenant.
    let upper = tenant.to_string().to_uppercase();
    let r = h.send(base().header("x-tenant-id", upper).body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
});

on_every_engine!(bootstrap_template_renders_with_the_tenants_ids_and_the_vendors_principal, config(), |h| {
    let (t, token) = h.tenant().await;
    let r = h.call(Method::POST, "/bootstrap-template", Some((&token, t)), Some(template_body())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for f in [
        "cloudformation_yaml",
        "terraform_hcl",
        "launch_stack_url",
        "trust_policy_json",
        "permissions_policy_json",
        "role_arn",
        "role_name",
    ] {
        assert!(r.body[f].is_string(), "{f}");
    }
    let ids = h.call(Method::GET, "/external-id", Some((&token, t)), None).await;
    let id = ids.body["external_id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["external_ids"], json!([id]));
    assert!(Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 4));
    assert!(r.body["trust_policy_json"].as_str().unwrap().contains(PRINCIPAL));
    assert!(r.body["trust_policy_json"].as_str().unwrap().contains(&id));
    // During a rotation both are trusted; the answer lists the ID in use, then the pending one.
    let rot = h.call(Method::POST, "/external-id/rotate", Some((&token, t)), None).await;
    let pending = rot.body["external_id_pending"].as_str().unwrap().to_owned();
    let r = h.call(Method::POST, "/bootstrap-template", Some((&token, t)), Some(template_body())).await;
    assert_eq!(r.body["external_ids"], json!([id, pending]));
    // Optional inputs pass through the core.
    let mut body = template_body();
    body["role_name"] = "Custom".into();
    body["access_level"] = "admin".into();
    body["tags"] = json!({ "env": "prod" });
    body["max_session_duration"] = 7200.into();
    let r = h.call(Method::POST, "/bootstrap-template", Some((&token, t)), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["role_name"], "Custom");
});

on_every_engine!(bootstrap_template_reports_every_bad_field_and_refuses_vendor_fields, config(), |h| {
    let (t, token) = h.tenant().await;
    let body = json!({
        "aws_account_id": "12345",
        "region": 7,
        "external_ids": ["chosen-by-client"],
        "trusted_principal_arn": "arn:aws:iam::999999999999:root",
        "template_url": "https://example.com/t.yaml",
        "max_session_duration": "long",
        "role_name": null,
        "bogus": true
    });
    let r = h.call(Method::POST, "/bootstrap-template", Some((&token, t)), Some(body)).await;
    assert_seed_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
    let got = fields(&r);
    for want in [
        ("region", "type"),
        ("max_session_duration", "type"),
        ("role_name", "type"),
        ("bogus", "unknown_field"),
        ("external_ids", "unknown_field"),
        ("template_url", "unknown_field"),
        ("trusted_principal_arn", "unknown_field"),
        ("aws_account_id", "pattern"),
        ("sso_instance_arn", "required"),
    ] {
        assert!(got.contains(&(want.0.to_owned(), want.1.to_owned())), "{want:?} not in {got:?}");
    }
    assert!(!got.iter().any(|(f, r)| f == "region" && r == "required"), "{got:?}");
    assert!(!r.text.contains("chosen-by-client"), "{}", r.text);
    // A partition this vendor's principal is not in.
    let body = json!({ "aws_account_id": "123456789012", "sso_instance_arn": "arn:aws-cn:sso:::instance/ssoins-abcdef0123456789", "region": "cn-north-1" });
    let r = h.call(Method::POST, "/bootstrap-template", Some((&token, t)), Some(body)).await;
    assert_eq!(fields(&r), [("sso_instance_arn".to_owned(), "partition".to_owned())], "{}", r.text);
});

on_every_engine!(config_round_trips_and_is_validated_with_the_cores_rules, config(), |h| {
    let (t, token) = h.tenant().await;
    let auth = Some((token.as_str(), t));
    let r = h.call(Method::GET, "/config", auth, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!({ "sso_instance_arn": null, "role_arn": null, "region": null, "configured": false })
    );
    let r = h.call(Method::PUT, "/config", auth, Some(config_body())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut want = config_body();
    want["configured"] = true.into();
    assert_eq!(r.body, want);
    assert_eq!(h.call(Method::GET, "/config", auth, None).await.body, want);
    // Upsert.
    let mut other = config_body();
    other["region"] = "eu-west-1".into();
    assert_eq!(h.call(Method::PUT, "/config", auth, Some(other)).await.body["region"], "eu-west-1");
    let bad = json!({ "sso_instance_arn": "arn:aws:sso:::instance/nope", "role_arn": "arn:aws:iam::123:role/x", "region": "mars-1", "x": 1 });
    let r = h.call(Method::PUT, "/config", auth, Some(bad)).await;
    assert_seed_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
    let got = fields(&r);
    for want in [
        ("sso_instance_arn", "pattern"),
        ("role_arn", "pattern"),
        ("region", "region"),
        ("x", "unknown_field"),
    ] {
        assert!(got.contains(&(want.0.to_owned(), want.1.to_owned())), "{want:?} not in {got:?}");
    }
    let r = h.call(Method::PUT, "/config", auth, Some(json!({}))).await;
    assert_eq!(fields(&r).len(), 3, "{}", r.text);
    let mixed = json!({ "sso_instance_arn": INSTANCE, "role_arn": "arn:aws-cn:iam::123456789012:role/x", "region": "us-east-1" });
    let r = h.call(Method::PUT, "/config", auth, Some(mixed)).await;
    assert_eq!(fields(&r), [("role_arn".to_owned(), "partition".to_owned())]);
    // The failed PUTs changed nothing.
    assert_eq!(h.call(Method::GET, "/config", auth, None).await.body["region"], "eu-west-1");
    let r = h.call(Method::DELETE, "/config", auth, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h.call(Method::GET, "/config", auth, None).await.body["configured"], false);
});

on_every_engine!(test_without_a_role_is_not_configured, config(), |h| {
    let (t, token) = h.tenant().await;
    let r = h.call(Method::POST, "/test", Some((&token, t)), None).await;
    assert_seed_error(&r, StatusCode::NOT_FOUND, "not_configured");
});

on_every_engine!(a_failed_check_answers_its_code_with_the_steps_and_no_secret, config(), |h| {
    let (t, token) = h.tenant().await;
    let auth = Some((token.as_str(), t));
    assert_eq!(h.call(Method::PUT, "/config", auth, Some(config_body())).await.status, StatusCode::OK);
    let rot = h.call(Method::POST, "/external-id/rotate", auth, None).await;
    let r = h.call(Method::POST, "/test", auth, None).await;
    let code = r.body["code"].as_str().unwrap_or_default().to_owned();
    let status = crate::error::status_of(idcbootstrap::ErrorCode::from_wire(&code).unwrap());
    assert!(["network_error", "sts_assume_role_failed", "timeout"].contains(&code.as_str()), "{}", r.text);
    assert_seed_error(&r, status, &code);
    assert!(r.body["details"]["steps"].as_array().is_some_and(|s| !s.is_empty()), "{}", r.text);
    for id in [&rot.body["external_id"], &rot.body["external_id_pending"]] {
        assert!(!r.text.contains(id.as_str().unwrap()), "{}", r.text);
    }
    assert!(!r.text.contains("test-secret-key"));
    // A failed test does not allow a commit.
    let r = h.call(Method::POST, "/external-id/commit", auth, None).await;
    assert_seed_error(&r, StatusCode::CONFLICT, "conflict");
});

on_every_engine!(rotation_commit_and_cancel, config(), |h| {
    let (t, token) = h.tenant().await;
    let auth = Some((token.as_str(), t));
    let first = h.call(Method::GET, "/external-id", auth, None).await.body;
    assert_eq!(first["external_id_pending"], Value::Null);
    let old = first["external_id"].as_str().unwrap().to_owned();
    // Nothing to commit yet; cancelling without a rotation changes nothing.
    assert_seed_error(
        &h.call(Method::POST, "/external-id/commit", auth, None).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_eq!(h.call(Method::POST, "/external-id/cancel", auth, None).await.body, first);
    let rot = h.call(Method::POST, "/external-id/rotate", auth, None).await;
    assert_eq!(rot.status, StatusCode::OK, "{}", rot.text);
    assert_eq!(rot.body["external_id"], old.as_str());
    let pending = rot.body["external_id_pending"].as_str().unwrap().to_owned();
    assert_ne!(pending, old);
    assert_eq!(h.call(Method::GET, "/external-id", auth, None).await.body, rot.body);
    assert_seed_error(
        &h.call(Method::POST, "/external-id/rotate", auth, None).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    // Commit is refused before a passing test…
    let r = h.call(Method::POST, "/external-id/commit", auth, Some(json!({}))).await;
    assert_seed_error(&r, StatusCode::CONFLICT, "conflict");
    assert!(!r.text.contains(&pending));
    // …cancel drops the pending ID…
    let r = h.call(Method::POST, "/external-id/cancel", auth, None).await;
    assert_eq!(r.body, json!({ "external_id": old, "external_id_pending": null }));
    // …a forced commit goes through and says so…
    h.call(Method::POST, "/external-id/rotate", auth, None).await;
    let r = h.call(Method::POST, "/external-id/commit", auth, Some(json!({ "force": true }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["forced"], true);
    assert!(!r.body["notices"].as_array().unwrap().is_empty());
    assert_ne!(r.body["external_id"], old.as_str());
    assert_eq!(r.body["external_id_pending"], Value::Null);
    // …so does ?force=true…
    h.call(Method::POST, "/external-id/rotate", auth, None).await;
    let r = h.call(Method::POST, "/external-id/commit?force=true", auth, None).await;
    assert_eq!((r.status, r.body["forced"].clone()), (StatusCode::OK, json!(true)), "{}", r.text);
    // …and after a passing test of the pending ID, a plain commit does.
    let rot = h.call(Method::POST, "/external-id/rotate", auth, None).await;
    let pending = rot.body["external_id_pending"].as_str().unwrap().to_owned();
    let tenant = Tenant::verified(t);
    let state = h.state.store.external_ids_fresh(&tenant).await.unwrap();
    assert!(h.state.store.record_pending_tested(&tenant, state.version).await.unwrap());
    let r = h.call(Method::POST, "/external-id/commit", auth, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["forced"], false);
    assert_eq!(r.body["external_id"], pending.as_str());
    // A test recorded for an older rotation does not count for a new one.
    h.call(Method::POST, "/external-id/rotate", auth, None).await;
    assert!(!h.state.store.record_pending_tested(&tenant, state.version).await.unwrap());
    assert_seed_error(
        &h.call(Method::POST, "/external-id/commit", auth, None).await,
        StatusCode::CONFLICT,
        "conflict",
    );
});

on_every_engine!(fifty_concurrent_rotations_one_wins, config(), |h| {
    let (t, token) = h.tenant().await;
    // The ID exists before the race, so every request races on the rotation itself.
    h.call(Method::GET, "/external-id", Some((&token, t)), None).await;
    let h = std::sync::Arc::new(h);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let h = h.clone();
            let token = token.clone();
            tokio::spawn(
                async move { h.call(Method::POST, "/external-id/rotate", Some((&token, t)), None).await },
            )
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::OK => ok += 1,
            _ => assert_seed_error(&r, StatusCode::CONFLICT, "conflict"),
        }
    }
    assert_eq!(ok, 1);
});

on_every_engine!(fifty_concurrent_first_requests_create_one_id, config(), |h| {
    let (t, token) = h.tenant().await;
    let h = std::sync::Arc::new(h);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let h = h.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let r = if i % 2 == 0 {
                    h.call(Method::GET, "/external-id", Some((&token, t)), None).await.body["external_id"]
                        .clone()
                } else {
                    h.call(Method::POST, "/bootstrap-template", Some((&token, t)), Some(template_body()))
                        .await
                        .body["external_ids"][0]
                        .clone()
                };
                r.as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
});

on_every_engine!(
    framework_rejections_answer_in_the_seed_shape,
    AppConfig { body_limit: 1024, ..config() },
    |h| {
        let (t, token) = h.tenant().await;
        let req = |ct: Option<&str>, body: String| {
            let mut b = Request::builder()
                .method(Method::POST)
                .uri(format!("{BASE_PATH}/bootstrap-template"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header("x-tenant-id", t.to_string());
            if let Some(ct) = ct {
                b = b.header(header::CONTENT_TYPE, ct);
            }
            b.body(Body::from(body)).unwrap()
        };
        let r = h.send(req(Some("application/json"), "{\"aws_account_id\": ".into())).await;
        assert_seed_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        let r = h.send(req(Some("application/json"), "[1]".into())).await;
        assert_seed_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        let r = h.send(req(Some("text/plain"), template_body().to_string())).await;
        assert_seed_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        let r = h.send(req(None, template_body().to_string())).await;
        assert_seed_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        let r = h.send(req(Some("application/json; charset=utf-8"), template_body().to_string())).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let big = json!({ "aws_account_id": "x".repeat(4096) }).to_string();
        let r = h.send(req(Some("application/json"), big.clone())).await;
        assert_seed_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        // A streamed body without Content-Length is cut at the limit too.
        let stream = futures_stream(big);
        let mut chunked = req(Some("application/json"), String::new());
        *chunked.body_mut() = stream;
        chunked.headers_mut().remove(header::CONTENT_LENGTH);
        assert_seed_error(&h.send(chunked).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        let r = h.call(Method::GET, "/no/such/route", Some((&token, t)), None).await;
        assert_seed_error(&r, StatusCode::NOT_FOUND, "not_found");
        let r = h.call(Method::GET, "/bootstrap-template", Some((&token, t)), None).await;
        assert_seed_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert!(r.headers.get(header::ALLOW).is_some());
        let r = h.call(Method::DELETE, "/external-id", None, None).await;
        assert_seed_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        // Every answer carries a request ID.
        assert!(r.headers.get("x-request-id").is_some());
    }
);

fn futures_stream(s: String) -> Body {
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> =
        s.into_bytes().chunks(100).map(|c| Ok(axum::body::Bytes::copy_from_slice(c))).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

on_every_engine!(
    the_rate_limit_answers_429_with_retry_after,
    AppConfig {
        rate_limit: Some(RateLimit { per_second: 1.try_into().unwrap(), burst: 2.try_into().unwrap() }),
        ..config()
    },
    |h| {
        let (t, token) = h.tenant().await;
        let (u, other) = h.tenant().await;
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(h.call(Method::GET, "/external-id", Some((&token, t)), None).await);
        }
        let limited = statuses.iter().find(|r| r.status == StatusCode::TOO_MANY_REQUESTS).expect("a 429");
        assert_seed_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert!(limited.headers.get(header::RETRY_AFTER).is_some());
        // Another tenant has its own budget.
        assert_eq!(h.call(Method::GET, "/external-id", Some((&other, u)), None).await.status, StatusCode::OK);
    }
);

on_every_engine!(health_readiness_and_openapi_need_no_token, config(), |h| {
    assert_eq!(h.call(Method::GET, "/healthz", None, None).await.status, StatusCode::OK);
    assert_eq!(h.call(Method::GET, "/readyz", None, None).await.status, StatusCode::OK);
    let r = h.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["openapi"], "3.1.0");
});

on_every_engine!(external_ids_are_encrypted_at_rest, config(), |h| {
    let (t, token) = h.tenant().await;
    let auth = Some((token.as_str(), t));
    h.call(Method::POST, "/external-id/rotate", auth, None).await;
    let ids = h.call(Method::GET, "/external-id", auth, None).await.body;
    let tenant = Tenant::verified(t);
    let rows = h.state.store.raw_rows_for_tests(&tenant).await;
    for id in [&ids["external_id"], &ids["external_id_pending"]] {
        let id = id.as_str().unwrap().as_bytes();
        assert!(!rows.iter().any(|r| r.windows(id.len()).any(|w| w == id)));
    }
    // Tokens are stored only as hashes.
    assert!(
        !h.state
            .store
            .db()
            .raw_token_hashes_for_tests(t)
            .await
            .iter()
            .any(|h| h.windows(5).any(|w| w == b"idcb_"))
    );
});

on_every_engine!(
    test_has_its_own_longer_timeout,
    AppConfig { request_timeout: Duration::ZERO, ..config() },
    |h| {
        let (t, token) = h.tenant().await;
        // A body that never ends: the request cannot finish before the timeout, so
        // the answer does not depend on whether a quick database read beats the timer.
        let never = futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>();
        let req = Request::builder()
            .method(Method::PUT)
            .uri(format!("{BASE_PATH}/config"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("x-tenant-id", t.to_string())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(never))
            .unwrap();
        // The guard only stops a hang if the request timeout were lost.
        let r = tokio::time::timeout(Duration::from_secs(30), h.send(req)).await.expect("no request timeout");
        assert_seed_error(&r, StatusCode::GATEWAY_TIMEOUT, "timeout");
        // /test is not bound by the short timeout.
        let r = h.call(Method::POST, "/test", Some((&token, t)), None).await;
        assert_seed_error(&r, StatusCode::NOT_FOUND, "not_configured");
    }
);

on_every_engine!(
    bootstrap_template_without_a_vendor_principal_is_an_internal_error,
    AppConfig { trusted_principal_arn: None, ..config() },
    |h| {
        let (t, token) = h.tenant().await;
        let r = h.call(Method::POST, "/bootstrap-template", Some((&token, t)), Some(template_body())).await;
        assert_seed_error(&r, StatusCode::INTERNAL_SERVER_ERROR, "internal");
        assert!(!r.text.contains("trusted-principal"), "the cause goes to the log only: {}", r.text);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_moves_every_row_to_the_first_key() {
    // SQLite only: rekey walks every tenant, and the shared PostgreSQL database holds
    // other tests' rows under other keys.
    {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let (old, new) = (Keyring::generate_key().unwrap(), Keyring::generate_key().unwrap());
        let before = Store::new(db.clone(), Keyring::from_base64([old.as_str()]).unwrap(), Duration::ZERO);
        let t = Tenant::verified(Uuid::new_v4());
        before.external_ids_fresh(&t).await.unwrap();
        let rotated = before.rotate(&t).await.unwrap();
        let both = Store::new(
            db.clone(),
            Keyring::from_base64([new.as_str(), old.as_str()]).unwrap(),
            Duration::ZERO,
        );
        let (rewritten, seen) = both.rekey().await.unwrap();
        assert!(rewritten >= 1 && seen >= rewritten);
        let after = Store::new(db.clone(), Keyring::from_base64([new.as_str()]).unwrap(), Duration::ZERO);
        assert_eq!(after.external_ids_fresh(&t).await.unwrap().set, rotated.set);
        // Nothing left to move.
        assert_eq!(after.rekey().await.unwrap().0, 0);
    }
}

#[test]
fn docs_openapi_json_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let want = crate::openapi::document_string();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/openapi.json is stale: regenerate with `UPDATE_DOCS=1 cargo test -p idcbootstrap-server docs_openapi` \
         or `idcbootstrap-server openapi > docs/openapi.json`"
    );
}

#[test]
fn openapi_documents_every_route_and_code() {
    let doc = crate::openapi::document();
    for path in [
        "bootstrap-template",
        "config",
        "test",
        "external-id",
        "external-id/rotate",
        "external-id/commit",
        "external-id/cancel",
    ] {
        assert!(doc["paths"][format!("{BASE_PATH}/{path}")].is_object(), "{path}");
    }
    let codes = doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"].as_array().unwrap();
    for c in idcbootstrap::ErrorCode::ALL {
        assert!(codes.contains(&json!(c.as_str())));
    }
    for c in crate::error::code::ALL {
        assert!(codes.contains(&json!(c)));
    }
    let req = &doc["components"]["schemas"]["BootstrapTemplateRequest"]["properties"];
    assert!(
        req["aws_account_id"].is_object()
            && req["external_ids"].is_null()
            && req["trusted_principal_arn"].is_null()
    );
}
