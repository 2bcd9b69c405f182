//! Serving until shutdown: one token cancels every listener and background
//! task; SIGTERM and Ctrl-C fire it.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Cancels `token` on SIGTERM or Ctrl-C.
pub fn cancel_on_signal(token: CancellationToken) {
    let task = async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = ctrl_c => {},
                        _ = term.recv() => {},
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                    let _ = ctrl_c.await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
        tracing::info!("shutdown requested");
        token.cancel();
    };
    tokio::spawn(task);
}

/// Serves the REST edge until the token fires, then lets in-flight requests finish.
pub async fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Answers leave at once rather than waiting on the peer's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// A bound gRPC listener as tonic's incoming stream, with TCP_NODELAY: a
/// unary answer goes out as several small writes (headers, message,
/// trailers), and without it the trailers wait for the caller's delayed ACK,
/// about 40 ms on Linux, on every call.
pub fn grpc_incoming(listener: TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Binds a listener, naming the address on failure.
pub async fn bind(addr: &str, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen for {what} on {addr}: {e}"))
}

/// Owns a service's background tasks: each has a name (kept in its span and
/// in the log line when it ends), and all stop on the service's shutdown token.
#[derive(Clone, Default)]
pub struct Tasks {
    tracker: tokio_util::task::TaskTracker,
}

impl Tasks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn spawn<F>(&self, name: &'static str, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        use tracing::Instrument;
        let span = tracing::info_span!("task", task = name);
        self.tracker.spawn(
            async move {
                task.await;
                tracing::debug!(task = name, "background task ended");
            }
            .instrument(span),
        );
    }

    /// Waits for every task to end (after the shutdown token fired).
    pub async fn join(&self, limit: std::time::Duration) {
        self.tracker.close();
        if tokio::time::timeout(limit, self.tracker.wait()).await.is_err() {
            tracing::warn!("background tasks did not stop in time");
        }
    }
}
