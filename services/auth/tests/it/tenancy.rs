//! Companies, members, roles, invitations and the rules around them.

use serde_json::json;
use uuid::Uuid;

use crate::fleet::{fleet, fleet_with};

#[tokio::test]
async fn a_new_company_has_its_creator_as_owner_and_a_trial() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let mine = f.auth.get("/v1/companies", Some(&owner.token)).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.data()[0]["id"], company.to_string());
    assert_eq!(mine.data()[0]["roles"], json!(["owner"]));
    let admin = f.admin().await;
    let sub = f.core.get(&format!("/v1/companies/{company}/subscription"), Some(&admin)).await;
    assert_eq!(sub.data()["status"], "trialing");
    assert_eq!(sub.data()["package"]["code"], "standard");
    let roles = f.roles(company, &owner.token).await;
    assert!(roles.contains_key("owner") && roles.contains_key("admin") && roles.contains_key("member"));

    let bad = f.auth.post("/v1/companies", Some(&owner.token), &json!({"name": ""})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(f.auth.post("/v1/companies", None, &json!({"name": "X"})).await.status, 401);
}

#[tokio::test]
async fn custom_roles_must_use_catalog_permissions() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let path = format!("/v1/companies/{company}/roles");
    let bad =
        f.auth.post(&path, Some(&owner.token), &json!({"name": "Wizards", "permissions": ["basic.magic.cast"]})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.fields(), ["permissions"]);
    let role = f.custom_role(company, &owner.token, "Bookers", &["basic.event.view", "basic.offer.create"]).await;
    let dup = f.auth.post(&path, Some(&owner.token), &json!({"name": "bookers", "permissions": []})).await;
    assert_eq!(dup.status, 409);

    let pat = f.person().await;
    assert_eq!(f.add(company, &owner.token, &pat, &[&role]).await.status, 201);
    let access = f.my_access(company, &pat.token).await;
    assert_eq!(access.status, 200, "{:?}", access.body);
    assert_eq!(access.data()["permissions"], json!(["basic.event.view", "basic.offer.create"]));

    // Editing the role changes the member's access.
    let edit = f
        .auth
        .send(
            f.auth
                .http
                .patch(f.auth.url(&format!("{path}/{role}")))
                .bearer_auth(&owner.token)
                .json(&json!({"permissions": ["basic.event.view"]})),
        )
        .await;
    assert_eq!(edit.status, 200, "{:?}", edit.body);
    let access = f.my_access(company, &pat.token).await;
    assert_eq!(access.data()["permissions"], json!(["basic.event.view"]));

    // System roles are fixed.
    let roles = f.roles(company, &owner.token).await;
    let system = f
        .auth
        .send(
            f.auth
                .http
                .patch(f.auth.url(&format!("{path}/{}", roles["member"])))
                .bearer_auth(&owner.token)
                .json(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(system.status, 409);
    assert_eq!(system.code(), "SYSTEM_ROLE");
    let deleted =
        f.auth.send(f.auth.http.delete(f.auth.url(&format!("{path}/{role}"))).bearer_auth(&owner.token)).await;
    assert_eq!(deleted.status, 200);
    let access = f.my_access(company, &pat.token).await;
    assert_eq!(access.data()["permissions"], json!([]));
}

#[tokio::test]
async fn nobody_grants_above_their_own_and_a_company_keeps_an_owner() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let roles = f.roles(company, &owner.token).await;
    let admin = f.person().await;
    let plain = f.person().await;
    assert_eq!(f.add(company, &owner.token, &admin, &[&roles["admin"]]).await.status, 201);
    assert_eq!(f.add(company, &admin.token, &plain, &[&roles["member"]]).await.status, 201);

    // A member manages nothing.
    let refused = f.patch_member(company, &plain.token, admin.id, json!({"status": "suspended"})).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "TENANT_ADMIN_REQUIRED");
    // An admin cannot hand out ownership, nor touch an owner.
    let up = f.patch_member(company, &admin.token, plain.id, json!({"roleIds": [roles["owner"]]})).await;
    assert_eq!(up.status, 403);
    assert_eq!(up.code(), "OWNER_REQUIRED");
    let down = f.patch_member(company, &admin.token, owner.id, json!({"status": "suspended"})).await;
    assert_eq!(down.status, 403);
    // An admin can give what they have.
    let grants = f.patch_member(company, &admin.token, plain.id, json!({"grants": ["basic.event.create"]})).await;
    assert_eq!(grants.status, 200, "{:?}", grants.body);
    let unknown = f.patch_member(company, &admin.token, plain.id, json!({"grants": ["basic.nothing.here"]})).await;
    assert_eq!(unknown.status, 400);

    // The last owner cannot leave, be suspended or lose the role.
    for body in [json!({"status": "suspended"}), json!({"roleIds": [roles["admin"]]})] {
        let last = f.patch_member(company, &owner.token, owner.id, body).await;
        assert_eq!(last.status, 409);
        assert_eq!(last.code(), "LAST_OWNER");
    }
    let leave = f
        .auth
        .send(
            f.auth
                .http
                .delete(f.auth.url(&format!("/v1/companies/{company}/members/{}", owner.id)))
                .bearer_auth(&owner.token),
        )
        .await;
    assert_eq!(leave.status, 409);
    // With a second owner, the first may step down.
    assert_eq!(f.patch_member(company, &owner.token, admin.id, json!({"roleIds": [roles["owner"]]})).await.status, 200);
    assert_eq!(f.patch_member(company, &owner.token, owner.id, json!({"roleIds": [roles["admin"]]})).await.status, 200);

    // Another company's members are not even visible.
    let (_, stranger) = f.company().await;
    let hidden = f.auth.get(&format!("/v1/companies/{company}/members"), Some(&stranger.token)).await;
    assert_eq!(hidden.status, 404);

    // Every change is in the tenant audit log, with before and after.
    let audit = f.auth.get(&format!("/v1/companies/{company}/audit?limit=100"), Some(&admin.token)).await;
    assert_eq!(audit.status, 200);
    let actions: Vec<&str> = audit.data().as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["company.created", "member.added", "member.grants_changed", "member.roles_changed"] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let roles_change = audit.data().as_array().unwrap().iter().find(|e| e["action"] == "member.roles_changed").unwrap();
    assert!(roles_change["before"]["roles"].is_array() && roles_change["after"]["roles"].is_array());
    assert_eq!(f.auth.get(&format!("/v1/companies/{company}/audit"), Some(&plain.token)).await.status, 403);
}

#[tokio::test]
async fn members_are_listed_page_by_page_with_their_accounts_roles_and_grants() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let roles = f.roles(company, &owner.token).await;
    let (admin, plain) = (f.person().await, f.person().await);
    assert_eq!(f.add(company, &owner.token, &admin, &[&roles["admin"]]).await.status, 201);
    assert_eq!(f.add(company, &owner.token, &plain, &[&roles["member"]]).await.status, 201);
    let granted = f.patch_member(company, &owner.token, plain.id, json!({"grants": ["basic.event.create"]})).await;
    assert_eq!(granted.status, 200, "{:?}", granted.body);

    let page = |n: u32| {
        let (auth, token) = (f.auth.clone(), owner.token.clone());
        async move { auth.get(&format!("/v1/companies/{company}/members?page={n}&limit=2"), Some(&token)).await }
    };
    let first = page(1).await;
    assert_eq!((first.status.as_u16(), first.body["pagination"]["total"].as_u64()), (200, Some(3)));
    let emails: Vec<&str> = first.data().as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails, [owner.email.as_str(), admin.email.as_str()], "oldest first");
    assert_eq!(first.data()[0]["roles"][0]["name"], "owner");
    let second = page(2).await;
    let last = &second.data()[0];
    assert_eq!(second.data().as_array().unwrap().len(), 1);
    assert_eq!(
        (last["email"].as_str(), last["roles"][0]["name"].as_str()),
        (Some(plain.email.as_str()), Some("member"))
    );
    assert_eq!(last["grants"], json!(["basic.event.create"]));
    assert!(last["name"].is_string() && last["joinedAt"].is_string());
    let beyond = page(3).await;
    assert_eq!((beyond.data().as_array().unwrap().len(), beyond.body["pagination"]["total"].as_u64()), (0, Some(3)));
}

#[tokio::test]
async fn the_invitation_lifecycle() {
    let f = fleet_with(&[("INVITATION_TTL_SECS", "60")]).await;
    let (company, owner) = f.company().await;
    let roles = f.roles(company, &owner.token).await;
    let path = format!("/v1/companies/{company}/invitations");
    let invite = |email: String| {
        let api = f.auth.clone();
        let token = owner.token.clone();
        let path = path.clone();
        let role = roles["member"].clone();
        async move { api.post(&path, Some(&token), &json!({"email": email, "roleIds": [role]})).await }
    };
    let accept = |token: String, as_user: String| {
        let api = f.auth.clone();
        async move { api.post("/v1/invitations/accept", Some(&as_user), &json!({"token": token})).await }
    };

    // Accepted by the invited, verified person.
    let pat = f.person().await;
    let sent = invite(pat.email.clone()).await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let token = sent.data()["token"].as_str().unwrap().to_owned();
    assert_eq!(f.mailed(&pat.email, "accept-invitation").await, token, "the link is mailed too");
    let ok = accept(token.clone(), pat.token.clone()).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(f.my_access(company, &pat.token).await.data()["membership"], "active");
    assert_eq!(accept(token, pat.token.clone()).await.status, 400, "one-time");

    // Someone else's invitation.
    let sam = f.person().await;
    let other = f.person().await;
    let sent = invite(sam.email.clone()).await;
    let wrong = accept(sent.data()["token"].as_str().unwrap().to_owned(), other.token.clone()).await;
    assert_eq!(wrong.status, 403);
    assert_eq!(wrong.code(), "INVITATION_EMAIL_MISMATCH");

    // Revoked, then re-sent invitations.
    let id = sent.data()["id"].as_str().unwrap().to_owned();
    let resent = f.auth.post(&format!("{path}/{id}/resend"), Some(&owner.token), &json!({})).await;
    assert_eq!(resent.status, 200);
    let fresh = resent.data()["token"].as_str().unwrap().to_owned();
    assert_eq!(
        accept(sent.data()["token"].as_str().unwrap().to_owned(), sam.token.clone()).await.status,
        400,
        "the old link is dead"
    );
    let revoked = f.auth.send(f.auth.http.delete(f.auth.url(&format!("{path}/{id}"))).bearer_auth(&owner.token)).await;
    assert_eq!(revoked.status, 200);
    let refused = accept(fresh, sam.token.clone()).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body["message"].as_str().unwrap().contains("revoked"));

    // Unverified accounts cannot accept.
    let email = crate::harness::unique_email();
    f.auth
        .post("/v1/auth/signup", None, &json!({"email": email, "password": marquee_testkit::PASSWORD, "name": "New"}))
        .await;
    let unverified = f.token(&email, marquee_testkit::PASSWORD).await;
    let sent = invite(email.clone()).await;
    let reply = accept(sent.data()["token"].as_str().unwrap().to_owned(), unverified).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.code(), "EMAIL_NOT_VERIFIED");

    // Expired ones neither.
    let late = f.person().await;
    let sent = invite(late.email.clone()).await;
    f.clock.advance(chrono::Duration::seconds(120));
    let expired = accept(sent.data()["token"].as_str().unwrap().to_owned(), late.token.clone()).await;
    assert_eq!(expired.status, 400);
    assert!(expired.body["message"].as_str().unwrap().contains("expired"));
    let list = f.auth.get(&path, Some(&owner.token)).await;
    assert!(list.data().as_array().unwrap().iter().any(|i| i["status"] == "expired"));
}

#[tokio::test]
async fn a_full_company_refuses_new_members() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let admin = f.admin().await;
    let code = format!("duo-{}", &Uuid::now_v7().simple().to_string()[24..]);
    let made = f
        .core
        .post(
            "/v1/packages",
            Some(&admin),
            &json!({"code": code, "name": "Duo", "modules": ["basic"], "limits": {"maxMembers": 2}}),
        )
        .await;
    assert_eq!(made.status, 201);
    f.set_package(company, json!({"packageCode": code, "status": "active"})).await;
    let roles = f.roles(company, &owner.token).await;
    let first = f.person().await;
    let second = f.person().await;
    let third = f.person().await;
    let sent = f
        .auth
        .post(&format!("/v1/companies/{company}/invitations"), Some(&owner.token), &json!({"email": second.email}))
        .await;
    assert_eq!(f.add(company, &owner.token, &first, &[&roles["member"]]).await.status, 201);
    let full =
        f.auth.post("/v1/invitations/accept", Some(&second.token), &json!({"token": sent.data()["token"]})).await;
    assert_eq!(full.status, 409);
    assert_eq!(full.code(), "COMPANY_FULL");
    let direct = f.add(company, &owner.token, &third, &[&roles["member"]]).await;
    assert_eq!(direct.status, 409);
}

/// Two owners demoting or removing each other at the same moment: one wins,
/// the other is refused, and the company always keeps an active owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_owners_stepping_down_at_once_leave_one_owner() {
    let f = fleet().await;
    for round in 0..6 {
        let (company, first) = f.company().await;
        let roles = f.roles(company, &first.token).await;
        let second = f.person().await;
        assert_eq!(f.add(company, &first.token, &second, &[&roles["owner"]]).await.status, 201);
        let by_removal = round % 2 == 0;
        let step_down = |actor: String, target: Uuid| {
            let auth = f.auth.clone();
            let admin_role = roles["admin"].clone();
            async move {
                let url = auth.url(&format!("/v1/companies/{company}/members/{target}"));
                let request = if by_removal {
                    auth.http.delete(url).bearer_auth(actor)
                } else {
                    auth.http.patch(url).bearer_auth(actor).json(&json!({"roleIds": [admin_role]}))
                };
                auth.send(request).await
            }
        };
        let (a, b) = tokio::join!(
            tokio::spawn(step_down(first.token.clone(), second.id)),
            tokio::spawn(step_down(second.token.clone(), first.id)),
        );
        let statuses = [a.unwrap().status.as_u16(), b.unwrap().status.as_u16()];
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "round {round}: {statuses:?}");
        let members = f.auth.get(&format!("/v1/companies/{company}/members?limit=100"), Some(&first.token)).await;
        let members = if members.status == 200 {
            members
        } else {
            f.auth.get(&format!("/v1/companies/{company}/members?limit=100"), Some(&second.token)).await
        };
        let owners = members
            .data()
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["status"] == "active" && m["roles"].as_array().unwrap().iter().any(|r| r["name"] == "owner"))
            .count();
        assert_eq!(owners, 1, "round {round}: {:?}", members.body);
    }
}

/// Every company route in auth's own document, tried by the owner of another
/// company with this company's ids: 404 each time (nothing is revealed), and
/// nothing changes. A route whose body the probe does not know fails here.
#[tokio::test]
async fn every_company_route_is_404_to_another_company_and_changes_nothing() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let roles = f.roles(company, &owner.token).await;
    let member = f.person().await;
    assert_eq!(f.add(company, &owner.token, &member, &[&roles["member"]]).await.status, 201);
    let custom = f.custom_role(company, &owner.token, "probe", &["basic.event.view"]).await;
    let invited = f
        .auth
        .post(
            &format!("/v1/companies/{company}/invitations"),
            Some(&owner.token),
            &json!({"email": "probe@example.com"}),
        )
        .await;
    assert_eq!(invited.status, 201, "{:?}", invited.body);
    let invitation = invited.data()["id"].as_str().unwrap().to_owned();
    let key = f
        .auth
        .post(
            &format!("/v1/companies/{company}/api-keys"),
            Some(&owner.token),
            &json!({"name": "probe", "permissions": ["basic.event.view"]}),
        )
        .await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    let key = key.data()["id"].as_str().unwrap().to_owned();
    let (_, intruder) = f.company().await;

    let document = f.auth.get("/openapi.json", None).await;
    let mut routes = Vec::new();
    for (template, operations) in document.body["paths"].as_object().unwrap() {
        if template.starts_with("/v1/companies/{id}") {
            for method in operations.as_object().unwrap().keys() {
                routes.push((method.to_uppercase(), template.clone()));
            }
        }
    }
    assert!(routes.len() >= 14, "{routes:?}");
    let readable: Vec<String> =
        ["members?limit=100", "roles", "invitations?limit=100", "audit?limit=100", "api-keys?limit=100"]
            .iter()
            .map(|p| format!("/v1/companies/{company}/{p}"))
            .collect();
    let snapshot = || async {
        let mut seen = Vec::new();
        for path in &readable {
            seen.push(f.auth.get(path, Some(&owner.token)).await.body);
        }
        seen
    };
    let before = snapshot().await;
    for (method, template) in &routes {
        let path = template
            .replace("{id}", &company.to_string())
            .replace("{user_id}", &member.id.to_string())
            .replace("{role_id}", &custom)
            .replace("{invitation_id}", &invitation)
            .replace("{key_id}", &key);
        let path = if template.ends_with("/explain") {
            format!("{path}?userId={}&permission=basic.event.view", member.id)
        } else {
            path
        };
        let body = match (method.as_str(), template.as_str()) {
            ("GET" | "DELETE", _) => None,
            ("POST", "/v1/companies/{id}/members") => Some(json!({"email": intruder.email})),
            ("POST", "/v1/companies/{id}/roles") => Some(json!({"name": "stolen", "permissions": []})),
            ("POST", "/v1/companies/{id}/invitations") => Some(json!({"email": "stolen@example.com"})),
            ("POST", "/v1/companies/{id}/api-keys") => {
                Some(json!({"name": "stolen", "permissions": ["basic.event.view"]}))
            }
            ("POST", t) if t.ends_with("/resend") => Some(json!({})),
            ("PATCH", "/v1/companies/{id}/members/{user_id}") => Some(json!({"status": "suspended"})),
            ("PATCH", "/v1/companies/{id}/roles/{role_id}") => Some(json!({"name": "renamed"})),
            (m, t) => panic!("{m} {t} takes a body the probe does not know: name one here"),
        };
        let mut request = f.auth.http.request(method.parse().unwrap(), f.auth.url(&path)).bearer_auth(&intruder.token);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let r = f.auth.send(request).await;
        assert_eq!(r.status, 404, "{method} {template} by another company's owner: {:?}", r.body);
    }
    assert_eq!(before, snapshot().await, "the company changed");
}

/// Many additions and invitation acceptances at once never pass the plan's
/// member limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_joins_never_pass_the_member_limit() {
    let f = fleet().await;
    let (company, owner) = f.company().await;
    let admin = f.admin().await;
    let code = format!("trio-{}", &Uuid::now_v7().simple().to_string()[24..]);
    let made = f
        .core
        .post(
            "/v1/packages",
            Some(&admin),
            &json!({"code": code, "name": "Trio", "modules": ["basic"], "limits": {"maxMembers": 3}}),
        )
        .await;
    assert_eq!(made.status, 201);
    f.set_package(company, json!({"packageCode": code, "status": "active"})).await;
    let roles = f.roles(company, &owner.token).await;
    let mut people = Vec::new();
    for _ in 0..8 {
        people.push(f.person().await);
    }
    let mut invitations = Vec::new();
    for person in &people[4..] {
        let sent = f
            .auth
            .post(&format!("/v1/companies/{company}/invitations"), Some(&owner.token), &json!({"email": person.email}))
            .await;
        assert_eq!(sent.status, 201, "{:?}", sent.body);
        invitations.push(sent.data()["token"].as_str().unwrap().to_owned());
    }
    let mut tasks = Vec::new();
    for person in &people[..4] {
        let body = json!({"email": person.email, "roleIds": [roles["member"]]});
        let (auth, token) = (f.auth.clone(), owner.token.clone());
        let path = format!("/v1/companies/{company}/members");
        tasks.push(tokio::spawn(async move { auth.post(&path, Some(&token), &body).await }));
    }
    for (person, invitation) in people[4..].iter().zip(&invitations) {
        let (auth, token, body) = (f.auth.clone(), person.token.clone(), json!({"token": invitation}));
        tasks.push(tokio::spawn(async move { auth.post("/v1/invitations/accept", Some(&token), &body).await }));
    }
    let mut joined = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status.as_u16() {
            200 | 201 => joined += 1,
            409 => assert_eq!(r.code(), "COMPANY_FULL", "{:?}", r.body),
            other => panic!("unexpected {other}: {:?}", r.body),
        }
    }
    assert_eq!(joined, 2, "the owner and two more make three");
    let members = f.auth.get(&format!("/v1/companies/{company}/members?limit=100"), Some(&owner.token)).await;
    assert_eq!(members.body["pagination"]["total"], 3);
}
