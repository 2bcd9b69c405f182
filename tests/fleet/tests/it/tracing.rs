//! One request that crosses base → auth → platform-core is one trace, with
//! spans from all three services linked parent to child, received over OTLP
//! by a collector endpoint inside this test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use reqwest::Method;

use crate::harness::{Fleet, Options, Service};

#[derive(Debug, Clone)]
struct Span {
    service: String,
    name: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
}

#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Span>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().unwrap();
        for resource in request.into_inner().resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| match a.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(AnyValue::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for scope in resource.scope_spans {
                for s in scope.spans {
                    spans.push(Span {
                        service: service.clone(),
                        name: s.name,
                        trace_id: s.trace_id,
                        span_id: s.span_id,
                        parent_span_id: s.parent_span_id,
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

async fn collector() -> (String, Collector) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let collector = Collector::default();
    let service = TraceServiceServer::new(collector.clone());
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    (endpoint, collector)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_request_through_three_services_is_one_linked_trace() {
    let (endpoint, collector) = collector().await;
    let mut options = Options::default();
    for service in Service::ALL {
        options.env.push((service, "OTEL_EXPORTER_OTLP_ENDPOINT".into(), endpoint.clone()));
        options.env.push((service, "OTEL_BSP_SCHEDULE_DELAY".into(), "100".into()));
    }
    let f = Fleet::start_with(options).await;
    let (owner, org) = f.owner().await;

    // The caller's own trace: base must continue it, and so must every hop after.
    let trace_id = hex(&uuid::Uuid::new_v4().into_bytes());
    let caller_span = &hex(&uuid::Uuid::new_v4().into_bytes())[..16];
    let base = f.client(Service::Base);
    let request = base
        .http
        .request(Method::GET, base.url("/v1/artists"))
        .bearer_auth(&owner)
        .header("x-org", org.to_string())
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"));
    let reply = base.send(request).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);

    let wanted = ["marquee-base", "marquee-auth", "marquee-platform-core"];
    let mut trace: Vec<Span> = Vec::new();
    for _ in 0..100 {
        trace = collector.0.lock().unwrap().iter().filter(|s| hex(&s.trace_id) == trace_id).cloned().collect();
        if wanted.iter().all(|w| trace.iter().any(|s| s.service == *w)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let services: Vec<&str> = trace.iter().map(|s| s.service.as_str()).collect();
    for w in wanted {
        assert!(services.contains(&w), "no span of {w} in the trace: {trace:#?}");
    }

    // Every span hangs from the caller's span or from another span of the same trace.
    let by_id: HashMap<String, &Span> = trace.iter().map(|s| (hex(&s.span_id), s)).collect();
    for s in &trace {
        let parent = hex(&s.parent_span_id);
        assert!(
            parent == caller_span || by_id.contains_key(&parent),
            "{} of {} has no parent in the trace",
            s.name,
            s.service
        );
    }
    // And the hops are linked across processes: auth under base, platform-core under auth.
    let service_of_parent = |s: &Span| by_id.get(&hex(&s.parent_span_id)).map(|p| p.service.clone());
    let ancestry = |s: &Span| {
        let mut seen = Vec::new();
        let mut current = s.clone();
        while let Some(parent) = by_id.get(&hex(&current.parent_span_id)) {
            seen.push(parent.service.clone());
            current = (*parent).clone();
        }
        seen
    };
    let auth_span =
        trace.iter().find(|s| s.service == "marquee-auth" && service_of_parent(s).as_deref() == Some("marquee-base"));
    assert!(auth_span.is_some(), "an auth span whose parent is base's: {trace:#?}");
    let core_span = trace.iter().find(|s| s.service == "marquee-platform-core").unwrap();
    assert!(ancestry(core_span).contains(&"marquee-auth".to_owned()), "platform-core under auth: {trace:#?}");
    assert!(ancestry(core_span).contains(&"marquee-base".to_owned()), "and under base: {trace:#?}");
}

#[tokio::test]
async fn red_metrics_per_route_and_per_grpc_method() {
    let f = Fleet::start().await;
    let (owner, org) = f.owner().await;
    assert_eq!(f.call(Service::Base, Method::GET, "/v1/artists", &owner, org, None).await.status, 200);
    let missing =
        f.call(Service::Base, Method::GET, &format!("/v1/artists/{}", uuid::Uuid::now_v7()), &owner, org, None).await;
    assert_eq!(missing.status, 404);
    let metrics = |service| {
        let client = f.client(service).clone();
        async move { client.http.get(client.url("/metrics")).send().await.unwrap().text().await.unwrap() }
    };
    let base = metrics(Service::Base).await;
    for needle in [
        r#"http_requests_total{method="GET",route="/v1/artists",status="200"} 1"#,
        r#"http_requests_total{method="GET",route="/v1/artists/{id}",status="404"} 1"#,
        r#"http_request_duration_seconds_bucket{method="GET",route="/v1/artists",status="200""#,
    ] {
        assert!(base.contains(needle), "base /metrics lacks {needle}:\n{base}");
    }
    let auth = metrics(Service::Auth).await;
    for needle in [
        r#"grpc_requests_total{method="/marquee.auth.v1.Access/ResolveAccess",code="0"}"#,
        r#"grpc_request_duration_seconds_bucket{method="/marquee.auth.v1.Access/ResolveAccess",code="0""#,
    ] {
        assert!(auth.contains(needle), "auth /metrics lacks {needle}:\n{auth}");
    }
    let core = metrics(Service::PlatformCore).await;
    assert!(
        core.contains(
            r#"grpc_requests_total{method="/marquee.platform_core.v1.PlatformCore/GetEntitlements",code="0"}"#
        ),
        "{core}"
    );
}

#[tokio::test]
async fn log_lines_carry_request_trace_company_and_user() {
    let mut options = Options::default();
    options.env.push((Service::Base, "LOG_LEVEL".into(), "info,marquee_kit=debug".into()));
    let f = Fleet::start_with(options).await;
    let (owner, org) = f.owner().await;
    let base = f.client(Service::Base);
    let request = base
        .http
        .get(base.url("/v1/artists"))
        .bearer_auth(&owner)
        .header("x-org", org.to_string())
        .header("x-request-id", "story-request-1");
    assert_eq!(base.send(request).await.status, 200);
    let mut line = None;
    for _ in 0..50 {
        line = f
            .log(Service::Base)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|l| l["span"]["request_id"] == "story-request-1" && l["fields"]["message"] == "request served");
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = line.unwrap_or_else(|| panic!("no line for the request:\n{}", f.log(Service::Base)));
    let span = &line["span"];
    assert_eq!(span["company_id"], org.to_string(), "{line}");
    assert!(span["user_id"].as_str().is_some_and(|u| uuid::Uuid::parse_str(u).is_ok()), "{line}");
    assert!(span["trace_id"].as_str().is_some_and(|t| t.len() == 32 && t != "0".repeat(32)), "{line}");
    assert_eq!(span["http.route"], "/v1/artists", "{line}");
}
