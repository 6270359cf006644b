//! The steps of the check and the AWS clients they use.

use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Credentials, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use tokio::time::Instant;

use super::aws_error::{BodyLimit, Failure, classify};
use super::report::{CheckReport, StepReport, step};
use super::request::{BaseCredentials, CheckRequest, Settings};
use crate::error::ErrorCode;
use crate::external_id::ExternalId;
use crate::input::AccessLevel;

/// The session name the customer sees in CloudTrail for every check.
pub(crate) const SESSION_NAME: &str = "idcbootstrap-connectivity-check";

/// Shortest session STS allows; the check needs seconds.
const SESSION_SECONDS: i32 = 900;

/// First wait between `AssumeRole` attempts; doubled each time up to [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_millis(250);

/// Longest wait between attempts: IAM usually propagates within seconds, so a long
/// wait would only delay the answer.
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// The connect timeout is short: the endpoints are regional and answer fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// sso-admin calls retry throttling through the SDK's standard retry strategy.
const SSO_ADMIN_ATTEMPTS: u32 = 3;

/// Runs every step. Never fails: every failure is a step in the report.
pub(crate) async fn run(req: &CheckRequest, settings: &Settings) -> CheckReport {
    let deadline = settings.deadline.map(Instant::from_std);
    let redactor = Redactor::new(req, settings);
    let mut steps = Vec::new();

    // Settings built in code skip validation; an override that would carry the
    // external ID over plain http to another host is refused before anything is sent.
    let problems = super::request::endpoint_problems(settings);
    if !problems.is_empty() {
        let text: Vec<String> = problems.iter().map(|d| format!("{}: {}", d.field, d.message)).collect();
        steps.push(failed(
            step::ASSUME_ROLE_CURRENT,
            Instant::now(),
            ErrorCode::InvalidInput,
            text.join("; "),
        ));
        return finish(steps, req, &redactor);
    }

    let base = sdk_config(req, settings).await;
    let sts_conf = {
        let mut b = aws_sdk_sts::config::Builder::from(&base)
            .retry_config(RetryConfig::disabled())
            .interceptor(BodyLimit);
        if let Some(url) = &settings.sts_endpoint {
            b = b.endpoint_url(url);
        }
        b.build()
    };
    let sts = aws_sdk_sts::Client::from_conf(sts_conf);
    let assume = Assumer { sts: &sts, req, propagation: settings.propagation_timeout, deadline };

    // 1. AssumeRole with every trusted external ID (both must work during rotation).
    let (current, previous) = tokio::join!(assume.with_id(0), async {
        match req.external_ids.get(1) {
            Some(_) => Some(assume.with_id(1).await),
            None => None,
        }
    });
    let (current_step, creds) = current;
    steps.push(current_step);
    if let Some((previous_step, _)) = previous {
        steps.push(previous_step);
    }
    let Some(creds) = creds else {
        return finish(steps, req, &redactor);
    };
    redactor.add_credentials(&creds);

    // 2. With the assumed role, in parallel: the instance, the read probes, and the
    //    negative probe (the role must refuse callers without an external ID).
    //    The identity store is named by the instance, so its probe follows ListInstances.
    let sso = sso_admin_client(&base, settings, creds.clone());
    let ids = identitystore_client(&base, settings, creds);
    let instance_then_store = async {
        let mut store = None;
        let step = list_instances(&sso, req, deadline, &mut store).await;
        let store_step = match store.filter(|s: &String| !s.is_empty()) {
            Some(store) => Some(identitystore_probe(&ids, &store, deadline).await),
            None => None,
        };
        (step, store_step)
    };
    let ((instance_step, store_step), probe_steps, negative_step) = tokio::join!(
        instance_then_store,
        probes(&sso, req, deadline),
        assume.enforces_external_id(&redactor)
    );
    steps.push(instance_step);
    steps.extend(probe_steps);
    steps.extend(store_step);
    steps.push(negative_step);
    finish(steps, req, &redactor)
}

fn finish(mut steps: Vec<StepReport>, req: &CheckRequest, redactor: &Redactor) -> CheckReport {
    for s in &mut steps {
        s.message = redactor.redact(&s.message);
        tracing::info!(
            step = %s.step,
            ok = s.ok,
            code = s.code.map(ErrorCode::as_str).unwrap_or(""),
            duration_ms = s.duration_ms,
            "connectivity check step"
        );
    }
    let ids = req.external_ids.len();
    let success = format!(
        "role {} can be assumed with {} external ID{}, reaches ACTIVE instance {} owned by {}, has the read \
         permissions of access level {}, and refuses callers without an external ID or with a wrong one",
        req.role_arn,
        ids,
        if ids == 1 { "" } else { "s" },
        req.sso_instance_arn,
        req.aws_account_id,
        req.access_level.as_str(),
    );
    CheckReport::from_steps(steps, success)
}

async fn sdk_config(req: &CheckRequest, settings: &Settings) -> aws_config::SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(settings.attempt_timeout))
        .operation_attempt_timeout(settings.attempt_timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(req.region.clone()))
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(SSO_ADMIN_ATTEMPTS));
    loader = match &settings.credentials {
        BaseCredentials::DefaultChain { profile: Some(p) } => loader.profile_name(p),
        BaseCredentials::DefaultChain { profile: None } => loader,
        BaseCredentials::Static { access_key_id, secret_access_key, session_token } => loader
            .credentials_provider(Credentials::new(
                access_key_id,
                secret_access_key.expose(),
                session_token.as_ref().map(|t| t.expose().to_owned()),
                None,
                "idcbootstrap-settings",
            )),
    };
    loader.load().await
}

fn sso_admin_client(
    base: &aws_config::SdkConfig,
    settings: &Settings,
    creds: Credentials,
) -> aws_sdk_ssoadmin::Client {
    let mut b =
        aws_sdk_ssoadmin::config::Builder::from(base).credentials_provider(creds).interceptor(BodyLimit);
    if let Some(url) = &settings.sso_admin_endpoint {
        b = b.endpoint_url(url);
    }
    aws_sdk_ssoadmin::Client::from_conf(b.build())
}

fn identitystore_client(
    base: &aws_config::SdkConfig,
    settings: &Settings,
    creds: Credentials,
) -> aws_sdk_identitystore::Client {
    let mut b =
        aws_sdk_identitystore::config::Builder::from(base).credentials_provider(creds).interceptor(BodyLimit);
    if let Some(url) = &settings.identitystore_endpoint {
        b = b.endpoint_url(url);
    }
    aws_sdk_identitystore::Client::from_conf(b.build())
}

/// One SDK call bounded by the overall deadline, its error classified.
async fn call<T, E, R>(
    deadline: Option<Instant>,
    fut: impl Future<Output = Result<T, SdkError<E, R>>>,
) -> Result<T, Failure>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let res = match deadline {
        Some(d) => match tokio::time::timeout_at(d, fut).await {
            Ok(r) => r,
            Err(_) => return Err(Failure::Timeout),
        },
        None => fut.await,
    };
    res.map_err(|e| classify(&e))
}

fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn passed(name: impl Into<String>, start: Instant, message: impl Into<String>) -> StepReport {
    StepReport {
        step: name.into(),
        ok: true,
        code: None,
        message: message.into(),
        duration_ms: elapsed_ms(start),
    }
}

fn failed(
    name: impl Into<String>,
    start: Instant,
    code: ErrorCode,
    message: impl Into<String>,
) -> StepReport {
    StepReport {
        step: name.into(),
        ok: false,
        code: Some(code),
        message: message.into(),
        duration_ms: elapsed_ms(start),
    }
}

fn deadline_passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// Equal jitter: half the exponential wait, plus a random part of the other half,
/// so concurrent checks do not retry in lockstep.
fn backoff(attempt: u32) -> Duration {
    let exp =
        BACKOFF_BASE.saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX)).min(BACKOFF_CAP);
    exp / 2 + exp.mul_f64(fastrand::f64() / 2.0)
}

struct Assumer<'a> {
    sts: &'a aws_sdk_sts::Client,
    req: &'a CheckRequest,
    propagation: Duration,
    deadline: Option<Instant>,
}

enum Attempts {
    Assumed(Credentials),
    Failed { failure: Failure, attempts: u32 },
}

impl Assumer<'_> {
    /// `AssumeRole`, retrying while `retry` says so until the propagation timeout.
    async fn attempt(&self, external_id: Option<&ExternalId>, retry: fn(&Failure) -> bool) -> Attempts {
        let give_up = Instant::now() + self.propagation;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let send = self
                .sts
                .assume_role()
                .role_arn(&self.req.role_arn)
                .role_session_name(SESSION_NAME)
                .duration_seconds(SESSION_SECONDS)
                .set_external_id(external_id.map(|id| id.expose().to_owned()))
                .send();
            let failure = match call(self.deadline, send).await {
                Ok(out) => match out.credentials {
                    Some(c) => {
                        let expiry = SystemTime::try_from(c.expiration).ok();
                        return Attempts::Assumed(Credentials::new(
                            c.access_key_id,
                            c.secret_access_key,
                            Some(c.session_token),
                            expiry,
                            "idcbootstrap-assumed-role",
                        ));
                    }
                    None => Failure::Other { aws_code: None, reason: "STS returned no credentials".into() },
                },
                Err(f) => f,
            };
            let now = Instant::now();
            if !retry(&failure) || now >= give_up {
                return Attempts::Failed { failure, attempts: attempt };
            }
            // The caller's deadline comes first: it must get an answer in time.
            if deadline_passed(self.deadline) {
                return Attempts::Failed { failure: Failure::Timeout, attempts: attempt };
            }
            let mut wake = (now + backoff(attempt - 1)).min(give_up);
            if let Some(d) = self.deadline {
                wake = wake.min(d);
            }
            // Only the code: an AWS message is not passed through the redactor here.
            tracing::debug!(attempt, code = failure.code().as_str(), "AssumeRole not yet allowed; retrying");
            tokio::time::sleep_until(wake).await;
        }
    }

    /// Step 1 for `external_ids[index]`. Returns the credentials on success.
    async fn with_id(&self, index: usize) -> (StepReport, Option<Credentials>) {
        let start = Instant::now();
        let (name, which) = match index {
            0 => (step::ASSUME_ROLE_CURRENT, "the current external ID (external_ids[0])"),
            _ => (step::ASSUME_ROLE_PREVIOUS, "the previous external ID (external_ids[1])"),
        };
        let id = &self.req.external_ids[index];
        // A new role is denied until IAM propagates it; throttling is not a broken role.
        match self.attempt(Some(id), |f| f.is_denied() || f.is_throttled()).await {
            Attempts::Assumed(creds) => {
                (passed(name, start, format!("assumed {} with {which}", self.req.role_arn)), Some(creds))
            }
            Attempts::Failed { failure, attempts } => {
                let waited = start.elapsed().as_secs();
                let (code, message) = match &failure {
                    Failure::Denied { .. } => (
                        ErrorCode::StsAssumeRoleFailed,
                        format!(
                            "could not assume {} with {which} after {attempts} attempt(s) over {waited} s: {failure}. \
                             Check that the role exists, trusts the caller, and that its trust policy's \
                             sts:ExternalId condition lists this external ID",
                            self.req.role_arn
                        ),
                    ),
                    Failure::Throttled { .. } => (
                        ErrorCode::Throttled,
                        format!(
                            "STS kept throttling AssumeRole for {waited} s ({attempts} attempts): {failure}"
                        ),
                    ),
                    // Another STS answer (invalid or expired base credentials, STS
                    // disabled in the region) or no answer the SDK could build a
                    // request for (no base credentials): AssumeRole failed either way.
                    Failure::Other { .. } => (
                        ErrorCode::StsAssumeRoleFailed,
                        format!("could not assume {} with {which}: {failure}", self.req.role_arn),
                    ),
                    Failure::Timeout => (
                        ErrorCode::Timeout,
                        format!(
                            "AssumeRole with {which} did not succeed before the deadline \
                             ({attempts} attempt(s) over {waited} s)"
                        ),
                    ),
                    other => (other.code(), format!("AssumeRole with {which}: {failure}")),
                };
                (failed(name, start, code, message), None)
            }
        }
    }

    /// Step 3: `AssumeRole` without an external ID, and with a fresh random one, must
    /// both be denied. The second catches trust policies that only demand that some
    /// ID is sent (`StringLike "*"`, a `Null` condition): they deny the call without
    /// an ID, yet any caller who sends any ID gets in.
    async fn enforces_external_id(&self, redactor: &Redactor) -> StepReport {
        let start = Instant::now();
        let name = step::EXTERNAL_ID_ENFORCED;
        let random = match ExternalId::generate() {
            Ok(id) => id,
            Err(e) => return failed(name, start, e.code, e.message),
        };
        redactor.add(random.expose());
        let (without, with_random) = tokio::join!(
            self.attempt(None, Failure::is_throttled),
            self.attempt(Some(&random), Failure::is_throttled)
        );
        let role = &self.req.role_arn;
        let open = |how: &str| {
            failed(
                name,
                start,
                ErrorCode::ExternalIdNotEnforced,
                format!(
                    "{role} can be assumed {how}, so anyone the trust policy names can use it on behalf of any \
                     customer; its trust policy must require StringEquals sts:ExternalId with the trusted ID(s)"
                ),
            )
        };
        match (without, with_random) {
            (Attempts::Assumed(_), _) => open("without an external ID"),
            (_, Attempts::Assumed(_)) => open("with a random external ID it was never given"),
            (
                Attempts::Failed { failure: Failure::Denied { .. }, .. },
                Attempts::Failed { failure: Failure::Denied { .. }, .. },
            ) => passed(name, start, "AssumeRole without an external ID and with a random one is denied"),
            (Attempts::Failed { failure, .. }, Attempts::Failed { failure: Failure::Denied { .. }, .. }) => {
                self.probe_failed(start, "without an external ID", &failure)
            }
            (_, Attempts::Failed { failure, .. }) => {
                self.probe_failed(start, "with a random external ID", &failure)
            }
        }
    }

    fn probe_failed(&self, start: Instant, how: &str, failure: &Failure) -> StepReport {
        let code = match failure {
            Failure::Other { aws_code: Some(_), .. } => ErrorCode::StsAssumeRoleFailed,
            f => f.code(),
        };
        failed(step::EXTERNAL_ID_ENFORCED, start, code, format!("AssumeRole {how}: {failure}"))
    }
}

/// Step 2a: the instance is listed, `ACTIVE`, and owned by `aws_account_id`. When it
/// passes, `store` gets the instance's identity store ID.
async fn list_instances(
    sso: &aws_sdk_ssoadmin::Client,
    req: &CheckRequest,
    deadline: Option<Instant>,
    store: &mut Option<String>,
) -> StepReport {
    use aws_sdk_ssoadmin::types::InstanceStatus;

    let start = Instant::now();
    let name = step::LIST_INSTANCES;
    let mut seen = Vec::new();
    let mut others = 0usize;
    let mut token = None;
    // ListInstances returns at most 10 per page, and an account sees few instances;
    // the page limit only guards against a server that never stops paginating.
    for _ in 0..20 {
        let out = match call(deadline, sso.list_instances().set_next_token(token.take()).send()).await {
            Ok(out) => out,
            Err(f) => return failed(name, start, f.code(), probe_failure_message("sso:ListInstances", &f)),
        };
        for inst in out.instances.unwrap_or_default() {
            if inst.instance_arn.as_deref() != Some(req.sso_instance_arn.as_str()) {
                others += 1;
                if seen.len() < MAX_LISTED {
                    seen.push(shorten(&inst.instance_arn.unwrap_or_default()));
                }
                continue;
            }
            let status = inst.status.as_ref().map(InstanceStatus::as_str).unwrap_or("unknown");
            if inst.status != Some(InstanceStatus::Active) {
                let reason = inst.status_reason.map(|r| format!(" ({r})")).unwrap_or_default();
                return failed(
                    name,
                    start,
                    ErrorCode::InstanceNotActive,
                    format!("instance {} is {status}{reason}, not ACTIVE", req.sso_instance_arn),
                );
            }
            return match inst.owner_account_id.as_deref() {
                Some(owner) if owner == req.aws_account_id => {
                    store.clone_from(&inst.identity_store_id);
                    passed(
                        name,
                        start,
                        format!("instance {} is ACTIVE and owned by {owner}", req.sso_instance_arn),
                    )
                }
                owner => failed(
                    name,
                    start,
                    ErrorCode::AccountMismatch,
                    format!(
                        "instance {} is owned by {}, not by aws_account_id {}",
                        req.sso_instance_arn,
                        owner.unwrap_or("an account AWS did not name"),
                        req.aws_account_id
                    ),
                ),
            };
        }
        match out.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => break,
        }
    }
    let listed = match others - seen.len() {
        _ if seen.is_empty() => "none".to_owned(),
        0 => seen.join(", "),
        more => format!("{} and {more} more", seen.join(", ")),
    };
    failed(
        name,
        start,
        ErrorCode::InstanceNotFound,
        format!(
            "instance {} is not among the instances the role sees in {} (listed: {listed}); check the ARN, \
             the region, and that the role lives in the instance's account or its delegated administrator",
            req.sso_instance_arn, req.region
        ),
    )
}

/// How many of the other instances an `instance_not_found` message names: enough to
/// spot a typo, bounded whatever an endpoint returns.
const MAX_LISTED: usize = 5;

/// Longest ARN quoted in a message (real instance ARNs have under 60 characters).
const MAX_QUOTED: usize = 100;

/// `s`, cut at [`MAX_QUOTED`] characters with an ellipsis.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The identity store read, probed once `ListInstances` has named the store.
const IDENTITYSTORE_PROBE: &str = "identitystore:ListUsers";

/// The read permissions the probes prove, per access level; each higher level adds
/// the list read its own permissions bring (the status lists of its writes). Writes
/// are never probed. `sso:ListInstances` is proven by its own step.
pub(crate) fn probe_actions(level: AccessLevel) -> &'static [&'static str] {
    const READ_ONLY: &[&str] =
        &["sso:ListPermissionSets", "sso:ListPermissionSetsProvisionedToAccount", IDENTITYSTORE_PROBE];
    const ASSIGNMENTS: &[&str] = &[
        "sso:ListPermissionSets",
        "sso:ListPermissionSetsProvisionedToAccount",
        IDENTITYSTORE_PROBE,
        "sso:ListAccountAssignmentCreationStatus",
    ];
    const ADMIN: &[&str] = &[
        "sso:ListPermissionSets",
        "sso:ListPermissionSetsProvisionedToAccount",
        IDENTITYSTORE_PROBE,
        "sso:ListAccountAssignmentCreationStatus",
        "sso:ListPermissionSetProvisioningStatus",
    ];
    match level {
        AccessLevel::ReadOnly => READ_ONLY,
        AccessLevel::Assignments => ASSIGNMENTS,
        AccessLevel::Admin => ADMIN,
    }
}

/// Step 2c: `identitystore:ListUsers` on the instance's identity store.
async fn identitystore_probe(
    ids: &aws_sdk_identitystore::Client,
    store: &str,
    deadline: Option<Instant>,
) -> StepReport {
    let start = Instant::now();
    let name = format!("{}{IDENTITYSTORE_PROBE}", step::PROBE_PREFIX);
    match call(deadline, ids.list_users().identity_store_id(store).max_results(1).send()).await {
        Ok(_) => passed(name, start, format!("{IDENTITYSTORE_PROBE} is allowed")),
        Err(f) => failed(name, start, f.code(), probe_failure_message(IDENTITYSTORE_PROBE, &f)),
    }
}

/// Step 2b: one cheap read (`MaxResults` 1) per permission of the access level.
async fn probes(
    sso: &aws_sdk_ssoadmin::Client,
    req: &CheckRequest,
    deadline: Option<Instant>,
) -> Vec<StepReport> {
    let one = |action: &'static str| async move {
        let start = Instant::now();
        let name = format!("{}{action}", step::PROBE_PREFIX);
        let instance = req.sso_instance_arn.as_str();
        let res = match action {
            "sso:ListPermissionSets" => {
                call(deadline, sso.list_permission_sets().instance_arn(instance).max_results(1).send())
                    .await
                    .map(|_| ())
            }
            "sso:ListPermissionSetsProvisionedToAccount" => call(
                deadline,
                sso.list_permission_sets_provisioned_to_account()
                    .instance_arn(instance)
                    .account_id(&req.aws_account_id)
                    .max_results(1)
                    .send(),
            )
            .await
            .map(|_| ()),
            "sso:ListAccountAssignmentCreationStatus" => call(
                deadline,
                sso.list_account_assignment_creation_status().instance_arn(instance).max_results(1).send(),
            )
            .await
            .map(|_| ()),
            "sso:ListPermissionSetProvisioningStatus" => call(
                deadline,
                sso.list_permission_set_provisioning_status().instance_arn(instance).max_results(1).send(),
            )
            .await
            .map(|_| ()),
            other => Err(Failure::Other { aws_code: None, reason: format!("no probe for {other}") }),
        };
        match res {
            Ok(()) => passed(name, start, format!("{action} is allowed")),
            Err(f) => failed(name, start, f.code(), probe_failure_message(action, &f)),
        }
    };
    let sso_actions = probe_actions(req.access_level).iter().filter(|a| **a != IDENTITYSTORE_PROBE);
    futures_util::future::join_all(sso_actions.map(|a| one(a))).await
}

fn probe_failure_message(action: &str, f: &Failure) -> String {
    match f {
        Failure::Denied { .. } => format!(
            "the role may not call {action} ({f}); grant it in the role's permissions policy \
             (re-render the template for this access level)"
        ),
        _ => format!("{action}: {f}"),
    }
}

/// Removes every secret the check handled from a message, in case an AWS error text
/// echoes one. External IDs shorter than 6 characters are not searched for: they
/// would garble ordinary words, and validation allows them only for testing.
struct Redactor {
    secrets: std::sync::Mutex<Vec<String>>,
}

impl Redactor {
    fn new(req: &CheckRequest, settings: &Settings) -> Self {
        let mut secrets: Vec<String> = req.external_ids.iter().map(|id| id.expose().to_owned()).collect();
        if let BaseCredentials::Static { secret_access_key, session_token, .. } = &settings.credentials {
            secrets.push(secret_access_key.expose().to_owned());
            secrets.extend(session_token.iter().map(|t| t.expose().to_owned()));
        }
        Redactor::with(secrets)
    }

    fn with(secrets: Vec<String>) -> Self {
        Redactor { secrets: std::sync::Mutex::new(secrets) }
    }

    fn add(&self, secret: &str) {
        let mut s = self.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.push(secret.to_owned());
    }

    fn add_credentials(&self, c: &Credentials) {
        let mut s = self.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.push(c.secret_access_key().to_owned());
        s.extend(c.session_token().map(str::to_owned));
    }

    /// Replaces each secret, and the forms an AWS answer may carry it in (URL-encoded
    /// with either hex case, as a query string or form body echoes it, and
    /// XML-escaped, as an XML error message does), with `<redacted>`.
    fn redact(&self, message: &str) -> String {
        let secrets = self.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = message.to_owned();
        for s in secrets.iter().filter(|s| s.len() >= 6) {
            for form in encoded_forms(s) {
                if out.contains(form.as_str()) {
                    out = out.replace(form.as_str(), "<redacted>");
                }
            }
        }
        out
    }
}

/// `s` as written, percent-encoded (upper- and lower-case hex; unreserved characters
/// kept), and XML-escaped; longest first, so no form is left half replaced.
fn encoded_forms(s: &str) -> Vec<String> {
    let mut upper = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            upper.push(char::from(b));
        } else {
            upper.push_str(&format!("%{b:02X}"));
        }
    }
    let lower = upper
        .split('%')
        .enumerate()
        .map(|(i, part)| match (i, part.get(..2)) {
            (0, _) | (_, None) => part.to_owned(),
            (_, Some(hex)) => format!("{}{}", hex.to_ascii_lowercase(), &part[2..]),
        })
        .collect::<Vec<_>>()
        .join("%");
    let xml = s
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    let mut forms = vec![s.to_owned(), upper, lower, xml];
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..40 {
            let exp = BACKOFF_BASE.saturating_mul(1 << attempt.min(16)).min(BACKOFF_CAP);
            let b = backoff(attempt);
            assert!(b >= exp / 2 && b <= exp, "attempt {attempt}: {b:?} vs {exp:?}");
        }
        assert!(backoff(100) <= BACKOFF_CAP);
    }

    #[test]
    fn redactor_finds_url_and_xml_encoded_secrets() {
        let id = "vendor+id/2024=a,b@c:d-e_f";
        let r = Redactor::with(vec![id.to_owned(), "tok&en<secret>".to_owned()]);
        for message in [
            format!("raw {id} end"),
            "query ExternalId=vendor%2Bid%2F2024%3Da%2Cb%40c%3Ad-e_f end".to_owned(),
            "query ExternalId=vendor%2bid%2f2024%3da%2cb%40c%3ad-e_f end".to_owned(),
            "xml <Message>tok&amp;en&lt;secret&gt;</Message> end".to_owned(),
        ] {
            let out = r.redact(&message);
            assert!(out.contains("<redacted>") && out.ends_with(" end"), "{message} -> {out}");
            for leak in ["vendor", "2024", "tok", "secret&"] {
                assert!(!out.contains(leak), "{message} -> {out}");
            }
        }
        assert_eq!(r.redact("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn every_probed_action_is_granted_by_the_policy_of_its_level() {
        for level in AccessLevel::ALL {
            let granted = crate::policy::actions(level);
            assert!(granted.contains(&"sso:ListInstances"), "{level}");
            for action in probe_actions(level) {
                assert!(granted.contains(action), "{level} probes {action} but its policy does not grant it");
            }
        }
    }

    #[test]
    fn every_level_probes_reads_only() {
        for level in [AccessLevel::ReadOnly, AccessLevel::Assignments, AccessLevel::Admin] {
            for action in probe_actions(level) {
                let op = action.split(':').nth(1).unwrap();
                assert!(
                    op.starts_with("List") || op.starts_with("Describe") || op.starts_with("Get"),
                    "{action}"
                );
            }
        }
    }
}
