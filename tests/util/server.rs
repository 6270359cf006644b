//! The vendor API's real binary, `idcbootstrap-server`, over real HTTP.
//!
//! * [`Deployment`]: one database (a SQLite file in a temp data dir, or a fresh
//!   PostgreSQL database) with the settings every process of it shares (data key,
//!   trusted principal, AWS endpoints, credentials). It starts server processes and
//!   runs the CLI (`token create`), and keeps every process's stdout and stderr for
//!   the secret checks.
//! * [`Server`]: one `serve` process on `127.0.0.1:0`; its bound address is read
//!   from its `listening` log line. SIGTERM on drop, then joined.
//! * [`Api`]: a blocking HTTP/1.1 client on a plain `TcpStream` (one connection per
//!   request), so a test controls every header and byte it sends (bad media types,
//!   oversized bodies) and can fire requests from many threads.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{built_bin, temp_dir};

/// The binary's name.
pub(crate) const BIN: &str = "idcbootstrap-server";
/// Path prefix of the API.
pub(crate) const PREFIX: &str = "/v1/integrations/aws-identity-center";
/// The server's own JSON log lines carry this (its library crate's target).
pub(crate) const SERVER_LOG_MARK: &str = "\"target\":\"idcbootstrap_server";
/// Region of every test.
pub(crate) const REGION: &str = "eu-west-1";
/// The vendor's access key: the STS stand-in knows it as [`VENDOR`].
pub(crate) const VENDOR_KEY: &str = "AKIASERVERE2E0000001";
/// The vendor's secret key: must never appear in any output.
pub(crate) const VENDOR_SECRET: &str = "srv-e2e-vendor-secret-5b0c8e2f9a71";
/// The vendor's principal, trusted by the rendered roles.
pub(crate) const VENDOR: &str = "arn:aws:iam::111111111111:role/idcbootstrap-vendor";
/// Data key (base64 of 32 bytes) shared by every process of a deployment, so two
/// processes on one PostgreSQL database, and a restarted one, read each other's rows.
pub(crate) const DATA_KEY: &str = "aWRjYm9vdHN0cmFwLWUyZS10ZXN0LWRhdGEta2V5ISE=";

/// A random UUID v4 (from /dev/urandom), as a tenant ID.
pub(crate) fn uuid() -> String {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).expect("/dev/urandom");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// Where the server's AWS calls go.
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    /// STS (the stand-in).
    pub(crate) sts: String,
    /// sso-admin and identitystore (moto).
    pub(crate) sso_admin: String,
}

impl Endpoints {
    /// Endpoints that refuse connections: for tests that never reach AWS.
    pub(crate) fn unreachable() -> Endpoints {
        // Port 9 (discard) on loopback: nothing listens, connections are refused.
        Endpoints { sts: "http://127.0.0.1:9".into(), sso_admin: "http://127.0.0.1:9".into() }
    }
}

/// One database and the settings its server processes share.
pub(crate) struct Deployment {
    tmp: tempfile::TempDir,
    /// `None`: the default SQLite file in the first process's data dir.
    database: Option<String>,
    endpoints: Endpoints,
    env: Vec<(String, String)>,
    output: Arc<Mutex<String>>,
    replies: Journal,
    started: u32,
}

/// Every request an [`Api`] of one deployment made, with its reply (for the
/// secrets sweep).
pub(crate) type Journal = Arc<Mutex<Vec<Exchange>>>;

/// One request and its reply.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// `GET`, `POST`, …
    pub(crate) method: String,
    /// The path as sent (with [`PREFIX`]).
    pub(crate) path: String,
    /// What came back.
    pub(crate) reply: Reply,
}

impl Deployment {
    /// SQLite, the default: no database flag, a data dir of its own.
    pub(crate) fn sqlite(endpoints: Endpoints) -> Deployment {
        Deployment {
            tmp: temp_dir(),
            database: None,
            endpoints,
            env: Vec::new(),
            output: Arc::default(),
            replies: Arc::default(),
            started: 0,
        }
    }

    /// PostgreSQL at `url` (a fresh database from `util::postgres::fresh_database`).
    pub(crate) fn postgres(url: String, endpoints: Endpoints) -> Deployment {
        Deployment { database: Some(url), ..Deployment::sqlite(endpoints) }
    }

    /// Sets an extra environment variable for every later process.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Deployment {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Whether this deployment is on PostgreSQL.
    pub(crate) fn is_postgres(&self) -> bool {
        self.database.is_some()
    }

    /// The data directory (SQLite's file and any generated key live here).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    /// A command for the binary with the deployment's environment (and nothing
    /// else of the test's environment but PATH).
    fn command(&self) -> Command {
        let mut c = Command::new(built_bin(BIN));
        let home = self.tmp.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::create_dir_all(self.data_dir()).expect("data dir");
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("AWS_ACCESS_KEY_ID", VENDOR_KEY)
            .env("AWS_SECRET_ACCESS_KEY", VENDOR_SECRET)
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("IDCBOOTSTRAP_DATA_DIR", self.data_dir())
            .env("IDCBOOTSTRAP_DATA_KEY", DATA_KEY)
            .env("IDCBOOTSTRAP_TRUSTED_PRINCIPAL_ARN", VENDOR)
            .env("IDCBOOTSTRAP_STS_ENDPOINT", &self.endpoints.sts)
            .env("IDCBOOTSTRAP_SSO_ADMIN_ENDPOINT", &self.endpoints.sso_admin)
            .env("IDCBOOTSTRAP_IDENTITYSTORE_ENDPOINT", &self.endpoints.sso_admin)
            .env("IDCBOOTSTRAP_PROPAGATION_TIMEOUT", "3")
            .env("IDCBOOTSTRAP_RATE_LIMIT", "100000")
            .env("IDCBOOTSTRAP_LOG", "info")
            .env("RUST_BACKTRACE", "1");
        if let Some(db) = &self.database {
            c.env("IDCBOOTSTRAP_DATABASE_URL", db);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Runs the CLI with `args`; panics unless it succeeds. Its stderr joins the
    /// deployment's output; its stdout is returned (and kept out of the output:
    /// `token create` prints the token there, on purpose).
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("run idcbootstrap-server");
        let stderr = String::from_utf8_lossy(&out.stderr);
        self.output.lock().unwrap().push_str(&stderr);
        assert!(
            out.status.success(),
            "idcbootstrap-server {args:?} failed ({}):\n{stderr}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new bearer token for `tenant`.
    pub(crate) fn token(&self, tenant: &str) -> String {
        let token = self.cli(&["token", "create", "--tenant", tenant]).trim().to_owned();
        assert!(!token.is_empty() && !token.contains(char::is_whitespace), "token create printed {token:?}");
        token
    }

    /// Starts a `serve` process on 127.0.0.1:0 and waits until it listens.
    pub(crate) fn start(&mut self) -> Server {
        self.started += 1;
        let mut c = self.command();
        c.args(["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Server::spawn(c, self.output.clone(), self.replies.clone(), format!("server {}", self.started))
    }

    /// Every request any client of this deployment's servers made, with its reply.
    pub(crate) fn replies(&self) -> Vec<Exchange> {
        self.replies.lock().unwrap().clone()
    }

    /// Every external ID a successful reply returned (`external_id`,
    /// `external_id_pending`, `external_ids`), for the secrets sweep.
    pub(crate) fn issued_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for x in self.replies() {
            let Ok(v) = serde_json::from_str::<Value>(&x.reply.body) else { continue };
            if !(200..300).contains(&x.reply.status) {
                continue;
            }
            let listed = v["external_ids"].as_array().into_iter().flatten();
            for id in [&v["external_id"], &v["external_id_pending"]].into_iter().chain(listed) {
                if let Some(id) = id.as_str().filter(|id| !ids.iter().any(|known| known == id)) {
                    ids.push(id.to_owned());
                }
            }
        }
        ids
    }

    /// Everything every process of this deployment wrote to stdout and stderr so far
    /// (the CLI's stdout aside).
    pub(crate) fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Panics if any of `secrets` appears in the deployment's output.
    pub(crate) fn assert_output_lacks(&self, secrets: &[(&str, &str)]) {
        let out = self.output();
        for (what, secret) in secrets {
            assert!(!secret.is_empty(), "empty secret {what}");
            if let Some(i) = out.find(secret) {
                let line_start = out[..i].rfind('\n').map_or(0, |n| n + 1);
                let line_end = out[i..].find('\n').map_or(out.len(), |n| i + n);
                panic!("the server's output shows {what}:\n{}", &out[line_start..line_end]);
            }
        }
    }
}

/// A running `idcbootstrap-server serve`.
pub(crate) struct Server {
    child: Option<Child>,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    readers: Vec<JoinHandle<()>>,
    own: Arc<Mutex<String>>,
    replies: Journal,
}

/// The bound address in a `listening` log line, JSON (flat or with `fields`), or
/// text as a fallback.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    if let Ok(v) = serde_json::from_str::<Value>(line) {
        let f = if v.get("fields").is_some() { &v["fields"] } else { &v };
        if f["message"] == "listening" || v["message"] == "listening" || v["msg"] == "listening" {
            return f["addr"].as_str().or_else(|| v["addr"].as_str())?.parse().ok();
        }
        return None;
    }
    if !line.contains("listening") {
        return None;
    }
    line.split(|c: char| c.is_whitespace() || c == '=' || c == '"')
        .find_map(|w| w.trim_matches(|c: char| c == ',' || c == '}').parse().ok())
}

impl Server {
    fn spawn(mut c: Command, output: Arc<Mutex<String>>, replies: Journal, name: String) -> Server {
        let mut child = c.spawn().expect("start idcbootstrap-server serve");
        let own = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<SocketAddr>();
        let mut readers = Vec::new();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for (stream, watch) in [(Box::new(stdout) as Box<dyn Read + Send>, false), (Box::new(stderr), true)] {
            let (output, own, tx) = (output.clone(), own.clone(), tx.clone());
            readers.push(
                std::thread::Builder::new()
                    .name(format!("{name} output"))
                    .spawn(move || {
                        let mut r = BufReader::new(stream);
                        let mut line = Vec::new();
                        while r.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                            let text = String::from_utf8_lossy(&line).into_owned();
                            if watch && let Some(addr) = listening_addr(text.trim_end()) {
                                let _ = tx.send(addr);
                            }
                            output.lock().unwrap().push_str(&text);
                            own.lock().unwrap().push_str(&text);
                            line.clear();
                        }
                    })
                    .expect("reader thread"),
            );
        }
        drop(tx);
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => break addr,
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Ok(Some(status)) = child.try_wait() {
                        for r in readers.drain(..) {
                            let _ = r.join();
                        }
                        panic!(
                            "idcbootstrap-server exited before listening ({status}):\n{}",
                            own.lock().unwrap()
                        );
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "idcbootstrap-server logged no `listening` line within 60 s:\n{}",
                        own.lock().unwrap()
                    );
                }
            }
        };
        Server { child: Some(child), addr, readers, own, replies }
    }

    /// A client with `token` and `tenant`.
    pub(crate) fn api(&self, token: &str, tenant: &str) -> Api {
        Api {
            addr: self.addr,
            token: Some(token.to_owned()),
            tenant: Some(tenant.to_owned()),
            replies: self.replies.clone(),
        }
    }

    /// A client that sends neither header.
    pub(crate) fn anonymous(&self) -> Api {
        Api { addr: self.addr, token: None, tenant: None, replies: self.replies.clone() }
    }

    /// This process's output so far.
    pub(crate) fn output(&self) -> String {
        self.own.lock().unwrap().clone()
    }

    /// SIGTERM, then waits (10 s at most, then SIGKILL) and joins its readers.
    pub(crate) fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                _ if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let s = child.wait().expect("wait");
                    eprintln!("idcbootstrap-server ignored SIGTERM for 10 s; killed");
                    break s;
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        self.join_readers();
        Some(status)
    }

    /// SIGKILL (a crash): no shutdown code runs.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_readers();
    }

    fn join_readers(&mut self) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// Status code.
    pub(crate) status: u16,
    /// Header names (lower case) and values.
    pub(crate) headers: Vec<(String, String)>,
    /// The body as text.
    pub(crate) body: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }

    /// A header's value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts the status and returns the JSON body (`Null` when empty).
    pub(crate) fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        if self.body.trim().is_empty() { Value::Null } else { self.json() }
    }

    /// Asserts an error in the seed's shape with `status` and `code`; returns the body.
    pub(crate) fn expect_error(&self, status: u16, code: &str) -> Value {
        assert_eq!((self.status, self.error_code().as_str()), (status, code), "body: {}", self.body);
        let v = self.json();
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error without a message: {}",
            self.body
        );
        assert!(
            v.get("details").is_none_or(|d| d.is_object() || d.is_null()),
            "`details` is not an object: {}",
            self.body
        );
        assert!(
            self.header("content-type").is_some_and(|c| c.starts_with("application/json")),
            "error not served as JSON: {:?}",
            self.headers
        );
        v
    }

    /// The error code of an error body (empty when there is none).
    pub(crate) fn error_code(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A blocking client of one server, with the auth headers it sends.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    /// The server.
    pub(crate) addr: SocketAddr,
    /// `Authorization: Bearer` value, if any.
    pub(crate) token: Option<String>,
    /// `X-Tenant-ID`, if any.
    pub(crate) tenant: Option<String>,
    /// Where every reply is recorded (the deployment's journal).
    pub(crate) replies: Journal,
}

impl Api {
    /// The same client with another token.
    pub(crate) fn with_token(&self, token: Option<&str>) -> Api {
        Api { token: token.map(str::to_owned), ..self.clone() }
    }

    /// The same client with another tenant header.
    pub(crate) fn with_tenant(&self, tenant: Option<&str>) -> Api {
        Api { tenant: tenant.map(str::to_owned), ..self.clone() }
    }

    /// The same client against another server.
    pub(crate) fn at(&self, addr: SocketAddr) -> Api {
        Api { addr, ..self.clone() }
    }

    fn url_path(path: &str) -> String {
        if path.starts_with('/') { path.to_owned() } else { format!("{PREFIX}/{path}") }
    }

    fn auth_headers(&self) -> Vec<(String, String)> {
        let mut h = Vec::new();
        if let Some(t) = &self.token {
            h.push(("Authorization".to_owned(), format!("Bearer {t}")));
        }
        if let Some(t) = &self.tenant {
            h.push(("X-Tenant-ID".to_owned(), t.clone()));
        }
        h
    }

    /// `method path` with a JSON body (or none); `path` is relative to [`PREFIX`]
    /// unless it starts with `/`.
    pub(crate) fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let mut headers = self.auth_headers();
        let bytes = match body {
            Some(b) => {
                headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
                b.to_string().into_bytes()
            }
            None => Vec::new(),
        };
        self.raw(method, path, &headers, &bytes)
    }

    /// A request with exactly these extra headers and body bytes.
    pub(crate) fn raw(&self, method: &str, path: &str, extra: &[(String, String)], body: &[u8]) -> Reply {
        let mut headers = self.auth_headers();
        for (k, v) in extra {
            headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
            headers.push((k.clone(), v.clone()));
        }
        let path = Self::url_path(path);
        let reply =
            http(self.addr, method, &path, &headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let exchange = Exchange { method: method.to_owned(), path, reply: reply.clone() };
        self.replies.lock().unwrap().push(exchange);
        reply
    }

    /// GET.
    pub(crate) fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None)
    }

    /// POST with a JSON body.
    pub(crate) fn post(&self, path: &str, body: &Value) -> Reply {
        self.call("POST", path, Some(body))
    }

    /// PUT with a JSON body.
    pub(crate) fn put(&self, path: &str, body: &Value) -> Reply {
        self.call("PUT", path, Some(body))
    }

    /// DELETE.
    pub(crate) fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, None)
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`). Bodies over
/// 64 KiB are sent after `Expect: 100-continue`, so a server that refuses them
/// early (413) is heard before the body is written.
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    s.set_nodelay(true)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let expect = body.len() > 64 * 1024;
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if expect {
        head.push_str("Expect: 100-continue\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    let mut r = BufReader::new(s.try_clone()?);
    if expect {
        let first = read_response(&mut r)?;
        if first.status != 100 {
            return Ok(first);
        }
        s.write_all(body)?;
    } else {
        s.write_all(body)?;
    }
    loop {
        let reply = read_response(&mut r)?;
        if reply.status != 100 {
            return Ok(reply);
        }
    }
}

fn read_response(r: &mut impl BufRead) -> std::io::Result<Reply> {
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before a response",
        ));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').ok_or_else(|| bad(format!("bad header {l:?}")))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if status == 100 || status == 204 || status == 304 {
        // no body
    } else if get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|_| bad(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if r.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            line.clear();
            r.read_line(&mut line)?;
        }
    } else if let Some(n) = get("content-length").and_then(|n| n.parse::<usize>().ok()) {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok(Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// Writes `text` to `dir/name` and returns the path.
pub(crate) fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write file");
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line_forms() {
        let want: SocketAddr = "127.0.0.1:4321".parse().unwrap();
        let nested =
            r#"{"timestamp":"x","level":"INFO","fields":{"message":"listening","addr":"127.0.0.1:4321"}}"#;
        let flat = r#"{"level":"INFO","message":"listening","addr":"127.0.0.1:4321"}"#;
        assert_eq!(listening_addr(nested), Some(want));
        assert_eq!(listening_addr(flat), Some(want));
        assert_eq!(listening_addr("INFO listening addr=127.0.0.1:4321"), Some(want));
        assert_eq!(listening_addr(r#"{"fields":{"message":"other","addr":"127.0.0.1:1"}}"#), None);
    }

    #[test]
    fn uuid_is_v4() {
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, uuid());
    }
}
