//! The parts every service is built from, put together once: the metrics
//! recorder, the database (migrated unless asked not to), listeners bound
//! before anything needs their addresses, the shutdown token and background
//! tasks; then the REST edge with health, readiness, the OpenAPI document and
//! metrics, and gRPC with health and reflection, served until shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use marquee_kit::http::{HttpSettings, Readiness};
use marquee_kit::server::{Tasks, bind, grpc_incoming, serve_http};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;

use crate::ServiceConfig;

/// How long background tasks get to stop after the listeners closed.
const TASKS_STOP_WITHIN: Duration = Duration::from_secs(5);

/// Listeners bound before the service is built, e.g. by a test that needs
/// their addresses first (to configure the service's peers) and cannot risk
/// another process taking a port between choosing and binding it.
pub struct Listeners {
    pub http: TcpListener,
    pub grpc: Option<TcpListener>,
}

impl Listeners {
    /// Free loopback ports, bound now: HTTP, and gRPC when `grpc`.
    pub async fn loopback(grpc: bool) -> std::io::Result<Self> {
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let grpc = if grpc { Some(TcpListener::bind("127.0.0.1:0").await?) } else { None };
        Ok(Self { http, grpc })
    }

    pub fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }

    pub fn grpc_addr(&self) -> std::io::Result<SocketAddr> {
        self.grpc.as_ref().ok_or_else(|| std::io::Error::other("no gRPC listener"))?.local_addr()
    }

    /// Listeners handed over by whoever started this process, as systemd's
    /// socket activation does (`LISTEN_FDS`, from descriptor 3): HTTP first,
    /// then gRPC when `grpc`. None when nothing was handed over. A
    /// `LISTEN_PID` naming another process is ignored, as the protocol says.
    pub fn inherited(grpc: bool) -> anyhow::Result<Option<Self>> {
        let mut handed = listenfd::ListenFd::from_env();
        if handed.len() == 0 {
            return Ok(None);
        }
        let expected = if grpc { 2 } else { 1 };
        anyhow::ensure!(
            handed.len() == expected,
            "LISTEN_FDS: {} sockets handed over, {expected} expected ({})",
            handed.len(),
            if grpc { "HTTP, then gRPC" } else { "HTTP" }
        );
        let http = take_listener(&mut handed, 0)?;
        let grpc = if grpc { Some(take_listener(&mut handed, 1)?) } else { None };
        Ok(Some(Self { http, grpc }))
    }
}

fn take_listener(handed: &mut listenfd::ListenFd, index: usize) -> anyhow::Result<TcpListener> {
    let listener = handed
        .take_tcp_listener(index)
        .with_context(|| format!("LISTEN_FDS: socket {index}"))?
        .with_context(|| format!("LISTEN_FDS: socket {index} is not a listening TCP socket"))?;
    listener.set_nonblocking(true)?;
    Ok(TcpListener::from_std(listener)?)
}

/// Ready when the database answers and `live` holds (e.g. a change stream
/// heard lately); else not ready, saying `not_live`.
#[derive(Clone)]
pub struct Ready<L> {
    db: DatabaseConnection,
    not_live: &'static str,
    live: L,
}

impl<L: Fn() -> bool + Clone + Send + Sync + 'static> Ready<L> {
    pub fn when(db: DatabaseConnection, not_live: &'static str, live: L) -> Self {
        Self { db, not_live, live }
    }
}

impl<L: Fn() -> bool + Clone + Send + Sync + 'static> Readiness for Ready<L> {
    async fn check(&self) -> Result<(), String> {
        marquee_db::ping(&self.db).await?;
        if (self.live)() { Ok(()) } else { Err(self.not_live.to_owned()) }
    }
}

/// A service's shared parts.
pub struct Skeleton {
    name: &'static str,
    pub db: DatabaseConnection,
    /// Where reads that need no transaction go ([`marquee_db::connect_reads`]).
    pub reads: DatabaseConnection,
    http: TcpListener,
    grpc: Option<TcpListener>,
    edge: HttpSettings,
    /// Fires to stop the service; every listener and task follows it.
    pub shutdown: CancellationToken,
    pub tasks: Tasks,
}

impl Skeleton {
    /// The parts of `name` (e.g. "base"): its database migrated with `M`
    /// unless `skip_migrations`, its HTTP listener and, with `grpc_addr`, its
    /// gRPC listener: `bound` when given, else those handed over at start
    /// ([`Listeners::inherited`]), else bound now so their addresses are known.
    pub async fn start<M: MigratorTrait>(
        name: &'static str,
        service: &ServiceConfig,
        grpc_addr: Option<&str>,
        skip_migrations: bool,
        bound: Option<Listeners>,
    ) -> anyhow::Result<Self> {
        // The recorder before the first request records anything.
        let _ = marquee_telemetry::metrics_handle();
        let db = marquee_db::connect(&service.database_url, service.database_max_connections).await?;
        if !skip_migrations {
            M::up(&db, None).await.context("migrations failed")?;
        }
        let reads = marquee_db::connect_reads(&service.database_url, &db).await?;
        let handed_over = match bound {
            Some(_) => None,
            None => Listeners::inherited(grpc_addr.is_some())?,
        };
        if handed_over.is_some() {
            tracing::info!("{name} listens on the sockets handed over at start (LISTEN_FDS)");
        }
        let bound = bound.or(handed_over);
        let (http, grpc) = match bound {
            Some(Listeners { http, grpc }) => (http, grpc),
            None => (
                bind(&service.http_addr, "HTTP").await?,
                match grpc_addr {
                    Some(addr) => Some(bind(addr, "gRPC").await?),
                    None => None,
                },
            ),
        };
        Ok(Self {
            name,
            db,
            reads,
            http,
            grpc,
            edge: service.http.clone(),
            shutdown: CancellationToken::new(),
            tasks: Tasks::new(),
        })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc.as_ref().and_then(|l| l.local_addr().ok()).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The REST edge: `api` with `/healthz`, `/readyz`, `/openapi.json` and
    /// `/metrics`, behind the fleet's layers (envelope, limits, headers, CORS,
    /// request ids, traces).
    pub fn edge<R: Readiness + Clone>(&self, api: Router, readiness: R, document: axum::body::Bytes) -> Router {
        let api = api
            .merge(marquee_kit::http::health_routes(readiness))
            .merge(marquee_kit::openapi::serve(document))
            .route("/metrics", axum::routing::get(|| async { marquee_telemetry::render_metrics() }));
        marquee_kit::http::finish(api, &self.edge)
    }

    /// Serves `router`, and `grpc` on the gRPC listener, until the shutdown
    /// token fires; then in-flight requests and streams finish and the
    /// background tasks stop.
    pub async fn serve(self, router: Router, grpc: Option<GrpcServices>) -> anyhow::Result<()> {
        let name = self.name;
        tracing::info!(http = %self.http_addr(), grpc = ?self.grpc.as_ref().map(|_| self.grpc_addr()), "{name} serving");
        let http = serve_http(self.http, router, self.shutdown.clone());
        let grpc = async {
            let (Some(listener), Some(services)) = (self.grpc, grpc) else { return Ok(()) };
            services.serve(listener, self.shutdown.clone()).await
        };
        let (http_result, grpc_result) = tokio::join!(http, grpc);
        self.shutdown.cancel();
        self.tasks.join(TASKS_STOP_WITHIN).await;
        http_result.context("HTTP server")?;
        grpc_result.context("gRPC server")?;
        tracing::info!("{name} stopped");
        Ok(())
    }
}

/// A service's gRPC service, served with health (reporting it serving) and
/// reflection beside it.
pub struct GrpcServices {
    routes: tonic::service::Routes,
    name: &'static str,
}

/// A gRPC service the fleet serves.
pub trait GrpcService:
    tower::Service<
        http::Request<tonic::body::Body>,
        Error = Infallible,
        Response: axum::response::IntoResponse,
        Future: Send + 'static,
    > + NamedService
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> GrpcService for S where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Error = Infallible,
            Response: axum::response::IntoResponse,
            Future: Send + 'static,
        > + NamedService
        + Clone
        + Send
        + Sync
        + 'static
{
}

impl GrpcServices {
    /// `service`, named by health as the one this service serves.
    pub fn new<S: GrpcService>(service: S) -> Self {
        Self { routes: tonic::service::Routes::default(), name: S::NAME }.with(service)
    }

    /// Serves `service` beside the first one.
    pub fn with<S: GrpcService>(mut self, service: S) -> Self {
        self.routes = self.routes.add_service(service);
        self
    }

    async fn serve(self, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_service_status(self.name, tonic_health::ServingStatus::Serving).await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(marquee_proto::FILE_DESCRIPTOR_SET)
            .build_v1()
            .context("gRPC reflection")?;
        let routes = self.routes.add_service(health_service).add_service(reflection);
        tonic::transport::Server::builder()
            .trace_fn(marquee_kit::grpc::grpc_span)
            .layer(marquee_kit::grpc::GrpcMetricsLayer)
            .add_routes(routes)
            .serve_with_incoming_shutdown(grpc_incoming(listener), async move { shutdown.cancelled().await })
            .await?;
        Ok(())
    }
}
