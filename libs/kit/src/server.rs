//! Serving until shutdown: one token cancels every listener and background
//! task; SIGTERM and Ctrl-C fire it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

static DRAINING: AtomicBool = AtomicBool::new(false);

/// Whether the process was asked to stop and is draining: `/readyz` says
/// not ready, so load balancers stop sending, while requests still served.
pub fn is_draining() -> bool {
    DRAINING.load(Ordering::Acquire)
}

/// On SIGTERM or Ctrl-C: readiness fails at once, the service keeps serving
/// for `drain` (while endpoints and load balancers catch up), then `token`
/// fires and the listeners stop, letting in-flight requests and streams end.
/// A second signal stops at once.
pub fn cancel_on_signal(token: CancellationToken, drain: Duration) {
    let task = async move {
        stop_requested().await;
        DRAINING.store(true, Ordering::Release);
        tracing::info!(drain_secs = drain.as_secs_f64(), "shutdown requested; draining");
        tokio::select! {
            _ = tokio::time::sleep(drain) => {}
            _ = stop_requested() => tracing::info!("second signal; stopping now"),
        }
        tracing::info!("no longer accepting; finishing in-flight requests");
        token.cancel();
    };
    tokio::spawn(task);
}

async fn stop_requested() {
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
}

/// `marquee-<service> healthcheck`: asks the running service's own
/// `/readyz` on `http_addr` (for container runtimes without a shell or curl).
/// Exit code 0 when ready.
pub fn healthcheck(http_addr: &str) -> std::process::ExitCode {
    use std::io::{Read, Write};
    let check = || -> Result<String, String> {
        let mut addr: SocketAddr = http_addr.parse().map_err(|e| format!("HTTP_ADDR {http_addr:?}: {e}"))?;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
        }
        let timeout = Duration::from_secs(3);
        let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
        stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        stream
            .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        Ok(answer.lines().next().unwrap_or_default().to_owned())
    };
    match check() {
        Ok(status) if status.split_whitespace().nth(1) == Some("200") => std::process::ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("not ready: {status}");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("not ready: {e}");
            std::process::ExitCode::FAILURE
        }
    }
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
