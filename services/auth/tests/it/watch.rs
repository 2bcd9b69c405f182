//! `WatchAccess`: every kind of change arrives within a second, with heartbeats.

use std::time::Duration;

use futures::StreamExt;
use marquee_proto::auth::v1::{AccessChangeKind, AccessEvent, WatchAccessRequest, access_event::Event};
use serde_json::json;

use crate::fleet::fleet;

type Events = tonic::Streaming<AccessEvent>;

async fn next_change(
    events: &mut Events,
    kind: AccessChangeKind,
    matches: impl Fn(&marquee_proto::auth::v1::AccessChange) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("{kind:?} did not arrive within a second"))
            .expect("stream open")
            .expect("no error");
        if let Some(Event::Change(change)) = event.event
            && change.kind == kind as i32
            && matches(&change)
        {
            return;
        }
    }
}

#[tokio::test]
async fn changes_arrive_on_the_stream_within_a_second() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let roles = f.roles(company, &owner.token).await;
    let pat = f.person().await;
    assert_eq!(f.add(company, &owner.token, &pat, &[&roles["member"]]).await.status, 201);
    let mut events = f.grpc().await.watch_access(WatchAccessRequest {}).await.unwrap().into_inner();
    let company_id = company.to_string();
    let user_id = pat.id.to_string();

    // Heartbeats first: the stream is live.
    let beat = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            if let Some(Ok(AccessEvent { event: Some(Event::Heartbeat(_)) })) = events.next().await {
                return;
            }
        }
    })
    .await;
    assert!(beat.is_ok(), "heartbeats arrive");

    // Role removed.
    assert_eq!(f.patch_member(company, &owner.token, pat.id, json!({"roleIds": []})).await.status, 200);
    next_change(&mut events, AccessChangeKind::RoleChanged, |c| {
        c.company_id == company_id && c.user_id == user_id && c.revision > 0
    })
    .await;

    // Member suspended.
    assert_eq!(f.patch_member(company, &owner.token, pat.id, json!({"status": "suspended"})).await.status, 200);
    next_change(&mut events, AccessChangeKind::MembershipChanged, |c| c.user_id == user_id).await;

    // Subscription canceled in platform-core.
    f.set_package(company, json!({"packageCode": "standard", "status": "canceled"})).await;
    next_change(&mut events, AccessChangeKind::EntitlementsChanged, |c| c.company_id == company_id).await;

    // Session revoked.
    assert_eq!(f.auth.post("/v1/auth/logout", Some(&pat.token), &json!({})).await.status, 200);
    next_change(&mut events, AccessChangeKind::SessionRevoked, |c| c.user_id == user_id && !c.session_id.is_empty())
        .await;
}

#[tokio::test]
async fn the_stream_refuses_anonymous_watchers() {
    use marquee_proto::auth::v1::access_client::AccessClient;
    let f = fleet().await;
    let mut anonymous = AccessClient::connect(f.auth_grpc_url.clone()).await.unwrap();
    let err = anonymous.watch_access(WatchAccessRequest {}).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
}

/// A company with an owner and a member, and a client of a second auth
/// replica; None (the test has nothing to prove) without Redis, since the
/// cross-replica path runs through it.
struct Replicated {
    f: crate::fleet::Fleet,
    company: uuid::Uuid,
    owner: crate::fleet::Person,
    pat: crate::fleet::Person,
    client: crate::fleet::Access,
    _stop: tokio_util::sync::DropGuard,
}

async fn replicated() -> Option<Replicated> {
    use marquee_kit::grpc::ServiceCredentials;
    use marquee_proto::auth::v1::access_client::AccessClient;
    marquee_testkit::required_server("TEST_REDIS_URL", "the cross-replica path (Redis)")?;
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let roles = f.roles(company, &owner.token).await;
    let pat = f.person().await;
    assert_eq!(f.add(company, &owner.token, &pat, &[&roles["member"]]).await.status, 201);
    let (replica, _stop) = f.replica().await;
    let channel = tonic::transport::Endpoint::from_shared(replica).unwrap().connect().await.unwrap();
    let client = AccessClient::with_interceptor(channel, ServiceCredentials::new(crate::fleet::SERVICE_TOKEN).unwrap());
    Some(Replicated { f, company, owner, pat, client, _stop })
}

/// With Redis, a change made through one auth replica reaches the watchers of another.
#[tokio::test]
async fn changes_reach_watchers_of_every_auth_replica() {
    let Some(Replicated { f, company, owner, pat, mut client, _stop }) = replicated().await else { return };
    let mut events = client.watch_access(WatchAccessRequest {}).await.unwrap().into_inner();
    let user_id = pat.id.to_string();
    assert_eq!(f.patch_member(company, &owner.token, pat.id, json!({"status": "suspended"})).await.status, 200);
    next_change(&mut events, AccessChangeKind::MembershipChanged, |c| c.user_id == user_id).await;
}

/// With Redis, a replica that answered from memory hears a change made
/// through another replica before it tells its own watchers: whoever reacts
/// to the notice by asking again gets the new answer.
#[tokio::test]
async fn a_replica_forgets_what_a_change_elsewhere_made_untrue_before_announcing_it() {
    use marquee_proto::auth::v1::{MembershipStatus, ResolveAccessRequest, SessionStatus};
    let Some(Replicated { f, company, owner, pat, mut client, _stop }) = replicated().await else { return };
    let request = |token: &str| ResolveAccessRequest {
        access_token: token.to_owned(),
        company_id: company.to_string(),
        min_revision: 0,
    };
    for _ in 0..3 {
        let warm = client.resolve_access(request(&pat.token)).await.unwrap().into_inner();
        assert_eq!(warm.membership_status, MembershipStatus::Active as i32);
        let owner_warm = client.resolve_access(request(&owner.token)).await.unwrap().into_inner();
        assert_eq!(owner_warm.session_status, SessionStatus::Active as i32);
    }
    let mut events = client.watch_access(WatchAccessRequest {}).await.unwrap().into_inner();

    let user_id = pat.id.to_string();
    assert_eq!(f.patch_member(company, &owner.token, pat.id, json!({"status": "suspended"})).await.status, 200);
    next_change(&mut events, AccessChangeKind::MembershipChanged, |c| c.user_id == user_id).await;
    let after = client.resolve_access(request(&pat.token)).await.unwrap().into_inner();
    assert_eq!(after.membership_status, MembershipStatus::Suspended as i32);

    let owner_id = owner.id.to_string();
    assert_eq!(f.auth.post("/v1/auth/logout", Some(&owner.token), &json!({})).await.status, 200);
    next_change(&mut events, AccessChangeKind::SessionRevoked, |c| c.user_id == owner_id).await;
    let after = client.resolve_access(request(&owner.token)).await.unwrap().into_inner();
    assert_eq!(after.session_status, SessionStatus::Revoked as i32);
}
