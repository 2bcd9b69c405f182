//! The rules of tenancy: who may change what, the last owner, escalation,
//! the member limit, and invitations.

mod invitations;
mod members;
mod roles;
mod tenancy;

pub use invitations::*;
pub use members::*;
pub use roles::*;
pub use tenancy::*;

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
        announce_to_webhooks(&txn, company, c, now).await?;
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

/// Members joining and leaving, for the company's webhooks (base delivers
/// them), in the change's transaction.
async fn announce_to_webhooks(
    txn: &DatabaseTransaction,
    company: Uuid,
    change: &Change,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let (event_type, roles) = match change.action {
        "member.added" | "invitation.accepted" => ("member.added", &change.after["roles"]),
        "member.removed" => ("member.removed", &change.before["roles"]),
        _ => return Ok(()),
    };
    let data = json!({
        "companyId": company,
        "userId": change.user,
        "roles": roles,
        "byInvitation": change.action == "invitation.accepted",
    });
    marquee_webhooks::feed::record(txn, company, event_type, &data, at).await?;
    Ok(())
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

pub(crate) async fn admin_grants(
    state: &AppState,
    db: &impl ConnectionTrait,
    company: Uuid,
    user: Uuid,
) -> Result<Grants, Error> {
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

pub(crate) async fn check_catalog(state: &AppState, field: &str, permissions: &BTreeSet<String>) -> Result<(), Error> {
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
