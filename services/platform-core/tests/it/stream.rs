//! The change stream auth keeps its caches fresh with.

use std::time::Duration;

use futures::StreamExt;
use marquee_proto::platform_core::v1::{WatchEntitlementsRequest, entitlement_event::Event};
use serde_json::json;
use uuid::Uuid;

use crate::harness::{Harness, SERVICE_TOKEN, Shared, boot, grpc_client, start};

type Events = tonic::Streaming<marquee_proto::platform_core::v1::EntitlementEvent>;

async fn next_change(events: &mut Events, company: Uuid) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("a change arrives within a second")
            .expect("the stream stays open")
            .expect("no stream error");
        if let Some(Event::Changed(change)) = event.event
            && change.company_id == company.to_string()
        {
            return change.revision;
        }
    }
}

async fn watch(h: &Harness) -> Events {
    h.grpc().await.watch_entitlements(WatchEntitlementsRequest {}).await.unwrap().into_inner()
}

#[tokio::test]
async fn a_subscription_edit_arrives_on_the_stream() {
    let h = start().await;
    let package = h.basic_package().await;
    let mut events = watch(&h).await;
    let company = Uuid::now_v7();

    h.subscribe(company, json!({"packageCode": package, "status": "active"})).await;
    assert_eq!(next_change(&mut events, company).await, 1);
    h.subscribe(company, json!({"packageCode": package, "status": "canceled"})).await;
    assert_eq!(next_change(&mut events, company).await, 2);
}

#[tokio::test]
async fn the_stream_carries_heartbeats() {
    let h = start().await;
    let mut events = watch(&h).await;
    let mut beats = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while beats < 3 {
        let event = tokio::time::timeout_at(deadline, events.next()).await.expect("heartbeats keep coming");
        if let Some(Ok(e)) = event
            && matches!(e.event, Some(Event::Heartbeat(_)))
        {
            beats += 1;
        }
    }
}

/// Across replicas the fan-out goes through Redis: a change made on one
/// instance reaches the watchers of another.
#[tokio::test]
async fn changes_reach_watchers_of_every_replica() {
    if marquee_testkit::required_server("TEST_REDIS_URL", "the cross-replica path (Redis)").is_none() {
        return;
    }
    let shared = Shared::new().await;
    let keys = marquee_testkit::TestKeys::generate();
    let jwks = marquee_testkit::JwksServer::start(keys.jwks()).await;
    let clock = marquee_kit::Clock::System;
    let (api_a, _grpc_a, _stop_a) = boot(&shared, &jwks.url, clock.clone()).await;
    let (_api_b, grpc_b, _stop_b) = boot(&shared, &jwks.url, clock).await;
    let admin = keys.token("platform_admin").1;

    let mut events = grpc_client(&grpc_b, SERVICE_TOKEN)
        .await
        .watch_entitlements(WatchEntitlementsRequest {})
        .await
        .unwrap()
        .into_inner();
    let company = Uuid::now_v7();
    let reply = api_a
        .put(
            &format!("/v1/companies/{company}/subscription"),
            Some(&admin),
            &json!({"packageCode": "standard", "status": "active"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(next_change(&mut events, company).await, 1);
}
