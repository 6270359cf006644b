//! What the vendor data source and resource share: the vendor API client built from
//! the provider's `api_url`, `tenant_id` and `api_token`, the API's errors as
//! diagnostics, and giving up when Terraform asks the provider to stop.
//!
//! An API error becomes one diagnostic whose summary has the API's `code` and the HTTP
//! status, on the attribute `details` points at (when it is one of the block's), and
//! whose detail names the provider argument to check on 401/403. Nothing here prints
//! the token or an external ID: the client's messages never hold one.

use std::future::Future;

use idcbootstrap_vendor_client::{Error, Options, VendorClient};

use crate::config::Ctx;
use crate::framework::{Diagnostics, Path, Schema};

/// The three provider arguments, in the order a message lists them.
pub(crate) const SETTINGS: [&str; 3] = ["api_url", "tenant_id", "api_token"];

/// What a vendor block can do before it talks to the API.
pub(crate) enum Access {
    /// A client for the provider's tenant.
    Ready(Box<VendorClient>),
    /// A provider argument depends on a value known only after apply.
    Unknown(Vec<&'static str>),
    /// Something is missing or malformed; a diagnostic says what.
    Failed,
}

/// The provider's vendor API client, or why there is none.
pub(crate) fn client(ctx: &Ctx, type_name: &str, diags: &mut Diagnostics) -> Access {
    let s = &ctx.settings;
    let unknown: Vec<&'static str> = SETTINGS.into_iter().filter(|n| s.unknown.contains(n)).collect();
    if !unknown.is_empty() {
        return Access::Unknown(unknown);
    }
    let v = &s.vendor;
    let missing: Vec<String> = [
        ("api_url", v.api_url.is_none()),
        ("tenant_id", v.tenant_id.is_none()),
        ("api_token", v.api_token.is_none()),
    ]
    .into_iter()
    .filter(|(_, m)| *m)
    .map(|(n, _)| format!("`{n}` (IDCBOOTSTRAP_{})", n.to_ascii_uppercase()))
    .collect();
    if !missing.is_empty() {
        diags.error(
            "Vendor API not configured",
            format!(
                "{type_name} talks to the vendor's idcbootstrap API and needs the provider arguments {}. Set them in \
                 the provider block or the environment; the vendor gives you the URL, your tenant ID and a token \
                 (error code `invalid_input`).",
                missing.join(", ")
            ),
        );
        return Access::Failed;
    }
    let (url, tenant, token) = (
        v.api_url.as_deref().unwrap_or_default(),
        v.tenant_id.as_deref().unwrap_or_default(),
        v.api_token.as_ref().map(|t| t.0.as_str()).unwrap_or_default(),
    );
    let options = Options {
        user_agent: format!(
            "terraform-provider-idcbootstrap/{} terraform/{}",
            env!("CARGO_PKG_VERSION"),
            if s.terraform_version.is_empty() { "unknown" } else { &s.terraform_version }
        ),
        ..Options::default()
    };
    match VendorClient::with_options(url, tenant, token, options) {
        Ok(c) => Access::Ready(Box::new(c)),
        Err(e) => {
            let name = e.field().unwrap_or_default();
            diags.error(
                "Invalid input",
                format!("{} (provider argument `{name}`; error code `{}`)", e.message(), e.code()),
            );
            Access::Failed
        }
    }
}

/// The diagnostic for an unknown provider argument when deferral is not possible.
pub(crate) fn unknown_settings(type_name: &str, unknown: &[&str], diags: &mut Diagnostics) {
    diags.error(
        "Provider configuration not known yet",
        format!(
            "{type_name} needs the provider's {}, which depend on values known only after apply. Apply the \
             resources they depend on first.",
            unknown.join(", ")
        ),
    );
}

/// `e`, from the call `call` (e.g. `PUT config`), as diagnostics: one error on the
/// attribute of `schema` that `details` points at (or on `fallback_attr`, or the
/// block), then the API's notices as warnings.
pub(crate) fn report(
    diags: &mut Diagnostics,
    e: &Error,
    call: &str,
    schema: &Schema,
    fallback_attr: Option<&str>,
) {
    let status = e.status().map_or_else(String::new, |s| format!(", HTTP {s}"));
    let summary = format!("Vendor API: {call} failed ({}{status})", e.code());
    let mut detail = format!("{} (error code `{}`{status}", e.message(), e.code());
    if e.attempts() > 1 {
        detail.push_str(&format!(", {} attempts", e.attempts()));
    }
    detail.push(')');
    let check = e.credential_settings();
    if !check.is_empty() {
        let names: Vec<String> =
            check.iter().map(|n| format!("`{n}` (IDCBOOTSTRAP_{})", n.to_ascii_uppercase())).collect();
        detail.push_str(&format!(
            "\n\nCheck the provider argument{} {}: {}.",
            if names.len() > 1 { "s" } else { "" },
            names.join(" and "),
            if e.status() == Some(401) {
                "the vendor does not know this token, or has revoked it"
            } else {
                "the token belongs to another tenant than tenant_id"
            }
        ));
    }
    if let Some(steps) = e.details().get("steps").and_then(|s| s.as_array()) {
        detail.push_str("\n\nSteps of the vendor's test:");
        for s in steps {
            let text = |k: &str| s.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let outcome = s.get("code").and_then(|c| c.as_str()).unwrap_or("ok");
            let ms = s.get("duration_ms").and_then(serde_json::Value::as_u64).unwrap_or_default();
            detail.push_str(&format!("\n  {} [{outcome}, {ms} ms] {}", text("step"), text("message")));
        }
    }
    let has = |n: &str| schema.attributes.iter().any(|a| a.name == n);
    let fields = e.fields();
    if fields.is_empty() {
        let path = e.field().filter(|f| has(f)).or_else(|| fallback_attr.map(str::to_owned));
        diags.attribute_error(path.map_or_else(Path::root, Path::field), summary, detail);
    } else {
        for f in fields {
            let rule = if f.rule.is_empty() { String::new() } else { format!(" (rule `{}`)", f.rule) };
            let text = format!("{}: {}{rule}\n\n{detail}", f.field, f.message);
            let path = if has(&f.field) { Path::field(f.field.clone()) } else { Path::root() };
            diags.attribute_error(path, summary.clone(), text);
        }
    }
    for n in e.notices() {
        diags.warning(format!("Vendor API: {call}"), n.clone());
    }
}

/// Runs `f` unless Terraform asks the provider to stop first; `None` then.
pub(crate) async fn unless_stopped<T>(ctx: &Ctx, f: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        biased;
        () = ctx.stopped() => None,
        out = f => Some(out),
    }
}

/// One vendor call that Terraform may stop: its answer, or `None` with the
/// diagnostic (cancelled, or the API's error reported against `schema`).
pub(crate) async fn call<T>(
    ctx: &Ctx,
    diags: &mut Diagnostics,
    what: &str,
    schema: &Schema,
    f: impl Future<Output = Result<T, Error>>,
) -> Option<T> {
    match unless_stopped(ctx, f).await {
        None => {
            cancelled(diags, what);
            None
        }
        Some(Err(e)) => {
            report(diags, &e, what, schema, None);
            None
        }
        Some(Ok(v)) => Some(v),
    }
}

/// The diagnostic of a call cancelled by Terraform.
pub(crate) fn cancelled(diags: &mut Diagnostics, call: &str) {
    diags.error(
        "Vendor API call cancelled",
        format!("Terraform asked the provider to stop before {call} finished (error code `timeout`)."),
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::{Secret, Settings, VendorApi};

    pub(crate) const TENANT: &str = "2489e9ad-2ee2-4e00-8ec9-32d5f69181c0";

    pub(crate) fn ctx_with(vendor: VendorApi) -> Ctx {
        let (tx, stop) = tokio::sync::watch::channel(false);
        // A dropped sender reads as a stop: keep it for the test's lifetime.
        std::mem::forget(tx);
        Ctx { settings: Arc::new(Settings { vendor, ..Default::default() }), stop, deferral_allowed: false }
    }

    #[test]
    fn missing_settings_are_named_with_their_variables() {
        let mut d = Diagnostics::default();
        let c = ctx_with(VendorApi { api_url: Some("http://127.0.0.1:1".into()), ..Default::default() });
        assert!(matches!(client(&c, "idcbootstrap_vendor_external_ids", &mut d), Access::Failed));
        let text = &d.iter().next().unwrap().detail;
        assert!(
            text.contains("`tenant_id` (IDCBOOTSTRAP_TENANT_ID), `api_token` (IDCBOOTSTRAP_API_TOKEN)"),
            "{text}"
        );
        assert!(!text.contains("api_url`"), "{text}");

        let full = VendorApi {
            api_url: Some("http://127.0.0.1:1".into()),
            tenant_id: Some(TENANT.into()),
            api_token: Some(Secret("idcb_t".into())),
        };
        let mut d = Diagnostics::default();
        assert!(matches!(client(&ctx_with(full), "x", &mut d), Access::Ready(_)));
        assert!(!d.has_errors());
    }

    /// What the stand-in saw: `"METHOD /path"` and the body of each request.
    pub(crate) type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

    /// A scripted stand-in for the vendor API on 127.0.0.1 (a mock: the unit tests
    /// check the handlers' decisions; the end-to-end tests drive the real server).
    /// Answers `answers` in order, then 404. Returns provider settings pointing at it.
    pub(crate) fn stand_in(answers: Vec<(u16, String)>) -> (VendorApi, Seen) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Seen = Seen::default();
        let log = seen.clone();
        std::thread::spawn(move || {
            let mut answers = answers.into_iter();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut r = BufReader::new(stream);
                let mut line = String::new();
                let _ = r.read_line(&mut line);
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                let _ = r.read_exact(&mut body);
                let request: Vec<&str> = line.split_whitespace().take(2).collect();
                log.lock().unwrap().push((request.join(" "), String::from_utf8_lossy(&body).into_owned()));
                let (status, body) = answers.next().unwrap_or_else(|| {
                    (404, r#"{"code":"not_found","message":"none","details":{},"notices":[]}"#.to_owned())
                });
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let mut stream = r.into_inner();
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        let vendor = VendorApi {
            api_url: Some(format!("http://{addr}")),
            tenant_id: Some(TENANT.into()),
            api_token: Some(Secret("idcb_unit-test-token".into())),
        };
        (vendor, seen)
    }

    fn api_error(status: u16, body: &str) -> Error {
        let (vendor, _) = stand_in(vec![(status, body.to_owned())]);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut o = Options::default();
        o.retry.attempts = 1;
        let url = vendor.api_url.unwrap();
        let c = VendorClient::with_options(&url, TENANT, "idcb_t", o).unwrap();
        rt.block_on(c.get_config()).unwrap_err()
    }

    #[test]
    fn api_errors_carry_code_status_path_and_the_argument_to_check() {
        let schema = crate::spec_schema::schema(&idcbootstrap::spec::VENDOR_REGISTRATION);
        let e = api_error(
            400,
            r#"{"code":"invalid_input","message":"bad","details":{"fields":[{"field":"role_arn","rule":"pattern","message":"is not a role ARN"}]},"notices":[]}"#,
        );
        let mut d = Diagnostics::default();
        report(&mut d, &e, "PUT config", &schema, None);
        let x = d.iter().next().unwrap();
        assert_eq!(x.path.as_ref().map(ToString::to_string).as_deref(), Some("role_arn"));
        assert!(x.summary.contains("invalid_input") && x.summary.contains("HTTP 400"), "{}", x.summary);
        assert!(x.detail.contains("rule `pattern`"), "{}", x.detail);

        let e = api_error(403, r#"{"code":"tenant_mismatch","message":"no","details":{},"notices":[]}"#);
        let mut d = Diagnostics::default();
        report(&mut d, &e, "GET external-id", &schema, None);
        let x = d.iter().next().unwrap();
        assert!(x.detail.contains("`tenant_id` (IDCBOOTSTRAP_TENANT_ID) and `api_token`"), "{}", x.detail);
        assert_eq!(x.path, None);

        let e = api_error(
            422,
            r#"{"code":"sts_assume_role_failed","message":"denied","details":{"steps":[{"step":"assume_role_current","ok":false,"code":"sts_assume_role_failed","message":"AccessDenied","duration_ms":7}]},"notices":["waited"]}"#,
        );
        let mut d = Diagnostics::default();
        report(&mut d, &e, "POST test", &schema, Some("role_arn"));
        let v: Vec<_> = d.iter().collect();
        assert_eq!(v[0].path.as_ref().map(ToString::to_string).as_deref(), Some("role_arn"));
        assert!(v[0].detail.contains("assume_role_current [sts_assume_role_failed, 7 ms] AccessDenied"));
        assert_eq!(v[1].detail, "waited");
    }
}
