//! JSON logs on stderr, written by a background thread.
//!
//! A request logs one line; writing it to stderr directly costs a system call on the
//! request's own thread, about a quarter of the throughput of a cheap request on two
//! cores. Lines go through a bounded channel to a thread that writes them in batches
//! and flushes whenever the channel is empty, so a quiet server's log is current at
//! once. When the channel is full, logging waits (nothing is dropped). [`flush`]
//! waits for every line sent so far; `main` calls it before exiting. Only a `kill -9`
//! can lose the few lines still queued.

use std::io::Write;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Lines queued at most before logging waits for the writer.
const QUEUE: usize = 16 * 1024;

/// Libraries whose debug and trace events can carry request bodies or headers (the
/// AWS SDK's wire logs hold the `AssumeRole` form with the external ID, the signer
/// its canonical request): capped at `info` whatever the filter asks, so no secret
/// reaches the log at any level.
const LOG_CAPS: &str = "aws_smithy_runtime=info,aws_smithy_runtime_api=info,aws_smithy_http=info,\
    aws_smithy_http_client=info,aws_sigv4=info,aws_config=info,aws_runtime=info,aws_sdk_sts=info,\
    aws_sdk_ssoadmin=info,aws_sdk_identitystore=info,hyper=info,hyper_util=info,h2=info,rustls=info,sqlx=warn";

enum Msg {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

static SENDER: Mutex<Option<SyncSender<Msg>>> = Mutex::new(None);

/// One event's line; sent whole when dropped (the formatter writes an event at once).
struct Line {
    buf: Vec<u8>,
    tx: SyncSender<Msg>,
}

impl Write for Line {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            if let Err(e) = self.tx.send(Msg::Line(line)) {
                // The writer thread is gone: write directly.
                if let Msg::Line(l) = e.0 {
                    let _ = std::io::stderr().write_all(&l);
                }
            }
        }
    }
}

struct Queue {
    tx: SyncSender<Msg>,
}

impl<'a> MakeWriter<'a> for Queue {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line { buf: Vec::with_capacity(256), tx: self.tx.clone() }
    }
}

fn write_loop(rx: Receiver<Msg>) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    while let Ok(first) = rx.recv() {
        let mut acks = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Line(l) => {
                    let _ = out.write_all(&l);
                }
                Msg::Flush(ack) => acks.push(ack),
            }
            next = rx.try_recv().ok();
        }
        let _ = out.flush();
        for ack in acks {
            let _ = ack.send(());
        }
    }
    let _ = out.flush();
}

/// Installs the JSON subscriber with `filter` (EnvFilter syntax; the library caps
/// above are appended). A bad filter falls back to `info`.
pub fn init(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!("{filter},{LOG_CAPS}"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("info,{LOG_CAPS}")));
    let (tx, rx) = sync_channel(QUEUE);
    let spawned = std::thread::Builder::new().name("log-writer".into()).spawn(move || write_loop(rx));
    let builder = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter);
    if spawned.is_ok() {
        *SENDER.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tx.clone());
        let _ = builder.with_writer(Queue { tx }).try_init();
    } else {
        let _ = builder.with_writer(std::io::stderr).try_init();
    }
}

/// Waits (up to two seconds) until every line logged so far is written.
pub fn flush() {
    let tx = SENDER.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if let Some(tx) = tx {
        let (ack_tx, ack_rx) = sync_channel(1);
        if tx.send(Msg::Flush(ack_tx)).is_ok() {
            let _ = ack_rx.recv_timeout(Duration::from_secs(2));
        }
    }
}
