//! One invocation, start to finish: decode the event, dispatch it to the resource
//! type, guard the work against panics and the Lambda deadline, and send exactly
//! one answer to CloudFormation. Plumbing: knows nothing of IAM Identity Center.
//!
//! Exactly one answer holds by construction: resource handlers only *return* an
//! outcome; this module alone sends, once, after `select!` has picked the first of
//! {outcome, panic, deadline guard}. The losing work is aborted.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use idcbootstrap::ErrorCode;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::config::{Config, FAULT_VAR, FREEZE_SLACK, Fault};
use crate::event::{self, ReplyTo, Request, RequestKind};
use crate::response::{CfnResponse, MAX_BODY, Status};
use crate::response_url::{ENDPOINTS_VAR, ResponseEndpoints};
use crate::transport::Responder;

/// Most property details a failure keeps; the rest are counted in its message.
/// An event can name thousands of unknown properties, and the answer has room
/// for a few dozen at most.
pub(crate) const MAX_DETAILS: usize = 50;

/// Longest `Reason` built: the whole response is at most [`MAX_BODY`] bytes.
pub(crate) const MAX_REASON: usize = MAX_BODY;

/// A boxed, sendable future: resource handlers run as their own task.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a resource type implements. One per `Custom::` type; `main` builds the
/// registry and hands it to [`Handler::new`], so this module never names a type.
pub(crate) trait CustomResource: Send + Sync {
    /// The `ResourceType` this serves, e.g. `Custom::IdcExternalId`.
    fn resource_type(&self) -> &'static str;
    /// Handles Create, Update or Delete.
    fn handle(&self, request: Arc<Request>) -> BoxFuture<Result<Success, Failure>>;
    /// [`CustomResource::handle`], told when the deadline guard fires. A type whose
    /// work waits on something outside (the connectivity check waits out IAM
    /// propagation) finishes by then with its own, more precise answer; the guard
    /// stays the last line. Types that only compute keep the default.
    fn handle_until(&self, request: Arc<Request>, guard_at: Instant) -> BoxFuture<Result<Success, Failure>> {
        let _ = guard_at;
        self.handle(request)
    }
    /// The failure to answer instead of `success` when its response would be
    /// `size` bytes, over CloudFormation's limit: a type whose attributes grow with
    /// a property names that property. `None` (the default) answers `internal`,
    /// naming the largest attributes.
    fn too_large(&self, request: &Request, success: &Success, size: usize) -> Option<Failure> {
        let _ = (request, success, size);
        None
    }
}

/// A successful outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Success {
    pub(crate) physical_resource_id: String,
    /// `Fn::GetAtt` attributes; values are strings.
    pub(crate) data: std::collections::BTreeMap<String, String>,
    /// Hide `Data` from describe output (it carries secrets).
    pub(crate) no_echo: bool,
}

/// A failed outcome: a stable code, a sentence, and the properties at fault.
/// Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    pub(crate) details: Vec<PropertyDetail>,
}

/// One property that broke one rule, named as the template names it (`Tags.env`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PropertyDetail {
    pub(crate) property: String,
    pub(crate) rule: String,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Failure { code, message: message.into(), details: Vec::new() }
    }

    /// The one-line `Reason`: starts with the wire code so event filters can match
    /// it, then names every property and rule. Properties that broke one rule with
    /// one message (two fields refused together) share one entry. At most
    /// [`MAX_REASON`] bytes, however many details there are: the response cannot
    /// carry more, and building more could exhaust a small function's memory.
    pub(crate) fn reason(&self) -> String {
        let mut out = format!("{}: {}", self.code.as_str(), self.message);
        let mut i = 0;
        while let Some(d) = self.details.get(i) {
            if out.len() >= MAX_REASON {
                out.push_str(&format!("; … {} more", self.details.len() - i));
                break;
            }
            let same = self.details[i..].iter().take_while(|x| x.rule == d.rule && x.message == d.message);
            out.push_str(if i == 0 { " — " } else { "; " });
            let mut n = 0;
            for x in same {
                if n > 0 {
                    out.push_str(", ");
                }
                out.push_str(&x.property);
                n += 1;
                if out.len() >= MAX_REASON {
                    break;
                }
            }
            out.push_str(&format!(" ({}): {}", d.rule, d.message));
            i += n;
        }
        cut_at(&mut out, MAX_REASON);
        out
    }
}

/// Longest echo of a name the event chose (a `ResourceType`) in a reason or a log
/// line: an event can name a type of megabytes.
const MAX_SHOWN: usize = 256;

/// `s`, cut to [`MAX_SHOWN`] bytes.
fn shown(s: &str) -> String {
    let mut s = s.to_owned();
    cut_at(&mut s, MAX_SHOWN);
    s
}

/// Cuts `s` to at most `max` bytes on a character boundary, ending in `…` when cut.
fn cut_at(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push('…');
}

/// What the handler returns to the Lambda Runtime API when it could answer
/// CloudFormation; never includes `Data` (it may hold secrets).
fn summary(resp: &CfnResponse, attempts: u32) -> Value {
    json!({
        "Status": resp.status,
        "PhysicalResourceId": resp.physical_resource_id,
        "LogicalResourceId": resp.logical_resource_id,
        "DeliveryAttempts": attempts,
    })
}

/// The error the Runtime API gets when CloudFormation could not be answered at
/// all: `error_type` is a stable name.
#[derive(Debug)]
pub(crate) struct Unanswerable {
    kind: &'static str,
    message: String,
}

impl From<Unanswerable> for lambda_runtime::Diagnostic {
    fn from(e: Unanswerable) -> Self {
        lambda_runtime::Diagnostic { error_type: e.kind.to_owned(), error_message: e.message }
    }
}

/// Serves every invocation.
pub(crate) struct Handler {
    /// `Err` holds the init failure every event is answered with.
    state: Result<Ready, String>,
    responder: Responder,
    margin: Duration,
    /// Where answers may go; anything else is refused before any work is done.
    endpoints: ResponseEndpoints,
}

struct Ready {
    registry: Vec<Arc<dyn CustomResource>>,
    fault: Option<Fault>,
}

impl Handler {
    /// Serves the types in `registry`; an event for any other type is answered
    /// FAILED, naming the types served.
    pub(crate) fn new(
        config: &Config,
        endpoints: ResponseEndpoints,
        registry: Vec<Arc<dyn CustomResource>>,
    ) -> Self {
        if let Some(fault) = config.fault {
            tracing::warn!(
                ?fault,
                variable = FAULT_VAR,
                "fault injection is set: this function is in fault-injection test mode"
            );
        }
        Handler {
            state: Ok(Ready { registry, fault: config.fault }),
            responder: Responder::default(),
            margin: config.deadline_margin,
            endpoints,
        }
    }

    /// A handler for a function whose configuration is invalid: it answers every
    /// event with `reason` (Delete with SUCCESS, so rollbacks and deletions finish).
    pub(crate) fn misconfigured(reason: String, endpoints: ResponseEndpoints) -> Self {
        Handler {
            state: Err(reason),
            responder: Responder::default(),
            margin: Duration::from_secs(2),
            endpoints,
        }
    }

    /// Refuses a `ResponseURL` that is not CloudFormation's (or an added origin):
    /// nothing is sent there, and no work is done for it.
    fn check_reply(&self, reply: &ReplyTo) -> Result<(), Unanswerable> {
        self.endpoints.check(&reply.response_url).map_err(|why| {
            tracing::error!(
                reason = %why,
                logical_resource_id = %reply.logical_resource_id,
                "ResponseURL refused: nothing was sent and no work was done; if a stack sent this event it cannot \
                 be answered and waits for CloudFormation's timeout (set {ENDPOINTS_VAR} for a private endpoint)"
            );
            Unanswerable { kind: "ResponseUrlRefused", message: why.to_string() }
        })
    }

    pub(crate) async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Unanswerable> {
        let (guard_at, give_up_at) = times(deadline_instant(event.context.deadline), self.margin);

        let (reply, response) = match event::decode(event.payload) {
            Err(malformed) => {
                let Some(reply) = malformed.reply else {
                    tracing::error!(reason = %malformed.reason, "event cannot be answered: no ResponseURL");
                    return Err(Unanswerable { kind: "MalformedEvent", message: malformed.reason });
                };
                self.check_reply(&reply)?;
                tracing::warn!(reason = %malformed.reason, "malformed event");
                let failure = Failure::new(ErrorCode::InvalidInput, malformed.reason);
                let resp = failed(&reply, reply.kind, &failure);
                (reply, resp)
            }
            Ok(request) => {
                self.check_reply(&request.reply)?;
                tracing::info!(
                    request_type = request.kind.as_str(),
                    resource_type = %shown(&request.resource_type),
                    logical_resource_id = %request.reply.logical_resource_id,
                    "request"
                );
                let reply = request.reply.clone();
                let resp = self.run(request, guard_at).await;
                (reply, resp)
            }
        };

        tracing::info!(
            status = ?response.status,
            physical_resource_id = %response.physical_resource_id,
            reason = response.reason.as_deref().unwrap_or(""),
            "answering CloudFormation"
        );
        let body = response.encode();
        match self.responder.put(&reply.response_url, body, give_up_at).await {
            Ok(attempts) => Ok(summary(&response, attempts)),
            Err(e) => {
                tracing::error!(error = %e, "could not deliver the response");
                Err(Unanswerable { kind: "ResponseNotDelivered", message: e.to_string() })
            }
        }
    }

    /// Dispatches and guards one well-formed request; always yields a response.
    pub(crate) async fn run(&self, request: Request, guard_at: Instant) -> CfnResponse {
        let reply = request.reply.clone();
        let kind = Some(request.kind);
        let ready = match &self.state {
            Ok(ready) => ready,
            Err(init) => {
                let failure =
                    Failure::new(ErrorCode::Internal, format!("the function is misconfigured: {init}"));
                return failed(&reply, kind, &failure);
            }
        };
        let Some(resource) = ready.registry.iter().find(|r| r.resource_type() == request.resource_type)
        else {
            let known: Vec<&str> = ready.registry.iter().map(|r| r.resource_type()).collect();
            let failure = Failure::new(
                ErrorCode::InvalidInput,
                format!(
                    "unknown resource type {:?}; this function serves {}",
                    shown(&request.resource_type),
                    known.join(", ")
                ),
            );
            return failed(&reply, kind, &failure);
        };

        let fault = ready.fault;
        let request = Arc::new(request);
        let work = resource.handle_until(Arc::clone(&request), guard_at);
        let mut task = tokio::spawn(async move {
            match fault {
                Some(Fault::Panic) => panic!("{FAULT_VAR}=panic"),
                Some(Fault::Sleep(d)) => tokio::time::sleep(d).await,
                None => {}
            }
            work.await
        });
        let outcome = tokio::select! {
            joined = &mut task => match joined {
                Ok(outcome) => outcome,
                Err(e) if e.is_panic() => {
                    // The payload may quote data; log only that it happened.
                    tracing::error!("resource handler panicked");
                    Err(Failure::new(ErrorCode::Internal, "the handler failed unexpectedly (panic); see the function's logs"))
                }
                Err(_) => Err(Failure::new(ErrorCode::Internal, "the handler was cancelled")),
            },
            () = tokio::time::sleep_until(guard_at) => {
                task.abort();
                tracing::error!("deadline guard fired: answering before Lambda's deadline");
                Err(Failure::new(ErrorCode::Timeout, "the work did not finish before the Lambda deadline"))
            }
        };
        match outcome {
            Ok(success) => {
                let mut resp =
                    CfnResponse::new(&reply, Status::Success, success.physical_resource_id.clone());
                resp.data.clone_from(&success.data);
                resp.no_echo = success.no_echo;
                match resp.oversize().and_then(|size| resource.too_large(&request, &success, size)) {
                    Some(failure) => failed(&reply, kind, &failure),
                    None => resp,
                }
            }
            Err(failure) => failed(&reply, kind, &failure),
        }
    }
}

/// When the deadline guard fires, and when delivery gives up: the guard at
/// `deadline − margin`, delivery `margin − FREEZE_SLACK` after it (at least 800 ms
/// with the margin's floor), so an answer made by the guard always has a real
/// chance to reach CloudFormation before Lambda freezes the function.
fn times(deadline: Instant, margin: Duration) -> (Instant, Instant) {
    let guard_at = deadline.checked_sub(margin).unwrap_or_else(Instant::now);
    (guard_at, guard_at + margin.saturating_sub(FREEZE_SLACK))
}

/// The answer to a failure. Delete always succeeds: a FAILED Delete would block
/// stack deletion and rollback, and the one thing a type here owns outside
/// CloudFormation (the vendor's registration of `Custom::IdcVendorRegistration`) is
/// safe to leave: the vendor only tests a role it cannot assume, and the next
/// registration replaces it. The reason is kept so the event still tells what went
/// wrong.
fn failed(reply: &ReplyTo, kind: Option<RequestKind>, failure: &Failure) -> CfnResponse {
    let physical = physical_id_for_failure(reply);
    let status = if kind == Some(RequestKind::Delete) { Status::Success } else { Status::Failed };
    CfnResponse::new(reply, status, physical).with_reason(failure.reason())
}

/// On Update and Delete the current physical ID is kept (changing it would tell
/// CloudFormation the resource was replaced). A Create that failed never made
/// anything; it still needs an ID, and CloudFormation will send a Delete for it
/// during rollback, which succeeds.
fn physical_id_for_failure(reply: &ReplyTo) -> String {
    match &reply.physical_resource_id {
        Some(p) => p.clone(),
        None => format!("{}-not-created", reply.logical_resource_id),
    }
}

/// When to give up, as a monotonic instant.
///
/// Lambda sends the deadline as milliseconds since the Unix epoch. `cargo lambda
/// watch`, the usual local emulator, sends the remaining time instead (600000);
/// no real deadline is before 2001, so a value that small is read as relative,
/// which lets the function run under that emulator too.
fn deadline_instant(deadline_ms: u64) -> Instant {
    const RELATIVE_BELOW: u64 = 1_000_000_000_000; // 2001-09-09 as epoch ms
    let now = Instant::now();
    if deadline_ms < RELATIVE_BELOW {
        return now + Duration::from_millis(deadline_ms);
    }
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    now + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_starts_with_the_code_and_names_properties() {
        let f = Failure {
            code: ErrorCode::InvalidInput,
            message: "2 properties are invalid".into(),
            details: vec![
                PropertyDetail {
                    property: "AwsAccountId".into(),
                    rule: "pattern".into(),
                    message: "12 digits".into(),
                },
                PropertyDetail {
                    property: "Tags.env".into(),
                    rule: "length".into(),
                    message: "too long".into(),
                },
            ],
        };
        let r = f.reason();
        assert!(r.starts_with("invalid_input: "), "{r}");
        assert!(r.contains("AwsAccountId (pattern): 12 digits"), "{r}");
        assert!(r.contains("Tags.env (length): too long"), "{r}");
    }

    /// Thousands of details (an event of thousands of unknown properties) make a
    /// reason of a bounded size, built without a megabyte copy.
    #[test]
    fn reason_is_bounded_whatever_the_details() {
        let known = "AwsAccountId, SsoInstanceArn, Region, ".repeat(20);
        let details = (0..20_000)
            .map(|i| PropertyDetail {
                property: format!("UnknownProperty{i:05}"),
                rule: if i % 2 == 0 { "unknown".into() } else { "type".into() },
                message: format!("is not a property; known properties: {known}"),
            })
            .collect();
        let f = Failure {
            code: ErrorCode::InvalidInput,
            message: "20000 properties are invalid".into(),
            details,
        };
        let r = f.reason();
        assert!(r.len() <= 4096, "{} bytes", r.len());
        assert!(r.starts_with("invalid_input: 20000 properties are invalid — UnknownProperty00000"), "{r}");
    }

    fn reply(physical: Option<&str>) -> ReplyTo {
        ReplyTo {
            response_url: "http://127.0.0.1:1/".into(),
            stack_id: "s".into(),
            request_id: "r".into(),
            logical_resource_id: "Res".into(),
            physical_resource_id: physical.map(str::to_owned),
            kind: None,
        }
    }

    #[test]
    fn failures_keep_the_physical_id_and_deletes_succeed() {
        let f = Failure::new(ErrorCode::Internal, "x");
        let create = failed(&reply(None), Some(RequestKind::Create), &f);
        assert_eq!(create.status, Status::Failed);
        assert_eq!(create.physical_resource_id, "Res-not-created");
        let update = failed(&reply(Some("p1")), Some(RequestKind::Update), &f);
        assert_eq!((update.status, update.physical_resource_id.as_str()), (Status::Failed, "p1"));
        let delete = failed(&reply(Some("p1")), Some(RequestKind::Delete), &f);
        assert_eq!((delete.status, delete.physical_resource_id.as_str()), (Status::Success, "p1"));
        assert!(delete.reason.unwrap().contains("internal"));
    }

    struct Stub;

    impl CustomResource for Stub {
        fn resource_type(&self) -> &'static str {
            "Custom::Stub"
        }

        fn handle(&self, _request: Arc<Request>) -> BoxFuture<Result<Success, Failure>> {
            Box::pin(async {
                Ok(Success { physical_resource_id: "p".into(), data: Default::default(), no_echo: false })
            })
        }
    }

    #[tokio::test]
    async fn the_registry_handed_in_is_what_is_served() {
        let config = Config::from_lookup(&|_| None).unwrap();
        let handler = Handler::new(&config, ResponseEndpoints::default(), vec![Arc::new(Stub)]);
        let request = |resource_type: &str| Request {
            kind: RequestKind::Create,
            reply: reply(None),
            resource_type: resource_type.into(),
            properties: Default::default(),
            old_properties: None,
        };
        let guard_at = Instant::now() + Duration::from_secs(5);
        let ok = handler.run(request("Custom::Stub"), guard_at).await;
        assert_eq!((ok.status, ok.physical_resource_id.as_str()), (Status::Success, "p"));
        let other = handler.run(request("Custom::Other"), guard_at).await;
        assert_eq!(other.status, Status::Failed);
        let reason = other.reason.unwrap();
        assert!(reason.contains("\"Custom::Other\"") && reason.ends_with("serves Custom::Stub"), "{reason}");
        // A type name of a megabyte is not echoed whole.
        let huge = handler.run(request(&format!("Custom::{}", "X".repeat(1 << 20))), guard_at).await;
        let reason = huge.reason.unwrap();
        assert!(reason.len() < 1024 && reason.ends_with("serves Custom::Stub"), "{} bytes", reason.len());
    }

    /// Even with the smallest margin, delivery gets most of it after the guard.
    #[test]
    fn delivery_gives_up_after_the_guard_with_time_to_deliver() {
        for margin in [crate::config::MIN_MARGIN, Duration::from_secs(2), crate::config::MAX_MARGIN] {
            let deadline = Instant::now() + Duration::from_secs(120);
            let (guard_at, give_up_at) = times(deadline, margin);
            assert_eq!(deadline - guard_at, margin);
            assert!(give_up_at - guard_at >= Duration::from_millis(800), "{margin:?}");
            assert!(give_up_at < deadline, "{margin:?}: delivery ends before Lambda freezes the function");
        }
        // Less time left than the margin: the guard fires now, delivery still gets its window.
        let (guard_at, give_up_at) =
            times(Instant::now() + Duration::from_millis(300), crate::config::MIN_MARGIN);
        assert!(give_up_at - guard_at >= Duration::from_millis(800));
    }

    /// A forged event naming someone else's URL gets no answer and no work.
    #[tokio::test]
    async fn a_response_url_outside_cloudformation_gets_nothing() {
        let config = Config::from_lookup(&|_| None).unwrap();
        let endpoints =
            ResponseEndpoints::from_lookup(&|k| (k == "AWS_REGION").then(|| "us-east-1".to_owned())).unwrap();
        let handler = Handler::new(&config, endpoints, vec![Arc::new(Stub)]);
        let event = json!({
            "RequestType": "Create",
            "ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:f",
            "ResponseURL": "https://attacker-bucket.s3.amazonaws.com/x?X-Amz-Signature=sig",
            "StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/s/1",
            "RequestId": "r",
            "ResourceType": "Custom::Stub",
            "LogicalResourceId": "Res",
            "ResourceProperties": {},
        });
        let e =
            handler.handle(LambdaEvent::new(event, lambda_runtime::Context::default())).await.unwrap_err();
        assert_eq!(e.kind, "ResponseUrlRefused");
        assert!(e.message.contains("attacker-bucket") && !e.message.contains("sig"), "{}", e.message);
    }

    /// The plumbing knows nothing of the types it serves: they come from `main`.
    #[test]
    fn plumbing_never_imports_the_resources() {
        for file in ["event.rs", "response.rs", "response_url.rs", "transport.rs", "handler.rs", "config.rs"]
        {
            let path = format!("{}/src/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            for needle in [concat!("crate::", "resources"), concat!("idcbootstrap::", "spec")] {
                assert!(!text.contains(needle), "{file} names {needle}");
            }
        }
    }

    #[test]
    fn deadline_is_absolute_or_relative() {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let abs = deadline_instant(now_ms + 10_000).saturating_duration_since(Instant::now());
        assert!(abs > Duration::from_secs(9) && abs <= Duration::from_secs(10), "{abs:?}");
        let rel = deadline_instant(600_000).saturating_duration_since(Instant::now());
        assert!(rel > Duration::from_secs(599), "{rel:?}");
        assert_eq!(
            deadline_instant(now_ms - 5_000).saturating_duration_since(Instant::now()),
            Duration::ZERO
        );
    }
}
