//! API keys: created by admins within their own permissions, shown once,
//! stored hashed, exchanged for short-lived tokens, revoked at once.

use marquee_proto::auth::v1::{MembershipStatus, SessionStatus};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fleet::{Fleet, fleet, fleet_with};

fn keys(company: Uuid) -> String {
    format!("/v1/companies/{company}/api-keys")
}

async fn create(f: &Fleet, company: Uuid, token: &str, body: Value) -> marquee_testkit::Reply {
    f.auth.post(&keys(company), Some(token), &body).await
}

async fn exchange(f: &Fleet, id: &str, secret: &str) -> marquee_testkit::Reply {
    f.auth
        .post(
            "/v1/auth/token",
            None,
            &json!({"grantType": "client_credentials", "clientId": id, "clientSecret": secret}),
        )
        .await
}

/// What auth's database holds of a key's secret.
async fn stored_hash(f: &Fleet, prefix: &str) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let db = marquee_db::connect(&f.auth_env["DATABASE_URL"], 1).await.unwrap();
    let sql = format!("SELECT secret_hash FROM api_keys WHERE prefix = '{prefix}'");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get("", "secret_hash").unwrap()
}

/// A key's id and secret, and the token they are exchanged for.
async fn key_token(f: &Fleet, company: Uuid, admin: &str, permissions: &[&str]) -> (String, String, String) {
    let created = create(f, company, admin, json!({"name": "CRM sync", "permissions": permissions})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let secret = created.data()["secret"].as_str().unwrap().to_owned();
    let token = exchange(f, &id, &secret).await;
    assert_eq!(token.status, 200, "{:?}", token.body);
    (id, secret, token.data()["accessToken"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_key_is_shown_once_stored_hashed_and_acts_within_what_it_names() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let created = create(
        &f,
        company,
        &owner.token,
        json!({"name": " CRM sync ", "permissions": ["basic.event.view", "basic.ticketing.view"]}),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let data = created.data().clone();
    let secret = data["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mqk_") && secret.len() > 40, "{secret}");
    assert_eq!(data["prefix"], secret[..12]);
    assert_eq!(data["name"], "CRM sync");
    assert_eq!(data["status"], "active");
    assert_eq!(data["createdBy"], owner.id.to_string());
    let id = data["id"].as_str().unwrap().to_owned();

    // Listed and read without its secret; the database holds only its hash.
    let listed = f.auth.get(&keys(company), Some(&owner.token)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.data()[0]["id"], id.as_str());
    assert!(listed.data()[0].get("secret").is_none());
    assert!(!listed.body.to_string().contains(&secret));
    let one = f.auth.get(&format!("{}/{id}", keys(company)), Some(&owner.token)).await;
    assert_eq!(one.data()["prefix"], data["prefix"]);
    assert!(one.data().get("secret").is_none());
    assert_eq!(stored_hash(&f, &secret[..12]).await, marquee_kit::tokens::token_hash(&secret));

    // The grant: a short-lived token for the key's company.
    let token = exchange(&f, &id, &secret).await;
    assert_eq!(token.status, 200, "{:?}", token.body);
    assert_eq!(token.data()["tokenType"], "Bearer");
    assert_eq!(token.data()["companyId"], company.to_string());
    assert_eq!(token.data()["expiresIn"], 900);
    let access_token = token.data()["accessToken"].as_str().unwrap();

    let decision = f.resolve(access_token, company, 0).await.unwrap();
    assert_eq!(decision.session_status, SessionStatus::Active as i32);
    assert_eq!(decision.membership_status, MembershipStatus::Active as i32);
    assert_eq!(decision.user_id, id);
    assert_eq!(decision.permissions, ["basic.event.view", "basic.ticketing.view"]);
    assert!(decision.roles.is_empty());

    // Its last use is visible.
    let one = f.auth.get(&format!("{}/{id}", keys(company)), Some(&owner.token)).await;
    assert!(one.data()["lastUsedAt"].is_string(), "{:?}", one.body);

    // In another company it is nobody.
    let (other, _) = f.company().await;
    let decision = f.resolve(access_token, other, 0).await.unwrap();
    assert_eq!(decision.membership_status, MembershipStatus::None as i32);
    assert!(decision.permissions.is_empty());

    // A key's token opens none of auth's own routes.
    let mine = f.auth.get("/v1/companies", Some(access_token)).await;
    assert_eq!((mine.status.as_u16(), mine.code()), (403, "API_KEY_NOT_ALLOWED"));
    let nested = create(&f, company, access_token, json!({"name": "x", "permissions": ["basic.event.view"]})).await;
    assert_eq!((nested.status.as_u16(), nested.code()), (403, "API_KEY_NOT_ALLOWED"));
}

#[tokio::test]
async fn every_wrong_grant_gets_the_same_refusal() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let created =
        create(&f, company, &owner.token, json!({"name": "Door app", "permissions": ["basic.event.view"]})).await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let secret = created.data()["secret"].as_str().unwrap().to_owned();

    for (client, secret) in [
        (id.as_str(), "mqk_wrong"),
        (id.as_str(), ""),
        (&Uuid::now_v7().to_string(), secret.as_str()),
        ("not-a-uuid", secret.as_str()),
    ] {
        let r = exchange(&f, client, secret).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "INVALID_CLIENT"), "{client} {:?}", r.body);
    }
    let wrong_grant = f
        .auth
        .post("/v1/auth/token", None, &json!({"grantType": "password", "clientId": id, "clientSecret": secret}))
        .await;
    assert_eq!((wrong_grant.status.as_u16(), wrong_grant.fields()), (400, vec!["grantType".to_owned()]));
    let huge = "x".repeat(100_000);
    let r = exchange(&f, &id, &huge).await;
    assert_eq!((r.status.as_u16(), r.fields()), (400, vec!["clientSecret".to_owned()]));
    assert_eq!(exchange(&f, &id, &secret).await.status, 200);
}

#[tokio::test]
async fn only_admins_manage_keys_and_bad_keys_are_refused_by_field() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let stranger = f.person().await;
    let r = create(&f, company, &stranger.token, json!({"name": "x", "permissions": ["basic.event.view"]})).await;
    assert_eq!(r.status, 404, "a stranger learns nothing of the company");
    assert_eq!(f.auth.get(&keys(company), Some(&stranger.token)).await.status, 404);
    assert_eq!(f.auth.get(&keys(company), None).await.status, 401);

    // A member (not an admin) may not manage keys.
    let member = f.person().await;
    let roles = f.roles(company, &owner.token).await;
    assert_eq!(f.add(company, &owner.token, &member, &[&roles["member"]]).await.status, 201);
    let r = create(&f, company, &member.token, json!({"name": "x", "permissions": ["basic.event.view"]})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "TENANT_ADMIN_REQUIRED"));
    assert_eq!(f.auth.get(&keys(company), Some(&member.token)).await.status, 403);

    // Unknown, pattern and empty permission lists are refused with the field.
    for permissions in [json!(["basic.magic.cast"]), json!(["basic.*"]), json!([])] {
        let r = create(&f, company, &owner.token, json!({"name": "x", "permissions": permissions})).await;
        assert_eq!(
            (r.status.as_u16(), r.fields()),
            (400, vec!["permissions".to_owned()]),
            "{permissions} {:?}",
            r.body
        );
    }
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let r =
        create(&f, company, &owner.token, json!({"name": "x", "permissions": ["basic.event.view"], "expiresAt": past}))
            .await;
    assert_eq!((r.status.as_u16(), r.fields()), (400, vec!["expiresAt".to_owned()]));
    let r = create(&f, company, &owner.token, json!({"name": "", "permissions": ["basic.event.view"]})).await;
    assert_eq!((r.status.as_u16(), r.fields()), (400, vec!["name".to_owned()]));
}

#[tokio::test]
async fn a_key_never_does_more_than_its_creator_still_may() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let roles = f.roles(company, &owner.token).await;
    let admin = f.person().await;
    assert_eq!(f.add(company, &owner.token, &admin, &[&roles["admin"]]).await.status, 201);
    let (id, _, token) = key_token(&f, company, &admin.token, &["basic.event.view", "basic.event.create"]).await;
    let decision = f.resolve(&token, company, 0).await.unwrap();
    assert_eq!(decision.permissions, ["basic.event.create", "basic.event.view"]);

    // The creator becomes a plain member: the key keeps only what a member may.
    let r = f.patch_member(company, &owner.token, admin.id, json!({"roleIds": [roles["member"]]})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let revision = r.data()["revision"].as_u64().unwrap();
    let decision = f.resolve(&token, company, revision).await.unwrap();
    assert_eq!(decision.permissions, ["basic.event.view"]);
    assert_eq!(decision.user_id, id);

    // The creator leaves: the key does nothing more.
    let r = f.auth.delete(&format!("/v1/companies/{company}/members/{}", admin.id), Some(&owner.token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let decision = f.resolve(&token, company, 0).await.unwrap();
    assert_eq!(decision.membership_status, MembershipStatus::None as i32);
    assert!(decision.permissions.is_empty());
}

#[tokio::test]
async fn revoked_and_expired_keys_stop_at_once_and_say_so() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let (id, secret, token) = key_token(&f, company, &owner.token, &["basic.event.view"]).await;
    let path = format!("{}/{id}", keys(company));

    let r = f.auth.delete(&path, Some(&owner.token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["status"], "revoked");
    assert_eq!(r.data()["revokedBy"], owner.id.to_string());
    let again = f.auth.delete(&path, Some(&owner.token)).await;
    assert_eq!((again.status.as_u16(), &again.data()["revokedAt"]), (200, &r.data()["revokedAt"]));
    let decision = f.resolve(&token, company, 0).await.unwrap();
    assert_eq!(decision.session_status, SessionStatus::Revoked as i32);
    assert_eq!(exchange(&f, &id, &secret).await.code(), "INVALID_CLIENT");
    let audit = f.auth.get(&format!("/v1/companies/{company}/audit"), Some(&owner.token)).await;
    let actions: Vec<&str> = audit.data().as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"api_key.created") && actions.contains(&"api_key.revoked"), "{actions:?}");
    let other = Uuid::now_v7();
    assert_eq!(f.auth.delete(&format!("{}/{other}", keys(company)), Some(&owner.token)).await.status, 404);

    // An expiring key: its token lives no longer than the key.
    let at = (f.clock.now() + chrono::Duration::minutes(10)).to_rfc3339();
    let created = create(
        &f,
        company,
        &owner.token,
        json!({"name": "Short", "permissions": ["basic.event.view"], "expiresAt": at}),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let (id, secret) = (created.data()["id"].as_str().unwrap(), created.data()["secret"].as_str().unwrap());
    let granted = exchange(&f, id, secret).await;
    assert!(granted.data()["expiresIn"].as_u64().unwrap() <= 600, "{:?}", granted.body);
    f.clock.advance(chrono::Duration::minutes(11));
    let r = exchange(&f, id, secret).await;
    assert_eq!(r.code(), "INVALID_CLIENT");
    let listed = f.auth.get(&format!("{}/{id}", keys(company)), Some(&owner.token)).await;
    assert_eq!(listed.data()["status"], "expired");
}

#[tokio::test]
async fn grants_are_rate_limited_per_key() {
    let f = fleet_with(&[("API_KEY_TOKEN_RATE_LIMIT", "3")]).await;
    let (company, owner) = f.company().await;
    let (id, secret, _) = key_token(&f, company, &owner.token, &["basic.event.view"]).await;
    assert_eq!(exchange(&f, &id, &secret).await.status, 200);
    assert_eq!(exchange(&f, &id, &secret).await.status, 200);
    let limited = exchange(&f, &id, &secret).await;
    assert_eq!((limited.status.as_u16(), limited.code()), (429, "RATE_LIMITED"));
    assert!(limited.headers.contains_key("retry-after"));
    // Another key of the same company is not slowed by it.
    let (other, other_secret, _) = key_token(&f, company, &owner.token, &["basic.event.view"]).await;
    assert_eq!(exchange(&f, &other, &other_secret).await.status, 200);
}

/// Creations at once never pass the company's number of working keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_made_at_once_never_pass_the_limit() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let body = json!({"name": "Sync", "permissions": ["basic.event.view"]});
    for _ in 0..80 {
        assert_eq!(create(&f, company, &owner.token, body.clone()).await.status, 201);
    }
    let attempts: Vec<_> = (0..40)
        .map(|_| {
            let (api, token, body) = (f.auth.clone(), owner.token.clone(), body.clone());
            tokio::spawn(async move { api.post(&keys(company), Some(&token), &body).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        let r = attempt.await.unwrap();
        if r.status == 409 {
            assert_eq!(r.code(), "TOO_MANY_KEYS");
        }
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 20, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 20, "{statuses:?}");
    let listed = f.auth.get(&format!("{}?limit=1", keys(company)), Some(&owner.token)).await;
    assert_eq!(listed.body["pagination"]["total"], 100, "{:?}", listed.body);
}
