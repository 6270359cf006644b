//! Process life cycle: handshake, the gRPC server (Provider, health, go-plugin
//! controller and stdio), and shutdown when Terraform says so (GRPCController
//! Shutdown), on SIGTERM, or when the listener fails. SIGINT is ignored: Terraform
//! forwards Ctrl-C to the whole process group but stops plugins itself, through the
//! Stop and Shutdown RPCs, after it has saved state.
//!
//! The plugin listens where go-plugin's own servers do: a Unix domain socket named
//! `plugin<random digits>` in `PLUGIN_UNIX_SOCKET_DIR` or the temp directory where
//! the platform has them (removed again when the plugin stops), TCP on 127.0.0.1
//! elsewhere. `IDCBOOTSTRAP_PLUGIN_NETWORK=tcp` asks for TCP on any platform.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, Router};
use tonic::{Request, Response, Status};

use crate::framework::Registry;
use crate::protocol::handshake;
use crate::protocol::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::protocol::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::protocol::plugin::{Empty, StdioData};
use crate::protocol::tfplugin5::provider_server::ProviderServer;
use crate::protocol::tls;
use crate::server::{ProviderService, SettingsBound};

/// Largest message accepted: states of many data sources can be large.
const MAX_MESSAGE: usize = 256 * 1024 * 1024;
/// How long a client gets to finish the TLS handshake; one that stalls is dropped,
/// so it cannot hold a task and a socket for ever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight RPCs get to finish once shutdown starts.
const GRACE: Duration = Duration::from_secs(2);

/// Serves `registry` until Terraform ends the plugin; `S` is the provider's settings
/// type, which this layer passes along without looking inside.
pub(crate) fn run<S: SettingsBound>(registry: Registry<S>) -> ExitCode {
    let version = match handshake::negotiate(|k| std::env::var(k).ok()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    crate::log::init();
    // One thread. Terraform sends up to `-parallelism` (10) requests at a time, but
    // each is tens of microseconds of CPU and the waits (AWS, the vendor API) are
    // async, so a second worker only added wake-ups and work stealing that compete
    // with Terraform for the same cores: on 2 cores, a plan of 1000 data sources
    // took 2-7% more CPU with two workers, in three interleaved comparisons
    // (docs/benchmarks/2026-12-01-vm-threads/profile.md).
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-idcbootstrap: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(serve(version, Arc::new(registry))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-idcbootstrap: {e}");
            tracing::error!(error = %e, "plugin stopped with an error");
            ExitCode::from(1)
        }
    }
}

async fn serve<S: SettingsBound>(version: u32, registry: Arc<Registry<S>>) -> Result<(), String> {
    let listener = Listener::open(std::env::var("IDCBOOTSTRAP_PLUGIN_NETWORK").ok().as_deref())?;
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.trim().is_empty() => Some(tls::server_tls(&pem).map_err(|e| e.to_string())?),
        // Clients without AutoMTLS (Terraform 0.12 with older go-plugin) speak plaintext.
        _ => None,
    };
    let (network, address) = listener.address()?;
    // Signal handlers before the handshake line: a SIGTERM right after it must still
    // stop the plugin cleanly (and remove its socket), not kill it.
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    spawn_signal_handlers(shutdown_tx.clone());
    let line = handshake::line(version, network, &address, tls.as_ref().map(|t| t.cert_der.as_slice()));
    handshake::announce(&line).map_err(|e| format!("cannot write the handshake line: {e}"))?;
    tracing::debug!(network, %address, tls = tls.is_some(), protocol_version = version, "plugin serving");

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;

    let provider = ProviderServer::new(ProviderService::new(registry))
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    let router = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(provider)
        .add_service(GrpcControllerServer::new(Controller { shutdown: shutdown_tx.clone() }))
        .add_service(GrpcStdioServer::new(Stdio { shutdown: shutdown_rx.clone() }));

    let socket_file = listener.socket_file();
    let stop = {
        let mut rx = shutdown_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
            tracing::debug!("shutting down");
            // Graceful shutdown waits for open connections; do not let a stuck
            // client keep the process alive (exit runs no destructors: remove the
            // socket here).
            tokio::spawn(async move {
                tokio::time::sleep(GRACE).await;
                if let Some(path) = socket_file {
                    let _ = std::fs::remove_file(path);
                }
                std::process::exit(0);
            });
        }
    };
    let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.config));
    let result = match listener {
        Listener::Tcp(l) => serve_on(router, l, acceptor, shutdown_rx, stop).await,
        #[cfg(unix)]
        Listener::Unix(l, _file) => serve_on(router, l, acceptor, shutdown_rx, stop).await,
    };
    result.map_err(|e| format!("gRPC server failed: {e}"))
}

/// What the plugin listens on.
enum Listener {
    Tcp(TcpListener),
    /// The socket and the guard that removes its file.
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, SocketFile),
}

impl Listener {
    /// Opens the listener go-plugin would: a Unix socket where there are Unix
    /// sockets, TCP on 127.0.0.1 otherwise or when `network` (from
    /// `IDCBOOTSTRAP_PLUGIN_NETWORK`) says `tcp`.
    fn open(network: Option<&str>) -> Result<Listener, String> {
        match network.map(str::trim).unwrap_or("") {
            "tcp" => Listener::tcp(),
            #[cfg(unix)]
            "" | "unix" => {
                let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
                    .filter(|d| !d.is_empty())
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(std::env::temp_dir);
                Listener::unix(&dir)
            }
            #[cfg(not(unix))]
            "" => Listener::tcp(),
            other => Err(format!(
                "IDCBOOTSTRAP_PLUGIN_NETWORK={other:?} is not a network this provider listens on; use \"tcp\"{} or leave it unset",
                if cfg!(unix) { " or \"unix\"" } else { "" }
            )),
        }
    }

    fn tcp() -> Result<Listener, String> {
        let l = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        l.set_nonblocking(true).map_err(|e| e.to_string())?;
        Ok(Listener::Tcp(TcpListener::from_std(l).map_err(|e| e.to_string())?))
    }

    /// Binds `dir/plugin<digits>` as go-plugin's `os.CreateTemp(dir, "plugin")`
    /// names it. bind(2) refuses a path that exists (a file, a socket or a symlink),
    /// so a name somebody else took only costs another try.
    #[cfg(unix)]
    fn unix(dir: &std::path::Path) -> Result<Listener, String> {
        use std::hash::{BuildHasher, RandomState};
        let seed = RandomState::new();
        let mut last = None;
        for attempt in 0u32..16 {
            let n = seed.hash_one((std::process::id(), attempt)) % 10_000_000_000;
            let path = dir.join(format!("plugin{n}"));
            match std::os::unix::net::UnixListener::bind(&path) {
                Ok(l) => {
                    let file = SocketFile(path);
                    l.set_nonblocking(true).map_err(|e| e.to_string())?;
                    let l = tokio::net::UnixListener::from_std(l).map_err(|e| e.to_string())?;
                    return Ok(Listener::Unix(l, file));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
                Err(e) => return Err(format!("cannot listen on a Unix socket in {}: {e}", dir.display())),
            }
        }
        Err(format!(
            "cannot listen on a Unix socket in {}: {}",
            dir.display(),
            last.map(|e| e.to_string()).unwrap_or_default()
        ))
    }

    /// go-plugin's network name and the address, as the handshake line carries them.
    fn address(&self) -> Result<(&'static str, String), String> {
        match self {
            Listener::Tcp(l) => Ok(("tcp", l.local_addr().map_err(|e| e.to_string())?.to_string())),
            #[cfg(unix)]
            Listener::Unix(_, file) => {
                let path = file.0.to_str().ok_or_else(|| {
                    format!(
                        "the socket path {} is not UTF-8; set IDCBOOTSTRAP_PLUGIN_NETWORK=tcp",
                        file.0.display()
                    )
                })?;
                // go-plugin splits the handshake line on `|`.
                if path.contains('|') || path.contains('\n') {
                    return Err(format!(
                        "the socket path {path} cannot be sent in a handshake line; set TMPDIR"
                    ));
                }
                Ok(("unix", path.to_owned()))
            }
        }
    }

    fn socket_file(&self) -> Option<std::path::PathBuf> {
        match self {
            Listener::Tcp(_) => None,
            #[cfg(unix)]
            Listener::Unix(_, file) => Some(file.0.clone()),
        }
    }
}

/// Removes the socket's file when the plugin stops, as go-plugin's listener does
/// on close.
#[cfg(unix)]
struct SocketFile(std::path::PathBuf);

#[cfg(unix)]
impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A listener the server accepts connections from.
trait Accept: Send + 'static {
    type Io: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static;
    fn accept(&self) -> impl Future<Output = std::io::Result<Self::Io>> + Send;
}

impl Accept for TcpListener {
    type Io = TcpStream;
    async fn accept(&self) -> std::io::Result<TcpStream> {
        let (tcp, _) = TcpListener::accept(self).await?;
        let _ = tcp.set_nodelay(true);
        Ok(tcp)
    }
}

#[cfg(unix)]
impl Accept for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;
    async fn accept(&self) -> std::io::Result<tokio::net::UnixStream> {
        Ok(tokio::net::UnixListener::accept(self).await?.0)
    }
}

async fn serve_on<L: Accept>(
    router: Router,
    listener: L,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
    stop: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    match tls {
        Some(acceptor) => {
            router.serve_with_incoming_shutdown(tls_incoming(listener, acceptor, shutdown), stop).await
        }
        None => router.serve_with_incoming_shutdown(plain_incoming(listener, shutdown), stop).await,
    }
}

/// Accepts connections until shutdown, handing each to `handle`.
fn accept_loop<L: Accept>(
    listener: L,
    mut shutdown: watch::Receiver<bool>,
    mut handle: impl FnMut(L::Io) + Send + 'static,
) {
    tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                c = listener.accept() => c,
                _ = shutdown.wait_for(|s| *s) => return,
            };
            match conn {
                Ok(io) => handle(io),
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    });
}

fn plain_incoming<L: Accept>(
    listener: L,
    shutdown: watch::Receiver<bool>,
) -> ReceiverStream<Result<L::Io, std::io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    accept_loop(listener, shutdown, move |io| {
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(Ok(io)).await;
        });
    });
    ReceiverStream::new(rx)
}

/// TLS handshakes run concurrently, so a slow or failed one never blocks the next
/// connection; failed handshakes are logged and dropped.
fn tls_incoming<L: Accept>(
    listener: L,
    acceptor: tokio_rustls::TlsAcceptor,
    shutdown: watch::Receiver<bool>,
) -> ReceiverStream<Result<tokio_rustls::server::TlsStream<L::Io>, std::io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    accept_loop(listener, shutdown, move |io| {
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                Ok(Ok(s)) => {
                    let _ = tx.send(Ok(s)).await;
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "TLS handshake with Terraform failed"),
                Err(_) => tracing::warn!("TLS handshake timed out; connection dropped"),
            }
        });
    });
    ReceiverStream::new(rx)
}

#[cfg(unix)]
fn spawn_signal_handlers(shutdown: watch::Sender<bool>) {
    use tokio::signal::unix::{SignalKind, signal};
    if let Ok(mut term) = signal(SignalKind::terminate()) {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            if term.recv().await.is_some() {
                tracing::debug!("SIGTERM");
                shutdown.send_replace(true);
            }
        });
    }
    // If Terraform dies without a Shutdown (killed, crashed), the plugin is
    // re-parented: notice and exit instead of lingering.
    let parent = std::os::unix::process::parent_id();
    let orphan = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if std::os::unix::process::parent_id() != parent {
                tracing::debug!("Terraform went away");
                orphan.send_replace(true);
                return;
            }
        }
    });
    // Listening for SIGINT replaces its default action (exit) with this log line.
    if let Ok(mut int) = signal(SignalKind::interrupt()) {
        tokio::spawn(async move {
            while int.recv().await.is_some() {
                tracing::debug!("SIGINT ignored: Terraform stops plugins through the protocol");
            }
        });
    }
}

#[cfg(not(unix))]
fn spawn_signal_handlers(_shutdown: watch::Sender<bool>) {}

/// go-plugin's controller: `Shutdown` is how Terraform ends the plugin.
struct Controller {
    shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        self.shutdown.send_replace(true);
        Ok(Response::new(Empty {}))
    }
}

/// go-plugin's stdio forwarding. This provider never writes to stdout or stderr
/// after the handshake except logs, which Terraform already reads from stderr, so
/// the stream stays open and empty until shutdown.
struct Stdio {
    shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = ReceiverStream<Result<StdioData, Status>>;

    async fn stream_stdio(&self, _: Request<()>) -> Result<Response<Self::StreamStdioStream>, Status> {
        let (tx, rx) = mpsc::channel(1);
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let _ = shutdown.wait_for(|s| *s).await;
            drop(tx);
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
