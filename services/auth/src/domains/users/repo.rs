use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use super::model::{Email, Profile, Purpose, Status, User};

pub mod user_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub email: String,
        pub password_hash: String,
        pub base_role: String,
        pub status: String,
        pub email_verified_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod profile_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_profiles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        pub name: String,
        pub phone: Option<String>,
        pub locale: Option<String>,
        pub avatar_ref: Option<String>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod token_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "one_time_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub purpose: String,
        pub token_hash: String,
        pub expires_at: DateTimeUtc,
        pub used_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn decode(row: user_row::Model) -> User {
    User {
        id: row.id,
        email: row.email,
        password_hash: row.password_hash,
        base_role: row.base_role,
        status: Status::stored(&row.status),
        email_verified_at: row.email_verified_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub async fn by_email(db: &impl ConnectionTrait, email: &Email) -> Result<Option<User>, DbErr> {
    Ok(user_row::Entity::find().filter(user_row::Column::Email.eq(email.as_str())).one(db).await?.map(decode))
}

pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<User>, DbErr> {
    Ok(user_row::Entity::find_by_id(id).one(db).await?.map(decode))
}

/// The accounts with `ids`, in one statement.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, User>, DbErr> {
    let rows = user_row::Entity::find().filter(user_row::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|r| (r.id, decode(r))).collect())
}

/// The display names of the accounts with `ids`, in one statement.
pub async fn names(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, String>, DbErr> {
    let rows =
        profile_row::Entity::find().filter(profile_row::Column::UserId.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.name)).collect())
}

pub async fn insert(db: &impl ConnectionTrait, user: &User, profile: &Profile) -> Result<(), DbErr> {
    user_row::ActiveModel {
        id: Set(user.id),
        email: Set(user.email.clone()),
        password_hash: Set(user.password_hash.clone()),
        base_role: Set(user.base_role.clone()),
        status: Set(user.status.as_str().to_owned()),
        email_verified_at: Set(user.email_verified_at),
        created_at: Set(user.created_at),
        updated_at: Set(user.updated_at),
    }
    .insert(db)
    .await?;
    profile_row::ActiveModel {
        user_id: Set(user.id),
        name: Set(profile.name.clone()),
        phone: Set(profile.phone.clone()),
        locale: Set(profile.locale.clone()),
        avatar_ref: Set(profile.avatar_ref.clone()),
        updated_at: Set(user.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user_row::Entity::update_many()
        .col_expr(user_row::Column::PasswordHash, Expr::value(hash))
        .col_expr(user_row::Column::UpdatedAt, Expr::value(now))
        .filter(user_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: Status,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = user_row::Entity::update_many()
        .col_expr(user_row::Column::Status, Expr::value(status.as_str()))
        .col_expr(user_row::Column::UpdatedAt, Expr::value(now))
        .filter(user_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn mark_verified(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    user_row::Entity::update_many()
        .col_expr(user_row::Column::EmailVerifiedAt, Expr::value(now))
        .col_expr(user_row::Column::UpdatedAt, Expr::value(now))
        .filter(user_row::Column::Id.eq(id))
        .filter(user_row::Column::EmailVerifiedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn profile(db: &impl ConnectionTrait, user: Uuid) -> Result<Profile, DbErr> {
    let row = profile_row::Entity::find_by_id(user)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("profile of {user}")))?;
    Ok(Profile { name: row.name, phone: row.phone, locale: row.locale, avatar_ref: row.avatar_ref })
}

pub async fn save_profile(
    db: &impl ConnectionTrait,
    user: Uuid,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    profile_row::ActiveModel {
        user_id: Set(user),
        name: Set(profile.name.clone()),
        phone: Set(profile.phone.clone()),
        locale: Set(profile.locale.clone()),
        avatar_ref: Set(profile.avatar_ref.clone()),
        updated_at: Set(now),
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn insert_token(
    db: &impl ConnectionTrait,
    user: Uuid,
    purpose: Purpose,
    hash: String,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    token_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(hash),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Marks an unused, unexpired token used (exactly once) and returns its user.
/// The user a one-time token is for, if it is still usable; nothing is spent.
pub async fn usable_token(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbErr> {
    Ok(token_row::Entity::find()
        .filter(token_row::Column::TokenHash.eq(hash))
        .filter(token_row::Column::Purpose.eq(purpose.as_str()))
        .filter(token_row::Column::UsedAt.is_null())
        .filter(token_row::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(|t| t.user_id))
}

pub async fn consume_token(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbErr> {
    let Some(token) = token_row::Entity::find()
        .filter(token_row::Column::TokenHash.eq(hash))
        .filter(token_row::Column::Purpose.eq(purpose.as_str()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if token.used_at.is_some() || token.expires_at <= now {
        return Ok(None);
    }
    let used = token_row::Entity::update_many()
        .col_expr(token_row::Column::UsedAt, Expr::value(now))
        .filter(token_row::Column::Id.eq(token.id))
        .filter(token_row::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok((used.rows_affected == 1).then_some(token.user_id))
}
