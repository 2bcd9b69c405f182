//! The only code that touches the ended-sessions table.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, Set};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ended_sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: Uuid,
        pub until: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn end(
    db: &impl ConnectionTrait,
    sessions: &[(Uuid, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    row::Entity::delete_many().filter(row::Column::Until.lte(now)).exec(db).await?;
    let rows: Vec<row::ActiveModel> = sessions
        .iter()
        .filter(|(_, until)| *until > now)
        .map(|(id, until)| row::ActiveModel { session_id: Set(*id), until: Set(*until) })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    row::Entity::insert_many(rows)
        .on_conflict(OnConflict::column(row::Column::SessionId).update_column(row::Column::Until).to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn is_ended(db: &impl ConnectionTrait, session: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    Ok(row::Entity::find()
        .filter(row::Column::SessionId.eq(session))
        .filter(row::Column::Until.gt(now))
        .one(db)
        .await?
        .is_some())
}
