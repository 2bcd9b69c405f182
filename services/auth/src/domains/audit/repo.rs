use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::AuditEntry;

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub at: DateTimeUtc,
        pub action: String,
        pub actor_user_id: Option<Uuid>,
        pub subject_user_id: Option<Uuid>,
        pub session_id: Option<Uuid>,
        pub ip: Option<String>,
        pub user_agent: Option<String>,
        pub detail: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn insert(db: &impl ConnectionTrait, e: &AuditEntry) -> Result<(), DbErr> {
    row::ActiveModel {
        id: Set(e.id),
        at: Set(e.at),
        action: Set(e.action.clone()),
        actor_user_id: Set(e.actor_user_id),
        subject_user_id: Set(e.subject_user_id),
        session_id: Set(e.session_id),
        ip: Set(e.ip.clone()),
        user_agent: Set(e.user_agent.clone()),
        detail: Set(e.detail.to_string()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Entries newest first, optionally about one user or of one action.
pub async fn list(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    action: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<AuditEntry>, u64), DbErr> {
    let mut query = row::Entity::find();
    if let Some(user) = user {
        query = query.filter(row::Column::SubjectUserId.eq(user));
    }
    if let Some(action) = action {
        query = query.filter(row::Column::Action.eq(action));
    }
    let total = query.clone().count(db).await?;
    let rows =
        query.order_by_desc(row::Column::At).order_by_desc(row::Column::Id).offset(offset).limit(limit).all(db).await?;
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            action: r.action,
            actor_user_id: r.actor_user_id,
            subject_user_id: r.subject_user_id,
            session_id: r.session_id,
            ip: r.ip,
            user_agent: r.user_agent,
            detail: serde_json::from_str(&r.detail).unwrap_or_default(),
        })
        .collect();
    Ok((entries, total))
}
