//! Process life cycle: handshake, the gRPC server (Provider, health, go-plugin
//! controller and stdio), and shutdown when Terraform says so (GRPCController
//! Shutdown), on SIGTERM, or when the listener fails. SIGINT is ignored: Terraform
//! forwards Ctrl-C to the whole process group but stops plugins itself, through the
//! Stop and Shutdown RPCs, after it has saved state.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
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
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
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
    let listener =
        TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.trim().is_empty() => Some(tls::server_tls(&pem).map_err(|e| e.to_string())?),
        // Clients without AutoMTLS (Terraform 0.12 with older go-plugin) speak plaintext.
        _ => None,
    };
    let line = handshake::line(version, addr, tls.as_ref().map(|t| t.cert_der.as_slice()));
    handshake::announce(&line).map_err(|e| format!("cannot write the handshake line: {e}"))?;
    tracing::debug!(%addr, tls = tls.is_some(), protocol_version = version, "plugin serving");

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    spawn_signal_handlers(shutdown_tx.clone());

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

    let stop = {
        let mut rx = shutdown_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
            tracing::debug!("shutting down");
            // Graceful shutdown waits for open connections; do not let a stuck
            // client keep the process alive.
            tokio::spawn(async {
                tokio::time::sleep(GRACE).await;
                std::process::exit(0);
            });
        }
    };
    let result = match tls {
        Some(t) => {
            let incoming =
                tls_incoming(listener, tokio_rustls::TlsAcceptor::from(t.config), shutdown_rx.clone());
            router.serve_with_incoming_shutdown(incoming, stop).await
        }
        None => router.serve_with_incoming_shutdown(TcpListenerStream::new(listener), stop).await,
    };
    result.map_err(|e| format!("gRPC server failed: {e}"))
}

/// TLS handshakes run concurrently, so a slow or failed one never blocks the next
/// connection; failed handshakes are logged and dropped.
fn tls_incoming(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    mut shutdown: watch::Receiver<bool>,
) -> ReceiverStream<Result<tokio_rustls::server::TlsStream<TcpStream>, std::io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                c = listener.accept() => c,
                _ = shutdown.wait_for(|s| *s) => return,
            };
            match conn {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        match acceptor.accept(tcp).await {
                            Ok(s) => {
                                let _ = tx.send(Ok(s)).await;
                            }
                            Err(e) => tracing::warn!(error = %e, "TLS handshake with Terraform failed"),
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
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
