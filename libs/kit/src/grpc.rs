//! Service-to-service gRPC: the shared credential every internal call carries,
//! checked in constant time, and W3C trace context carried across the hop.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use axum::http::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::{Request, Status};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Server side: refuses any call without the fleet's internal service token.
#[derive(Clone)]
pub struct RequireServiceToken {
    expected: Arc<[u8]>,
}

impl RequireServiceToken {
    pub fn new(token: &str) -> Self {
        Self { expected: format!("Bearer {token}").into_bytes().into() }
    }
}

impl tonic::service::Interceptor for RequireServiceToken {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let presented = request.metadata().get("authorization").map(|v| v.as_bytes()).unwrap_or_default();
        if bool::from(presented.ct_eq(&self.expected[..])) {
            Ok(request)
        } else {
            Err(Status::unauthenticated("a valid service credential is required"))
        }
    }
}

/// Client side: adds the service token and the current trace context.
#[derive(Clone)]
pub struct ServiceCredentials {
    header: MetadataValue<tonic::metadata::Ascii>,
}

impl ServiceCredentials {
    pub fn new(token: &str) -> Result<Self, Status> {
        let header = format!("Bearer {token}")
            .parse()
            .map_err(|_| Status::internal("service token is not valid header text"))?;
        Ok(Self { header })
    }
}

impl tonic::service::Interceptor for ServiceCredentials {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert("authorization", self.header.clone());
        inject_trace_context(request.metadata_mut());
        Ok(request)
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (MetadataKey::from_bytes(key.as_bytes()), MetadataValue::try_from(value.as_str())) {
            self.0.insert(k, v);
        }
    }
}

/// The caller's trace context from HTTP headers (or gRPC metadata, which
/// arrives as HTTP/2 headers).
pub fn extract_trace_context(headers: &HeaderMap) -> opentelemetry::Context {
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)))
}

/// Puts the current span's trace context into outgoing gRPC metadata.
pub fn inject_trace_context(metadata: &mut MetadataMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut MetadataInjector(metadata)));
}

/// A server span per gRPC call, joined to the caller's trace. Use with
/// `tonic::transport::Server::builder().trace_fn(grpc_span)`.
pub fn grpc_span(request: &axum::http::Request<()>) -> tracing::Span {
    let method = request.uri().path().to_owned();
    let span = tracing::info_span!(
        "grpc",
        otel.name = %method,
        otel.kind = "server",
        rpc.method = %method,
    );
    let _ = span.set_parent(extract_trace_context(request.headers()));
    span
}

/// RED metrics per gRPC method: `grpc_requests_total{method, code}` and
/// `grpc_request_duration_seconds{method, code}` (time to the response
/// headers; for a stream, to its opening). Use with
/// `tonic::transport::Server::builder().layer(GrpcMetricsLayer)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcMetricsLayer;

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner }
    }
}

#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
}

impl<S, B, R> tower::Service<axum::http::Request<B>> for GrpcMetrics<S>
where
    S: tower::Service<axum::http::Request<B>, Response = axum::http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let started = std::time::Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let result = future.await;
            // Errors come back trailers-only, with grpc-status in the headers; no header is OK (0).
            let code = match &result {
                Ok(response) => {
                    response.headers().get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or("0").to_owned()
                }
                Err(_) => "transport".to_owned(),
            };
            let labels = [("method", method), ("code", code)];
            metrics::counter!("grpc_requests_total", &labels).increment(1);
            metrics::histogram!("grpc_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
            result
        })
    }
}
