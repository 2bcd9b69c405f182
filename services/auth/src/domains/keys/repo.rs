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
    pub created_at: DateTime<Utc>,
}

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

/// The current and previous keys, current first.
pub async fn published(db: &impl ConnectionTrait) -> Result<Vec<StoredKey>, DbErr> {
    let rows = row::Entity::find()
        .filter(row::Column::Status.is_in([CURRENT, PREVIOUS]))
        .order_by_desc(row::Column::CreatedAt)
        .all(db)
        .await?;
    let (current, previous): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.status == CURRENT);
    current
        .into_iter()
        .chain(previous)
        .map(|r| {
            Ok(StoredKey {
                kid: r.kid.clone(),
                private_sealed: r.private_sealed.clone(),
                public_key: public_key_of(r)?,
                current: r.status == CURRENT,
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

/// previous → retired, current → previous, new → current; in one transaction.
pub async fn rotate(db: &DatabaseConnection, key: &NewKey, now: DateTime<Utc>) -> Result<(), DbErr> {
    let txn = db.begin().await?;
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
    active(key, now).insert(&txn).await?;
    txn.commit().await
}
