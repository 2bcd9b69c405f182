//! The rules of tenancy: who may change what, the last owner, escalation,
//! the member limit, and invitations.

use std::collections::BTreeSet;

use chrono::Duration;
use marquee_kit::PageParams;
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{
    AddMember, Company, Invitation, InvitationIn, InvitationStatus, MEMBER, Member, MemberStatus, Membership,
    MyCompany, NewCompany, OWNER, Role, RoleEdit, RoleIn, RoleRef, SYSTEM_ROLES, TenantAuditEntry, UpdateMember,
};
use super::repo;
use crate::crypto::{random_token, token_hash};
use crate::domains::access::service::{Grants, expand, grants};
use crate::domains::users::model::Email;
use crate::domains::users::repo as users;
use crate::error::Error;
use crate::events::{AccessChange, ChangeKind};
use crate::state::AppState;

/// A committed change: what to record and whom to tell.
struct Change {
    action: &'static str,
    target: String,
    before: Value,
    after: Value,
    event: ChangeKind,
    user: Option<Uuid>,
}

/// Raises the revision, records the audit entries, commits, then announces.
async fn commit(
    state: &AppState,
    txn: DatabaseTransaction,
    company: Uuid,
    actor: Uuid,
    changes: Vec<Change>,
) -> Result<u64, Error> {
    let revision = repo::bump_revision(&txn, company).await?;
    let now = state.clock.now();
    for c in &changes {
        let entry = TenantAuditEntry {
            id: Uuid::now_v7(),
            at: now,
            actor_user_id: actor,
            action: c.action.to_owned(),
            target: c.target.clone(),
            before: c.before.clone(),
            after: c.after.clone(),
        };
        repo::insert_audit(&txn, company, &entry).await?;
    }
    txn.commit().await?;
    for c in changes {
        let event = match c.user {
            Some(user) => AccessChange::member(c.event, company, user, revision),
            None => AccessChange::company(c.event, company, revision),
        };
        state.events.publish(event).await;
    }
    Ok(revision)
}

/// The caller's grants in a company they belong to; a stranger learns nothing
/// of the company (404).
async fn member_grants(
    state: &AppState,
    db: &impl ConnectionTrait,
    company: Uuid,
    user: Uuid,
) -> Result<Grants, Error> {
    let g = grants(state, db, company, user).await?;
    if !g.active() {
        return Err(Error::NoCompany);
    }
    Ok(g)
}

async fn admin_grants(state: &AppState, db: &impl ConnectionTrait, company: Uuid, user: Uuid) -> Result<Grants, Error> {
    let g = member_grants(state, db, company, user).await?;
    if !g.is_admin() {
        return Err(Error::TenantAdminRequired);
    }
    Ok(g)
}

/// Nobody grants more than they hold; only owners hand out (or take) ownership.
async fn check_grantable(
    state: &AppState,
    actor: &Grants,
    roles: &[Role],
    direct: &BTreeSet<String>,
) -> Result<(), Error> {
    let catalog = state.platform.catalog().await?;
    for role in roles {
        if role.name == OWNER && !actor.is_owner() {
            return Err(Error::OwnerRequired);
        }
        if let Some(missing) = expand(&catalog, &role.permissions).into_iter().find(|p| !actor.permissions.contains(p))
        {
            return Err(Error::Escalation(format!("role {} ({missing})", role.name)));
        }
    }
    if let Some(missing) = direct.iter().find(|p| !actor.permissions.contains(*p)) {
        return Err(Error::Escalation(missing.clone()));
    }
    Ok(())
}

async fn check_catalog(state: &AppState, field: &str, permissions: &BTreeSet<String>) -> Result<(), Error> {
    let catalog = state.platform.catalog().await?;
    let unknown: Vec<_> = permissions.iter().filter(|p| !catalog.contains_key(*p)).collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::field(
            field,
            format!(
                "not in the permission catalog: {}",
                unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ))
    }
}

async fn roles_by_id(db: &impl ConnectionTrait, company: Uuid, ids: &[Uuid]) -> Result<Vec<Role>, Error> {
    let all = repo::roles(db, company).await?;
    let mut found = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        match all.iter().find(|r| r.id == *id) {
            Some(role) => found.push(role.clone()),
            None => return Err(Error::field(&format!("roleIds[{i}]"), "no such role in this company")),
        }
    }
    Ok(found)
}

/// Active owners other than `except`.
async fn other_active_owners(db: &impl ConnectionTrait, company: Uuid, except: Uuid) -> Result<u64, Error> {
    Ok(repo::count_active_holders(db, company, OWNER, except).await?)
}

/// The member limit from the company's entitlements, checked under the
/// company's row lock (taken by `bump_revision` first).
async fn check_room(state: &AppState, txn: &DatabaseTransaction, company: Uuid) -> Result<(), Error> {
    repo::bump_revision(txn, company).await?;
    let entitlements = state.platform.entitlements(company, true, 0).await?;
    if let Some(max) = entitlements.limits.get("maxMembers").copied() {
        let count = repo::count_memberships(txn, company).await?;
        if i64::try_from(count).unwrap_or(i64::MAX) >= max {
            return Err(Error::CompanyFull(max));
        }
    }
    Ok(())
}

// ---- companies ----

pub async fn create_company(state: &AppState, actor: Uuid, input: NewCompany) -> Result<Company, Error> {
    let now = state.clock.now();
    let mut company = Company {
        id: Uuid::now_v7(),
        name: input.name.trim().to_owned(),
        created_by: actor,
        created_at: now,
        revision: 0,
        subscription_ready: false,
    };
    let txn = state.db.begin().await?;
    repo::insert_company(&txn, &company).await?;
    let mut owner_role = None;
    for (name, description, patterns) in SYSTEM_ROLES {
        let role = Role {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            description: description.to_owned(),
            system: true,
            permissions: patterns.iter().map(|p| (*p).to_owned()).collect(),
        };
        repo::insert_role(&txn, company.id, &role, now).await?;
        if name == OWNER {
            owner_role = Some(role.id);
        }
    }
    let membership = Membership {
        id: Uuid::now_v7(),
        company_id: company.id,
        user_id: actor,
        status: MemberStatus::Active,
        created_at: now,
    };
    repo::insert_membership(&txn, &membership, now).await?;
    repo::set_roles(&txn, membership.id, &owner_role.into_iter().collect::<Vec<_>>()).await?;
    let change = Change {
        action: "company.created",
        target: format!("company:{}", company.id),
        before: Value::Null,
        after: json!({"name": company.name, "owner": actor}),
        event: ChangeKind::MembershipChanged,
        user: Some(actor),
    };
    company.revision = commit(state, txn, company.id, actor, vec![change]).await?;
    // Start the default subscription now; a reconciler retries if platform-core is away.
    if ensure_subscription(state, company.id, actor).await {
        company.subscription_ready = true;
        // Its entitlements are counted in the revision the creator gets back.
        company.revision = repo::revision(&state.db, company.id).await?.unwrap_or(company.revision);
    }
    Ok(company)
}

/// Asks platform-core for the default subscription (idempotent there).
pub async fn ensure_subscription(state: &AppState, company: Uuid, requested_by: Uuid) -> bool {
    match state.platform.ensure_default_subscription(company, requested_by).await {
        Ok(entitlements) => {
            crate::domains::access::service::entitlements_changed(state, company, entitlements.revision).await;
            repo::mark_subscription_ready(&state.db, company).await.is_ok()
        }
        Err(e) => {
            tracing::warn!(%company, error = %e, "default subscription not started yet; will retry");
            false
        }
    }
}

/// Retries default subscriptions that could not be started at creation.
pub async fn reconcile_subscriptions(state: &AppState) {
    let Ok(pending) = repo::without_subscription(&state.db).await else {
        return;
    };
    for company in pending {
        ensure_subscription(state, company.id, company.created_by).await;
    }
}

pub async fn my_companies(state: &AppState, user: Uuid) -> Result<Vec<MyCompany>, Error> {
    let memberships = repo::memberships_of_user(&state.db, user).await?;
    let ids: Vec<Uuid> = memberships.iter().map(|m| m.company_id).collect();
    let mut out = Vec::new();
    for company in repo::companies(&state.db, &ids).await? {
        let g = grants(state, &state.db, company.id, user).await?;
        let status = g.membership.as_ref().map_or(MemberStatus::Suspended, |m| m.status);
        out.push(MyCompany {
            company,
            membership_status: status,
            roles: g.roles.iter().map(|(_, n, _)| n.clone()).collect(),
        });
    }
    Ok(out)
}

// ---- members ----

async fn member_view(state: &AppState, company: Uuid, m: &Membership) -> Result<Member, Error> {
    let user = users::by_id(&state.db, m.user_id).await?.ok_or(Error::NotFound("user"))?;
    let profile = users::profile(&state.db, m.user_id).await?;
    let ids = repo::role_ids(&state.db, m.id).await?;
    let roles = repo::roles(&state.db, company)
        .await?
        .into_iter()
        .filter(|r| ids.contains(&r.id))
        .map(|r| RoleRef { id: r.id, name: r.name })
        .collect();
    Ok(Member {
        user_id: m.user_id,
        email: user.email,
        name: profile.name,
        status: m.status,
        roles,
        grants: repo::grants(&state.db, m.id).await?.into_iter().collect(),
        joined_at: m.created_at,
    })
}

/// One page of the company's members, with their accounts, roles and
/// grants read for the whole page at once.
pub async fn members(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    page: &PageParams,
) -> Result<(Vec<Member>, u64), Error> {
    member_grants(state, &state.db, company, actor).await?;
    let db = &state.db;
    let (memberships, total) = repo::membership_page(db, company, page.offset(), page.limit()).await?;
    let membership_ids: Vec<Uuid> = memberships.iter().map(|m| m.id).collect();
    let user_ids: Vec<Uuid> = memberships.iter().map(|m| m.user_id).collect();
    let roles = repo::roles(db, company).await?;
    let mut held = repo::role_ids_of(db, &membership_ids).await?;
    let mut grants = repo::grants_of(db, &membership_ids).await?;
    let mut accounts = users::by_ids(db, &user_ids).await?;
    let mut names = users::names(db, &user_ids).await?;
    let mut out = Vec::with_capacity(memberships.len());
    for m in memberships {
        let user = accounts.remove(&m.user_id).ok_or(Error::NotFound("user"))?;
        let ids = held.remove(&m.id).unwrap_or_default();
        out.push(Member {
            user_id: m.user_id,
            email: user.email,
            name: names.remove(&m.user_id).unwrap_or_default(),
            status: m.status,
            roles: roles
                .iter()
                .filter(|r| ids.contains(&r.id))
                .map(|r| RoleRef { id: r.id, name: r.name.clone() })
                .collect(),
            grants: grants.remove(&m.id).unwrap_or_default().into_iter().collect(),
            joined_at: m.created_at,
        });
    }
    Ok((out, total))
}

/// An admin adds an existing account directly.
pub async fn add_member(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    input: AddMember,
) -> Result<(Member, u64), Error> {
    let email = Email::parse(&input.email).map_err(|e| Error::field("email", e))?;
    let actor_grants = admin_grants(state, &state.db, company, actor).await?;
    let user = users::by_email(&state.db, &email).await?.ok_or(Error::NotFound("user"))?;
    let roles = roles_by_id(&state.db, company, &default_roles(state, company, &input.role_ids).await?).await?;
    check_grantable(state, &actor_grants, &roles, &BTreeSet::new()).await?;
    let txn = state.db.begin().await?;
    if repo::membership(&txn, company, user.id).await?.is_some() {
        return Err(Error::AlreadyMember);
    }
    check_room(state, &txn, company).await?;
    let membership = insert_member(state, &txn, company, user.id, &roles).await?;
    let change = Change {
        action: "member.added",
        target: format!("user:{}", user.id),
        before: Value::Null,
        after: json!({"roles": roles.iter().map(|r| &r.name).collect::<Vec<_>>()}),
        event: ChangeKind::MembershipChanged,
        user: Some(user.id),
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    Ok((member_view(state, company, &membership).await?, revision))
}

async fn default_roles(state: &AppState, company: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, Error> {
    if !ids.is_empty() {
        return Ok(ids.to_vec());
    }
    Ok(repo::roles(&state.db, company)
        .await?
        .into_iter()
        .filter(|r| r.system && r.name == MEMBER)
        .map(|r| r.id)
        .collect())
}

async fn insert_member(
    state: &AppState,
    txn: &DatabaseTransaction,
    company: Uuid,
    user: Uuid,
    roles: &[Role],
) -> Result<Membership, Error> {
    let now = state.clock.now();
    let membership = Membership {
        id: Uuid::now_v7(),
        company_id: company,
        user_id: user,
        status: MemberStatus::Active,
        created_at: now,
    };
    match repo::insert_membership(txn, &membership, now).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => return Err(Error::AlreadyMember),
        other => other?,
    }
    repo::set_roles(txn, membership.id, &roles.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    Ok(membership)
}

pub async fn update_member(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    user: Uuid,
    edit: UpdateMember,
) -> Result<(Member, u64), Error> {
    // The company's lock first: every check below sees the writes that won
    // before it (two owners demoting each other cannot both pass).
    let txn = state.db.begin().await?;
    repo::lock_company(&txn, company).await?;
    let actor_grants = admin_grants(state, &txn, company, actor).await?;
    let target = grants(state, &txn, company, user).await?;
    let membership = target.membership.clone().ok_or(Error::NotFound("member"))?;
    if target.has_role(OWNER) && !actor_grants.is_owner() {
        return Err(Error::OwnerRequired);
    }
    let new_roles = match &edit.role_ids {
        Some(ids) => Some(roles_by_id(&txn, company, ids).await?),
        None => None,
    };
    if let Some(grants) = &edit.grants {
        check_catalog(state, "grants", grants).await?;
    }
    check_grantable(
        state,
        &actor_grants,
        new_roles.as_deref().unwrap_or_default(),
        edit.grants.as_ref().unwrap_or(&BTreeSet::new()),
    )
    .await?;
    let loses_ownership = target.has_role(OWNER)
        && (edit.status == Some(MemberStatus::Suspended)
            || new_roles.as_ref().is_some_and(|r| !r.iter().any(|r| r.name == OWNER)));
    if loses_ownership && other_active_owners(&txn, company, user).await? == 0 {
        return Err(Error::LastOwner);
    }
    let before = json!({
        "status": membership.status,
        "roles": target.roles.iter().map(|(_, n, _)| n).collect::<Vec<_>>(),
        "grants": target.direct,
    });
    let mut changes = Vec::new();
    if let Some(status) = edit.status
        && status != membership.status
    {
        repo::set_status(&txn, membership.id, status, state.clock.now()).await?;
        changes.push(Change {
            action: if status == MemberStatus::Suspended { "member.suspended" } else { "member.reactivated" },
            target: format!("user:{user}"),
            before: before.clone(),
            after: json!({"status": status}),
            event: ChangeKind::MembershipChanged,
            user: Some(user),
        });
    }
    if let Some(roles) = &new_roles {
        repo::set_roles(&txn, membership.id, &roles.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        changes.push(Change {
            action: "member.roles_changed",
            target: format!("user:{user}"),
            before: before.clone(),
            after: json!({"roles": roles.iter().map(|r| &r.name).collect::<Vec<_>>()}),
            event: ChangeKind::RoleChanged,
            user: Some(user),
        });
    }
    if let Some(direct) = &edit.grants {
        repo::set_grants(&txn, membership.id, direct).await?;
        changes.push(Change {
            action: "member.grants_changed",
            target: format!("user:{user}"),
            before,
            after: json!({"grants": direct}),
            event: ChangeKind::GrantsChanged,
            user: Some(user),
        });
    }
    let revision = commit(state, txn, company, actor, changes).await?;
    Ok((member_view(state, company, &membership_after(state, company, user).await?).await?, revision))
}

async fn membership_after(state: &AppState, company: Uuid, user: Uuid) -> Result<Membership, Error> {
    repo::membership(&state.db, company, user).await?.ok_or(Error::NotFound("member"))
}

pub async fn remove_member(state: &AppState, company: Uuid, actor: Uuid, user: Uuid) -> Result<u64, Error> {
    // The company's lock first, as in `update_member`.
    let txn = state.db.begin().await?;
    repo::lock_company(&txn, company).await?;
    let actor_grants = if actor == user {
        // Anyone may leave.
        member_grants(state, &txn, company, actor).await?
    } else {
        admin_grants(state, &txn, company, actor).await?
    };
    let target = grants(state, &txn, company, user).await?;
    let membership = target.membership.clone().ok_or(Error::NotFound("member"))?;
    if target.has_role(OWNER) && !actor_grants.is_owner() {
        return Err(Error::OwnerRequired);
    }
    if target.has_role(OWNER) && other_active_owners(&txn, company, user).await? == 0 {
        return Err(Error::LastOwner);
    }
    repo::delete_membership(&txn, membership.id).await?;
    let change = Change {
        action: "member.removed",
        target: format!("user:{user}"),
        before: json!({"roles": target.roles.iter().map(|(_, n, _)| n).collect::<Vec<_>>(), "status": membership.status}),
        after: Value::Null,
        event: ChangeKind::MembershipChanged,
        user: Some(user),
    };
    commit(state, txn, company, actor, vec![change]).await
}

// ---- roles ----

pub async fn roles(state: &AppState, company: Uuid, actor: Uuid) -> Result<Vec<Role>, Error> {
    member_grants(state, &state.db, company, actor).await?;
    Ok(repo::roles(&state.db, company).await?)
}

pub async fn create_role(state: &AppState, company: Uuid, actor: Uuid, input: RoleIn) -> Result<(Role, u64), Error> {
    let actor_grants = admin_grants(state, &state.db, company, actor).await?;
    check_catalog(state, "permissions", &input.permissions).await?;
    let role = Role {
        id: Uuid::now_v7(),
        name: input.name.trim().to_owned(),
        description: input.description,
        system: false,
        permissions: input.permissions.into_iter().collect(),
    };
    check_grantable(state, &actor_grants, std::slice::from_ref(&role), &BTreeSet::new()).await?;
    if repo::roles(&state.db, company).await?.iter().any(|r| r.name.eq_ignore_ascii_case(&role.name)) {
        return Err(Error::RoleExists);
    }
    let txn = state.db.begin().await?;
    match repo::insert_role(&txn, company, &role, state.clock.now()).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => return Err(Error::RoleExists),
        other => other?,
    }
    let change = Change {
        action: "role.created",
        target: format!("role:{}", role.id),
        before: Value::Null,
        after: json!({"name": role.name, "permissions": role.permissions}),
        event: ChangeKind::RoleChanged,
        user: None,
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    Ok((role, revision))
}

async fn custom_role(state: &AppState, company: Uuid, role: Uuid) -> Result<Role, Error> {
    let role =
        repo::roles(&state.db, company).await?.into_iter().find(|r| r.id == role).ok_or(Error::NotFound("role"))?;
    if role.system {
        return Err(Error::SystemRole);
    }
    Ok(role)
}

pub async fn update_role(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    role: Uuid,
    edit: RoleEdit,
) -> Result<(Role, u64), Error> {
    let actor_grants = admin_grants(state, &state.db, company, actor).await?;
    let before = custom_role(state, company, role).await?;
    let mut after = before.clone();
    if let Some(name) = edit.name {
        after.name = name.trim().to_owned();
    }
    if let Some(description) = edit.description {
        after.description = description;
    }
    if let Some(permissions) = edit.permissions {
        check_catalog(state, "permissions", &permissions).await?;
        after.permissions = permissions.into_iter().collect();
    }
    check_grantable(state, &actor_grants, std::slice::from_ref(&after), &BTreeSet::new()).await?;
    let txn = state.db.begin().await?;
    match repo::update_role(&txn, company, &after, state.clock.now()).await.map_err(Error::from) {
        Err(Error::Db(marquee_db::DbError::Conflict { .. })) => return Err(Error::RoleExists),
        other => other?,
    }
    let change = Change {
        action: "role.updated",
        target: format!("role:{role}"),
        before: json!({"name": before.name, "permissions": before.permissions}),
        after: json!({"name": after.name, "permissions": after.permissions}),
        event: ChangeKind::RoleChanged,
        user: None,
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    Ok((after, revision))
}

pub async fn delete_role(state: &AppState, company: Uuid, actor: Uuid, role: Uuid) -> Result<u64, Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let before = custom_role(state, company, role).await?;
    let txn = state.db.begin().await?;
    repo::delete_role(&txn, company, role).await?;
    let change = Change {
        action: "role.deleted",
        target: format!("role:{role}"),
        before: json!({"name": before.name, "permissions": before.permissions}),
        after: Value::Null,
        event: ChangeKind::RoleChanged,
        user: None,
    };
    commit(state, txn, company, actor, vec![change]).await
}

// ---- invitations ----

pub async fn invite(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    input: InvitationIn,
) -> Result<(Invitation, u64), Error> {
    let email = Email::parse(&input.email).map_err(|e| Error::field("email", e))?;
    let actor_grants = admin_grants(state, &state.db, company, actor).await?;
    let role_ids = default_roles(state, company, &input.role_ids).await?;
    let roles = roles_by_id(&state.db, company, &role_ids).await?;
    check_grantable(state, &actor_grants, &roles, &BTreeSet::new()).await?;
    if let Some(user) = users::by_email(&state.db, &email).await?
        && repo::membership(&state.db, company, user.id).await?.is_some()
    {
        return Err(Error::AlreadyMember);
    }
    let now = state.clock.now();
    let token = random_token();
    let mut invitation = Invitation {
        id: Uuid::now_v7(),
        company_id: company,
        email: email.as_str().to_owned(),
        role_ids,
        status: InvitationStatus::Pending,
        invited_by: actor,
        expires_at: now + Duration::from_std(state.config.invitation_ttl).unwrap_or(Duration::days(7)),
        created_at: now,
        accepted_at: None,
        token: None,
    };
    let txn = state.db.begin().await?;
    repo::insert_invitation(&txn, &invitation, token_hash(&token)).await?;
    send_invitation_mail(state, &txn, &invitation, &token).await?;
    let change = Change {
        action: "invitation.created",
        target: format!("invitation:{}", invitation.id),
        before: Value::Null,
        after: json!({"email": invitation.email, "roles": roles.iter().map(|r| &r.name).collect::<Vec<_>>()}),
        event: ChangeKind::MembershipChanged,
        user: None,
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    state.outbox.wake();
    invitation.token = Some(token);
    Ok((invitation, revision))
}

async fn send_invitation_mail(
    state: &AppState,
    db: &impl ConnectionTrait,
    invitation: &Invitation,
    token: &str,
) -> Result<(), Error> {
    let company = repo::company(db, invitation.company_id).await?.ok_or(Error::NoCompany)?;
    let link = format!("{}/accept-invitation?token={token}", state.config.public_web_url.trim_end_matches('/'));
    let body = format!(
        "You are invited to join {} on Marquee.\n\nOpen this link to accept (it expires {}):\n\n{link}\n",
        company.name,
        invitation.expires_at.format("%Y-%m-%d %H:%M UTC")
    );
    crate::mail::Outbox::enqueue(
        db,
        state.clock.now(),
        &invitation.email,
        &format!("Join {} on Marquee", company.name),
        body,
    )
    .await?;
    Ok(())
}

pub async fn invitations(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Invitation>, u64), Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let now = state.clock.now();
    let (mut items, total) = repo::invitations(&state.db, company, offset, limit).await?;
    for i in &mut items {
        if i.status == InvitationStatus::Pending && i.expires_at <= now {
            i.status = InvitationStatus::Expired;
        }
    }
    Ok((items, total))
}

pub async fn revoke_invitation(state: &AppState, company: Uuid, actor: Uuid, id: Uuid) -> Result<u64, Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let invitation = repo::invitation(&state.db, company, id).await?.ok_or(Error::NotFound("invitation"))?;
    let txn = state.db.begin().await?;
    if !repo::finish_invitation(&txn, id, InvitationStatus::Revoked, None, state.clock.now()).await? {
        return Err(Error::InvitationInvalid("it is no longer pending"));
    }
    let change = Change {
        action: "invitation.revoked",
        target: format!("invitation:{id}"),
        before: json!({"email": invitation.email, "status": "pending"}),
        after: json!({"status": "revoked"}),
        event: ChangeKind::MembershipChanged,
        user: None,
    };
    commit(state, txn, company, actor, vec![change]).await
}

/// A new token and a new expiry; the old link stops working.
pub async fn resend_invitation(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    id: Uuid,
) -> Result<(Invitation, u64), Error> {
    admin_grants(state, &state.db, company, actor).await?;
    let mut invitation = repo::invitation(&state.db, company, id).await?.ok_or(Error::NotFound("invitation"))?;
    if invitation.status != InvitationStatus::Pending {
        return Err(Error::InvitationInvalid("it is no longer pending"));
    }
    let token = random_token();
    invitation.expires_at =
        state.clock.now() + Duration::from_std(state.config.invitation_ttl).unwrap_or(Duration::days(7));
    let txn = state.db.begin().await?;
    repo::renew_invitation(&txn, id, token_hash(&token), invitation.expires_at).await?;
    send_invitation_mail(state, &txn, &invitation, &token).await?;
    let change = Change {
        action: "invitation.resent",
        target: format!("invitation:{id}"),
        before: Value::Null,
        after: json!({"expiresAt": invitation.expires_at}),
        event: ChangeKind::MembershipChanged,
        user: None,
    };
    let revision = commit(state, txn, company, actor, vec![change]).await?;
    state.outbox.wake();
    invitation.token = Some(token);
    Ok((invitation, revision))
}

/// The signed-in invitee accepts: their verified email must be the invited one,
/// and the company must have room.
pub async fn accept_invitation(state: &AppState, user: Uuid, token: &str) -> Result<(Company, u64), Error> {
    let invitation = repo::invitation_by_token(&state.db, &token_hash(token))
        .await?
        .ok_or(Error::InvitationInvalid("unknown token"))?;
    let now = state.clock.now();
    match invitation.status {
        InvitationStatus::Pending if invitation.expires_at > now => {}
        InvitationStatus::Pending | InvitationStatus::Expired => {
            return Err(Error::InvitationInvalid("it has expired"));
        }
        InvitationStatus::Revoked => return Err(Error::InvitationInvalid("it was revoked")),
        InvitationStatus::Accepted => return Err(Error::InvitationInvalid("it was already accepted")),
    }
    let account = users::by_id(&state.db, user).await?.ok_or(Error::NotFound("user"))?;
    if account.email_verified_at.is_none() {
        return Err(Error::EmailNotVerified);
    }
    if account.email != invitation.email {
        return Err(Error::InvitationEmailMismatch);
    }
    let company = invitation.company_id;
    let roles = roles_by_id(&state.db, company, &invitation.role_ids).await.unwrap_or_default();
    let txn = state.db.begin().await?;
    if repo::membership(&txn, company, user).await?.is_some() {
        return Err(Error::AlreadyMember);
    }
    check_room(state, &txn, company).await?;
    if !repo::finish_invitation(&txn, invitation.id, InvitationStatus::Accepted, Some(user), now).await? {
        return Err(Error::InvitationInvalid("it was already used"));
    }
    insert_member(state, &txn, company, user, &roles).await?;
    let change = Change {
        action: "invitation.accepted",
        target: format!("user:{user}"),
        before: json!({"invitation": invitation.id}),
        after: json!({"roles": roles.iter().map(|r| &r.name).collect::<Vec<_>>()}),
        event: ChangeKind::MembershipChanged,
        user: Some(user),
    };
    let revision = commit(state, txn, company, invitation.invited_by, vec![change]).await?;
    let company = repo::company(&state.db, company).await?.ok_or(Error::NoCompany)?;
    Ok((company, revision))
}

pub async fn audit(
    state: &AppState,
    company: Uuid,
    actor: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<TenantAuditEntry>, u64), Error> {
    admin_grants(state, &state.db, company, actor).await?;
    Ok(repo::audit(&state.db, company, offset, limit).await?)
}
