//! Effective access = entitlements ∩ grants, its reasons, its revisions, and
//! failing closed when platform-core cannot answer.

use serde_json::json;
use uuid::Uuid;

use crate::fleet::{Fleet, Person, fleet};

const PERMISSION: &str = "financial.ledger.post";

async fn basic_only_package(f: &Fleet) -> String {
    let admin = f.admin().await;
    let code = format!("basic-{}", &Uuid::now_v7().simple().to_string()[24..]);
    let reply =
        f.core.post("/v1/packages", Some(&admin), &json!({"code": code, "name": "Basic", "modules": ["basic"]})).await;
    assert_eq!(reply.status, 201);
    code
}

/// Every combination of membership state × module entitled × permission
/// granted, over REST and gRPC: the permission counts only with all three.
#[tokio::test]
async fn the_full_table_of_membership_entitlement_and_grant() {
    let f = fleet().await;
    let basic_only = basic_only_package(&f).await;
    for membership in ["none", "suspended", "active"] {
        for entitled in [false, true] {
            for granted in [false, true] {
                let (company, owner) = f.company().await;
                let role = f
                    .custom_role(
                        company,
                        &owner.token,
                        "r",
                        if granted { &[PERMISSION, "basic.event.view"] } else { &["basic.event.view"] },
                    )
                    .await;
                let pat: Person = f.person().await;
                if membership != "none" {
                    assert_eq!(f.add(company, &owner.token, &pat, &[&role]).await.status, 201);
                }
                if membership == "suspended" {
                    assert_eq!(
                        f.patch_member(company, &owner.token, pat.id, json!({"status": "suspended"})).await.status,
                        200
                    );
                }
                if !entitled {
                    f.set_package(company, json!({"packageCode": basic_only, "status": "active"})).await;
                }
                let expected = membership == "active" && entitled && granted;
                let rest = f.my_access(company, &pat.token).await;
                assert_eq!(rest.status, 200, "{:?}", rest.body);
                let has = rest.data()["permissions"].as_array().unwrap().iter().any(|p| p == PERMISSION);
                assert_eq!(
                    has, expected,
                    "membership={membership} entitled={entitled} granted={granted}: {}",
                    rest.body
                );
                assert_eq!(rest.data()["membership"], membership);
                let grpc = f.resolve(&pat.token, company, 0).await.unwrap();
                assert_eq!(grpc.permissions.iter().any(|p| p == PERMISSION), expected);
                assert_eq!(grpc.session_status, marquee_proto::auth::v1::SessionStatus::Active as i32);
                if membership == "active" {
                    assert_eq!(grpc.modules.contains(&"financial".to_owned()), entitled, "{grpc:?} {}", rest.body);
                    assert!(grpc.permissions.contains(&"basic.event.view".to_owned()), "basic stays either way");
                    assert_eq!(grpc.limits.contains_key("maxMembers"), entitled, "limits come with the package");
                } else {
                    assert!(grpc.permissions.is_empty() && grpc.modules.is_empty());
                }
            }
        }
    }
}

#[tokio::test]
async fn explain_gives_the_deciding_reason() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let basic_only = basic_only_package(&f).await;
    let role = f.custom_role(company, &owner.token, "viewer", &["basic.event.view"]).await;
    let member = f.person().await;
    let outsider = f.person().await;
    assert_eq!(f.add(company, &owner.token, &member, &[&role]).await.status, 201);
    let explain = |user: Uuid, permission: &str| {
        let api = f.auth.clone();
        let token = owner.token.clone();
        let path = format!("/v1/companies/{company}/access/explain?userId={user}&permission={permission}");
        async move {
            let reply = api.get(&path, Some(&token)).await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            reply.data().clone()
        }
    };
    let e = explain(member.id, "basic.event.view").await;
    assert_eq!((e["allowed"].as_bool(), e["reason"].as_str()), (Some(true), Some("GRANTED")));
    assert_eq!(e["grantingRoles"], json!(["viewer"]));
    assert_eq!(e["packageCode"], "standard");
    assert_eq!(explain(member.id, "basic.event.create").await["reason"], "NOT_GRANTED");
    assert_eq!(explain(outsider.id, "basic.event.view").await["reason"], "NO_MEMBERSHIP");
    assert_eq!(explain(member.id, "basic.nothing.view").await["reason"], "UNKNOWN_PERMISSION");
    f.set_package(company, json!({"packageCode": basic_only, "status": "active"})).await;
    assert_eq!(explain(owner.id, PERMISSION).await["reason"], "MODULE_NOT_ENTITLED");
    let admin = f.admin().await;
    let code = format!("narrow-{}", &Uuid::now_v7().simple().to_string()[24..]);
    f.core
        .post(
            "/v1/packages",
            Some(&admin),
            &json!({"code": code, "name": "Narrow", "modules": ["basic"], "permissions": ["basic.event.view"]}),
        )
        .await;
    f.set_package(company, json!({"packageCode": code, "status": "active"})).await;
    assert_eq!(explain(owner.id, "basic.event.create").await["reason"], "PERMISSION_NOT_ENTITLED");
    f.set_package(company, json!({"packageCode": code, "status": "canceled"})).await;
    let e = explain(owner.id, "basic.event.view").await;
    assert_eq!(e["reason"], "SUBSCRIPTION_NOT_ENTITLING");
    assert_eq!(e["subscriptionStatus"], "canceled");
    assert_eq!(f.patch_member(company, &owner.token, member.id, json!({"status": "suspended"})).await.status, 200);
    assert_eq!(explain(member.id, "basic.event.view").await["reason"], "MEMBERSHIP_SUSPENDED");
    // Only admins may ask.
    let asked = f
        .auth
        .get(&format!("/v1/companies/{company}/access/explain?userId={}&permission=x", owner.id), Some(&outsider.token))
        .await;
    assert_eq!(asked.status, 404);
}

/// The company's revision once it has reached `at_least` (an entitlement
/// change is counted when auth hears of it).
async fn settled_revision(f: &Fleet, token: &str, company: Uuid, at_least: u64) -> u64 {
    for _ in 0..200 {
        let now = f.resolve(token, company, 0).await.unwrap().revision;
        if now >= at_least {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the company's revision never reached {at_least}");
}

#[tokio::test]
async fn a_write_returns_the_very_revision_that_reads_answer_with() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let created = f.resolve(&owner.token, company, 0).await.unwrap().revision;
    let role = f.custom_role(company, &owner.token, "viewer", &["basic.event.view"]).await;
    let pat = f.person().await;
    let added = f.add(company, &owner.token, &pat, &[&role]).await;
    let r1 = added.data()["revision"].as_u64().unwrap();
    assert!(r1 > created);
    let before = f.resolve(&pat.token, company, r1).await.unwrap();
    assert_eq!(before.permissions, ["basic.event.view"]);
    // One number over grants and entitlements: what a write returns is what
    // reads answer with until the next change, never that plus something else.
    assert_eq!(before.revision, r1);

    let granted = f.patch_member(company, &owner.token, pat.id, json!({"grants": ["basic.event.create"]})).await;
    let r2 = granted.data()["revision"].as_u64().unwrap();
    assert_eq!(r2, r1 + 1, "one grant, one step");
    let after = f.resolve(&pat.token, company, r2).await.unwrap();
    assert_eq!(after.revision, r2);
    assert_eq!(after.permissions, ["basic.event.create", "basic.event.view"]);
    let me = f
        .auth
        .send(f.auth.http.get(f.auth.url("/v1/me/access")).bearer_auth(&pat.token).header("x-org", company.to_string()))
        .await;
    assert_eq!(me.data()["revision"].as_u64(), Some(r2));

    // A revision the company has never reached is refused as such: retrying cannot help.
    let err = f.resolve(&pat.token, company, r2 + 1000).await.unwrap_err();
    assert!(err.message().starts_with("REVISION_NOT_REACHED:"), "{err:?}");
    let rest = f
        .auth
        .send(
            f.auth
                .http
                .get(f.auth.url("/v1/me/access"))
                .bearer_auth(&pat.token)
                .header("x-org", company.to_string())
                .header("x-access-revision", (r2 + 1000).to_string()),
        )
        .await;
    assert_eq!((rest.status.as_u16(), rest.code()), (409, "REVISION_NOT_REACHED"));

    // An entitlement change raises the same number, exactly once.
    let admin_basic = basic_only_package(&f).await;
    f.set_package(company, json!({"packageCode": admin_basic, "status": "active"})).await;
    assert_eq!(settled_revision(&f, &pat.token, company, r2 + 1).await, r2 + 1);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(f.resolve(&pat.token, company, 0).await.unwrap().revision, r2 + 1);
}

#[tokio::test]
async fn platform_core_stopped_means_unavailable_never_a_guess() {
    let mut f = fleet().await;
    let (company, owner) = f.company().await;
    assert!(f.resolve(&owner.token, company, 0).await.is_ok());
    drop(f.core_stop.take());
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let err = f.resolve(&owner.token, company, 0).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable, "{err:?}");
    let rest = f.my_access(company, &owner.token).await;
    assert_eq!(rest.status, 503);
    assert!(rest.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn resolve_access_checks_the_caller_the_token_and_the_session() {
    use marquee_proto::auth::v1::access_client::AccessClient;
    use marquee_proto::auth::v1::{ResolveAccessRequest, SessionStatus};
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let request = |token: &str| ResolveAccessRequest {
        access_token: token.to_owned(),
        company_id: company.to_string(),
        min_revision: 0,
    };

    let mut anonymous = AccessClient::connect(f.auth_grpc_url.clone()).await.unwrap();
    assert_eq!(anonymous.resolve_access(request(&owner.token)).await.unwrap_err().code(), tonic::Code::Unauthenticated);

    assert_eq!(f.resolve("not-a-token", company, 0).await.unwrap_err().code(), tonic::Code::Unauthenticated);

    // Answered once, so the session is remembered; the logout must still count at once.
    assert_eq!(f.resolve(&owner.token, company, 0).await.unwrap().session_status, SessionStatus::Active as i32);
    assert_eq!(f.auth.post("/v1/auth/logout", Some(&owner.token), &json!({})).await.status, 200);
    let answer = f.resolve(&owner.token, company, 0).await.unwrap();
    assert_eq!(answer.session_status, SessionStatus::Revoked as i32);
    assert!(answer.permissions.is_empty());

    let missing = f.auth.get("/v1/me/access", Some(&f.person().await.token)).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.code(), "MISSING_ORG");
}

/// A warm answer comes from memory, yet a change made here is seen by the very
/// next call, without demanding its revision.
#[tokio::test]
async fn a_remembered_answer_gives_way_to_the_next_change_at_once() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let role = f.custom_role(company, &owner.token, "viewer", &["basic.event.view"]).await;
    let pat = f.person().await;
    assert_eq!(f.add(company, &owner.token, &pat, &[&role]).await.status, 201);
    for _ in 0..3 {
        assert_eq!(f.resolve(&pat.token, company, 0).await.unwrap().permissions, ["basic.event.view"]);
    }
    let granted = f.patch_member(company, &owner.token, pat.id, json!({"grants": ["basic.event.create"]})).await;
    assert_eq!(granted.status, 200);
    assert_eq!(
        f.resolve(&pat.token, company, 0).await.unwrap().permissions,
        ["basic.event.create", "basic.event.view"]
    );
    let suspended = f.patch_member(company, &owner.token, pat.id, json!({"status": "suspended"})).await;
    assert_eq!(suspended.status, 200);
    let answer = f.resolve(&pat.token, company, 0).await.unwrap();
    assert!(answer.permissions.is_empty());
    assert_eq!(answer.membership_status, marquee_proto::auth::v1::MembershipStatus::Suspended as i32);
}
