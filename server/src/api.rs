//! The handlers of `/v1/integrations/aws-identity-center/…`: decode raw, validate
//! once with the core's rules, call the core or the store, answer JSON.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use idcbootstrap::connectivity::{self, RawCheckRequest, StepReport};
use idcbootstrap::{AttrPath, Detail, ErrorCode, RawTemplateRequest, TemplateRequest};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Tenant;
use crate::body::{Fields, query_flag, read_object};
use crate::error::{ApiError, json_response};
use crate::store::{IdState, TenantConfig};

/// Fields of the core's template request that belong to the vendor, with the reason
/// a client may not set them (the OpenAPI document leaves them out).
pub const VENDOR_FIELDS: &[(&str, &str)] = &[
    ("external_ids", "external IDs are issued by the server (GET external-id); a client cannot set them"),
    ("trusted_principal_arn", "the trusted principal is the vendor's own; a client cannot set it"),
    ("template_url", "the template URL is the vendor's own; a client cannot set it"),
];

/// `POST bootstrap-template`: renders the artifacts with the tenant's external IDs
/// and the vendor's principal and template URL.
pub(crate) async fn bootstrap_template(
    State(s): State<AppState>,
    t: Tenant,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let mut f = Fields::new(read_object(&headers, body, s.config.body_limit).await?);
    let mut raw = RawTemplateRequest {
        aws_account_id: f.string("aws_account_id"),
        sso_instance_arn: f.string("sso_instance_arn"),
        region: f.string("region"),
        role_name: f.string("role_name"),
        role_path: f.string("role_path"),
        permissions_boundary_arn: f.string("permissions_boundary_arn"),
        max_session_duration: f.integer("max_session_duration"),
        tags: f.string_map("tags"),
        access_level: f.string("access_level"),
        trusted_principal_arn: None,
        external_ids: None,
        template_url: s.config.template_url.clone(),
    };
    let mut details = f.finish(VENDOR_FIELDS);
    let Some(principal) = s.config.trusted_principal_arn.clone() else {
        return Err(ApiError::internal(
            "bootstrap-template needs the vendor's principal: start the server with --trusted-principal-arn",
        ));
    };
    raw.trusted_principal_arn = Some(principal);
    let ids = s.store.external_ids(&t).await?;
    raw.external_ids = Some(ids.set.all());
    match TemplateRequest::validate(&raw) {
        Ok(req) if details.is_empty() => {
            let mut out = idcbootstrap::render(&req)?;
            // The seed's order: the ID in use, then the pending one. The rendered
            // artifacts keep the core's order (newest first), where the pending ID
            // is the template's ExternalId and the one in use its PreviousExternalId.
            out.external_ids = std::iter::once(ids.in_use().clone()).chain(ids.pending().cloned()).collect();
            Ok(json_response(StatusCode::OK, &out))
        }
        Ok(_) => Err(ApiError::invalid(details)),
        Err(e) if e.code == ErrorCode::InvalidInput => {
            // A field with a type error is already reported; the core then saw it as missing.
            let typed: Vec<String> =
                details.iter().filter_map(|d| d.field.top_level().map(str::to_owned)).collect();
            for d in e.details {
                let top = d.field.top_level().unwrap_or_default().to_owned();
                if typed.contains(&top) {
                    continue;
                }
                details.push(vendor_detail(d, raw.sso_instance_arn.as_deref()));
            }
            Err(ApiError::invalid(details))
        }
        Err(e) => Err(e.into()),
    }
}

/// A core detail about a vendor-side field, told in terms of what the client sent:
/// the vendor's principal in another partition means the instance's partition is
/// not served by this vendor.
fn vendor_detail(d: Detail, instance: Option<&str>) -> Detail {
    match d.field.top_level() {
        Some("trusted_principal_arn") => Detail::new(
            AttrPath::field("sso_instance_arn"),
            "partition",
            format!(
                "this vendor's principal is not in the partition of {}; instances in that partition are not served",
                instance.unwrap_or("the instance")
            ),
        ),
        Some("external_ids") => Detail::new(
            AttrPath::field("external_ids"),
            d.rule,
            "the tenant's stored external IDs are not valid; this is the server's fault",
        ),
        _ => d,
    }
}

/// The saved settings as answered by `PUT|GET config`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConfigResponse {
    /// ARN of the IAM Identity Center instance; null when not saved.
    pub sso_instance_arn: Option<String>,
    /// ARN of the registered trust role; null when not saved.
    pub role_arn: Option<String>,
    /// Region of the instance; null when not saved.
    pub region: Option<String>,
    /// Whether the instance and the role ARN are saved, so the connectivity test can run.
    pub configured: bool,
}

impl From<Option<TenantConfig>> for ConfigResponse {
    fn from(c: Option<TenantConfig>) -> Self {
        let c = c.unwrap_or_default();
        let configured = c.sso_instance_arn.is_some() && c.role_arn.is_some();
        ConfigResponse {
            sso_instance_arn: c.sso_instance_arn,
            role_arn: c.role_arn,
            region: c.region,
            configured,
        }
    }
}

/// The core's registration rules (`idcbootstrap::registration`), the same the
/// provider and the Lambda check before they send anything. Every field is required.
fn validate_config(c: &TenantConfig) -> Vec<Detail> {
    idcbootstrap::registration::validate_registration(
        c.sso_instance_arn.as_deref(),
        c.role_arn.as_deref(),
        c.region.as_deref(),
        &[],
    )
}

/// `PUT config`: saves the tenant's instance, role and region (insert or replace).
pub(crate) async fn put_config(
    State(s): State<AppState>,
    t: Tenant,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let mut f = Fields::new(read_object(&headers, body, s.config.body_limit).await?);
    // An empty string is the same as a missing field.
    let mut take = |name: &str| f.string(name).filter(|v| !v.trim().is_empty());
    let c = TenantConfig {
        sso_instance_arn: take("sso_instance_arn"),
        role_arn: take("role_arn"),
        region: take("region"),
    };
    let mut details = f.finish(&[]);
    details.extend(validate_config(&c));
    if !details.is_empty() {
        return Err(ApiError::invalid(details));
    }
    s.store.put_config(&t, &c).await?;
    Ok(json_response(StatusCode::OK, &ConfigResponse::from(Some(c))))
}

/// `GET config`.
pub(crate) async fn get_config(State(s): State<AppState>, t: Tenant) -> Result<Response, ApiError> {
    let c = s.store.config(&t).await?;
    Ok(json_response(StatusCode::OK, &ConfigResponse::from(c)))
}

/// `DELETE config`: clears the settings; the external IDs stay.
pub(crate) async fn delete_config(State(s): State<AppState>, t: Tenant) -> Result<Response, ApiError> {
    s.store.delete_config(&t).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// One step of the check as the API answers it: `code` is null when the step passed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// Stable step name.
    pub step: String,
    /// Whether the step passed.
    pub ok: bool,
    /// The error code; null when the step passed.
    pub code: Option<ErrorCode>,
    /// What the step found.
    pub message: String,
    /// How long the step took, retries and waits included.
    pub duration_ms: u64,
}

impl From<StepReport> for Step {
    fn from(s: StepReport) -> Self {
        Step { step: s.step, ok: s.ok, code: s.code, message: s.message, duration_ms: s.duration_ms }
    }
}

/// The answer of a passing `POST test`: the seed's `{success, message}` and the steps.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TestResponse {
    /// Always true here; a failed check answers an error.
    pub success: bool,
    /// What passed.
    pub message: String,
    /// Every step that ran, in order.
    pub steps: Vec<Step>,
}

fn not_configured(what: &str) -> ApiError {
    ApiError::Core(idcbootstrap::Error::new(
        ErrorCode::NotConfigured,
        format!("{what} is not saved: PUT the tenant's config (sso_instance_arn, role_arn, region) first"),
    ))
}

/// `POST test`: the core's connectivity check with the saved role, the tenant's
/// external IDs (pending first during a rotation) and the server's credentials.
pub(crate) async fn test(
    State(s): State<AppState>,
    t: Tenant,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    expect_no_fields(&s, &headers, body).await?;
    let c = s.store.config(&t).await?.unwrap_or_default();
    let Some(role_arn) = c.role_arn else { return Err(not_configured("no role ARN")) };
    let Some(instance) = c.sso_instance_arn else { return Err(not_configured("no sso_instance_arn")) };
    let Some(region) = c.region else { return Err(not_configured("no region")) };
    let ids: IdState = s.store.external_ids_fresh(&t).await?;
    let raw = RawCheckRequest {
        aws_account_id: idcbootstrap::iam::parse_role_arn(&role_arn).map(|a| a.account.to_owned()),
        role_arn: Some(role_arn),
        external_ids: Some(ids.set.all()),
        sso_instance_arn: Some(instance),
        region: Some(region),
        access_level: None,
    };
    let req = connectivity::CheckRequest::validate(&raw)?;
    let settings = s.config.check_settings.clone().with_deadline(Instant::now() + s.config.check_deadline());
    let report = connectivity::check(&req, &settings).await;
    if !report.success {
        let error = report
            .error
            .clone()
            .unwrap_or_else(|| idcbootstrap::Error::new(ErrorCode::Internal, report.message.clone()));
        return Err(ApiError::Check { error, steps: report.steps });
    }
    if ids.pending().is_some() {
        s.store.record_pending_tested(&t, ids.version).await?;
    }
    let steps = report.steps.into_iter().map(Step::from).collect();
    Ok(json_response(StatusCode::OK, &TestResponse { success: true, message: report.message, steps }))
}

/// The tenant's external IDs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ExternalIdResponse {
    /// The external ID in use (UUID v4, issued by the server).
    pub external_id: String,
    /// The external ID being rotated in; null at steady state.
    pub external_id_pending: Option<String>,
}

impl From<&IdState> for ExternalIdResponse {
    fn from(s: &IdState) -> Self {
        ExternalIdResponse {
            external_id: s.in_use().expose().to_owned(),
            external_id_pending: s.pending().map(|p| p.expose().to_owned()),
        }
    }
}

/// The answer of `POST external-id/commit`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CommitResponse {
    /// The external ID in use now: the one that was pending.
    pub external_id: String,
    /// Null: no rotation is under way after a commit.
    pub external_id_pending: Option<String>,
    /// Whether the commit was forced past a missing connectivity test.
    pub forced: bool,
    /// Warnings, e.g. that a forced commit was not tested.
    pub notices: Vec<String>,
}

/// `GET external-id`.
pub(crate) async fn get_external_id(State(s): State<AppState>, t: Tenant) -> Result<Response, ApiError> {
    let ids = s.store.external_ids(&t).await?;
    Ok(json_response(StatusCode::OK, &ExternalIdResponse::from(&*ids)))
}

/// Reads the body of a call that takes no fields (test, rotate, cancel): it may be
/// absent or `{}`; reading it enforces the media type and the body limit, and any
/// field is refused as unknown.
async fn expect_no_fields(s: &AppState, headers: &HeaderMap, body: Body) -> Result<(), ApiError> {
    let details = Fields::new(read_object(headers, body, s.config.body_limit).await?).finish(&[]);
    if details.is_empty() { Ok(()) } else { Err(ApiError::invalid(details)) }
}

/// `POST external-id/rotate`.
pub(crate) async fn rotate(
    State(s): State<AppState>,
    t: Tenant,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    expect_no_fields(&s, &headers, body).await?;
    let state = s.store.rotate(&t).await?;
    Ok(json_response(StatusCode::OK, &ExternalIdResponse::from(&state)))
}

/// `POST external-id/commit` (`{"force": true}` or `?force=true` to skip the test).
pub(crate) async fn commit(
    State(s): State<AppState>,
    t: Tenant,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let query_force = query_flag(uri.query(), "force")?;
    let mut f = Fields::new(read_object(&headers, body, s.config.body_limit).await?);
    let body_force = f.boolean("force");
    let details = f.finish(&[]);
    if !details.is_empty() {
        return Err(ApiError::invalid(details));
    }
    let force = body_force.or(query_force).unwrap_or(false);
    let done = s.store.commit(&t, force).await?;
    let mut notices = Vec::new();
    if done.forced {
        notices.push(
            "forced: no connectivity test with the new external ID passed since the rotation began; \
             if the role does not trust it, the vendor can no longer assume the role"
                .to_owned(),
        );
    }
    let ids = ExternalIdResponse::from(&done.state);
    Ok(json_response(
        StatusCode::OK,
        &CommitResponse {
            external_id: ids.external_id,
            external_id_pending: ids.external_id_pending,
            forced: done.forced,
            notices,
        },
    ))
}

/// `POST external-id/cancel`.
pub(crate) async fn cancel(
    State(s): State<AppState>,
    t: Tenant,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    expect_no_fields(&s, &headers, body).await?;
    let state = s.store.cancel(&t).await?;
    Ok(json_response(StatusCode::OK, &ExternalIdResponse::from(&state)))
}

/// `GET /healthz`: the process answers.
pub(crate) async fn healthz() -> Response {
    json_response(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and the migrations are applied.
pub(crate) async fn readyz(State(s): State<AppState>) -> Result<Response, ApiError> {
    match tokio::time::timeout(Duration::from_secs(5), s.store.db().ready()).await {
        Ok(Ok(())) => Ok(json_response(StatusCode::OK, &serde_json::json!({ "status": "ready" }))),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            Err(ApiError::NotReady)
        }
        Err(_) => Err(ApiError::NotReady),
    }
}

/// `GET /openapi.json`.
pub(crate) async fn openapi(State(s): State<AppState>) -> Response {
    let mut res = s.openapi.clone().into_response();
    res.headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    res
}

/// Unknown routes.
pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound
}
