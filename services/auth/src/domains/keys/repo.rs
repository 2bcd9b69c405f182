use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryOrder, Set, TransactionTrait};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kid: String,
        pub private_sealed: String,
        pub public_key: String,
        pub status: String,
        pub current_marker: Option<i32>,
        pub created_at: DateTimeUtc,
        pub rotated_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub struct NewKey {
    pub kid: String,
    pub private_sealed: String,
    pub public_key: [u8; 32],
}

pub struct StoredKey {
    pub kid: String,
    pub private_sealed: String,
    pub public_key: [u8; 32],
    pub current: bool,
    pub next: bool,
    pub created_at: DateTime<Utc>,
}

const NEXT: &str = "next";
const CURRENT: &str = "current";
const PREVIOUS: &str = "previous";
const RETIRED: &str = "retired";

fn public_key_of(row: &row::Model) -> Result<[u8; 32], DbErr> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(&row.public_key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| DbErr::Custom(format!("signing key {} has a malformed public key", row.kid)))
}

/// The published keys: current first, then the next one (published, not yet
/// signing), then the previous one (still verifying tokens it signed).
pub async fn published(db: &impl ConnectionTrait) -> Result<Vec<StoredKey>, DbErr> {
    let mut rows = row::Entity::find()
        .filter(row::Column::Status.is_in([NEXT, CURRENT, PREVIOUS]))
        .order_by_desc(row::Column::CreatedAt)
        .all(db)
        .await?;
    let rank = |status: &str| match status {
        CURRENT => 0,
        NEXT => 1,
        _ => 2,
    };
    rows.sort_by_key(|r| rank(&r.status));
    rows.iter()
        .map(|r| {
            Ok(StoredKey {
                kid: r.kid.clone(),
                private_sealed: r.private_sealed.clone(),
                public_key: public_key_of(r)?,
                current: r.status == CURRENT,
                next: r.status == NEXT,
                created_at: r.created_at,
            })
        })
        .collect()
}

fn active(key: &NewKey, now: DateTime<Utc>) -> row::ActiveModel {
    use base64::Engine;
    row::ActiveModel {
        id: Set(Uuid::now_v7()),
        kid: Set(key.kid.clone()),
        private_sealed: Set(key.private_sealed.clone()),
        public_key: Set(base64::engine::general_purpose::STANDARD.encode(key.public_key)),
        status: Set(CURRENT.to_owned()),
        current_marker: Set(Some(1)),
        created_at: Set(now),
        rotated_at: Set(None),
    }
}

pub async fn insert_current(db: &impl ConnectionTrait, key: &NewKey, now: DateTime<Utc>) -> Result<(), DbErr> {
    active(key, now).insert(db).await?;
    Ok(())
}

/// Publishes `key` as the next one, unless a next key is already waiting
/// (then that one stays): its kid and when it was published.
pub async fn publish_next(
    db: &DatabaseConnection,
    key: &NewKey,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), DbErr> {
    let txn = db.begin().await?;
    // The current key's row lock first: two replicas publishing at once run
    // one after the other, and the second finds the first's key waiting.
    row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::col(row::Column::Status))
        .filter(row::Column::Status.eq(CURRENT))
        .exec(&txn)
        .await?;
    if let Some(waiting) = row::Entity::find().filter(row::Column::Status.eq(NEXT)).one(&txn).await? {
        return Ok((waiting.kid, waiting.created_at));
    }
    let mut next = active(key, now);
    next.status = Set(NEXT.to_owned());
    next.current_marker = Set(None);
    next.insert(&txn).await?;
    txn.commit().await?;
    Ok((key.kid.clone(), now))
}

/// When the next key has been published since `published_before`: previous →
/// retired, current → previous, next → current, in one transaction that only
/// one replica wins. The promoted kid, if any.
pub async fn promote_due(
    db: &DatabaseConnection,
    published_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbErr> {
    let txn = db.begin().await?;
    let Some(next) = row::Entity::find()
        .filter(row::Column::Status.eq(NEXT))
        .filter(row::Column::CreatedAt.lte(published_before))
        .one(&txn)
        .await?
    else {
        return Ok(None);
    };
    // The claim: a racing replica finds no next key left and changes nothing.
    let claimed = row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value("promoting"))
        .filter(row::Column::Id.eq(next.id))
        .filter(row::Column::Status.eq(NEXT))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value(RETIRED))
        .filter(row::Column::Status.eq(PREVIOUS))
        .exec(&txn)
        .await?;
    row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value(PREVIOUS))
        .col_expr(row::Column::CurrentMarker, Expr::value(Option::<i32>::None))
        .col_expr(row::Column::RotatedAt, Expr::value(now))
        .filter(row::Column::Status.eq(CURRENT))
        .exec(&txn)
        .await?;
    row::Entity::update_many()
        .col_expr(row::Column::Status, Expr::value(CURRENT))
        .col_expr(row::Column::CurrentMarker, Expr::value(Some(1)))
        .filter(row::Column::Id.eq(next.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Some(next.kid))
}
