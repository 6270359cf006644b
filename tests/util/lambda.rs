//! Peers for the Lambda tests, all on 127.0.0.1:
//!
//! * [`RuntimeApi::cargo_lambda`]: the real Lambda Runtime API emulator of
//!   cargo-lambda (`cargo lambda watch --only-lambda-apis`), driving the prebuilt
//!   `bootstrap` binary. Used for every case it can express.
//! * [`RuntimeApi::strict`]: our own small Runtime API, written to the letter of
//!   the API (`/2018-06-01/runtime/invocation/next` with the
//!   `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms` (epoch
//!   milliseconds), `Lambda-Runtime-Invoked-Function-Arn` and
//!   `Lambda-Runtime-Trace-Id` headers; `/response`, `/error`, `/init/error`). It
//!   exists because cargo-lambda's emulator always sends the deadline as a relative
//!   `600000` and cannot be told another one, so the deadline guard cannot be
//!   tested under it; it also records `/init/error`, which cargo-lambda does not
//!   show. Named a stand-in where used.
//! * [`S3StandIn`]: stands in for the pre-signed S3 `ResponseURL` (no real peer
//!   exists offline): records every request (method, headers, body) and can fail
//!   the first N with HTTP 503.
//! * [`FaultyEndpoint`]: a `ResponseURL` that misbehaves at the TCP level (503
//!   forever, reading the body and never answering, resetting the connection
//!   after reading the body), written on a bare socket so each fault is exact.
//!
//! Every function gets `IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS=http://127.0.0.1`, the
//! setting that lets it answer the local stand-ins (it answers only
//! CloudFormation's endpoints otherwise); a test can override or remove it.

use std::collections::HashMap;
use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{built_bin, free_port, repo_root, temp_dir, venv_bin};

/// The state key the tests give the function.
pub(crate) const TEST_STATE_KEY: &str = "e2e-state-key-0123456789abcdefghijklmnop";

/// The signature in every stand-in `ResponseURL`: a credential, for the secrets sweep.
pub(crate) const RESPONSE_URL_SIGNATURE: &str = "e2e0signature";

/// The function's own JSON log lines carry this (its crate is the `bootstrap` binary).
pub(crate) const FUNCTION_LOG_MARK: &str = "\"target\":\"bootstrap";

/// An axum server on 127.0.0.1:0, stopped and joined by [`Server::stop`].
struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

impl Server {
    async fn start(app: axum::Router) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let (tx, rx) = oneshot::channel::<()>();
        let join = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .expect("serve");
        });
        Server { addr, shutdown: Some(tx), join: Some(join) }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            // Long-polling `/next` connections may hold graceful shutdown; bound it.
            let _ = tokio::time::timeout(Duration::from_secs(5), join).await;
        }
    }
}

/// One request the S3 stand-in received.
#[derive(Debug, Clone)]
pub(crate) struct Put {
    pub(crate) method: String,
    pub(crate) path_and_query: String,
    /// Lower-case names, in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// What the stand-in answered.
    pub(crate) status: u16,
}

impl Put {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("response body is JSON")
    }
}

#[derive(Default)]
struct S3State {
    puts: Mutex<Vec<Put>>,
    fail_first: AtomicUsize,
    arrived: Notify,
}

/// Stands in for the pre-signed S3 URL.
pub(crate) struct S3StandIn {
    state: Arc<S3State>,
    server: Server,
}

async fn s3_handler(State(state): State<Arc<S3State>>, req: Request<Body>) -> Response<Body> {
    let method = req.method().to_string();
    let path_and_query = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = req.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let fail =
        state.fail_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let status = if fail { 503 } else { 200 };
    state.puts.lock().unwrap().push(Put { method, path_and_query, headers, body, status });
    state.arrived.notify_waiters();
    Response::builder().status(status).body(Body::empty()).unwrap()
}

impl S3StandIn {
    /// Starts the stand-in; it answers 503 to the first `fail_first` requests.
    pub(crate) async fn start(fail_first: usize) -> S3StandIn {
        let state = Arc::new(S3State::default());
        state.fail_first.store(fail_first, Ordering::SeqCst);
        let app = axum::Router::new().fallback(s3_handler).with_state(state.clone());
        S3StandIn { state, server: Server::start(app).await }
    }

    /// A URL shaped like CloudFormation's pre-signed one.
    pub(crate) fn url(&self, key: &str) -> String {
        format!(
            "http://{}/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host&X-Amz-Signature={RESPONSE_URL_SIGNATURE}",
            self.server.addr
        )
    }

    /// Every body received so far (for the secrets sweep).
    pub(crate) fn bodies(&self) -> Vec<Vec<u8>> {
        self.puts().into_iter().map(|p| p.body).collect()
    }

    /// Everything received so far.
    pub(crate) fn puts(&self) -> Vec<Put> {
        self.state.puts.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived, or `within` passes.
    pub(crate) async fn wait_for(&self, n: usize, within: Duration) -> Vec<Put> {
        let until = tokio::time::Instant::now() + within;
        loop {
            let notified = self.state.arrived.notified();
            let puts = self.puts();
            if puts.len() >= n || tokio::time::Instant::now() >= until {
                return puts;
            }
            let _ = tokio::time::timeout_at(until, notified).await;
        }
    }

    pub(crate) async fn stop(self) {
        self.server.stop().await;
    }
}

/// How a [`FaultyEndpoint`] misbehaves, after reading each request in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndpointFault {
    /// Answers `503 Service Unavailable`, every time.
    Unavailable,
    /// Never answers; the connection stays open until the endpoint stops.
    Hang,
    /// Resets the connection (TCP RST) without answering.
    ResetAfterBody,
}

/// A `ResponseURL` that misbehaves (see [`EndpointFault`]) and records every
/// request body it read in full.
pub(crate) struct FaultyEndpoint {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    accept: JoinHandle<()>,
}

impl FaultyEndpoint {
    pub(crate) async fn start(fault: EndpointFault) -> FaultyEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        let accept = tokio::spawn(async move {
            // Dropped with this task: aborting it closes every connection.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let seen = seen.clone();
                connections.spawn(async move { serve_faulty(stream, fault, seen).await });
            }
        });
        FaultyEndpoint { addr, bodies, accept }
    }

    /// A URL shaped like CloudFormation's pre-signed one.
    pub(crate) fn url(&self, key: &str) -> String {
        format!("http://{}/{key}?X-Amz-Signature={RESPONSE_URL_SIGNATURE}", self.addr)
    }

    /// Every body read in full so far.
    pub(crate) fn bodies(&self) -> Vec<Vec<u8>> {
        self.bodies.lock().unwrap().clone()
    }

    pub(crate) async fn stop(self) {
        self.accept.abort();
        let _ = self.accept.await;
    }
}

async fn serve_faulty(
    mut stream: tokio::net::TcpStream,
    fault: EndpointFault,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // One request: the head, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        seen.lock().unwrap().push(buf[head_end..head_end + length].to_vec());
        buf.drain(..head_end + length);
        match fault {
            EndpointFault::Unavailable => {
                let answer = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n";
                if stream.write_all(answer).await.is_err() {
                    return;
                }
            }
            EndpointFault::Hang => std::future::pending::<()>().await,
            EndpointFault::ResetAfterBody => {
                let _ = stream.set_zero_linger();
                return;
            }
        }
    }
}

/// What the Runtime API got back for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// `/response` with this body.
    Response(Value),
    /// `/error` with `Lambda-Runtime-Function-Error-Type` and the body.
    Error { error_type: String, body: Value },
    /// (Strict emulator) the report came after the invocation's deadline, which
    /// Lambda would have ended as "Task timed out" (and refused the report).
    TimedOut,
}

/// The strict emulator's shared state.
#[derive(Default)]
struct StrictState {
    queue_tx: Mutex<Option<mpsc::UnboundedSender<(String, Value, u64)>>>,
    queue_rx: tokio::sync::Mutex<Option<mpsc::UnboundedReceiver<(String, Value, u64)>>>,
    /// Per invocation: where its outcome goes, and its deadline (epoch ms).
    waiting: Mutex<HashMap<String, (oneshot::Sender<Outcome>, u64)>>,
    init_errors: Mutex<Vec<Value>>,
    next_calls: AtomicUsize,
}

fn epoch_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

async fn strict_handler(State(state): State<Arc<StrictState>>, req: Request<Body>) -> Response<Body> {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let headers = req.headers().clone();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let parse =
        |b: &Bytes| serde_json::from_slice(b).unwrap_or_else(|_| Value::from(String::from_utf8_lossy(b)));
    let empty = |status: StatusCode| Response::builder().status(status).body(Body::empty()).unwrap();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return empty(StatusCode::NOT_FOUND);
    };
    match (method, rest) {
        (Method::GET, "invocation/next") => {
            state.next_calls.fetch_add(1, Ordering::SeqCst);
            let mut rx = state.queue_rx.lock().await;
            let Some((id, payload, deadline)) = rx.as_mut().expect("queue").recv().await else {
                return empty(StatusCode::GONE);
            };
            Response::builder()
                .status(200)
                .header("Lambda-Runtime-Aws-Request-Id", &id)
                .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
                .header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:111122223333:function:idcbootstrap-cfn-resource",
                )
                .header(
                    "Lambda-Runtime-Trace-Id",
                    format!("Root=1-00000000-{id};Parent=0000000000000001;Sampled=0"),
                )
                .header("Content-Type", "application/json")
                .body(Body::from(serde_json::to_vec(&payload).unwrap()))
                .unwrap()
        }
        (Method::POST, "init/error") => {
            state.init_errors.lock().unwrap().push(parse(&body));
            empty(StatusCode::ACCEPTED)
        }
        (Method::POST, r) if r.starts_with("invocation/") => {
            let mut parts = r["invocation/".len()..].splitn(2, '/');
            let (id, what) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            let outcome = match what {
                "response" => Outcome::Response(parse(&body)),
                "error" => Outcome::Error {
                    error_type: header(&headers, "lambda-runtime-function-error-type"),
                    body: parse(&body),
                },
                _ => return empty(StatusCode::NOT_FOUND),
            };
            match state.waiting.lock().unwrap().remove(id) {
                // Lambda ends an invocation at its deadline; a late report is refused.
                Some((tx, deadline)) if epoch_ms() > deadline => {
                    let _ = tx.send(Outcome::TimedOut);
                    empty(StatusCode::GONE)
                }
                Some((tx, _)) => {
                    let _ = tx.send(outcome);
                    empty(StatusCode::ACCEPTED)
                }
                // Answering an invocation twice, or one that does not exist.
                None => empty(StatusCode::BAD_REQUEST),
            }
        }
        _ => empty(StatusCode::NOT_FOUND),
    }
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

enum Kind {
    CargoLambda { child: Child, port: u16 },
    Strict { state: Arc<StrictState>, server: Server },
}

/// A Lambda Runtime API with the real `bootstrap` attached to it.
pub(crate) struct RuntimeApi {
    kind: Kind,
    function: Option<Child>,
    logs: tempfile::TempDir,
    client: Client<HttpConnector, Full<Bytes>>,
    counter: AtomicUsize,
    /// Every event given to [`RuntimeApi::invoke`] and what came back (for the sweep).
    invocations: Mutex<Vec<(Value, Option<Outcome>)>>,
}

/// Environment for the function: the Lambda variables plus the test's own.
fn function_command(runtime_api: &str, env: &[(&str, &str)], logs: &tempfile::TempDir) -> Command {
    let mut cmd = Command::new(built_bin("bootstrap"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "idcbootstrap-cfn-resource")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/idcbootstrap-cfn-resource")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/23/[$LATEST]e2e")
        .env("IDCBOOTSTRAP_STATE_KEY", TEST_STATE_KEY)
        .env("IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS", "http://127.0.0.1");
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    cmd.stdout(File::create(logs.path().join("stdout.log")).unwrap())
        .stderr(File::create(logs.path().join("stderr.log")).unwrap());
    cmd
}

fn wait_listening(port: u16, child: &mut Child, what: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        assert!(Instant::now() < until, "{what} did not listen on {port} within 60 s");
        std::thread::sleep(Duration::from_millis(25));
    }
}

impl RuntimeApi {
    /// cargo-lambda's emulator with `bootstrap` attached. `env` adds to (or, with
    /// an empty value, removes from) the function's environment.
    pub(crate) fn cargo_lambda(env: &[(&str, &str)]) -> RuntimeApi {
        let port = free_port();
        let logs = temp_dir();
        let mut watch = Command::new(venv_bin("cargo-lambda"));
        // `cargo-lambda` run directly takes the subcommand as its first argument,
        // as `cargo lambda …` would pass it.
        watch
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(repo_root().join("cfn-resource"))
            .stdout(File::create(logs.path().join("watch.log")).unwrap())
            .stderr(Stdio::null());
        let mut child = watch.spawn().expect("start cargo lambda watch (scripts/setup.sh installs it)");
        wait_listening(port, &mut child, "cargo lambda watch");
        let runtime_api = format!("http://127.0.0.1:{port}/.rt");
        let function = function_command(&runtime_api, env, &logs).spawn().expect("start bootstrap");
        RuntimeApi {
            kind: Kind::CargoLambda { child, port },
            function: Some(function),
            logs,
            client: Client::builder(TokioExecutor::new()).build_http(),
            counter: AtomicUsize::new(0),
            invocations: Mutex::default(),
        }
    }

    /// The strict stand-in with `bootstrap` attached.
    pub(crate) async fn strict(env: &[(&str, &str)]) -> RuntimeApi {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(StrictState::default());
        *state.queue_tx.lock().unwrap() = Some(tx);
        *state.queue_rx.lock().await = Some(rx);
        let app = axum::Router::new().fallback(strict_handler).with_state(state.clone());
        let server = Server::start(app).await;
        let logs = temp_dir();
        // Lambda gives host:port without a scheme; so does this emulator.
        let function =
            function_command(&server.addr.to_string(), env, &logs).spawn().expect("start bootstrap");
        RuntimeApi {
            kind: Kind::Strict { state, server },
            function: Some(function),
            logs,
            client: Client::builder(TokioExecutor::new()).build_http(),
            counter: AtomicUsize::new(0),
            invocations: Mutex::default(),
        }
    }

    /// Invokes the function with `payload` and returns what it reported. Under the
    /// strict emulator the deadline is `deadline_in` from now; cargo-lambda's is
    /// always ten minutes.
    pub(crate) async fn invoke(&self, payload: Value, deadline_in: Duration) -> Outcome {
        let i = {
            let mut invocations = self.invocations.lock().unwrap();
            invocations.push((payload.clone(), None));
            invocations.len() - 1
        };
        let outcome = self.invoke_once(payload, deadline_in).await;
        self.invocations.lock().unwrap()[i].1 = Some(outcome.clone());
        outcome
    }

    /// Every event given to [`RuntimeApi::invoke`] so far, with what it reported.
    pub(crate) fn invocations(&self) -> Vec<(Value, Option<Outcome>)> {
        self.invocations.lock().unwrap().clone()
    }

    async fn invoke_once(&self, payload: Value, deadline_in: Duration) -> Outcome {
        match &self.kind {
            Kind::CargoLambda { port, .. } => {
                let uri: Uri =
                    format!("http://127.0.0.1:{port}/2015-03-31/functions/_/invocations").parse().unwrap();
                let req = Request::post(uri)
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(serde_json::to_vec(&payload).unwrap())))
                    .unwrap();
                let resp = tokio::time::timeout(Duration::from_secs(120), self.client.request(req))
                    .await
                    .expect("invoke timed out");
                let resp = resp.expect("invoke request");
                let status = resp.status();
                let error_type = resp
                    .headers()
                    .get("x-amz-function-error")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = resp.into_body().collect().await.expect("invoke body").to_bytes();
                let value: Value = serde_json::from_slice(&body)
                    .unwrap_or_else(|_| Value::from(String::from_utf8_lossy(&body)));
                // cargo-lambda reports a function error as HTTP 500 with the
                // Runtime API's `{errorType, errorMessage}` body.
                if let Some(t) = value.get("errorType").and_then(Value::as_str) {
                    return Outcome::Error { error_type: t.to_owned(), body: value.clone() };
                }
                match error_type {
                    Some(t) => Outcome::Error { error_type: t, body: value },
                    None if !status.is_success() => {
                        Outcome::Error { error_type: status.to_string(), body: value }
                    }
                    None => Outcome::Response(value),
                }
            }
            Kind::Strict { state, .. } => {
                let n = self.counter.fetch_add(1, Ordering::SeqCst);
                let id = format!("e2e-{n:08}");
                let (tx, rx) = oneshot::channel();
                let deadline = epoch_ms() + deadline_in.as_millis() as u64;
                state.waiting.lock().unwrap().insert(id.clone(), (tx, deadline));
                let queue = state.queue_tx.lock().unwrap().clone().expect("queue");
                queue.send((id, payload, deadline)).expect("enqueue");
                tokio::time::timeout(deadline_in + Duration::from_secs(30), rx)
                    .await
                    .expect("the function never reported the invocation")
                    .expect("outcome")
            }
        }
    }

    /// Raw bytes as the invocation payload (cargo-lambda only), for events that
    /// are not JSON at all.
    pub(crate) async fn invoke_raw_cargo_lambda(&self, body: &'static [u8]) -> (u16, String) {
        let Kind::CargoLambda { port, .. } = &self.kind else { panic!("cargo-lambda only") };
        let uri: Uri = format!("http://127.0.0.1:{port}/2015-03-31/functions/_/invocations").parse().unwrap();
        let req = Request::post(uri).body(Full::new(Bytes::from_static(body))).unwrap();
        let resp = tokio::time::timeout(Duration::from_secs(60), self.client.request(req))
            .await
            .expect("invoke timed out")
            .expect("invoke");
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// What the function posted to `/init/error` (strict emulator only).
    pub(crate) fn init_errors(&self) -> Vec<Value> {
        match &self.kind {
            Kind::Strict { state, .. } => state.init_errors.lock().unwrap().clone(),
            Kind::CargoLambda { .. } => Vec::new(),
        }
    }

    /// How often the function polled `/next` (strict emulator only).
    pub(crate) fn next_calls(&self) -> usize {
        match &self.kind {
            Kind::Strict { state, .. } => state.next_calls.load(Ordering::SeqCst),
            Kind::CargoLambda { .. } => 0,
        }
    }

    /// The function's stdout and stderr so far.
    pub(crate) fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.logs.path().join(f)).unwrap_or_default();
        format!("{}{}", read("stdout.log"), read("stderr.log"))
    }

    /// Whether the function process is still running.
    pub(crate) fn function_alive(&mut self) -> bool {
        self.function.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// Stops the function and the emulator.
    pub(crate) async fn stop(mut self) {
        self.kill();
        if let Kind::Strict { state, server } = std::mem::replace(
            &mut self.kind,
            Kind::Strict { state: Arc::new(StrictState::default()), server: Server::dummy() },
        ) {
            // Close the queue so a pending `/next` ends.
            state.queue_tx.lock().unwrap().take();
            server.stop().await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut f) = self.function.take() {
            let _ = f.kill();
            let _ = f.wait();
        }
        if let Kind::CargoLambda { child, .. } = &mut self.kind {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Where the logs are kept (printed on failure).
    pub(crate) fn log_dir(&self) -> PathBuf {
        self.logs.path().to_path_buf()
    }
}

impl Server {
    fn dummy() -> Server {
        Server { addr: SocketAddr::from(([127, 0, 0, 1], 0)), shutdown: None, join: None }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A CloudFormation request, shaped as CloudFormation sends it (every property a
/// string), answering to `response_url`.
pub(crate) fn cfn_event(
    request_type: &str,
    resource_type: &str,
    logical_id: &str,
    physical_id: Option<&str>,
    properties: Value,
    old_properties: Option<Value>,
    response_url: &str,
) -> Value {
    let mut props = properties;
    props["ServiceToken"] =
        Value::from("arn:aws:lambda:us-east-1:111122223333:function:idcbootstrap-cfn-resource");
    let mut event = serde_json::json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:idcbootstrap-cfn-resource",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/idc-e2e/5b5c1b70-8a3e-11ef-9b1f-0affd3c1b6a1",
        "RequestId": format!("req-{request_type}-{logical_id}-{}", epoch_ms()),
        "ResourceType": resource_type,
        "LogicalResourceId": logical_id,
        "ResourceProperties": props,
    });
    if let Some(p) = physical_id {
        event["PhysicalResourceId"] = Value::from(p);
    }
    if let Some(mut old) = old_properties {
        old["ServiceToken"] = event["ServiceToken"].clone();
        event["OldResourceProperties"] = old;
    }
    event
}
