use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};

use super::model::{RevokeReason, Session};
use crate::domains::users::model::Status;

pub mod session_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub created_at: DateTimeUtc,
        pub last_seen_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
        pub revoked_reason: Option<String>,
        pub user_agent: Option<String>,
        pub ip: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refresh_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub session_id: Uuid,
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub rotated_at: Option<DateTimeUtc>,
        pub reissue_sealed: Option<String>,
        pub reissue_until: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod revocation_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "session_revocations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub session_id: Uuid,
        pub user_id: Uuid,
        pub reason: String,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use refresh_row::Model as RefreshToken;

fn decode(r: session_row::Model) -> Session {
    Session {
        id: r.id,
        user_id: r.user_id,
        created_at: r.created_at,
        last_seen_at: r.last_seen_at,
        expires_at: r.expires_at,
        revoked_at: r.revoked_at,
        user_agent: r.user_agent,
        ip: r.ip,
    }
}

pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Session>, DbErr> {
    Ok(session_row::Entity::find_by_id(id).one(db).await?.map(decode))
}

pub async fn insert(db: &impl ConnectionTrait, s: &Session) -> Result<(), DbErr> {
    session_row::ActiveModel {
        id: Set(s.id),
        user_id: Set(s.user_id),
        created_at: Set(s.created_at),
        last_seen_at: Set(s.last_seen_at),
        expires_at: Set(s.expires_at),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        user_agent: Set(s.user_agent.clone()),
        ip: Set(s.ip.clone()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Marks these sessions seen at `now`, in one statement.
async fn touch_all(db: &impl ConnectionTrait, ids: &[Uuid], now: DateTime<Utc>) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    session_row::Entity::update_many()
        .col_expr(session_row::Column::LastSeenAt, Expr::value(now))
        .filter(session_row::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// The user's live-looking sessions (not revoked, not past their lifetime), newest first.
pub async fn of_user(db: &impl ConnectionTrait, user: Uuid, now: DateTime<Utc>) -> Result<Vec<Session>, DbErr> {
    Ok(session_row::Entity::find()
        .filter(session_row::Column::UserId.eq(user))
        .filter(session_row::Column::RevokedAt.is_null())
        .filter(session_row::Column::ExpiresAt.gt(now))
        .order_by_desc(session_row::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(decode)
        .collect())
}

/// Revokes a session once and records it; false if it was already revoked.
pub async fn revoke(
    db: &impl ConnectionTrait,
    session: Uuid,
    user: Uuid,
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = session_row::Entity::update_many()
        .col_expr(session_row::Column::RevokedAt, Expr::value(now))
        .col_expr(session_row::Column::RevokedReason, Expr::value(reason.as_str()))
        .filter(session_row::Column::Id.eq(session))
        .filter(session_row::Column::UserId.eq(user))
        .filter(session_row::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Ok(false);
    }
    revocation_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session),
        user_id: Set(user),
        reason: Set(reason.as_str().to_owned()),
        at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(true)
}

pub async fn insert_refresh(
    db: &impl ConnectionTrait,
    session: Uuid,
    hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session),
        token_hash: Set(hash),
        created_at: Set(now),
        rotated_at: Set(None),
        reissue_sealed: Set(None),
        reissue_until: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Writes new refresh tokens (session, hash), in one statement.
pub async fn insert_refreshes(
    db: &impl ConnectionTrait,
    tokens: &[(Uuid, String)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if tokens.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let rows: Vec<serde_json::Value> = tokens
            .iter()
            .map(|(session, hash)| serde_json::json!({"id": Uuid::now_v7(), "session_id": session, "hash": hash}))
            .collect();
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "INSERT INTO refresh_tokens (id, session_id, token_hash, created_at) SELECT id, session_id, hash, $2 \
             FROM jsonb_to_recordset($1) AS r(id uuid, session_id uuid, hash text)",
            [marquee_db::json_rows(rows), now.into()],
        ))
        .await?;
        return Ok(());
    }
    let rows = tokens.iter().map(|(session, hash)| refresh_row::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(*session),
        token_hash: Set(hash.clone()),
        created_at: Set(now),
        rotated_at: Set(None),
        reissue_sealed: Set(None),
        reissue_until: Set(None),
    });
    refresh_row::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// A token to rotate and what its retries are answered with until when.
pub struct Rotating {
    pub id: Uuid,
    pub session: Uuid,
    pub sealed_pair: String,
    pub reissue_until: DateTime<Utc>,
}

/// Rotates those of the tokens not rotated yet whose session is not
/// revoked, and marks those sessions seen; the ids it rotated. A token named
/// twice keeps its first retry answer. On PostgreSQL one statement whose
/// rows travel as one JSON parameter: the same text, planned alike, for any
/// number of tokens.
pub async fn rotate_refreshes(
    db: &impl ConnectionTrait,
    tokens: &[Rotating],
    now: DateTime<Utc>,
) -> Result<std::collections::HashSet<Uuid>, DbErr> {
    use sea_orm::sea_query::CaseStatement;
    if tokens.is_empty() {
        return Ok(Default::default());
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let rows: Vec<serde_json::Value> = tokens
            .iter()
            .enumerate()
            .map(|(n, t)| {
                serde_json::json!({"n": n, "id": t.id, "sealed": t.sealed_pair, "until": marquee_db::micros(&t.reissue_until)})
            })
            .collect();
        let rotated = db
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "WITH v AS (SELECT DISTINCT ON (id) id, sealed, until \
                 FROM jsonb_to_recordset($1) AS v(n int, id uuid, sealed text, until timestamptz) ORDER BY id, n), \
                 rotated AS (UPDATE refresh_tokens r SET rotated_at = $2, reissue_sealed = v.sealed, \
                 reissue_until = v.until FROM v WHERE r.id = v.id AND r.rotated_at IS NULL \
                 AND r.session_id IN (SELECT id FROM sessions WHERE revoked_at IS NULL) RETURNING r.id, r.session_id), \
                 seen AS (UPDATE sessions s SET last_seen_at = $2 WHERE s.id IN (SELECT session_id FROM rotated)) \
                 SELECT id FROM rotated",
                [marquee_db::json_rows(rows), now.into()],
            ))
            .await?;
        return rotated.iter().map(|row| row.try_get::<Uuid>("", "id")).collect();
    }
    let (mut sealed, mut until) = (CaseStatement::new(), CaseStatement::new());
    for t in tokens {
        sealed = sealed.case(refresh_row::Column::Id.eq(t.id), t.sealed_pair.clone());
        until = until.case(refresh_row::Column::Id.eq(t.id), t.reissue_until);
    }
    let rotated = refresh_row::Entity::update_many()
        .col_expr(refresh_row::Column::RotatedAt, Expr::value(now))
        .col_expr(refresh_row::Column::ReissueSealed, sealed.into())
        .col_expr(refresh_row::Column::ReissueUntil, until.into())
        .filter(refresh_row::Column::Id.is_in(tokens.iter().map(|t| t.id)))
        .filter(refresh_row::Column::RotatedAt.is_null())
        .filter(
            refresh_row::Column::SessionId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(session_row::Column::Id)
                    .from(session_row::Entity)
                    .and_where(session_row::Column::RevokedAt.is_null())
                    .to_owned(),
            ),
        )
        .exec_with_returning(db)
        .await?;
    let rotated: std::collections::HashSet<Uuid> = rotated.into_iter().map(|r| r.id).collect();
    let sessions: Vec<Uuid> = tokens.iter().filter(|t| rotated.contains(&t.id)).map(|t| t.session).collect();
    touch_all(db, &sessions, now).await?;
    Ok(rotated)
}

/// What a refresh needs of the session's holder.
#[derive(Debug, Clone)]
pub struct Holder {
    pub base_role: String,
    pub status: Status,
}

/// The refresh token with this hash, its session and the session's holder,
/// in one statement (a refresh's whole read).
pub async fn refresh_with_holder(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<(RefreshToken, Session, Option<Holder>)>, DbErr> {
    use crate::domains::users::repo::user_row;
    use sea_orm::sea_query::{Alias, Expr as E, JoinType};
    use sea_orm::{ExprTrait, FromQueryResult, QueryTrait};
    let of_session: sea_orm::RelationDef = refresh_row::Entity::belongs_to(session_row::Entity)
        .from(refresh_row::Column::SessionId)
        .to(session_row::Column::Id)
        .into();
    let mut query = refresh_row::Entity::find()
        .filter(refresh_row::Column::TokenHash.eq(hash))
        .join(sea_orm::JoinType::InnerJoin, of_session)
        .select_also(session_row::Entity)
        .into_query();
    query
        .expr_as(E::col((user_row::Entity, user_row::Column::BaseRole)), Alias::new("holder_role"))
        .expr_as(E::col((user_row::Entity, user_row::Column::Status)), Alias::new("holder_status"))
        .join(
            JoinType::LeftJoin,
            user_row::Entity,
            E::col((user_row::Entity, user_row::Column::Id)).equals((session_row::Entity, session_row::Column::UserId)),
        )
        .limit(1);
    let Some(row) = db.query_one(&query).await? else {
        return Ok(None);
    };
    let token = refresh_row::Model::from_query_result(&row, "A_")?;
    let session = decode(session_row::Model::from_query_result(&row, "B_")?);
    let holder = match row.try_get::<Option<String>>("", "holder_role")? {
        Some(base_role) => {
            let status: String = row.try_get("", "holder_status")?;
            Some(Holder { base_role, status: Status::stored(&status) })
        }
        None => None,
    };
    Ok(Some((token, session, holder)))
}

/// Marks a token rotated, keeping the sealed successor pair for retries; false
/// if another request rotated it first.
pub async fn rotate_refresh(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
    sealed_pair: String,
    reissue_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = refresh_row::Entity::update_many()
        .col_expr(refresh_row::Column::RotatedAt, Expr::value(now))
        .col_expr(refresh_row::Column::ReissueSealed, Expr::value(sealed_pair))
        .col_expr(refresh_row::Column::ReissueUntil, Expr::value(reissue_until))
        .filter(refresh_row::Column::Id.eq(id))
        .filter(refresh_row::Column::RotatedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
