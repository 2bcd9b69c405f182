//! The layers every REST edge wears, applied once by [`finish`]: request id,
//! a span per request with the caller's trace context, RED metrics, security
//! headers, CORS, a body limit, a timeout, and error envelopes for answers
//! produced outside our handlers (unknown route, wrong method, too large).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry::trace::TraceContextExt;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::error::ApiError;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT_REQUEST_ID: HeaderValue;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(|id| id.to_str().ok().map(str::to_owned)).ok().flatten()
}

/// Settings of the REST edge shared by every service.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins allowed by CORS; empty means no cross-origin access.
    pub cors_origins: Vec<String>,
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// After SIGTERM, how long to keep serving while not ready, so that
    /// load balancers stop sending before the listeners close.
    pub drain: Duration,
}

impl HttpSettings {
    /// `CORS_ORIGINS` and `SHUTDOWN_DRAIN_SECS`, the settings every edge reads.
    pub fn from_env(env: &mut marquee_config::Env) -> Self {
        Self {
            cors_origins: env.list("CORS_ORIGINS"),
            drain: Duration::from_secs(env.parse("SHUTDOWN_DRAIN_SECS", 0u64)),
            ..Self::default()
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            body_limit: crate::extract::DEFAULT_BODY_LIMIT,
            request_timeout: Duration::from_secs(30),
            drain: Duration::ZERO,
        }
    }
}

/// Wraps a service's router with the fleet's layers and JSON fallbacks.
///
/// The layers are one stack, applied once: each `Router::layer` call wraps
/// every route in one more boxed service, and a request clones every box
/// below the one it enters (the state of its handler with each). What only
/// looks at the answer is a plain map of it.
pub fn finish(router: Router, settings: &HttpSettings) -> Router {
    let edge = tower::ServiceBuilder::new()
        .layer(AroundLayer::new(Observe::default()))
        .layer(cors(&settings.cors_origins))
        // Outside the timeout, so that its 408 gets the envelope too.
        .layer(tower::util::MapResponseLayer::new(finish_answer))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(answer_panic))
        .layer(axum::extract::DefaultBodyLimit::max(settings.body_limit));
    router
        .fallback(|| async { ApiError::from_status(StatusCode::NOT_FOUND) })
        .method_not_allowed_fallback(|| async { ApiError::from_status(StatusCode::METHOD_NOT_ALLOWED) })
        .layer(edge)
}

/// Middleware that runs around each request with the service below it, as
/// `axum::middleware::from_fn` does, without boxing that service and its
/// answer once more for every request: the service below is handed over as
/// it is, and only the middleware's own future is boxed.
pub trait Around: Clone + Send + Sync + 'static {
    fn around<S: Below>(
        &self,
        request: Request,
        inner: S,
    ) -> impl std::future::Future<Output = Response> + Send + 'static;
}

/// The service below an [`Around`]: a route, which never fails.
pub trait Below:
    tower::Service<Request, Response = Response, Error = std::convert::Infallible, Future: Send + 'static> + Send + 'static
{
}

impl<S> Below for S
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
}

/// Hands the request to the service below: the one given to
/// [`Around::around`], which its layer has made ready (call it only once).
pub async fn pass<S: Below>(mut inner: S, request: Request) -> Response {
    match inner.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The layer of an [`Around`].
#[derive(Clone)]
pub struct AroundLayer<A>(A);

impl<A> AroundLayer<A> {
    pub fn new(around: A) -> Self {
        Self(around)
    }
}

impl<A: Clone, S> tower::Layer<S> for AroundLayer<A> {
    type Service = AroundService<A, S>;
    fn layer(&self, inner: S) -> Self::Service {
        AroundService { around: self.0.clone(), inner }
    }
}

/// The service of an [`Around`].
#[derive(Clone)]
pub struct AroundService<A, S> {
    around: A,
    inner: S,
}

impl<A, S, B> tower::Service<axum::http::Request<B>> for AroundService<A, S>
where
    A: Around,
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        // The service made ready is the one that serves; a fresh clone
        // stays behind for the next request (tower's convention).
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        let answer = self.around.around(request.map(axum::body::Body::new), ready);
        Box::pin(async move { Ok(answer.await) })
    }
}

/// What every answer gets on its way out: the error envelope when something
/// other than our handlers produced it, then the security headers.
fn finish_answer<B>(response: axum::http::Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    security_headers(envelope_bare_errors(response.map(axum::body::Body::new)))
}

/// The headers every answer carries unless its handler set its own.
fn security_headers(mut response: Response) -> Response {
    static HEADERS: [(HeaderName, HeaderValue); 6] = [
        (header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    let headers = response.headers_mut();
    for (name, value) in &HEADERS {
        headers.entry(name).or_insert_with(|| value.clone());
    }
    response
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-org"),
            HeaderName::from_static("x-access-revision"),
            REQUEST_ID,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// A panic in a handler is a bug, but the client still gets an enveloped 500
/// with its request id (never a dropped connection), and the log gets the
/// panic's message.
fn answer_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    tracing::error!(panic = %message, "handler panicked");
    ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR).into_response()
}

/// Answers produced by the router or a layer come without our envelope
/// (an empty 405, a plain 413). Give them the same error body as ours.
fn envelope_bare_errors(response: Response) -> Response {
    let status = response.status();
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let mut enveloped = ApiError::from_status(status).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = response.headers().get(&name) {
            enveloped.headers_mut().insert(name, v.clone());
        }
    }
    enveloped
}

/// A caller's request id is kept when it is short and plain.
fn acceptable_request_id(value: &HeaderValue) -> bool {
    let s = value.as_bytes();
    !s.is_empty()
        && s.len() <= 128
        && s.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn new_request_id() -> HeaderValue {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let id = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut text);
    HeaderValue::from_str(id).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// Each route's RED metric handles, made once per route, method and status:
/// a metric's key (its labels as strings) and its place in the registry cost
/// more to find than the count itself.
#[derive(Clone, Default)]
struct Observe {
    handles: Arc<RwLock<HashMap<Box<str>, Vec<RouteHandles>>>>,
}

struct RouteHandles {
    method: &'static str,
    status: u16,
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

/// The method as a label: any other than the usual ones is "other", so a
/// client making up methods cannot make up metric series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl Observe {
    fn record(&self, method: &'static str, route: &str, status: u16, elapsed: f64) {
        let found = |handles: &HashMap<Box<str>, Vec<RouteHandles>>| {
            handles.get(route).and_then(|known| known.iter().find(|h| h.method == method && h.status == status)).map(
                |h| {
                    h.requests.increment(1);
                    h.duration.record(elapsed);
                },
            )
        };
        if found(&self.handles.read().unwrap_or_else(PoisonError::into_inner)).is_some() {
            return;
        }
        let labels = [("method", method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())];
        let made = RouteHandles {
            method,
            status,
            requests: metrics::counter!("http_requests_total", &labels),
            duration: metrics::histogram!("http_request_duration_seconds", &labels),
        };
        made.requests.increment(1);
        made.duration.record(elapsed);
        let mut handles = self.handles.write().unwrap_or_else(PoisonError::into_inner);
        let known = handles.entry(route.into()).or_default();
        if !known.iter().any(|h| h.method == method && h.status == status) {
            known.push(made);
        }
    }
}

impl Around for Observe {
    fn around<S: Below>(
        &self,
        request: Request,
        inner: S,
    ) -> impl std::future::Future<Output = Response> + Send + 'static {
        observe(self.clone(), request, inner)
    }
}

/// Request id (accepted from the caller or generated), one span per request
/// joined to the caller's W3C trace, and RED metrics per route.
async fn observe<S: Below>(observed: Observe, mut request: Request, inner: S) -> Response {
    let request_id = match request.headers().get(&REQUEST_ID) {
        Some(given) if acceptable_request_id(given) => given.clone(),
        _ => new_request_id(),
    };
    // One value below this layer, whatever the caller sent.
    request.headers_mut().insert(REQUEST_ID, request_id.clone());
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = method_label(request.method());

    let span = tracing::info_span!(
        "http",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        request_id = request_id.to_str().unwrap_or_default(),
        trace_id = tracing::field::Empty,
        http.method = method,
        http.route = route,
        http.status = tracing::field::Empty,
        company_id = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    // A span the log level leaves out has no trace to join.
    if !span.is_disabled() {
        let parent = crate::grpc::extract_trace_context(request.headers());
        let _ = span.set_parent(parent);
        let trace_id = span.context().span().span_context().trace_id();
        if trace_id != opentelemetry::trace::TraceId::INVALID {
            span.record("trace_id", tracing::field::display(trace_id));
        }
    }

    let started = Instant::now();
    let served = pass(inner, request).instrument(span.clone());
    let mut response = CURRENT_REQUEST_ID.scope(request_id.clone(), served).await;
    let status = response.status().as_u16();
    span.record("http.status", status);
    let elapsed = started.elapsed().as_secs_f64();
    observed.record(method, route, status, elapsed);
    if status >= 500 {
        tracing::warn!(parent: &span, status, "request failed");
    } else {
        tracing::debug!(parent: &span, status, elapsed_ms = (elapsed * 1e6).round() / 1e3, "request served");
    }
    response.headers_mut().insert(REQUEST_ID, request_id);
    response
}

/// What `/readyz` asks before it says ready.
pub trait Readiness: Send + Sync + 'static {
    fn check(&self) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// How long `/readyz` waits for its checks: under the probe's own timeout
/// (2 s in the chart), so a check that hangs is a "not ready" that says why,
/// not a probe that times out without a word.
const READINESS_BOUND: Duration = Duration::from_millis(1500);

/// `/healthz` (the process is alive) and `/readyz` (it can serve: its database
/// and required peers answer).
pub fn health_routes<R: Readiness + Clone>(readiness: R) -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(|| async { crate::envelope::Data(serde_json::json!({"status": "ok"})) }))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let readiness = readiness.clone();
                async move {
                    if crate::server::is_draining() {
                        return ApiError::unavailable("DRAINING", "the service is stopping", 1).into_response();
                    }
                    let checked = tokio::time::timeout(READINESS_BOUND, readiness.check()).await.unwrap_or_else(|_| {
                        Err(format!("the readiness checks took longer than {} ms", READINESS_BOUND.as_millis()))
                    });
                    match checked {
                        Ok(()) => crate::envelope::Data(serde_json::json!({"status": "ready"})).into_response(),
                        Err(reason) => {
                            tracing::warn!(%reason, "not ready");
                            ApiError::unavailable("NOT_READY", reason, 1).into_response()
                        }
                    }
                }
            }),
        )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_an_enveloped_500_not_a_dropped_connection() {
        async fn boom() -> &'static str {
            panic!("index out of bounds")
        }
        let router: Router = Router::new().route("/boom", get(boom));
        let app = finish(router, &HttpSettings::default());
        let response = app.oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key(&REQUEST_ID));
        assert_eq!(response.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "INTERNAL");
        assert_eq!(body["message"], "internal error", "nothing of the panic reaches the client");
        assert!(body["requestId"].is_string());
    }

    #[tokio::test]
    async fn a_request_past_its_time_is_an_enveloped_408_with_the_fleet_headers() {
        async fn slow() -> &'static str {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "too late"
        }
        let settings = HttpSettings { request_timeout: Duration::from_millis(50), ..HttpSettings::default() };
        let app = finish(Router::new().route("/slow", get(slow)), &settings);
        let asked = Request::get("/slow").header(&REQUEST_ID, "slow-one").body(Body::empty()).unwrap();
        let response = app.oneshot(asked).await.unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[&REQUEST_ID], "slow-one");
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "TIMEOUT");
        assert_eq!(body["requestId"], "slow-one", "the envelope names the request it answers");
    }

    #[tokio::test]
    async fn the_handler_sees_the_callers_request_id_and_the_answer_carries_it() {
        async fn echo() -> String {
            current_request_id().unwrap_or_default()
        }
        let app = finish(Router::new().route("/echo", get(echo)), &HttpSettings::default());
        let asked = Request::get("/echo").header(&REQUEST_ID, "trace-me-42").body(Body::empty()).unwrap();
        let response = app.clone().oneshot(asked).await.unwrap();
        assert_eq!(response.headers()[&REQUEST_ID], "trace-me-42");
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        assert_eq!(&body[..], b"trace-me-42");
        // A malformed id is replaced by one of our own, which the handler sees too.
        let asked = Request::get("/echo").header(&REQUEST_ID, "no spaces allowed").body(Body::empty()).unwrap();
        let response = app.oneshot(asked).await.unwrap();
        let given = response.headers()[&REQUEST_ID].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&given).is_ok(), "{given}");
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        assert_eq!(body, given.as_bytes());
    }

    #[test]
    fn a_made_up_method_is_counted_as_other_so_it_cannot_make_up_metric_series() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(method_label(&Method::CONNECT), "other");
    }

    #[derive(Clone)]
    struct Hung;

    impl Readiness for Hung {
        async fn check(&self) -> Result<(), String> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn a_readiness_check_that_hangs_is_not_ready_before_the_probe_gives_up() {
        let app = finish(health_routes(Hung), &HttpSettings::default());
        let asked = Instant::now();
        let response = app.oneshot(Request::get("/readyz").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(asked.elapsed() < Duration::from_secs(2), "answered in {:?}", asked.elapsed());
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "NOT_READY");
        assert!(body["message"].as_str().unwrap().contains("took longer"), "{body}");
    }

    #[tokio::test]
    async fn a_handler_header_is_kept_and_the_rest_are_added() {
        async fn cached() -> ([(header::HeaderName, &'static str); 1], &'static str) {
            ([(header::CACHE_CONTROL, "public, max-age=60")], "{}")
        }
        let app = finish(Router::new().route("/cached", get(cached)), &HttpSettings::default());
        let response = app.oneshot(Request::get("/cached").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.headers()[header::CACHE_CONTROL], "public, max-age=60");
        assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
        let missing = finish(Router::new(), &HttpSettings::default())
            .oneshot(Request::get("/nowhere").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(missing.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(missing.headers().contains_key(&REQUEST_ID), "an unknown route's answer has its request id too");
    }
}
