//! The events a service keeps for base's webhooks: written in the change's
//! own transaction, offered to base until base acknowledges them (at least
//! once; base stores each under its id, so an event offered twice is one
//! message).

use chrono::{DateTime, Utc};
use marquee_proto::integration::v1 as pb;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, ExprTrait, QueryOrder, QuerySelect, Set};
use tonic::{Request, Response, Status};

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "integration_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub event_type: String,
        pub body: String,
        pub created_at: DateTimeUtc,
        pub acknowledged_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Records an event in the caller's transaction.
pub async fn record(
    db: &impl ConnectionTrait,
    company: Uuid,
    event_type: &str,
    data: &impl serde::Serialize,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let body = crate::message_body(event_type, data, at).map_err(|e| DbErr::Custom(e.to_string()))?;
    row::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(company),
        event_type: Set(event_type.to_owned()),
        body: Set(body),
        created_at: Set(at),
        acknowledged_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The gRPC face of the feed, for base alone (behind the service token).
pub struct Feed {
    pub db: DatabaseConnection,
}

fn internal(e: DbErr) -> Status {
    tracing::warn!(error = %e, "the integration events could not be read");
    Status::unavailable("the integration events cannot be read right now")
}

#[tonic::async_trait]
impl pb::integration_events_server::IntegrationEvents for Feed {
    async fn pending(&self, request: Request<pb::PendingRequest>) -> Result<Response<pb::PendingEvents>, Status> {
        let limit = request.into_inner().limit.clamp(1, 500);
        let rows = row::Entity::find()
            .filter(row::Column::AcknowledgedAt.is_null())
            .order_by_asc(row::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(internal)?;
        let events = rows
            .into_iter()
            .map(|r| pb::IntegrationEvent {
                id: r.id.to_string(),
                company_id: r.company_id.to_string(),
                event_type: r.event_type,
                body_json: r.body,
            })
            .collect();
        Ok(Response::new(pb::PendingEvents { events }))
    }

    async fn acknowledge(
        &self,
        request: Request<pb::AcknowledgeRequest>,
    ) -> Result<Response<pb::AcknowledgeResponse>, Status> {
        let request = request.into_inner();
        if request.ids.len() > 500 {
            return Err(Status::invalid_argument("at most 500 ids at once"));
        }
        let ids = request
            .ids
            .iter()
            .map(|id| Uuid::parse_str(id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| Status::invalid_argument("ids must be UUIDs"))?;
        let done = row::Entity::update_many()
            .col_expr(row::Column::AcknowledgedAt, Expr::value(Utc::now()))
            .filter(row::Column::Id.is_in(ids))
            .filter(row::Column::AcknowledgedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(internal)?;
        // What base holds needs no second copy here past a day's look back;
        // a batch at a time, and the acknowledgement stands if this fails.
        let old = sea_orm::sea_query::Query::select()
            .column(row::Column::Id)
            .from(row::Entity)
            .and_where(Expr::col(row::Column::AcknowledgedAt).lt(Utc::now() - KEPT_AFTER_ACKNOWLEDGED))
            .limit(PRUNED_AT_ONCE)
            .to_owned();
        if let Err(e) = row::Entity::delete_many().filter(row::Column::Id.in_subquery(old)).exec(&self.db).await {
            tracing::warn!(error = %e, "acknowledged integration events could not be pruned");
        }
        Ok(Response::new(pb::AcknowledgeResponse {
            acknowledged: u32::try_from(done.rows_affected).unwrap_or(u32::MAX),
        }))
    }
}

/// How long an acknowledged event stays, for a look back.
const KEPT_AFTER_ACKNOWLEDGED: chrono::Duration = chrono::Duration::days(1);
/// At most this many acknowledged events are pruned per acknowledgement.
const PRUNED_AT_ONCE: u64 = 1000;

/// The feed's table and index, for the migrations of the services that keep one.
pub mod schema {
    use sea_orm::sea_query::{ColumnDef, Index, IndexCreateStatement, Table, TableCreateStatement, TableDropStatement};

    #[derive(sea_orm::DeriveIden)]
    enum IntegrationEvents {
        Table,
        Id,
        CompanyId,
        EventType,
        Body,
        CreatedAt,
        AcknowledgedAt,
    }

    pub fn table() -> TableCreateStatement {
        Table::create()
            .table(IntegrationEvents::Table)
            .col(ColumnDef::new(IntegrationEvents::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(IntegrationEvents::CompanyId).uuid().not_null())
            .col(ColumnDef::new(IntegrationEvents::EventType).string_len(64).not_null())
            .col(ColumnDef::new(IntegrationEvents::Body).text().not_null())
            .col(ColumnDef::new(IntegrationEvents::CreatedAt).timestamp_with_time_zone().not_null())
            .col(ColumnDef::new(IntegrationEvents::AcknowledgedAt).timestamp_with_time_zone().null())
            .to_owned()
    }

    /// What is still waiting, in order.
    pub fn index() -> IndexCreateStatement {
        Index::create()
            .name("integration_events_waiting")
            .table(IntegrationEvents::Table)
            .col(IntegrationEvents::AcknowledgedAt)
            .col(IntegrationEvents::Id)
            .to_owned()
    }

    pub fn drop() -> TableDropStatement {
        Table::drop().table(IntegrationEvents::Table).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use pb::integration_events_server::IntegrationEvents;
    use sea_orm::{ConnectionTrait, Database};

    use super::*;

    async fn event(db: &DatabaseConnection, acknowledged_at: Option<DateTime<Utc>>) -> Uuid {
        let id = Uuid::now_v7();
        row::ActiveModel {
            id: Set(id),
            company_id: Set(Uuid::now_v7()),
            event_type: Set("member.added".to_owned()),
            body: Set("{}".to_owned()),
            created_at: Set(Utc::now()),
            acknowledged_at: Set(acknowledged_at),
        }
        .insert(db)
        .await
        .unwrap();
        id
    }

    #[tokio::test]
    async fn acknowledged_events_leave_the_offer_and_go_after_a_day() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute(&schema::table()).await.unwrap();
        db.execute(&schema::index()).await.unwrap();
        let long_ago = event(&db, Some(Utc::now() - chrono::Duration::days(2))).await;
        let lately = event(&db, Some(Utc::now() - chrono::Duration::hours(2))).await;
        let waiting = event(&db, None).await;
        let other = event(&db, None).await;
        let feed = Feed { db: db.clone() };

        let done = feed
            .acknowledge(Request::new(pb::AcknowledgeRequest { ids: vec![waiting.to_string(), waiting.to_string()] }))
            .await
            .unwrap();
        assert_eq!(done.into_inner().acknowledged, 1);
        let offered = feed.pending(Request::new(pb::PendingRequest { limit: 10 })).await.unwrap().into_inner();
        assert_eq!(offered.events.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), vec![other.to_string()]);
        let kept: Vec<Uuid> = row::Entity::find().all(&db).await.unwrap().into_iter().map(|r| r.id).collect();
        assert!(!kept.contains(&long_ago), "acknowledged two days ago: forgotten");
        assert!(kept.contains(&lately) && kept.contains(&waiting) && kept.contains(&other));

        let refused = feed.acknowledge(Request::new(pb::AcknowledgeRequest { ids: vec!["x".to_owned()] })).await;
        assert_eq!(refused.unwrap_err().code(), tonic::Code::InvalidArgument);
    }
}
