use crate::harness::{start, strings};

#[tokio::test]
async fn the_catalog_lists_modules_with_their_permissions() {
    let h = start().await;
    let reply = h.api.get("/v1/modules", Some(&h.admin)).await;
    assert_eq!(reply.status, 200);
    let modules = reply.data().as_array().unwrap().clone();
    let codes: Vec<&str> = modules.iter().map(|m| m["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["basic", "financial"]);

    let permissions = |i: usize| -> Vec<String> {
        modules[i]["permissions"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect()
    };
    let basic = permissions(0);
    for expected in [
        "basic.dashboard.view",
        "basic.artist.delete",
        "basic.event.create",
        "basic.calendar.edit",
        "basic.vendor.view",
        "basic.venue.edit",
        "basic.ticketing.create",
        "basic.offer.delete",
        "basic.workspace.view",
        "basic.media.create",
    ] {
        assert!(basic.contains(&expected.to_owned()), "{expected} missing from {basic:?}");
    }
    assert!(!basic.contains(&"basic.ticketing.delete".to_owned()));
    let financial = permissions(1);
    for expected in [
        "financial.ledger.post",
        "financial.expense.approve",
        "financial.income.create",
        "financial.settlement.finalize",
        "financial.payout.create",
        "financial.report.view",
    ] {
        assert!(financial.contains(&expected.to_owned()), "{expected} missing");
    }
    assert_eq!(financial.len(), 16);

    // The same catalog over gRPC, for auth.
    let mut grpc = h.grpc().await;
    let catalog =
        grpc.list_modules(marquee_proto::platform_core::v1::ListModulesRequest {}).await.unwrap().into_inner();
    assert_eq!(catalog.modules.len(), 2);
    assert_eq!(catalog.modules[1].permissions.len(), 16);
}

#[tokio::test]
async fn the_default_package_ships_with_the_catalog() {
    let h = start().await;
    let reply = h.api.get("/v1/packages/standard", Some(&h.admin)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(strings(&reply.data()["modules"]), ["basic", "financial"]);
    assert!(strings(&reply.data()["permissions"]).contains(&"financial.ledger.post".to_owned()));
}

#[tokio::test]
async fn operations_endpoints_answer() {
    let h = start().await;
    let reply = h.api.get("/healthz", None).await;
    assert_eq!(reply.status, 200);
    let reply = h.api.get("/readyz", None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);

    // Request ids are echoed, or made.
    let response =
        h.api.http.get(h.api.url("/v1/modules")).header("x-request-id", "trace-me-123").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    for header in [
        "strict-transport-security",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "content-security-policy",
    ] {
        assert!(response.headers().contains_key(header), "{header} missing");
    }
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["requestId"], "trace-me-123");

    let metrics = h.api.http.get(h.api.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
}

#[tokio::test]
async fn grpc_health_reports_serving() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let h = start().await;
    let channel = tonic::transport::Endpoint::from_shared(h.grpc_url.clone()).unwrap().connect().await.unwrap();
    let mut health = HealthClient::new(channel);
    let answer = health
        .check(HealthCheckRequest { service: "marquee.platform_core.v1.PlatformCore".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
}
