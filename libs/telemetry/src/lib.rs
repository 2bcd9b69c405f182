//! Logs, traces and metrics, set up once per process.
//!
//! - logs: JSON lines by default, human-readable with `LOG_FORMAT=pretty`,
//!   filtered by `LOG_LEVEL` (an `EnvFilter` directive); noisy crates at warn;
//! - traces: exported over OTLP/gRPC when `OTEL_EXPORTER_OTLP_ENDPOINT` is set,
//!   with W3C trace context propagation;
//! - metrics: a Prometheus recorder whose text `/metrics` serves;
//! - personal data and secrets are masked in every log line ([`mask`]).

pub mod mask;

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "pretty" | "text" => Ok(Self::Pretty),
            other => Err(format!("{other:?} is not json or pretty")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    pub log_format: LogFormat,
    pub log_level: String,
    pub otlp_endpoint: Option<String>,
}

impl TelemetrySettings {
    /// Reads `LOG_FORMAT`, `LOG_LEVEL` and `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn from_env(env: &mut marquee_config::Env) -> Self {
        Self {
            log_format: env.parse("LOG_FORMAT", LogFormat::Json),
            log_level: env.string("LOG_LEVEL", "info"),
            otlp_endpoint: env.optional("OTEL_EXPORTER_OTLP_ENDPOINT"),
        }
    }
}

const QUIET: &str = "h2=warn,hyper=warn,hyper_util=warn,tonic=warn,tower=warn,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,opentelemetry=warn,reqwest=warn";

/// Flushes traces when dropped at the end of `main`.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("trace export did not flush: {e}");
        }
    }
}

/// Installs the global subscriber, the trace exporter and the propagator.
pub fn init(service: &'static str, settings: &TelemetrySettings) -> anyhow::Result<Telemetry> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_new(format!("{},{QUIET}", settings.log_level))
        .map_err(|e| anyhow::anyhow!("LOG_LEVEL is not a valid filter: {e}"))?;

    // Spans always get real trace ids (logs carry them, callers' traces continue);
    // they are exported only when an endpoint is set.
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let builder = match &settings.otlp_endpoint {
        None => builder,
        Some(endpoint) => {
            use opentelemetry_otlp::WithExportConfig;
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .build()
                .map_err(|e| anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT {endpoint:?}: {e}"))?;
            builder.with_batch_exporter(exporter)
        }
    };
    let provider = builder.build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let provider = Some(provider);
    let otel_layer = provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(service)));

    // Every line passes the one masking writer: no personal data or secret reaches the logs.
    let writer = mask::Masked(std::io::stdout);
    let fmt_layer = match settings.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().with_writer(writer).boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(otel_layer)
        .try_init()
        .map_err(|e| anyhow::anyhow!("logging already initialised: {e}"))?;
    Ok(Telemetry { provider })
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Another recorder may already be installed (several services in one
            // test process): then this handle simply renders nothing of theirs.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The current metrics in Prometheus text format.
pub fn render_metrics() -> String {
    metrics_handle().render()
}
