//! A fault-injecting stand-in for AWS endpoints (STS, sso-admin), on 127.0.0.1:0.
//!
//! Not a model of AWS: it misbehaves on purpose, the way a broken network, a hostile
//! endpoint override or a buggy emulator would, so the tests can check that the
//! connectivity check (in the core, and through the real provider binary) stays
//! bounded in time, memory and message size. Each [`Fault`] is one misbehaviour;
//! the server speaks just enough HTTP/1.1 by hand to deliver it (a real HTTP
//! framework would refuse to drip or to lie about lengths).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the stand-in misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Reads the request and never answers (the connection stays open).
    NeverAnswer,
    /// Sends a 200 header promising a large body, then one byte a second.
    Drip,
    /// Answers 200 with a body of this many bytes (JSON/XML whitespace padding).
    HugeBody(usize),
    /// The same, chunked: no length is declared, so only reading tells the size.
    HugeChunked(usize),
    /// sso-admin `ListInstances` answers one other instance and the same
    /// `NextToken` for ever; every other sso-admin read answers an empty page.
    LoopNextToken,
    /// sso-admin `ListInstances` answers this many other instances in one page.
    ManyInstances(usize),
}

/// The running stand-in; the listener task is aborted on drop.
pub(crate) struct FaultServer {
    addr: std::net::SocketAddr,
    requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl FaultServer {
    /// Starts the stand-in with `fault` on 127.0.0.1:0 (on the current runtime).
    pub(crate) async fn start(fault: Fault) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let _ = serve(conn, fault, &counter).await;
                });
            }
        });
        FaultServer { addr, requests, task }
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests it has read so far.
    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request: (head, body).
async fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok()).flatten()
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, body)))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn respond(conn: &mut TcpStream, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    let head =
        format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n", body.len());
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body).await?;
    conn.flush().await
}

/// An instance ARN that is not the one under test.
fn other_instance(i: usize) -> String {
    format!("arn:aws:sso:::instance/ssoins-{i:016x}")
}

fn instances_page(from: usize, n: usize, next_token: Option<&str>) -> String {
    let items: Vec<String> = (from..from + n)
        .map(|i| {
            format!(
                r#"{{"InstanceArn":"{}","IdentityStoreId":"d-{i:010x}","OwnerAccountId":"123456789012","Status":"ACTIVE"}}"#,
                other_instance(i)
            )
        })
        .collect();
    match next_token {
        Some(t) => format!(r#"{{"Instances":[{}],"NextToken":"{t}"}}"#, items.join(",")),
        None => format!(r#"{{"Instances":[{}]}}"#, items.join(",")),
    }
}

async fn serve(mut conn: TcpStream, fault: Fault, requests: &AtomicUsize) -> std::io::Result<()> {
    while let Some((head, body)) = read_request(&mut conn).await? {
        requests.fetch_add(1, Ordering::SeqCst);
        let json = header(&head, "x-amz-target").is_some();
        let content_type = if json { "application/x-amz-json-1.1" } else { "text/xml" };
        let op =
            header(&head, "x-amz-target").and_then(|t| t.split('.').nth(1)).unwrap_or_default().to_owned();
        match fault {
            Fault::NeverAnswer => {
                // Hold the connection until the client gives up.
                let mut sink = [0u8; 1024];
                while conn.read(&mut sink).await? > 0 {}
                return Ok(());
            }
            Fault::Drip => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: 1000000\r\n\r\n"
                );
                conn.write_all(head.as_bytes()).await?;
                loop {
                    conn.write_all(b" ").await?;
                    conn.flush().await?;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            Fault::HugeBody(n) => {
                let head =
                    format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {n}\r\n\r\n");
                conn.write_all(head.as_bytes()).await?;
                let block = vec![b' '; 64 * 1024];
                let mut left = n;
                while left > 0 {
                    let k = left.min(block.len());
                    conn.write_all(&block[..k]).await?;
                    left -= k;
                }
                conn.flush().await?;
            }
            Fault::HugeChunked(n) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
                );
                conn.write_all(head.as_bytes()).await?;
                let block = vec![b' '; 64 * 1024];
                let mut left = n;
                while left > 0 {
                    let k = left.min(block.len());
                    conn.write_all(format!("{k:x}\r\n").as_bytes()).await?;
                    conn.write_all(&block[..k]).await?;
                    conn.write_all(b"\r\n").await?;
                    left -= k;
                }
                conn.write_all(b"0\r\n\r\n").await?;
                conn.flush().await?;
            }
            Fault::LoopNextToken => {
                let answer = match op.as_str() {
                    "ListInstances" => instances_page(0, 1, Some("the-same-token-again")),
                    _ => "{}".to_owned(),
                };
                respond(&mut conn, content_type, answer.as_bytes()).await?;
            }
            Fault::ManyInstances(n) => {
                let answer = match op.as_str() {
                    "ListInstances" => instances_page(0, n, None),
                    _ => "{}".to_owned(),
                };
                respond(&mut conn, content_type, answer.as_bytes()).await?;
            }
        }
        drop(body);
    }
    Ok(())
}
