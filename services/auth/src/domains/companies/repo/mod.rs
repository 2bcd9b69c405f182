//! The only code that touches the tenancy tables. Every query is scoped by
//! company id.

mod invitations;
mod members;
mod roles;
mod tenancy;

pub use invitations::*;
pub use members::*;
pub use roles::*;
pub use tenancy::*;

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
