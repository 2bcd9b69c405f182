//! The only code that touches the tenancy tables. Every query is scoped by
//! company id.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, ExprTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{Company, Invitation, InvitationStatus, MemberStatus, Membership, Role, TenantAuditEntry};

macro_rules! table {
    ($module:ident, $name:literal, { $($field:ident : $ty:ty),* $(,)? }, pk = [$($pk:ident),+]) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $name)]
            pub struct Model {
                $(
                    #[sea_orm(primary_key, auto_increment = false)]
                    pub $pk: Uuid,
                )+
                $(pub $field: $ty,)*
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

table!(company_row, "companies", { name: String, created_by: Uuid, created_at: DateTimeUtc, revision: i64, subscription_ready: bool, entitlements_revision: i64 }, pk = [id]);
table!(membership_row, "memberships", { company_id: Uuid, user_id: Uuid, status: String, created_at: DateTimeUtc, updated_at: DateTimeUtc }, pk = [id]);
table!(role_row, "roles", { company_id: Uuid, name: String, description: String, system: bool, permissions: String, created_at: DateTimeUtc, updated_at: DateTimeUtc }, pk = [id]);
table!(member_role_row, "membership_roles", {}, pk = [membership_id, role_id]);
table!(invitation_row, "invitations", { company_id: Uuid, email: String, role_ids: String, token_hash: String, invited_by: Uuid, status: String, expires_at: DateTimeUtc, created_at: DateTimeUtc, accepted_at: Option<DateTimeUtc>, accepted_by: Option<Uuid> }, pk = [id]);
table!(audit_row, "tenant_audit", { company_id: Uuid, at: DateTimeUtc, actor_user_id: Uuid, action: String, target: String, before: String, after: String }, pk = [id]);

pub mod grant_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "direct_grants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub membership_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub permission: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored tenancy data is not readable: {e}"))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, DbErr> {
    serde_json::to_string(v).map_err(corrupt)
}

// ---- companies ----

fn company_of(r: company_row::Model) -> Result<Company, DbErr> {
    Ok(Company {
        id: r.id,
        name: r.name,
        created_by: r.created_by,
        created_at: r.created_at,
        revision: u64::try_from(r.revision).map_err(corrupt)?,
        subscription_ready: r.subscription_ready,
    })
}

pub async fn insert_company(db: &impl ConnectionTrait, c: &Company) -> Result<(), DbErr> {
    company_row::ActiveModel {
        id: Set(c.id),
        name: Set(c.name.clone()),
        created_by: Set(c.created_by),
        created_at: Set(c.created_at),
        revision: Set(i64::try_from(c.revision).map_err(corrupt)?),
        subscription_ready: Set(c.subscription_ready),
        entitlements_revision: Set(0),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn company(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Company>, DbErr> {
    company_row::Entity::find_by_id(id).one(db).await?.map(company_of).transpose()
}

pub async fn companies(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Company>, DbErr> {
    company_row::Entity::find()
        .filter(company_row::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(company_row::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(company_of)
        .collect()
}

/// The company's local access revision, read without loading the rest.
pub async fn revision(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<u64>, DbErr> {
    Ok(company(db, id).await?.map(|c| c.revision))
}

/// Takes the company's row lock for the transaction without changing it:
/// membership writes of one company run one after another from here on.
pub async fn lock_company(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    company_row::Entity::update_many()
        .col_expr(company_row::Column::Revision, Expr::col(company_row::Column::Revision))
        .filter(company_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Raises the company's revision (taking its row lock for the transaction,
/// which also serialises membership writes of one company) and returns it.
pub async fn bump_revision(db: &impl ConnectionTrait, id: Uuid) -> Result<u64, DbErr> {
    company_row::Entity::update_many()
        .col_expr(company_row::Column::Revision, Expr::col(company_row::Column::Revision).add(1))
        .filter(company_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    revision(db, id).await?.ok_or_else(|| DbErr::RecordNotFound(format!("company {id}")))
}

/// Records that the company's entitlements reached `entitlements_revision`,
/// raising its access revision once for it: the first replica to hear of a
/// change raises it, the others find it done. The new revision, or `None` when
/// this change was already counted (or the company does not exist).
pub async fn raise_for_entitlements(
    db: &impl ConnectionTrait,
    id: Uuid,
    entitlements_revision: u64,
) -> Result<Option<u64>, DbErr> {
    let seen = i64::try_from(entitlements_revision).map_err(corrupt)?;
    let raised = company_row::Entity::update_many()
        .col_expr(company_row::Column::Revision, Expr::col(company_row::Column::Revision).add(1))
        .col_expr(company_row::Column::EntitlementsRevision, Expr::value(seen))
        .filter(company_row::Column::Id.eq(id))
        .filter(company_row::Column::EntitlementsRevision.lt(seen))
        .exec(db)
        .await?;
    if raised.rows_affected == 0 {
        return Ok(None);
    }
    revision(db, id).await
}

pub async fn mark_subscription_ready(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    company_row::Entity::update_many()
        .col_expr(company_row::Column::SubscriptionReady, Expr::value(true))
        .filter(company_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn without_subscription(db: &impl ConnectionTrait) -> Result<Vec<Company>, DbErr> {
    company_row::Entity::find()
        .filter(company_row::Column::SubscriptionReady.eq(false))
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(company_of)
        .collect()
}

// ---- roles ----

fn role_of(r: role_row::Model) -> Result<Role, DbErr> {
    Ok(Role {
        id: r.id,
        name: r.name,
        description: r.description,
        system: r.system,
        permissions: serde_json::from_str(&r.permissions).map_err(corrupt)?,
    })
}

pub async fn insert_role(
    db: &impl ConnectionTrait,
    company: Uuid,
    role: &Role,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    role_row::ActiveModel {
        id: Set(role.id),
        company_id: Set(company),
        name: Set(role.name.clone()),
        description: Set(role.description.clone()),
        system: Set(role.system),
        permissions: Set(json(&role.permissions)?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// System roles first, then by name.
async fn ordered_roles(db: &impl ConnectionTrait, rows: Select<role_row::Entity>) -> Result<Vec<Role>, DbErr> {
    rows.order_by_desc(role_row::Column::System)
        .order_by_asc(role_row::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(role_of)
        .collect()
}

pub async fn roles(db: &impl ConnectionTrait, company: Uuid) -> Result<Vec<Role>, DbErr> {
    ordered_roles(db, role_row::Entity::find().filter(role_row::Column::CompanyId.eq(company))).await
}

pub async fn update_role(
    db: &impl ConnectionTrait,
    company: Uuid,
    role: &Role,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    role_row::Entity::update_many()
        .col_expr(role_row::Column::Name, Expr::value(role.name.clone()))
        .col_expr(role_row::Column::Description, Expr::value(role.description.clone()))
        .col_expr(role_row::Column::Permissions, Expr::value(json(&role.permissions)?))
        .col_expr(role_row::Column::UpdatedAt, Expr::value(now))
        .filter(role_row::Column::CompanyId.eq(company))
        .filter(role_row::Column::Id.eq(role.id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_role(db: &impl ConnectionTrait, company: Uuid, role: Uuid) -> Result<(), DbErr> {
    member_role_row::Entity::delete_many().filter(member_role_row::Column::RoleId.eq(role)).exec(db).await?;
    role_row::Entity::delete_many()
        .filter(role_row::Column::CompanyId.eq(company))
        .filter(role_row::Column::Id.eq(role))
        .exec(db)
        .await?;
    Ok(())
}

// ---- memberships ----

fn membership_of(r: membership_row::Model) -> Membership {
    Membership {
        id: r.id,
        company_id: r.company_id,
        user_id: r.user_id,
        status: MemberStatus::parse(&r.status),
        created_at: r.created_at,
    }
}

pub async fn insert_membership(db: &impl ConnectionTrait, m: &Membership, now: DateTime<Utc>) -> Result<(), DbErr> {
    membership_row::ActiveModel {
        id: Set(m.id),
        company_id: Set(m.company_id),
        user_id: Set(m.user_id),
        status: Set(m.status.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn membership(db: &impl ConnectionTrait, company: Uuid, user: Uuid) -> Result<Option<Membership>, DbErr> {
    Ok(membership_row::Entity::find()
        .filter(membership_row::Column::CompanyId.eq(company))
        .filter(membership_row::Column::UserId.eq(user))
        .one(db)
        .await?
        .map(membership_of))
}

pub async fn memberships(db: &impl ConnectionTrait, company: Uuid) -> Result<Vec<Membership>, DbErr> {
    Ok(membership_row::Entity::find()
        .filter(membership_row::Column::CompanyId.eq(company))
        .order_by_asc(membership_row::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(membership_of)
        .collect())
}

/// One page of a company's memberships, oldest first, and how many there are.
pub async fn membership_page(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Membership>, u64), DbErr> {
    let all = membership_row::Entity::find().filter(membership_row::Column::CompanyId.eq(company));
    let total = all.clone().count(db).await?;
    let rows = all
        .order_by_asc(membership_row::Column::CreatedAt)
        .order_by_asc(membership_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(membership_of).collect(), total))
}

/// The role ids each of `memberships` holds, in one statement.
pub async fn role_ids_of(db: &impl ConnectionTrait, memberships: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>, DbErr> {
    let mut held: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let rows = member_role_row::Entity::find()
        .filter(member_role_row::Column::MembershipId.is_in(memberships.iter().copied()))
        .all(db)
        .await?;
    for row in rows {
        held.entry(row.membership_id).or_default().push(row.role_id);
    }
    Ok(held)
}

/// The grants of each of `memberships`, in one statement.
pub async fn grants_of(
    db: &impl ConnectionTrait,
    memberships: &[Uuid],
) -> Result<HashMap<Uuid, BTreeSet<String>>, DbErr> {
    let mut grants: HashMap<Uuid, BTreeSet<String>> = HashMap::new();
    let rows = grant_row::Entity::find()
        .filter(grant_row::Column::MembershipId.is_in(memberships.iter().copied()))
        .all(db)
        .await?;
    for row in rows {
        grants.entry(row.membership_id).or_default().insert(row.permission);
    }
    Ok(grants)
}

/// Active members other than `except` who hold the company's system role
/// named `role`, counted in one statement.
pub async fn count_active_holders(
    db: &impl ConnectionTrait,
    company: Uuid,
    role: &str,
    except: Uuid,
) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Query;
    let system_role = Query::select()
        .column(role_row::Column::Id)
        .from(role_row::Entity)
        .and_where(role_row::Column::CompanyId.eq(company))
        .and_where(role_row::Column::System.eq(true))
        .and_where(role_row::Column::Name.eq(role))
        .to_owned();
    let holders = Query::select()
        .column(member_role_row::Column::MembershipId)
        .from(member_role_row::Entity)
        .and_where(member_role_row::Column::RoleId.in_subquery(system_role))
        .to_owned();
    membership_row::Entity::find()
        .filter(membership_row::Column::CompanyId.eq(company))
        .filter(membership_row::Column::Status.eq(MemberStatus::Active.as_str()))
        .filter(membership_row::Column::UserId.ne(except))
        .filter(membership_row::Column::Id.in_subquery(holders))
        .count(db)
        .await
}

pub async fn memberships_of_user(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<Membership>, DbErr> {
    Ok(membership_row::Entity::find()
        .filter(membership_row::Column::UserId.eq(user))
        .all(db)
        .await?
        .into_iter()
        .map(membership_of)
        .collect())
}

pub async fn count_memberships(db: &impl ConnectionTrait, company: Uuid) -> Result<u64, DbErr> {
    membership_row::Entity::find().filter(membership_row::Column::CompanyId.eq(company)).count(db).await
}

pub async fn set_status(
    db: &impl ConnectionTrait,
    membership: Uuid,
    status: MemberStatus,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    membership_row::Entity::update_many()
        .col_expr(membership_row::Column::Status, Expr::value(status.as_str()))
        .col_expr(membership_row::Column::UpdatedAt, Expr::value(now))
        .filter(membership_row::Column::Id.eq(membership))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn role_ids(db: &impl ConnectionTrait, membership: Uuid) -> Result<Vec<Uuid>, DbErr> {
    Ok(member_role_row::Entity::find()
        .filter(member_role_row::Column::MembershipId.eq(membership))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.role_id)
        .collect())
}

/// The roles a membership holds, in one statement.
pub async fn member_roles(db: &impl ConnectionTrait, company: Uuid, membership: Uuid) -> Result<Vec<Role>, DbErr> {
    let held = sea_orm::sea_query::Query::select()
        .column(member_role_row::Column::RoleId)
        .from(member_role_row::Entity)
        .and_where(member_role_row::Column::MembershipId.eq(membership))
        .to_owned();
    let rows = role_row::Entity::find()
        .filter(role_row::Column::CompanyId.eq(company))
        .filter(role_row::Column::Id.in_subquery(held));
    ordered_roles(db, rows).await
}

pub async fn set_roles(db: &impl ConnectionTrait, membership: Uuid, roles: &[Uuid]) -> Result<(), DbErr> {
    member_role_row::Entity::delete_many()
        .filter(member_role_row::Column::MembershipId.eq(membership))
        .exec(db)
        .await?;
    for role in roles.iter().collect::<BTreeSet<_>>() {
        member_role_row::ActiveModel { membership_id: Set(membership), role_id: Set(*role) }.insert(db).await?;
    }
    Ok(())
}

pub async fn grants(db: &impl ConnectionTrait, membership: Uuid) -> Result<BTreeSet<String>, DbErr> {
    Ok(grant_row::Entity::find()
        .filter(grant_row::Column::MembershipId.eq(membership))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.permission)
        .collect())
}

pub async fn set_grants(db: &impl ConnectionTrait, membership: Uuid, grants: &BTreeSet<String>) -> Result<(), DbErr> {
    grant_row::Entity::delete_many().filter(grant_row::Column::MembershipId.eq(membership)).exec(db).await?;
    for permission in grants {
        grant_row::ActiveModel { membership_id: Set(membership), permission: Set(permission.clone()) }
            .insert(db)
            .await?;
    }
    Ok(())
}

pub async fn delete_membership(db: &impl ConnectionTrait, membership: Uuid) -> Result<(), DbErr> {
    set_roles(db, membership, &[]).await?;
    set_grants(db, membership, &BTreeSet::new()).await?;
    membership_row::Entity::delete_by_id(membership).exec(db).await?;
    Ok(())
}

// ---- invitations ----

fn invitation_of(r: invitation_row::Model) -> Result<Invitation, DbErr> {
    Ok(Invitation {
        id: r.id,
        company_id: r.company_id,
        email: r.email,
        role_ids: serde_json::from_str(&r.role_ids).map_err(corrupt)?,
        status: InvitationStatus::parse(&r.status),
        invited_by: r.invited_by,
        expires_at: r.expires_at,
        created_at: r.created_at,
        accepted_at: r.accepted_at,
        token: None,
    })
}

pub async fn insert_invitation(db: &impl ConnectionTrait, i: &Invitation, token_hash: String) -> Result<(), DbErr> {
    invitation_row::ActiveModel {
        id: Set(i.id),
        company_id: Set(i.company_id),
        email: Set(i.email.clone()),
        role_ids: Set(json(&i.role_ids)?),
        token_hash: Set(token_hash),
        invited_by: Set(i.invited_by),
        status: Set(i.status.as_str().to_owned()),
        expires_at: Set(i.expires_at),
        created_at: Set(i.created_at),
        accepted_at: Set(None),
        accepted_by: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn invitation(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Invitation>, DbErr> {
    invitation_row::Entity::find()
        .filter(invitation_row::Column::CompanyId.eq(company))
        .filter(invitation_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(invitation_of)
        .transpose()
}

pub async fn invitation_by_token(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<Invitation>, DbErr> {
    invitation_row::Entity::find()
        .filter(invitation_row::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
        .map(invitation_of)
        .transpose()
}

pub async fn invitations(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Invitation>, u64), DbErr> {
    let query = invitation_row::Entity::find().filter(invitation_row::Column::CompanyId.eq(company));
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(invitation_row::Column::CreatedAt).offset(offset).limit(limit).all(db).await?;
    Ok((rows.into_iter().map(invitation_of).collect::<Result<_, _>>()?, total))
}

/// Moves a pending invitation to `status`; false if it was no longer pending.
pub async fn finish_invitation(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: InvitationStatus,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update =
        invitation_row::Entity::update_many().col_expr(invitation_row::Column::Status, Expr::value(status.as_str()));
    if status == InvitationStatus::Accepted {
        update = update
            .col_expr(invitation_row::Column::AcceptedAt, Expr::value(now))
            .col_expr(invitation_row::Column::AcceptedBy, Expr::value(by));
    }
    let done = update
        .filter(invitation_row::Column::Id.eq(id))
        .filter(invitation_row::Column::Status.eq(InvitationStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// A new token and expiry for a pending invitation.
pub async fn renew_invitation(
    db: &impl ConnectionTrait,
    id: Uuid,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    invitation_row::Entity::update_many()
        .col_expr(invitation_row::Column::TokenHash, Expr::value(token_hash))
        .col_expr(invitation_row::Column::ExpiresAt, Expr::value(expires_at))
        .filter(invitation_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

// ---- audit ----

pub async fn insert_audit(db: &impl ConnectionTrait, company: Uuid, e: &TenantAuditEntry) -> Result<(), DbErr> {
    audit_row::ActiveModel {
        id: Set(e.id),
        company_id: Set(company),
        at: Set(e.at),
        actor_user_id: Set(e.actor_user_id),
        action: Set(e.action.clone()),
        target: Set(e.target.clone()),
        before: Set(e.before.to_string()),
        after: Set(e.after.to_string()),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn audit(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<TenantAuditEntry>, u64), DbErr> {
    let query = audit_row::Entity::find().filter(audit_row::Column::CompanyId.eq(company));
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(audit_row::Column::At)
        .order_by_desc(audit_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((
        rows.into_iter()
            .map(|r| TenantAuditEntry {
                id: r.id,
                at: r.at,
                actor_user_id: r.actor_user_id,
                action: r.action,
                target: r.target,
                before: serde_json::from_str(&r.before).unwrap_or_default(),
                after: serde_json::from_str(&r.after).unwrap_or_default(),
            })
            .collect(),
        total,
    ))
}
